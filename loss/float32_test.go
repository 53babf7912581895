package loss

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/matapprox/matapprox/internal/gemm"
	"github.com/matapprox/matapprox/structure"
)

// TestQuadraticFloat32 checks the float32 evaluation of the probe and
// general quadratic losses against the float64 one on every gemm path, for
// odd band widths and batch sizes: value and gradient to float32 accuracy
// relative to their scale; the Frobenius loss (diagonal Q) stays bit for
// bit the float64 one; and Eval does not allocate once its workspace has
// grown.
func TestQuadraticFloat32(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	for gp := gemm.Generic; gp <= gemm.BestPath(); gp++ {
		was := gemm.SetPath(gp)
		for _, c := range []struct{ n, k, ko int }{{11, 5, 3}, {17, 8, 3}, {129, 64, 32}, {9, 4, 0}} {
			in, out := structure.Band{N: c.n, K: c.k}, structure.Band{N: c.n, K: c.ko}
			probe, err := NewProbe(in, out, GaussianProbes(rng, 13, c.n), 13)
			if err != nil {
				t.Fatal(err)
			}
			frob, _ := NewFrobenius(in, out, true)
			for _, l := range []*Quadratic{probe, frob} {
				f := l.Float32()
				for _, b := range []int{0, 1, 7, 33} {
					L, Lo := in.Len(), out.Len()
					x := randVec(rng, b*L)
					a := randVec(rng, b*Lo)
					g64, g32 := make([]float64, b*Lo), make([]float64, b*Lo)
					v64 := l.Eval(g64, x, a, b)
					v32 := f.Eval(g32, x, a, b)
					if l.diag != nil {
						if math.Float64bits(v32) != math.Float64bits(v64) {
							t.Fatalf("%s: float32 value %v, float64 %v", l.Name(), v32, v64)
						}
					} else if !(math.Abs(v32-v64) <= 1e-5*math.Abs(v64)) {
						t.Fatalf("gemm %v %s N=%d batch %d: float32 value %v, float64 %v", gp, l.Name(), c.n, b, v32, v64)
					}
					scale := 0.0
					for _, v := range g64 {
						scale = max(scale, math.Abs(v))
					}
					for i := range g64 {
						if !(math.Abs(g32[i]-g64[i]) <= 1e-5*scale) {
							t.Fatalf("gemm %v %s N=%d batch %d: gradient %d float32 %v, float64 %v", gp, l.Name(), c.n, b, i, g32[i], g64[i])
						}
					}
					if v := f.Eval(nil, x, a, b); v != v32 {
						t.Fatalf("%s: value without gradient %v, with %v", l.Name(), v, v32)
					}
					if n := testing.AllocsPerRun(3, func() { f.Eval(g32, x, a, b) }); n != 0 {
						t.Fatalf("%s batch %d: %v allocations", l.Name(), b, n)
					}
				}
				if f.Value(randVec(rng, in.Len())) == 0 || f.Name() != l.Name() {
					t.Fatalf("%s: Float32 changed Value or Name", l.Name())
				}
			}
		}
		gemm.SetPath(was)
	}
}
