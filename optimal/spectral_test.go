package optimal

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/matapprox/matapprox/structure"
)

// residualValue returns ||T(x) - T(embed(a))||_2 by a dense SVD.
func residualValue(in, out structure.Band, x, a []float64) float64 {
	e := make([]float64, in.Len())
	structure.Embed(e, in, a, out)
	for i := range e {
		e[i] = x[i] - e[i]
	}
	return SpectralNorm(in, e)
}

// truncation returns the central entries of x.
func truncation(in, out structure.Band, x []float64) []float64 {
	a := make([]float64, out.Len())
	structure.Restrict(a, x, in, out)
	return a
}

// notebookInput returns a generator with entries uniform in [0, N), as the
// notebook's training inputs rand(N)·N.
func notebookInput(rng *rand.Rand, b structure.Band) []float64 {
	x := make([]float64, b.Len())
	for i := range x {
		x[i] = rng.Float64() * float64(b.N)
	}
	return x
}

func mustSpectral(t testing.TB, in, out structure.Band, opts *SDPOptions) *SDP {
	t.Helper()
	s, err := NewSDP(in, out, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkResult verifies the invariants every result must satisfy: A has
// the right length, Value is the objective of A, 0 <= Lower <= Value, and
// Value does not exceed the truncation's.
func checkResult(t *testing.T, in, out structure.Band, x []float64, r Result) {
	t.Helper()
	if len(r.A) != out.Len() {
		t.Fatalf("len(A) = %d, want %d", len(r.A), out.Len())
	}
	if v := residualValue(in, out, x, r.A); math.Abs(v-r.Value) > 1e-12*math.Max(v, 1e-300) {
		t.Errorf("Value = %v, but ||T(x)-T(A)||_2 = %v", r.Value, v)
	}
	if !(r.Lower >= 0 && r.Lower <= r.Value) {
		t.Errorf("certificate out of order: Lower = %v, Value = %v", r.Lower, r.Value)
	}
	if tr := residualValue(in, out, x, truncation(in, out, x)); r.Value > tr {
		t.Errorf("Value %v exceeds the truncation's %v", r.Value, tr)
	}
}

// phi evaluates the barrier t/μ - log det F(z) by a Cholesky factorization.
func (s *SDP) phi(z []float64, mu float64) float64 {
	s.buildF(z)
	if !s.chol.Factorize(s.f) {
		return math.Inf(1)
	}
	return z[s.nd]/mu - s.chol.LogDet()
}

func TestSpectralGradientHessian(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, c := range []struct{ n, k, kp int }{{6, 3, 1}, {5, 4, 0}, {7, 3, 3}, {4, 2, 2}} {
		in, out := structure.Band{N: c.n, K: c.k}, structure.Band{N: c.n, K: c.kp}
		s := mustSpectral(t, in, out, nil)
		for i := range s.xs {
			s.xs[i] = rng.Float64()*2 - 1
		}
		z := make([]float64, s.m)
		for i := range z[:s.nd] {
			z[i] = rng.Float64() - 0.5
		}
		s.factorR(z)
		z[s.nd] = 1.3*s.sig[0] + 0.1
		copy(s.z, z)
		if !s.point() {
			t.Fatal("point failed")
		}
		const mu = 0.37
		s.gradHess(mu)
		const h = 1e-6
		zp, zm := make([]float64, s.m), make([]float64, s.m)
		for i := 0; i < s.m; i++ {
			copy(zp, z)
			copy(zm, z)
			zp[i] += h
			zm[i] -= h
			fd := (s.phi(zp, mu) - s.phi(zm, mu)) / (2 * h)
			if math.Abs(fd-s.g[i]) > 1e-6*math.Max(1, math.Abs(fd)) {
				t.Errorf("%v: gradient %d = %v, finite difference %v", c, i, s.g[i], fd)
			}
		}
		h0 := append([]float64(nil), s.hs...)
		// Hessian columns by central differences of the analytic gradient.
		for j := 0; j < s.m; j++ {
			var gp, gm []float64
			for _, sign := range []float64{1, -1} {
				copy(s.z, z)
				s.z[j] += sign * h
				if !s.point() {
					t.Fatal("point failed")
				}
				s.gradHess(mu)
				if sign > 0 {
					gp = append([]float64(nil), s.g...)
				} else {
					gm = append([]float64(nil), s.g...)
				}
			}
			for i := 0; i < s.m; i++ {
				fd := (gp[i] - gm[i]) / (2 * h)
				if want := h0[i*s.m+j]; math.Abs(fd-want) > 1e-5*math.Max(1, math.Abs(fd)) {
					t.Errorf("%v: Hessian (%d,%d) = %v, finite difference %v", c, i, j, want, fd)
				}
			}
		}
	}
}

func TestSpectralNotebookRandom(t *testing.T) {
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	s := mustSpectral(t, in, out, nil)
	rng := rand.New(rand.NewPCG(2024, 7))
	worst := 0.0
	for trial := 0; trial < 200; trial++ {
		x := notebookInput(rng, in)
		r, err := s.Solve(x)
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		checkResult(t, in, out, x, r)
		if r.Gap() > 1e-8 {
			t.Errorf("trial %d: gap %v > 1e-8 without ErrNotConverged", trial, r.Gap())
		}
		worst = math.Max(worst, r.Gap())
	}
	t.Logf("worst relative gap over 200 inputs: %.3g", worst)
}

func TestSpectralNotebookMatrix(t *testing.T) {
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	s := mustSpectral(t, in, out, nil)

	// The notebook's test matrix lies inside the output band: the optimum
	// is its truncation, exactly, with value 0.
	x := []float64{0, 0, 0, 1, 2, 4, 2, 1, 0, 0, 0}
	r, err := s.Solve(x)
	if err != nil {
		t.Fatal(err)
	}
	if r.Value != 0 || r.Lower != 0 || r.Gap() != 0 {
		t.Errorf("Value %v, Lower %v, Gap %v; want 0", r.Value, r.Lower, r.Gap())
	}
	for i, v := range []float64{0, 1, 2, 4, 2, 1, 0} {
		if r.A[i] != v {
			t.Errorf("A = %v, want the central entries of x", r.A)
			break
		}
	}

	// The notebook's row_to_matrix example 0..10 has mass outside the band.
	x = []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	r, err = s.Solve(x)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, in, out, x, r)
	tr := residualValue(in, out, x, truncation(in, out, x))
	if !(r.Value < tr*(1-1e-3)) {
		t.Errorf("optimum %v not below the truncation's %v", r.Value, tr)
	}
	t.Logf("row 0..10: truncation %.6f, optimum %.9f (gap %.2g)", tr, r.Value, r.Gap())
}

func TestSpectralPerturbations(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	cases := []struct{ n, k, kp int }{{11, 5, 3}, {8, 4, 1}, {6, 5, 2}}
	for _, c := range cases {
		in, out := structure.Band{N: c.n, K: c.k}, structure.Band{N: c.n, K: c.kp}
		s := mustSpectral(t, in, out, nil)
		x := notebookInput(rng, in)
		r, err := s.Solve(x)
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, in, out, x, r)
		b := make([]float64, out.Len())
		for _, scale := range []float64{1e-7, 1e-5, 1e-3, 1e-1, 1} {
			for p := 0; p < 200; p++ {
				for i := range b {
					b[i] = r.A[i] + scale*r.Value*rng.NormFloat64()
				}
				// Lower is a proof: nothing may go below it.
				if v := residualValue(in, out, x, b); v < r.Lower*(1-1e-12) {
					t.Fatalf("%v: perturbation (scale %g) reaches %v below the certified bound %v", c, scale, v, r.Lower)
				}
			}
		}
	}
}

