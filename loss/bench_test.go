package loss

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/matapprox/matapprox/structure"
)

var benchSizes = []bandCase{{11, 5, 3}, {129, 64, 32}}

// BenchmarkProbeQuadratic measures loss and gradient per sample through
// the quadratic form, in batches of 100.
// The f32 variants are Quadratic.Float32 in batches of 256 (a float32
// model's training loss at the scaled size).
func BenchmarkProbeQuadratic(b *testing.B) {
	for _, c := range benchSizes {
		for _, f32 := range []bool{false, true} {
			benchProbeQuadratic(b, c, f32)
		}
	}
}

func benchProbeQuadratic(b *testing.B, c bandCase, f32 bool) {
	name := fmt.Sprintf("N=%d,K=%dto%d", c.n, c.k, c.ko)
	batch := 100
	if f32 {
		name, batch = name+",f32,batch=256", 256
	}
	{
		b.Run(name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			in, out := structure.Band{N: c.n, K: c.k}, structure.Band{N: c.n, K: c.ko}
			l, _ := NewProbe(in, out, NotebookProbes(rng, 100, c.n), 100)
			if f32 {
				l = l.Float32()
			}
			x, a := randVec(rng, batch*in.Len()), randVec(rng, batch*out.Len())
			g := make([]float64, len(a))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				l.Eval(g, x, a, batch)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/sample")
		})
	}
}

// BenchmarkProbeDenseLoop measures the same loss and gradient computed as
// the notebook does, vectorised: form X−A, loop over the probes with dense
// matrix-vector products, and accumulate the gradient
// −(2/P) Σ_p (R y_p) y_pᵀ/||y_p||² read along the diagonals.
func BenchmarkProbeDenseLoop(b *testing.B) {
	for _, c := range benchSizes {
		b.Run(fmt.Sprintf("N=%d,K=%dto%d", c.n, c.k, c.ko), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			in, out := structure.Band{N: c.n, K: c.k}, structure.Band{N: c.n, K: c.ko}
			const p = 100
			probes := NotebookProbes(rng, p, c.n)
			x, a := randVec(rng, in.Len()), randVec(rng, out.Len())
			n := c.n
			full := make([]float64, in.Len())
			var R mat.Dense
			G := mat.NewDense(n, n, nil)
			ry := mat.NewVecDense(n, nil)
			grad := make([]float64, out.Len())
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				structure.Embed(full, in, a, out)
				for j := range full {
					full[j] = x[j] - full[j]
				}
				R.CloneFrom(in.Dense(full))
				G.Zero()
				var s float64
				for k := 0; k < p; k++ {
					y := mat.NewVecDense(n, probes[k*n:(k+1)*n])
					ny := mat.Dot(y, y)
					ry.MulVec(&R, y)
					s += mat.Dot(ry, ry) / ny
					G.RankOne(G, -2/(ny*p), ry, y)
				}
				for j := range grad {
					d := j - out.K
					var t float64
					for r := max(0, -d); r < min(n, n-d); r++ {
						t += G.At(r, r+d)
					}
					grad[j] = t
				}
				_ = s
			}
		})
	}
}
