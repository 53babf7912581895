//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// mr is the number of rows of a micro-tile.
const mr = 4

// haveAsm reports whether the CPU runs the AVX2+FMA micro-kernel.
var haveAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernAsm is the AVX2+FMA micro-kernel; see kernelFunc. It checks that the
// tile it touches lies inside a, b and c before entering assembly.
func kernAsm(k int, a []float64, rsa, csa int, b []float64, rsb int, c []float64, ldc int, alpha, beta float64) {
	_ = a[(mr-1)*rsa+(k-1)*csa]
	_ = b[(k-1)*rsb+nr-1]
	_ = c[(mr-1)*ldc+nr-1]
	kern4x8AVX2(k, &a[0], rsa, csa, &b[0], rsb, &c[0], ldc, alpha, beta)
}

//go:noescape
func kern4x8AVX2(k int, a *float64, rsa, csa int, b *float64, rsb int, c *float64, ldc int, alpha, beta float64)

//go:noescape
func kern6x8AVX2(k int, a *float64, rsa, csa int, b *float64, rsb int, c *float64, ldc int, alpha, beta float64)