// TestSpectralBruteForce compares with direct minimisation at tiny sizes:
// exact one-dimensional convex minimisation for K' = 0 and Nelder–Mead with
// restarts for K' = 1.
func TestSpectralBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for n := 3; n <= 5; n++ {
		for kp := 0; kp <= 1; kp++ {
			for k := kp + 1; k <= n-1; k++ {
				in, out := structure.Band{N: n, K: k}, structure.Band{N: n, K: kp}
				s := mustSpectral(t, in, out, nil)
				for trial := 0; trial < 3; trial++ {
					x := make([]float64, in.Len())
					for i := range x {
						x[i] = rng.NormFloat64()
					}
					r, err := s.Solve(x)
					if err != nil {
						t.Fatal(err)
					}
					checkResult(t, in, out, x, r)
					f := func(a []float64) float64 { return residualValue(in, out, x, a) }
					var brute float64
					if kp == 0 {
						brute = ternary(func(v float64) float64 { return f([]float64{v}) }, x[k]-10, x[k]+10)
					} else {
						brute = nelderMead(f, r.A, rng)
					}
					name := fmt.Sprintf("N=%d K=%d K'=%d trial %d", n, k, kp, trial)
					if brute < r.Lower*(1-1e-12) {
						t.Errorf("%s: direct search found %v below the certified bound %v", name, brute, r.Lower)
					}
					if r.Value > brute*(1+1e-7) {
						t.Errorf("%s: Value %v worse than direct search %v", name, r.Value, brute)
					}
				}
			}
		}
	}
}

