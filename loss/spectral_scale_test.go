package loss

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/matapprox/matapprox/structure"
)

// TestSpectralNormScaledAndBanded: near overflow and underflow the norm
// and subgradient are those of the scaled residual; above the dense limit
// the banded oracle agrees with a dense SVD.
func TestSpectralNormScaledAndBanded(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 41))
	for _, n := range []int{9, 200} {
		in, out := structure.Band{N: n, K: 3}, structure.Band{N: n, K: 1}
		l, err := NewSpectral(in, out)
		if err != nil {
			t.Fatal(err)
		}
		r := make([]float64, in.Len())
		for i := range r {
			r[i] = rng.NormFloat64()
		}
		var svd mat.SVD
		if !svd.Factorize(in.Dense(r), mat.SVDThin) {
			t.Fatal("SVD failed")
		}
		want := svd.Values(nil)[0]
		g0 := make([]float64, in.Len())
		if got := l.Norm(g0, r); math.Abs(got-want) > 1e-10*want {
			t.Errorf("N=%d: Norm = %v, dense SVD %v", n, got, want)
		}
		// The subgradient is u_1ᵀ S_d v_1: check ⟨grad, r⟩ = σ_1 (Euler).
		var dot float64
		for i := range r {
			dot += g0[i] * r[i]
		}
		if math.Abs(dot-want) > 1e-8*want {
			t.Errorf("N=%d: ⟨grad, r⟩ = %v, want σ_1 = %v", n, dot, want)
		}
		for _, e := range []int{-1000, 1015} {
			re := make([]float64, len(r))
			for i, v := range r {
				re[i] = math.Ldexp(v, e)
			}
			g := make([]float64, len(r))
			got := l.Norm(g, re)
			if math.IsInf(got, 0) || math.IsNaN(got) || math.Abs(math.Ldexp(got, -e)-want) > 1e-10*want {
				t.Errorf("N=%d scale 2^%d: Norm/2^%d = %v, want %v", n, e, e, math.Ldexp(got, -e), want)
			}
			for i := range g {
				if math.Abs(math.Abs(g[i])-math.Abs(g0[i])) > 1e-6 {
					t.Errorf("N=%d scale 2^%d: grad[%d] = %v, want ±%v", n, e, i, g[i], g0[i])
				}
			}
		}
	}
}
