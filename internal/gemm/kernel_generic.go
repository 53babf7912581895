package gemm

// genericKernel is the pure-Go micro-kernel, 4×8 tiles.
var genericKernel = kernel{mr: 4, fn: kernGeneric}

// kernGeneric is the pure-Go micro-kernel; see kernelFunc. Each row keeps its
// eight sums in registers.
func kernGeneric(rows, nv, k int, a []float64, rsa, csa int, b []float64, rsb int, c []float64, ldc int, alpha, beta float64) {
	for i := range rows {
		var s [nr]float64
		var c0, c1, c2, c3, c4, c5, c6, c7 float64
		ai, bi := i*rsa, 0
		for range k {
			av := a[ai]
			r := (*[nr]float64)(b[bi : bi+nr])
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
		row := c[i*ldc : i*ldc+nv]
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
