// Package gemm provides the dense matrix products of training: row-major
// general matrix multiplication C = alpha·op(A)·op(B) + beta·C in float64.
//
// Dgemm has the signature and semantics of gonum's blas64 Dgemm (row-major,
// blas.NoTrans or blas.Trans for each operand).
package gemm

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

var impl gonum.Implementation

// Dgemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices, where
// op(A) is m×k, op(B) is k×n and C is m×n.
func Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	impl.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
