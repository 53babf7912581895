package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// benchShape is one product of MLP training.
type benchShape struct {
	name    string
	tA, tB  blas.Transpose
	m, n, k int
	beta    float64
}

// mlpShapes returns the products of one training step of an MLP with layer
// widths dims and batch size bs, and the loss product R(bs×l)·Q(l×l).
func mlpShapes(bs int, dims []int, l int) []benchShape {
	var s []benchShape
	for i := 0; i+1 < len(dims); i++ {
		in, out := dims[i], dims[i+1]
		s = append(s, benchShape{fmt.Sprintf("fwd%d_%dx%dx%d", i+1, bs, out, in), blas.NoTrans, blas.Trans, bs, out, in, 0})
	}
	for i := len(dims) - 2; i >= 1; i-- {
		in, out := dims[i], dims[i+1]
		s = append(s, benchShape{fmt.Sprintf("bwd%d_%dx%dx%d", i+1, bs, in, out), blas.NoTrans, blas.NoTrans, bs, in, out, 0})
	}
	for i := 0; i+1 < len(dims); i++ {
		in, out := dims[i], dims[i+1]
		s = append(s, benchShape{fmt.Sprintf("wgrad%d_%dx%dx%d", i+1, out, in, bs), blas.Trans, blas.NoTrans, out, in, bs, 1})
	}
	s = append(s, benchShape{fmt.Sprintf("loss_%dx%dx%d", bs, l, l), blas.NoTrans, blas.NoTrans, bs, l, l, 0})
	return s
}

func BenchmarkDgemm(b *testing.B) {
	groups := []struct {
		name   string
		shapes []benchShape
	}{
		{"notebook", mlpShapes(100, []int{11, 100, 100, 7}, 10)},
		{"scaled", mlpShapes(256, []int{129, 512, 512, 65}, 129)},
		{"square", []benchShape{{"512x512x512", blas.NoTrans, blas.NoTrans, 512, 512, 512, 0}}},
	}
	impls := []struct {
		name string
		f    func(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int)
	}{
		{"gemm", Dgemm},
		{"gonum", gonum.Implementation{}.Dgemm},
	}
	for _, g := range groups {
		for _, s := range g.shapes {
			rng := rand.New(rand.NewPCG(1, 1))
			p := newProblem(rng, s.tA, s.tB, s.m, s.n, s.k, 0, 1, s.beta)
			flops := 2 * float64(s.m*s.n*s.k)
			for _, im := range impls {
				b.Run(g.name+"/"+s.name+"/"+im.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						im.f(p.tA, p.tB, p.m, p.n, p.k, 1, p.a, p.lda, p.b, p.ldb, p.beta, p.c, p.ldc)
					}
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
			if BestPath() != Generic && g.name != "square" {
				b.Run(g.name+"/"+s.name+"/generic", func(b *testing.B) {
					defer SetGeneric(SetGeneric(true))
					for b.Loop() {
						Dgemm(p.tA, p.tB, p.m, p.n, p.k, 1, p.a, p.lda, p.b, p.ldb, p.beta, p.c, p.ldc)
					}
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// BenchmarkKernel measures the micro-kernels alone on packed, L1-resident
// operands, for every family this CPU runs and both precisions.
func BenchmarkKernel(b *testing.B) {
	for _, path := range modes() {
		was := SetPath(path)
		k64, k32 := kernel64(), kernel32()
		SetPath(was)
		for _, k := range []int{8, 64, 256} {
			rng := rand.New(rand.NewPCG(1, 2))
			mr, nr := k64.mr, k64.nr
			a := fill(rng, k, mr, mr)
			bb := fill(rng, k, nr, nr)
			c := make([]float64, mr*nr)
			b.Run(fmt.Sprintf("f64/%dx%d/k=%d/%s", mr, nr, k, path), func(b *testing.B) {
				for b.Loop() {
					k64.fn(mr, nr, k, a, 1, mr, bb, nr, c, nr, 1, 1)
				}
				b.ReportMetric(2*float64(mr*nr*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
			mr32, nr32 := k32.mr, k32.nr
			a32, b32 := to32(fill(rng, k, mr32, mr32)), to32(fill(rng, k, nr32, nr32))
			c32 := make([]float32, mr32*nr32)
			b.Run(fmt.Sprintf("f32/%dx%d/k=%d/%s", mr32, nr32, k, path), func(b *testing.B) {
				for b.Loop() {
					k32.fn(mr32, nr32, k, a32, 1, mr32, b32, nr32, c32, nr32, 1, 1)
				}
				b.ReportMetric(2*float64(mr32*nr32*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
