package vmath

import "fmt"

// DotRows sets dst[i] = Σ_{d<len(x)} m[i·ld+d]·x[d] for i < len(dst): the
// dot products of x with the first len(dst) rows of the row-major matrix m
// whose rows are ld apart (ld = len(x) for a dense matrix; ld > len(x)
// skips the elements between rows, which are never read). It panics if
// ld < len(x) or m is shorter than the last row's end.
//
// The terms are summed in an unspecified order, and the assembly paths
// fuse each multiplication with its addition (FMA), so results may differ
// from a sequential loop in the last bits. Every order of the n = len(x)
// terms, fused or not, rounds each product-and-sum at most n times, so the
// computed sum is within γ_n Σ_d |m[i·ld+d]·x[d]| of the exact one, γ_n =
// nu/(1−nu), u = 2⁻⁵³ (Higham, Accuracy and Stability of Numerical
// Algorithms, 2nd ed., §3.1), barring overflow and underflow. On a given
// path, dst[i] depends only on row i and x, not on i or len(dst): a row
// gives the same bits alone as within a batch.
//
// Order, on every path: four lanes, lane j summing the elements d ≡ j
// (mod 4) in increasing d from zero, then (l0+l1)+(l2+l3). The AVX2 path
// (taken on the AVX-512 path too, which has no kernel of its own) fuses
// each lane's multiply and add; the generic path rounds the product first.
func DotRows(dst, m []float64, ld int, x []float64) {
	rows, n := len(dst), len(x)
	if rows == 0 {
		return
	}
	if ld < n {
		panic(fmt.Sprintf("vmath: DotRows: row stride %d below %d columns", ld, n))
	}
	checkLen("DotRows", (rows-1)*ld+n, len(m))
	done := dotRowsVec(Current(), dst, m, ld, x)
	for i := done; i < rows; i++ {
		dst[i] = dotRow(m[i*ld:i*ld+n], x)
	}
}

// dotRow is the generic path of DotRows: h·x (len(h) = len(x)) in the
// lanes of the assembly, unfused.
func dotRow(h, x []float64) float64 {
	var s0, s1, s2, s3 float64
	n := len(x)
	h = h[:n]
	d := 0
	for ; d+4 <= n; d += 4 {
		s0 += h[d] * x[d]
		s1 += h[d+1] * x[d+1]
		s2 += h[d+2] * x[d+2]
		s3 += h[d+3] * x[d+3]
	}
	switch n - d {
	case 3:
		s2 += h[d+2] * x[d+2]
		fallthrough
	case 2:
		s1 += h[d+1] * x[d+1]
		fallthrough
	case 1:
		s0 += h[d] * x[d]
	}
	return (s0 + s1) + (s2 + s3)
}
