package optimal

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/matapprox/matapprox/structure"
)

// TestSpectralInBandInvariance checks a*(x) = x_I + δ*(x_out): in-band
// entries 1e10 times the rest change neither the optimum's value nor δ
// beyond what representing x_I + δ in double precision costs.
func TestSpectralInBandInvariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 31))
	for _, c := range []struct{ n, k, kp int }{{11, 5, 3}, {16, 6, 2}, {24, 8, 4}} {
		in, out := structure.Band{N: c.n, K: c.k}, structure.Band{N: c.n, K: c.kp}
		s := mustSpectral(t, in, out, nil)
		for trial := 0; trial < 4; trial++ {
			xo := notebookInput(rng, in)
			off := c.k - c.kp
			for i := off; i < off+out.Len(); i++ {
				xo[i] = 0
			}
			base, err := s.Solve(xo)
			if err != nil {
				t.Fatal(err)
			}
			x := append([]float64(nil), xo...)
			for i := off; i < off+out.Len(); i++ {
				x[i] = 1e10 * float64(c.n) * (rng.Float64() - 0.5)
			}
			r, err := s.Solve(x)
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, in, out, x, r)
			// δ is the same; a = x_I + δ loses |x_I|·ε ≈ 1e10·N·1e-16.
			for i := range r.A {
				if d := r.A[i] - x[off+i]; math.Abs(d-base.A[i]) > 1e-4*math.Max(1, math.Abs(base.A[i])) {
					t.Errorf("%v: δ_%d = %v with large x_I, %v without", in, i, d, base.A[i])
				}
			}
			if math.Abs(r.Value-base.Value) > 1e-4*base.Value {
				t.Errorf("%v: value %v with large x_I, %v without", in, r.Value, base.Value)
			}
			if math.Abs(r.Lower-base.Lower) > 1e-12*base.Value {
				t.Errorf("%v: lower %v with large x_I, %v without", in, r.Lower, base.Lower)
			}
			if !(r.Lower <= base.Value) {
				t.Errorf("%v: lower bound %v above the optimum %v", in, r.Lower, base.Value)
			}
		}
	}
}

// TestSpectralExtremeScales: inputs at 2^1023 and the largest float64,
// and huge dynamic range, give a correct answer or a clear error wrapping
// structure.ErrNonFinite, never a panic; scaling an input by a power of two
// scales the answer exactly.
func TestSpectralExtremeScales(t *testing.T) {
	in, out := structure.Band{N: 8, K: 3}, structure.Band{N: 8, K: 1}
	s := mustSpectral(t, in, out, nil)
	rng := rand.New(rand.NewPCG(32, 32))
	x := notebookInput(rng, in)
	base, err := s.Solve(x)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []int{-1070, -1000, -300, 300, 1000, 1015} {
		xe := make([]float64, len(x))
		for i, v := range x {
			xe[i] = math.Ldexp(v, e)
		}
		r, err := s.Solve(xe)
		if err != nil {
			if e >= 1015 && errors.Is(err, structure.ErrNonFinite) {
				continue
			}
			t.Fatalf("scale 2^%d: %v", e, err)
		}
		got, want := math.Ldexp(r.Value, -e), base.Value
		tol := 1e-9
		if e < -1022 {
			tol = 1e-2 // subnormal inputs keep only a few digits
		}
		if math.Abs(got-want) > tol*want {
			t.Errorf("scale 2^%d: value/2^%d = %v, want %v", e, e, got, want)
		}
		if !(r.Lower <= r.Value) {
			t.Errorf("scale 2^%d: Lower %v > Value %v", e, r.Lower, r.Value)
		}
	}
	for _, x := range [][]float64{
		{math.MaxFloat64, 0, 0, 1, 0, 0, math.MaxFloat64},
		{math.Ldexp(1, 1023), 1e-300, 5e-324, 1, -1e300, 0, 2},
		{1e300, 1e-300, 0, 1e300, 0, 1e-300, -1e300},
		{5e-324, 0, 0, 0, 0, 0, -5e-324},
	} {
		r, err := s.Solve(x)
		if err != nil {
			if !errors.Is(err, structure.ErrNonFinite) && !errors.Is(err, structure.ErrRange) && !errors.Is(err, ErrNotConverged) {
				t.Errorf("Solve(%v): unexpected error %v", x, err)
			}
			continue
		}
		if !(r.Lower >= 0 && r.Lower <= r.Value) || math.IsInf(r.Value, 0) || !finite(r.A) {
			t.Errorf("Solve(%v): Lower %v, Value %v, A %v", x, r.Lower, r.Value, r.A)
		}
	}
}

// TestSpectralNormScaled: the norm of generators near overflow and
// underflow, dense and banded, equals the scaled norm.
func TestSpectralNormScaled(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 33))
	for _, b := range []structure.Band{{N: 5, K: 2}, {N: 40, K: 3}, {N: 300, K: 4}} {
		g := make([]float64, b.Len())
		for i := range g {
			g[i] = rng.NormFloat64()
		}
		base := SpectralNorm(b, g)
		for _, e := range []int{-1060, -500, 500, 1018} {
			ge := make([]float64, len(g))
			for i, v := range g {
				ge[i] = math.Ldexp(v, e)
			}
			got := math.Ldexp(SpectralNorm(b, ge), -e)
			tol := 1e-9
			if e < -1022 {
				tol = 1e-3 // subnormal entries keep a few digits
			}
			if math.Abs(got-base) > tol*base {
				t.Errorf("%v scale 2^%d: %v, want %v", b, e, got, base)
			}
		}
		huge := []float64{math.MaxFloat64}
		hb := structure.Band{N: b.N, K: 0}
		if v := SpectralNorm(hb, huge); v != math.MaxFloat64 {
			t.Errorf("N=%d: norm of MaxFloat64·I = %v", b.N, v)
		}
	}
	// Overflowing norm: +Inf, not a panic.
	b := structure.Band{N: 6, K: 1}
	if v := SpectralNorm(b, []float64{math.MaxFloat64, math.MaxFloat64, math.MaxFloat64}); !math.IsInf(v, 1) {
		t.Errorf("norm above MaxFloat64 = %v, want +Inf", v)
	}
}