// ternary minimises a convex function of one variable on [lo, hi].
func ternary(f func(float64) float64, lo, hi float64) float64 {
	for i := 0; i < 200 && hi-lo > 1e-13; i++ {
		m1, m2 := lo+(hi-lo)/3, hi-(hi-lo)/3
		if f(m1) < f(m2) {
			hi = m2
		} else {
			lo = m1
		}
	}
	return f((lo + hi) / 2)
}

// nelderMead returns the best value found by Nelder–Mead (standard
// coefficients, restarted until no progress) from the given start and from
// random starts.
func nelderMead(f func([]float64) float64, start []float64, rng *rand.Rand) float64 {
	best := math.Inf(1)
	for restart := 0; restart < 3; restart++ {
		x0 := append([]float64(nil), start...)
		if restart > 0 {
			for i := range x0 {
				x0[i] += rng.NormFloat64()
			}
		}
		step, fx := 1.0, f(x0)
		for round := 0; round < 40; round++ {
			x0 = nelderMeadRun(f, x0, step)
			fn := f(x0)
			if fn >= fx && step < 1e-9 {
				break
			}
			fx, step = fn, step*0.25
		}
		best = math.Min(best, f(x0))
	}
	return best
}

// nelderMeadRun runs one Nelder–Mead search from x0 with an initial simplex
// of the given size and returns the best vertex.
func nelderMeadRun(f func([]float64) float64, x0 []float64, step float64) []float64 {
	d := len(x0)
	pts := make([][]float64, d+1)
	vals := make([]float64, d+1)
	for i := range pts {
		pts[i] = append([]float64(nil), x0...)
		if i > 0 {
			pts[i][i-1] += step
		}
		vals[i] = f(pts[i])
	}
	centroid := make([]float64, d)
	trial := func(c float64, worst int) ([]float64, float64) {
		p := make([]float64, d)
		for j := range p {
			p[j] = centroid[j] + c*(pts[worst][j]-centroid[j])
		}
		return p, f(p)
	}
	for it := 0; it < 400; it++ {
		// Order: best first.
		for i := 1; i <= d; i++ {
			for j := i; j > 0 && vals[j] < vals[j-1]; j-- {
				pts[j], pts[j-1] = pts[j-1], pts[j]
				vals[j], vals[j-1] = vals[j-1], vals[j]
			}
		}
		if vals[d]-vals[0] <= 1e-16*math.Abs(vals[0]) {
			break
		}
		for j := range centroid {
			centroid[j] = 0
			for i := 0; i < d; i++ {
				centroid[j] += pts[i][j] / float64(d)
			}
		}
		r, fr := trial(-1, d)
		switch {
		case fr < vals[0]:
			if e, fe := trial(-2, d); fe < fr {
				pts[d], vals[d] = e, fe
			} else {
				pts[d], vals[d] = r, fr
			}
		case fr < vals[d-1]:
			pts[d], vals[d] = r, fr
		default:
			if c, fc := trial(0.5, d); fc < vals[d] {
				pts[d], vals[d] = c, fc
			} else {
				for i := 1; i <= d; i++ {
					for j := range pts[i] {
						pts[i][j] = pts[0][j] + 0.5*(pts[i][j]-pts[0][j])
					}
					vals[i] = f(pts[i])
				}
			}
		}
	}
	return pts[0]
}

