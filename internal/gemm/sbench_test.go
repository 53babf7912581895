package gemm

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// BenchmarkSgemmScaled measures the float32 products of one training step
// at the scaled size (nn's float32 layout: rows of 512 floats padded to
// 528) and reports each one's GFLOP/s and µs.
func BenchmarkSgemmScaled(b *testing.B) {
	const bs, p = 256, 528
	N, T := blas.NoTrans, blas.Trans
	for _, s := range []struct {
		name          string
		tA, tB        blas.Transpose
		m, n, k       int
		lda, ldb, ldc int
	}{
		{"fwd1", N, T, bs, 512, 129, 129, 129, p},
		{"fwd2", N, T, bs, 512, 512, p, p, p},
		{"fwd3", N, T, bs, 65, 512, p, p, 65},
		{"bwd3", N, N, bs, 512, 65, 65, p, p},
		{"bwd2", N, N, bs, 512, 512, p, p, p},
		{"wgrad3", T, N, 65, 512, bs, 65, p, 512},
		{"wgrad2", T, N, 512, 512, bs, p, p, 512},
		{"wgrad1", T, N, 512, 129, bs, p, 129, 129},
		{"loss", N, N, bs, 129, 129, 129, 129, 129},
	} {
		rng := rand.New(rand.NewPCG(1, 2))
		ra, ca := s.m, s.k
		if s.tA == T {
			ra, ca = s.k, s.m
		}
		rb, cb := s.k, s.n
		if s.tB == T {
			rb, cb = s.n, s.k
		}
		a := to32(fill(rng, ra, ca, s.lda))
		bm := to32(fill(rng, rb, cb, s.ldb))
		c := make([]float32, s.m*s.ldc)
		b.Run(s.name, func(b *testing.B) {
			for b.Loop() {
				Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1, a, s.lda, bm, s.ldb, 0, c, s.ldc)
			}
			sec := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(2*float64(s.m*s.n*s.k)/sec/1e9, "GFLOP/s")
			b.ReportMetric(sec*1e6, "µs")
		})
	}
}
