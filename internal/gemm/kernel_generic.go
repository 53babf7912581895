package gemm

// kernGeneric is the pure-Go micro-kernel; see kernelFunc.
func kernGeneric(k int, a []float64, rsa, csa int, b []float64, rsb int, c []float64, ldc int, alpha, beta float64) {
	for i := range mr {
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
		row := (*[nr]float64)(c[i*ldc : i*ldc+nr])
		if beta == 0 {
			row[0], row[1], row[2], row[3] = alpha*c0, alpha*c1, alpha*c2, alpha*c3
			row[4], row[5], row[6], row[7] = alpha*c4, alpha*c5, alpha*c6, alpha*c7
			continue
		}
		row[0] = alpha*c0 + beta*row[0]
		row[1] = alpha*c1 + beta*row[1]
		row[2] = alpha*c2 + beta*row[2]
		row[3] = alpha*c3 + beta*row[3]
		row[4] = alpha*c4 + beta*row[4]
		row[5] = alpha*c5 + beta*row[5]
		row[6] = alpha*c6 + beta*row[6]
		row[7] = alpha*c7 + beta*row[7]
	}
}
