package gemm

// genericKernel64 and genericKernel32 are the pure-Go micro-kernels, 4×8
// and 4×16 tiles.
var (
	genericKernel64 = kernel[float64]{mr: 4, nr: 8, fn: kernGeneric[float64], path: Generic}
	genericKernel32 = kernel[float32]{mr: 4, nr: 16, fn: kernGeneric[float32], path: Generic}
)

// kernGeneric is the pure-Go micro-kernel; see kernelFunc. It handles the
// tile in column blocks of eight, each row keeping its eight sums in
// registers.
func kernGeneric[T elem](rows, nv, k int, a []T, rsa, csa int, b []T, rsb int, c []T, ldc int, alpha, beta T) {
	for j0 := 0; j0 < nv; j0 += 8 {
		for i := range rows {
			var s [8]T
			var c0, c1, c2, c3, c4, c5, c6, c7 T
			ai, bi := i*rsa, j0
			for range k {
				av := a[ai]
				r := (*[8]T)(b[bi : bi+8])
				c0 += av * r[0]
				c1 += av * r[1]
				c2 += av * r[2]
				c3 += av * r[3]
				c4 += av * r[4]
				c5 += av * r[5]
				c6 += av * r[6]
				c7 += av * r[7]
				ai += csa
				bi += rsb
			}
			s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7] = c0, c1, c2, c3, c4, c5, c6, c7
			row := c[i*ldc+j0 : i*ldc+min(nv, j0+8)]
			if beta == 0 {
				for j := range row {
					row[j] = alpha * s[j]
				}
				continue
			}
			for j := range row {
				row[j] = alpha*s[j] + beta*row[j]
			}
		}
	}
}
