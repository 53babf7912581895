//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// bestPath is the widest kernel family the CPU runs.
var bestPath = func() Path {
	switch {
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasAVX512F:
		return AVX512
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return AVX2
	}
	return Generic
}()

// The assembly micro-kernels: AVX2+FMA with 6×nr tiles of two ymm per row,
// AVX-512F with 8×nr tiles of one zmm per row (nr = 8 float64, 16 float32).
var (
	avx2Kernel64   = kernel[float64]{mr: 6, nr: 8, fn: kernAVX2, path: AVX2}
	avx512Kernel64 = kernel[float64]{mr: 8, nr: 8, fn: kernAVX512, path: AVX512}
	avx2Kernel32   = kernel[float32]{mr: 6, nr: 16, fn: kernAVX2F32, path: AVX2}
	avx512Kernel32 = kernel[float32]{mr: 8, nr: 16, fn: kernAVX512F32, fn64: kernAVX512F32W, path: AVX512}
)

// kernAVX512F32W is kernAVX512F32 writing a float64 C (kernelFunc64).
func kernAVX512F32W(rows, nv, k int, a []float32, rsa, csa int, b []float32, rsb int, c []float64, ldc int, alpha float32) {
	_ = a[(rows-1)*rsa+(k-1)*csa]
	_ = b[(k-1)*rsb+16-1]
	_ = c[(rows-1)*ldc+nv-1]
	if nv < 1 || nv > 16 {
		panic("gemm: bad tile width")
	}
	if rows < 1 || rows > 8 {
		panic("gemm: bad tile height")
	}
	pa, pb, pc := &a[0], &b[0], &c[0]
	if nv <= 8 && hasVL {
		kernHalfW[rows-1](k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, 0)
		return
	}
	kernFullW[rows-1](k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, 0)
}

// The float64-C kernels by height.
var (
	kernFullW = [8]func(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float64, ldc, nv int, alpha, beta float32){
		kern1x16AVX512F32W, kern2x16AVX512F32W, kern3x16AVX512F32W, kern4x16AVX512F32W,
		kern5x16AVX512F32W, kern6x16AVX512F32W, kern7x16AVX512F32W, kern8x16AVX512F32W,
	}
	kernHalfW = [8]func(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float64, ldc, nv int, alpha, beta float32){
		kern1x8AVX512F32W, kern2x8AVX512F32W, kern3x8AVX512F32W, kern4x8AVX512F32W,
		kern5x8AVX512F32W, kern6x8AVX512F32W, kern7x8AVX512F32W, kern8x8AVX512F32W,
	}
)

// hasVL reports AVX-512VL, which the ymm forms of the AVX-512 float32
// kernel for narrow tiles need.
var hasVL = cpu.X86.HasAVX512VL