func TestSpectralEdgeCases(t *testing.T) {
	t.Run("N=1", func(t *testing.T) {
		b := structure.Band{N: 1, K: 0}
		s := mustSpectral(t, b, b, nil)
		r, err := s.Solve([]float64{-2.5})
		if err != nil || r.Value != 0 || r.Lower != 0 || r.A[0] != -2.5 {
			t.Errorf("got %+v, %v; want A = x, value 0", r, err)
		}
	})
	t.Run("K'=K", func(t *testing.T) {
		b := structure.Band{N: 6, K: 3}
		s := mustSpectral(t, b, b, nil)
		x := []float64{1, -2, 3, 4, 5, -6, 7}
		r, err := s.Solve(x)
		if err != nil || r.Value != 0 || r.Gap() != 0 {
			t.Fatalf("got %+v, %v; want value 0", r, err)
		}
		for i := range x {
			if r.A[i] != x[i] {
				t.Fatalf("A = %v, want x = %v", r.A, x)
			}
		}
	})
	t.Run("zero", func(t *testing.T) {
		in, out := structure.Band{N: 5, K: 3}, structure.Band{N: 5, K: 1}
		s := mustSpectral(t, in, out, nil)
		r, err := s.Solve(make([]float64, 7))
		if err != nil || r.Value != 0 || r.Iterations != 0 {
			t.Errorf("got %+v, %v; want value 0 without iterations", r, err)
		}
	})
	t.Run("N=2", func(t *testing.T) {
		// R = [[c, x1], [x-1, c]] with c = x0 - a0 has norm at least
		// max(|x-1|, |x1|), attained only at c = 0.
		in, out := structure.Band{N: 2, K: 1}, structure.Band{N: 2, K: 0}
		s := mustSpectral(t, in, out, nil)
		for _, x := range [][]float64{{1, 5, -3}, {-2, 0, 2}, {0.5, -1, 0}, {0, 3, 1e-3}} {
			r, err := s.Solve(x)
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, in, out, x, r)
			want := math.Max(math.Abs(x[0]), math.Abs(x[2]))
			if math.Abs(r.Value-want) > 1e-8*want {
				t.Errorf("x = %v: Value %v, want %v", x, r.Value, want)
			}
			if math.Abs(r.A[0]-x[1]) > 1e-3*want {
				t.Errorf("x = %v: A = %v, want %v", x, r.A, x[1])
			}
		}
	})
	t.Run("K'=0", func(t *testing.T) {
		in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 0}
		s := mustSpectral(t, in, out, nil)
		x := notebookInput(rand.New(rand.NewPCG(5, 5)), in)
		r, err := s.Solve(x)
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, in, out, x, r)
		brute := ternary(func(v float64) float64 { return residualValue(in, out, x, []float64{v}) }, -50, 50)
		if math.Abs(brute-r.Value) > 1e-8*brute {
			t.Errorf("Value %v, one-dimensional search %v", r.Value, brute)
		}
	})
	t.Run("scaling", func(t *testing.T) {
		in, out := structure.Band{N: 7, K: 3}, structure.Band{N: 7, K: 1}
		s := mustSpectral(t, in, out, nil)
		x := notebookInput(rand.New(rand.NewPCG(6, 6)), in)
		ref, err := s.Solve(x)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []float64{1e-300, 3e-7, 1e250} {
			y := make([]float64, len(x))
			for i := range x {
				y[i] = c * x[i]
			}
			r, err := s.Solve(y)
			if err != nil {
				t.Fatalf("scale %g: %v", c, err)
			}
			checkResult(t, in, out, y, r)
			if math.Abs(r.Value/c-ref.Value) > 1e-8*ref.Value {
				t.Errorf("scale %g: Value/c = %v, want %v", c, r.Value/c, ref.Value)
			}
		}
	})
}

