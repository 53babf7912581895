//go:build !amd64 || purego

package gemm

// bestPath is Generic: there are no assembly micro-kernels for this
// architecture.
const bestPath = Generic

// Never selected where bestPath is Generic.
var (
	avx2Kernel64   = genericKernel64
	avx512Kernel64 = genericKernel64
	avx2Kernel32   = genericKernel32
	avx512Kernel32 = genericKernel32
)
