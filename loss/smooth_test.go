package loss

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/matapprox/matapprox/structure"
)

func TestSmoothSpectral(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, c := range []bandCase{{11, 5, 3}, {6, 3, 1}, {20, 7, 0}, {1, 0, 0}} {
		in, out := structure.Band{N: c.n, K: c.k}, structure.Band{N: c.n, K: c.ko}
		spec, _ := NewSpectral(in, out)
		for _, rel := range []float64{1e-3, 0.05, 0.5} {
			sm, err := NewSmoothSpectral(in, out, rel)
			if err != nil {
				t.Fatal(err)
			}
			const batch = 3
			x, a := randVec(rng, batch*in.Len()), randVec(rng, batch*out.Len())
			// σ_1 <= S <= σ_1 + τ·log N, and S is 1-homogeneous.
			for b := 0; b < batch; b++ {
				xb, ab := x[b*in.Len():(b+1)*in.Len()], a[b*out.Len():(b+1)*out.Len()]
				s1, s := spec.Eval(nil, xb, ab, 1), sm.Eval(nil, xb, ab, 1)
				if s < s1*(1-1e-12) || s > s1*(1+rel*math.Log(float64(c.n)))*(1+1e-12) {
					t.Errorf("%v rel %g: S = %v outside [σ_1, σ_1(1 + rel·log N)] for σ_1 = %v", in, rel, s, s1)
				}
				x3, a3 := append([]float64(nil), xb...), append([]float64(nil), ab...)
				for i := range x3 {
					x3[i] *= 3
				}
				for i := range a3 {
					a3[i] *= 3
				}
				if s3 := sm.Eval(nil, x3, a3, 1); math.Abs(s3-3*s) > 1e-12*s3 {
					t.Errorf("%v rel %g: S(3r) = %v, 3·S(r) = %v", in, rel, s3, 3*s)
				}
			}
			grad := make([]float64, len(a))
			sm.Eval(grad, x, a, batch)
			const h = 1e-6
			for i := range a {
				save := a[i]
				a[i] = save + h
				fp := sm.Eval(nil, x, a, batch)
				a[i] = save - h
				fm := sm.Eval(nil, x, a, batch)
				a[i] = save
				if fd := (fp - fm) / (2 * h); math.Abs(fd-grad[i]) > 1e-5*math.Max(1, math.Abs(fd)) {
					t.Errorf("%v rel %g: ∂S/∂a[%d] = %v, finite difference %v", in, rel, i, grad[i], fd)
				}
			}
		}
	}
	if _, err := NewSmoothSpectral(structure.Band{N: 3, K: 1}, structure.Band{N: 3, K: 0}, 0); err == nil {
		t.Error("relative temperature 0: no error")
	}
}