func TestSpectralReuse(t *testing.T) {
	in, out := structure.Band{N: 9, K: 4}, structure.Band{N: 9, K: 2}
	s := mustSpectral(t, in, out, nil)
	rng := rand.New(rand.NewPCG(7, 7))
	x1, x2 := notebookInput(rng, in), notebookInput(rng, in)
	r1, err1 := s.Solve(x1)
	_, err2 := s.Solve(x2)
	r3, err3 := s.Solve(x1)
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatal(err1, err2, err3)
	}
	if r1.Value != r3.Value || r1.Lower != r3.Lower || r1.Iterations != r3.Iterations {
		t.Errorf("repeated solve differs: %+v vs %+v", r1, r3)
	}
	for i := range r1.A {
		if r1.A[i] != r3.A[i] {
			t.Fatalf("repeated solve A differs: %v vs %v", r1.A, r3.A)
		}
	}
}

func TestSpectralErrors(t *testing.T) {
	good := structure.Band{N: 5, K: 2}
	for _, c := range []struct {
		in, out structure.Band
		opts    *SDPOptions
		want    error
	}{
		{structure.Band{N: 0, K: 0}, structure.Band{N: 0, K: 0}, nil, structure.ErrBand},
		{structure.Band{N: 5, K: 5}, good, nil, structure.ErrBand},
		{good, structure.Band{N: 5, K: -1}, nil, structure.ErrBand},
		{good, structure.Band{N: 6, K: 1}, nil, structure.ErrBand},
		{good, structure.Band{N: 5, K: 3}, nil, structure.ErrBand},
		{good, good, &SDPOptions{Tol: -1}, ErrOption},
		{good, good, &SDPOptions{Tol: math.NaN()}, ErrOption},
		{good, good, &SDPOptions{Tol: 1}, ErrOption},
		{good, good, &SDPOptions{MaxNewton: -3}, ErrOption},
	} {
		if _, err := NewSDP(c.in, c.out, c.opts); !errors.Is(err, c.want) {
			t.Errorf("NewSDP(%v, %v, %+v) = %v, want %v", c.in, c.out, c.opts, err, c.want)
		}
	}

	s := mustSpectral(t, good, structure.Band{N: 5, K: 1}, nil)
	for _, c := range []struct {
		x    []float64
		want error
	}{
		{[]float64{1, 2, 3}, structure.ErrLength},
		{nil, structure.ErrLength},
		{[]float64{1, 2, math.NaN(), 4, 5}, structure.ErrNonFinite},
		{[]float64{1, 2, 3, math.Inf(-1), 5}, structure.ErrNonFinite},
	} {
		if _, err := s.Solve(c.x); !errors.Is(err, c.want) {
			t.Errorf("Solve(%v) = %v, want %v", c.x, err, c.want)
		}
	}

	// An iteration limit gives ErrNotConverged with a valid result.
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	s = mustSpectral(t, in, out, &SDPOptions{MaxNewton: 2})
	x := notebookInput(rand.New(rand.NewPCG(8, 8)), in)
	r, err := s.Solve(x)
	if !errors.Is(err, ErrNotConverged) {
		t.Fatalf("MaxNewton 2: err = %v, want ErrNotConverged", err)
	}
	checkResult(t, in, out, x, r)
	if r.Iterations > 2 {
		t.Errorf("took %d Newton steps, limit 2", r.Iterations)
	}
}

func TestSpectralNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, b := range []structure.Band{{N: 1, K: 0}, {N: 4, K: 1}, {N: 9, K: 8}} {
		g := make([]float64, b.Len())
		for i := range g {
			g[i] = rng.NormFloat64()
		}
		// Brute force: power iteration on TᵀT.
		m := b.Dense(g)
		var mtm mat.Dense
		mtm.Mul(m.T(), m)
		v := mat.NewVecDense(b.N, nil)
		for i := 0; i < b.N; i++ {
			v.SetVec(i, 1+0.1*float64(i))
		}
		var lam float64
		for it := 0; it < 5000; it++ {
			var w mat.VecDense
			w.MulVec(&mtm, v)
			lam = mat.Norm(&w, 2) / mat.Norm(v, 2)
			v.ScaleVec(1/mat.Norm(&w, 2), &w)
		}
		if got, want := SpectralNorm(b, g), math.Sqrt(lam); math.Abs(got-want) > 1e-9*want {
			t.Errorf("%v: SpectralNorm = %v, power iteration %v", b, got, want)
		}
	}
}

