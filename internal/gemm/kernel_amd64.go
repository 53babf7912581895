//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// haveAsm reports whether the CPU runs the AVX2+FMA micro-kernels.
var haveAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// asmKernel is the AVX2+FMA micro-kernel, 6×8 tiles.
var asmKernel = kernel{mr: 6, fn: kernAVX2}

// kernAVX2 dispatches to the assembly kernel for the number of rows; see
// kernelFunc. It checks that the tile it touches lies inside a, b and c
// before entering assembly.
func kernAVX2(rows, nv, k int, a []float64, rsa, csa int, b []float64, rsb int, c []float64, ldc int, alpha, beta float64) {
	_ = a[(rows-1)*rsa+(k-1)*csa]
	_ = b[(k-1)*rsb+nr-1]
	_ = c[(rows-1)*ldc+nv-1]
	if nv < 1 || nv > nr {
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