// kernAVX512F32Half computes a tile of at most 8 columns with the ymm
// kernels (see _gen: the operations of the zmm kernels at half the cost
// where zmm operations are split in two).
func kernAVX512F32Half(rows, k int, pa *float32, rsa, csa int, pb *float32, rsb int, pc *float32, ldc, nv int, alpha, beta float32) {
	switch rows {
	case 8:
		kern8x8AVX512F32(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 7:
		kern7x8AVX512F32(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 6:
		kern6x8AVX512F32(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 5:
		kern5x8AVX512F32(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 4:
		kern4x8AVX512F32(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 3:
		kern3x8AVX512F32(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 2:
		kern2x8AVX512F32(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 1:
		kern1x8AVX512F32(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	default:
		panic("gemm: bad tile height")
	}
}

// kernAVX2 dispatches to the AVX2 float64 kernel for the number of rows;
// see kernelFunc. It checks that the tile it touches lies inside a, b and c
// before entering assembly.
func kernAVX2(rows, nv, k int, a []float64, rsa, csa int, b []float64, rsb int, c []float64, ldc int, alpha, beta float64) {
	_ = a[(rows-1)*rsa+(k-1)*csa]
	_ = b[(k-1)*rsb+8-1]
	_ = c[(rows-1)*ldc+nv-1]
	if nv < 1 || nv > 8 {
		panic("gemm: bad tile width")
	}
	pa, pb, pc := &a[0], &b[0], &c[0]
	switch rows {
	case 6:
		kern6x8AVX2(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 5:
		kern5x8AVX2(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 4:
		kern4x8AVX2(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 3:
		kern3x8AVX2(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 2:
		kern2x8AVX2(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 1:
		kern1x8AVX2(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	default:
		panic("gemm: bad tile height")
	}
}

// kernAVX512 dispatches to the AVX512 float64 kernel for the number of rows;
// see kernelFunc. It checks that the tile it touches lies inside a, b and c
// before entering assembly.
func kernAVX512(rows, nv, k int, a []float64, rsa, csa int, b []float64, rsb int, c []float64, ldc int, alpha, beta float64) {
	_ = a[(rows-1)*rsa+(k-1)*csa]
	_ = b[(k-1)*rsb+8-1]
	_ = c[(rows-1)*ldc+nv-1]
	if nv < 1 || nv > 8 {
		panic("gemm: bad tile width")
	}
	pa, pb, pc := &a[0], &b[0], &c[0]
	switch rows {
	case 8:
		kern8x8AVX512(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 7:
		kern7x8AVX512(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 6:
		kern6x8AVX512(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 5:
		kern5x8AVX512(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 4:
		kern4x8AVX512(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 3:
		kern3x8AVX512(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 2:
		kern2x8AVX512(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 1:
		kern1x8AVX512(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	default:
		panic("gemm: bad tile height")
	}
}

// kernAVX2F32 dispatches to the AVX2 float32 kernel for the number of rows;
// see kernelFunc. It checks that the tile it touches lies inside a, b and c
// before entering assembly.
func kernAVX2F32(rows, nv, k int, a []float32, rsa, csa int, b []float32, rsb int, c []float32, ldc int, alpha, beta float32) {
	_ = a[(rows-1)*rsa+(k-1)*csa]
	_ = b[(k-1)*rsb+16-1]
	_ = c[(rows-1)*ldc+nv-1]
	if nv < 1 || nv > 16 {
		panic("gemm: bad tile width")
	}
	pa, pb, pc := &a[0], &b[0], &c[0]
	switch rows {
	case 6:
		kern6x16AVX2F32(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 5:
		kern5x16AVX2F32(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 4:
		kern4x16AVX2F32(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 3:
		kern3x16AVX2F32(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 2:
		kern2x16AVX2F32(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 1:
		kern1x16AVX2F32(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	default:
		panic("gemm: bad tile height")
	}
}

// kernAVX512F32 dispatches to the AVX512 float32 kernel for the number of rows;
// see kernelFunc. It checks that the tile it touches lies inside a, b and c
// before entering assembly.
func kernAVX512F32(rows, nv, k int, a []float32, rsa, csa int, b []float32, rsb int, c []float32, ldc int, alpha, beta float32) {
	_ = a[(rows-1)*rsa+(k-1)*csa]
	_ = b[(k-1)*rsb+16-1]
	_ = c[(rows-1)*ldc+nv-1]
	if nv < 1 || nv > 16 {
		panic("gemm: bad tile width")
	}
	pa, pb, pc := &a[0], &b[0], &c[0]
	if nv <= 8 && hasVL {
		kernAVX512F32Half(rows, k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
		return
	}
	switch rows {
	case 8:
		kern8x16AVX512F32(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 7:
		kern7x16AVX512F32(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 6:
		kern6x16AVX512F32(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 5:
		kern5x16AVX512F32(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 4:
		kern4x16AVX512F32(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 3:
		kern3x16AVX512F32(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 2:
		kern2x16AVX512F32(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	case 1:
		kern1x16AVX512F32(k, pa, rsa, csa, pb, rsb, pc, ldc, nv, alpha, beta)
	default:
		panic("gemm: bad tile height")
	}
}

//go:noescape
func kern1x8AVX2(k int, a *float64, rsa, csa int, b *float64, rsb int, c *float64, ldc, nv int, alpha, beta float64)

//go:noescape
func kern2x8AVX2(k int, a *float64, rsa, csa int, b *float64, rsb int, c *float64, ldc, nv int, alpha, beta float64)

//go:noescape
func kern3x8AVX2(k int, a *float64, rsa, csa int, b *float64, rsb int, c *float64, ldc, nv int, alpha, beta float64)

//go:noescape
func kern4x8AVX2(k int, a *float64, rsa, csa int, b *float64, rsb int, c *float64, ldc, nv int, alpha, beta float64)

//go:noescape
func kern5x8AVX2(k int, a *float64, rsa, csa int, b *float64, rsb int, c *float64, ldc, nv int, alpha, beta float64)

//go:noescape
func kern6x8AVX2(k int, a *float64, rsa, csa int, b *float64, rsb int, c *float64, ldc, nv int, alpha, beta float64)

//go:noescape
func kern1x8AVX512(k int, a *float64, rsa, csa int, b *float64, rsb int, c *float64, ldc, nv int, alpha, beta float64)

//go:noescape
func kern2x8AVX512(k int, a *float64, rsa, csa int, b *float64, rsb int, c *float64, ldc, nv int, alpha, beta float64)

//go:noescape
func kern3x8AVX512(k int, a *float64, rsa, csa int, b *float64, rsb int, c *float64, ldc, nv int, alpha, beta float64)

//go:noescape
func kern4x8AVX512(k int, a *float64, rsa, csa int, b *float64, rsb int, c *float64, ldc, nv int, alpha, beta float64)

//go:noescape
func kern5x8AVX512(k int, a *float64, rsa, csa int, b *float64, rsb int, c *float64, ldc, nv int, alpha, beta float64)

//go:noescape
func kern6x8AVX512(k int, a *float64, rsa, csa int, b *float64, rsb int, c *float64, ldc, nv int, alpha, beta float64)

//go:noescape
func kern7x8AVX512(k int, a *float64, rsa, csa int, b *float64, rsb int, c *float64, ldc, nv int, alpha, beta float64)

//go:noescape
func kern8x8AVX512(k int, a *float64, rsa, csa int, b *float64, rsb int, c *float64, ldc, nv int, alpha, beta float64)

//go:noescape
func kern1x16AVX2F32(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float32, ldc, nv int, alpha, beta float32)

//go:noescape
func kern2x16AVX2F32(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float32, ldc, nv int, alpha, beta float32)

//go:noescape
func kern3x16AVX2F32(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float32, ldc, nv int, alpha, beta float32)

//go:noescape
func kern4x16AVX2F32(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float32, ldc, nv int, alpha, beta float32)

//go:noescape
func kern5x16AVX2F32(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float32, ldc, nv int, alpha, beta float32)

//go:noescape
func kern6x16AVX2F32(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float32, ldc, nv int, alpha, beta float32)

//go:noescape
func kern1x16AVX512F32(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float32, ldc, nv int, alpha, beta float32)

//go:noescape
func kern2x16AVX512F32(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float32, ldc, nv int, alpha, beta float32)

//go:noescape
func kern3x16AVX512F32(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float32, ldc, nv int, alpha, beta float32)

//go:noescape
func kern4x16AVX512F32(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float32, ldc, nv int, alpha, beta float32)

//go:noescape
func kern5x16AVX512F32(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float32, ldc, nv int, alpha, beta float32)

//go:noescape
func kern6x16AVX512F32(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float32, ldc, nv int, alpha, beta float32)

//go:noescape
func kern7x16AVX512F32(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float32, ldc, nv int, alpha, beta float32)

//go:noescape
func kern8x16AVX512F32(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float32, ldc, nv int, alpha, beta float32)

//go:noescape
func kern1x8AVX512F32(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float32, ldc, nv int, alpha, beta float32)

//go:noescape
func kern2x8AVX512F32(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float32, ldc, nv int, alpha, beta float32)

//go:noescape
func kern3x8AVX512F32(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float32, ldc, nv int, alpha, beta float32)

//go:noescape
func kern4x8AVX512F32(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float32, ldc, nv int, alpha, beta float32)

//go:noescape
func kern5x8AVX512F32(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float32, ldc, nv int, alpha, beta float32)

//go:noescape
func kern6x8AVX512F32(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float32, ldc, nv int, alpha, beta float32)

//go:noescape
func kern7x8AVX512F32(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float32, ldc, nv int, alpha, beta float32)

//go:noescape
func kern8x8AVX512F32(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float32, ldc, nv int, alpha, beta float32)

//go:noescape
func kern1x16AVX512F32W(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float64, ldc, nv int, alpha, beta float32)

//go:noescape
func kern1x8AVX512F32W(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float64, ldc, nv int, alpha, beta float32)

//go:noescape
func kern2x16AVX512F32W(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float64, ldc, nv int, alpha, beta float32)

//go:noescape
func kern2x8AVX512F32W(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float64, ldc, nv int, alpha, beta float32)

//go:noescape
func kern3x16AVX512F32W(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float64, ldc, nv int, alpha, beta float32)

//go:noescape
func kern3x8AVX512F32W(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float64, ldc, nv int, alpha, beta float32)

//go:noescape
func kern4x16AVX512F32W(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float64, ldc, nv int, alpha, beta float32)

//go:noescape
func kern4x8AVX512F32W(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float64, ldc, nv int, alpha, beta float32)

//go:noescape
func kern5x16AVX512F32W(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float64, ldc, nv int, alpha, beta float32)

//go:noescape
func kern5x8AVX512F32W(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float64, ldc, nv int, alpha, beta float32)

//go:noescape
func kern6x16AVX512F32W(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float64, ldc, nv int, alpha, beta float32)

//go:noescape
func kern6x8AVX512F32W(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float64, ldc, nv int, alpha, beta float32)

//go:noescape
func kern7x16AVX512F32W(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float64, ldc, nv int, alpha, beta float32)

//go:noescape
func kern7x8AVX512F32W(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float64, ldc, nv int, alpha, beta float32)

//go:noescape
func kern8x16AVX512F32W(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float64, ldc, nv int, alpha, beta float32)

//go:noescape
func kern8x8AVX512F32W(k int, a *float32, rsa, csa int, b *float32, rsb int, c *float64, ldc, nv int, alpha, beta float32)