// FuzzSpectralSolve solves arbitrary small problems: no panic, and every
// result that Solve returns keeps Lower <= Value.
func FuzzSpectralSolve(f *testing.F) {
	f.Add(uint8(5), uint8(3), uint8(1), 1.0, -2.0, 3.0, 0.5, 7.0, 1e-3, 11.0)
	f.Add(uint8(1), uint8(0), uint8(0), 4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
	f.Add(uint8(4), uint8(3), uint8(0), 1e300, -1e300, 1e-300, 2.0, 0.0, 5.0, 1.0)
	f.Add(uint8(6), uint8(2), uint8(1), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
	f.Fuzz(func(t *testing.T, n, k, kp uint8, v0, v1, v2, v3, v4, v5, v6 float64) {
		nn := int(n)%6 + 1
		kk := int(k) % nn
		kpp := int(kp) % (kk + 1)
		in, out := structure.Band{N: nn, K: kk}, structure.Band{N: nn, K: kpp}
		s, err := NewSDP(in, out, nil)
		if err != nil {
			t.Fatal(err)
		}
		vals := []float64{v0, v1, v2, v3, v4, v5, v6}
		x := make([]float64, in.Len())
		for i := range x {
			x[i] = vals[i%len(vals)]
		}
		r, err := s.Solve(x)
		if err != nil {
			if errors.Is(err, structure.ErrNonFinite) || errors.Is(err, structure.ErrRange) || errors.Is(err, ErrNotConverged) {
				return
			}
			t.Fatalf("Solve(%v): %v", x, err)
		}
		if len(r.A) != out.Len() {
			t.Fatalf("len(A) = %d", len(r.A))
		}
		if !(r.Lower >= 0 && r.Lower <= r.Value*(1+1e-9)) {
			t.Fatalf("Solve(%v): Lower %v, Value %v", x, r.Lower, r.Value)
		}
	})
}

func BenchmarkSpectralSolve(b *testing.B) {
	for _, c := range []struct{ n, k, kp int }{{11, 5, 3}, {32, 15, 7}, {64, 31, 15}} {
		b.Run(fmt.Sprintf("N=%d,K=%dto%d", c.n, c.k, c.kp), func(b *testing.B) {
			in, out := structure.Band{N: c.n, K: c.k}, structure.Band{N: c.n, K: c.kp}
			s := mustSpectral(b, in, out, nil)
			rng := rand.New(rand.NewPCG(10, 10))
			xs := make([][]float64, 8)
			for i := range xs {
				xs[i] = notebookInput(rng, in)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.Solve(xs[i%len(xs)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSpectralTruncationRatio solves one notebook-like input (N = 11,
// K 5 -> 3, entries uniform in [0, 11)) per iteration and reports the mean
// of optimum/truncation value and the worst certified gap; run with
// -benchtime=1000x for the table of docs/SPECTRAL.md.
func BenchmarkSpectralTruncationRatio(b *testing.B) {
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	s := mustSpectral(b, in, out, nil)
	rng := rand.New(rand.NewPCG(11, 11))
	var sum, worst float64
	for i := 0; i < b.N; i++ {
		x := notebookInput(rng, in)
		r, err := s.Solve(x)
		if err != nil {
			b.Fatal(err)
		}
		sum += r.Value / residualValue(in, out, x, truncation(in, out, x))
		worst = math.Max(worst, r.Gap())
	}
	b.ReportMetric(sum/float64(b.N), "optimum/truncation")
	b.ReportMetric(worst/1e-9, "worst-gap/1e-9")
}
