package optimal

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/matapprox/matapprox/structure"
)

// bruteSymbolMax returns max_θ |x̂(θ) − â(θ)| by brute force, independently
// of the solver's code: |Σ_d r_d e^{idθ}| (one Sincos per term) on a
// uniform grid of g points of [0, 2π), then golden-section search around
// the 8 largest grid maxima.
func bruteSymbolMax(x, a []float64, K, kp, g int) float64 {
	r := append([]float64(nil), x...)
	for i, v := range a { // a may be nil: the maximum of |x̂|
		r[K-kp+i] -= v
	}
	f := func(th float64) float64 {
		var re, im float64
		for i, v := range r {
			if v == 0 {
				continue
			}
			s, c := math.Sincos(float64(i-K) * th)
			re += v * c
			im += v * s
		}
		return math.Hypot(re, im)
	}
	h := 2 * math.Pi / float64(g)
	vals := make([]float64, g)
	for i := range vals {
		vals[i] = f(float64(i) * h)
	}
	type peak struct {
		i int
		v float64
	}
	var top []peak
	for i := range vals {
		v := vals[i]
		if v < vals[(i+g-1)%g] || v < vals[(i+1)%g] {
			continue
		}
		top = append(top, peak{i, v})
		for j := len(top) - 1; j > 0 && top[j].v > top[j-1].v; j-- {
			top[j], top[j-1] = top[j-1], top[j]
		}
		if len(top) > 8 {
			top = top[:8]
		}
	}
	best := 0.0
	for _, v := range vals {
		best = math.Max(best, v)
	}
	phi := (math.Sqrt(5) - 1) / 2
	for _, p := range top {
		lo, hi := float64(p.i-1)*h, float64(p.i+1)*h
		for it := 0; it < 80; it++ {
			m1, m2 := hi-phi*(hi-lo), lo+phi*(hi-lo)
			if f(m1) < f(m2) {
				lo = m1
			} else {
				hi = m2
			}
		}
		best = math.Max(best, f((lo+hi)/2))
	}
	return best
}

// symbolCases are the adversarial and random inputs of the brute-force
// comparison.
func symbolCases() []struct {
	name  string
	k, kp int
	x     []float64
} {
	rng := rand.New(rand.NewPCG(71, 71))
	gauss := func(k int, scale float64) []float64 {
		x := make([]float64, 2*k+1)
		for i := range x {
			x[i] = rng.NormFloat64() * scale
		}
		return x
	}
	type tc = struct {
		name  string
		k, kp int
		x     []float64
	}
	var cs []tc
	for _, c := range []struct{ k, kp int }{{1, 0}, {3, 0}, {5, 3}, {5, 4}, {7, 6}, {8, 2}, {16, 8}, {16, 4}, {16, 15}, {12, 0}} {
		cs = append(cs, tc{fmt.Sprintf("gauss K %d→%d", c.k, c.kp), c.k, c.kp, gauss(c.k, 1)})
	}
	// Entries spread over 1e±150 with random signs.
	wide := make([]float64, 13)
	for i := range wide {
		wide[i] = math.Pow(10, 300*rng.Float64()-150) * float64(1-2*rng.IntN(2))
	}
	cs = append(cs, tc{"dynamic range 1e±150", 6, 2, wide})
	cs = append(cs, tc{"scale 1e-300", 5, 3, gauss(5, 1e-300)})
	cs = append(cs, tc{"scale 1e300", 5, 3, gauss(5, 1e300)})
	// In-band entries huge against the rest.
	inb := gauss(6, 1)
	for i := 2; i <= 10; i++ {
		inb[i] *= 1e12
	}
	cs = append(cs, tc{"in-band 1e12 × the rest", 6, 4, inb})
	inOnly := gauss(5, 1)
	inOnly[0], inOnly[1], inOnly[9], inOnly[10] = 0, 0, 0, 0
	cs = append(cs, tc{"x in the output band (opt 0)", 5, 3, inOnly})
	sym, anti := gauss(6, 1), gauss(6, 1)
	for d := 1; d <= 6; d++ {
		sym[6-d] = sym[6+d]
		anti[6-d] = -anti[6+d]
	}
	cs = append(cs, tc{"symmetric", 6, 2, sym}, tc{"antisymmetric", 6, 2, anti})
	// One out-of-band entry: |x̂ − â| is constant at the optimum â = 0, so
	// every θ is extremal.
	one := make([]float64, 9)
	one[8] = 3
	cs = append(cs, tc{"single outer entry (every θ extremal)", 4, 3, one})
	alt := make([]float64, 11)
	for i := range alt {
		alt[i] = float64(1 - 2*(i%2))
	}
	cs = append(cs, tc{"alternating (−1)^d", 5, 2, alt})
	notebook := make([]float64, 33)
	for i := range notebook {
		notebook[i] = float64(min(i, 32-i)) + 1
	}
	cs = append(cs, tc{"notebook-like triangle K 16→8", 16, 8, notebook})
	return cs
}

// TestSymbolBruteForce: on random and adversarial inputs the certified
// sandwich holds against a brute-force evaluation of the true maximum,
// Lower <= max_θ|x̂ − â| <= Upper, the default tolerance is reached, and
// the stored dual measure annihilates the output band.
func TestSymbolBruteForce(t *testing.T) {
	for _, c := range symbolCases() {
		t.Run(c.name, func(t *testing.T) {
			in, out := structure.Band{N: 1000, K: c.k}, structure.Band{N: 1000, K: c.kp}
			r, err := SolveSymbol(in, out, c.x, 0)
			if err != nil {
				t.Fatal(err)
			}
			m := bruteSymbolMax(c.x, r.A, c.k, c.kp, 1<<16)
			// Upper bounds the error of x_I + δ before A's rounding.
			var slack float64
			for _, v := range r.A {
				slack += math.Abs(v) * 0x1p-52
			}
			if !(r.Upper >= m*(1-1e-13)-slack) {
				t.Errorf("Upper %.17g below the brute-force max %.17g", r.Upper, m)
			}
			if !(r.Lower <= m*(1+1e-13)) {
				t.Errorf("Lower %.17g above the brute-force max %.17g", r.Lower, m)
			}
			if !(r.Lower <= r.Upper) || r.Gap() > DefaultSymbolTol {
				t.Errorf("sandwich [%.17g, %.17g], gap %.3g", r.Lower, r.Upper, r.Gap())
			}
			if big := maxOut(c.x, c.k, c.kp); big == 0 {
				if r.Upper != 0 || r.Lower != 0 {
					t.Errorf("x in band: [%v, %v], want 0", r.Lower, r.Upper)
				}
				return
			}
			// Σ_j μ_j e^{idθ_j} = 0 for |d| <= K', relative to Σ|μ_j|.
			var tv float64
			for _, mu := range r.mu {
				tv += math.Hypot(real(mu), imag(mu))
			}
			for d := -c.kp; d <= c.kp; d++ {
				var re, im float64
				for j, th := range r.theta {
					s, co := math.Sincos(float64(d) * th)
					re += real(r.mu[j])*co - imag(r.mu[j])*s
					im += real(r.mu[j])*s + imag(r.mu[j])*co
				}
				if math.Hypot(re, im) > 1e-13*tv {
					t.Errorf("d = %d: |Σ μ e^{idθ}| = %.3g, Σ|μ| = %.3g", d, math.Hypot(re, im), tv)
				}
			}
			if ln := r.LowerN(64); !(ln <= r.Upper) {
				t.Errorf("LowerN(64) %v above Upper %v", ln, r.Upper)
			}
			t.Logf("[%.15g, %.15g] gap %.2g, brute force %.15g, support %d, %d Newton steps", r.Lower, r.Upper, r.Gap(), m, len(r.theta), r.Iterations)
		})
	}
}

// TestSymbolRandomSweep: many random problems, every (K, K') with K <= 7
// and a spread of K' for K = 16 and 24, Gaussian and notebook-like
// (uniform, positive) entries, reach the default tolerance with a sandwich
// that holds against brute force.
func TestSymbolRandomSweep(t *testing.T) {
	rng := rand.New(rand.NewPCG(72, 72))
	type kk struct{ k, kp int }
	var cases []kk
	for k := 1; k <= 7; k++ {
		for kp := 0; kp < k; kp++ {
			cases = append(cases, kk{k, kp})
		}
	}
	for _, k := range []int{16, 24} {
		for _, kp := range []int{0, 3, 8, 12, k - 1} {
			cases = append(cases, kk{k, kp})
		}
	}
	for _, c := range cases {
		k, kp := c.k, c.kp
		{
			for trial := 0; trial < 3; trial++ {
				x := make([]float64, 2*k+1)
				for i := range x {
					if trial == 1 {
						x[i] = 10 * rng.Float64()
					} else {
						x[i] = rng.NormFloat64()
					}
				}
				in, out := structure.Band{N: 100, K: k}, structure.Band{N: 100, K: kp}
				r, err := SolveSymbol(in, out, x, 0)
				if err != nil {
					t.Fatal(err)
				}
				m := bruteSymbolMax(x, r.A, k, kp, 1<<12+256*k)
				if !(r.Lower <= m*(1+1e-13)) || !(r.Upper >= m*(1-1e-13)) || r.Gap() > DefaultSymbolTol {
					t.Errorf("K %d→%d trial %d: [%.17g, %.17g] gap %.3g, brute force %.17g", k, kp, trial, r.Lower, r.Upper, r.Gap(), m)
				}
			}
		}
	}
}

// TestSymbolErrors: invalid inputs are errors, never panics.
func TestSymbolErrors(t *testing.T) {
	in, out := structure.Band{N: 100, K: 2}, structure.Band{N: 100, K: 1}
	for _, c := range []struct {
		name string
		x    []float64
		tol  float64
		want error
	}{
		{"NaN", []float64{1, math.NaN(), 0, 0, 1}, 0, structure.ErrNonFinite},
		{"Inf", []float64{math.Inf(1), 0, 0, 0, 1}, 0, structure.ErrNonFinite},
		{"length", []float64{1, 2, 3}, 0, structure.ErrLength},
		{"tolerance", []float64{1, 2, 3, 4, 5}, 1, ErrOption},
		{"negative tolerance", []float64{1, 2, 3, 4, 5}, -1e-3, ErrOption},
	} {
		if _, err := SolveSymbol(in, out, c.x, c.tol); !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := SolveSymbol(out, in, []float64{1, 2, 3}, 0); err == nil {
		t.Error("output band wider than the input: no error")
	}
}

// TestSymbolScaleInvariance: scaling x by a power of two scales A, Upper
// and Lower exactly.
func TestSymbolScaleInvariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(73, 73))
	in, out := structure.Band{N: 100, K: 6}, structure.Band{N: 100, K: 3}
	x := make([]float64, in.Len())
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	r1, err := SolveSymbol(in, out, x, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []int{-900, -40, 37, 900} {
		y := make([]float64, len(x))
		for i, v := range x {
			y[i] = math.Ldexp(v, e)
		}
		r2, err := SolveSymbol(in, out, y, 0)
		if err != nil {
			t.Fatal(err)
		}
		if r2.Upper != math.Ldexp(r1.Upper, e) || r2.Lower != math.Ldexp(r1.Lower, e) {
			t.Errorf("2^%d: [%v, %v], want [%v, %v]", e, r2.Lower, r2.Upper, math.Ldexp(r1.Lower, e), math.Ldexp(r1.Upper, e))
		}
	}
}

// TestSymbolSweepBound: sweep's rigorous bound on max|e|² of random
// trigonometric polynomials lies above a brute-force maximum and within
// the requested slack of it, and each reported peak is a local maximum.
func TestSymbolSweepBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(74, 74))
	for trial := 0; trial < 20; trial++ {
		k := 1 + rng.IntN(20)
		ra, rb := make([]float64, k+1), make([]float64, k+1)
		for d := range ra {
			ra[d] = rng.NormFloat64()
			if d > 0 {
				rb[d] = rng.NormFloat64()
			}
		}
		up2, peaks := sweep(ra, rb, 8*(k+1), 1e-12)
		// Brute force: 2^13 points on [0, 2π), golden-section refinement.
		x := make([]float64, 2*k+1) // the generator with these coefficients
		x[k] = ra[0]
		for d := 1; d <= k; d++ {
			x[k+d], x[k-d] = (ra[d]+rb[d])/2, (ra[d]-rb[d])/2
		}
		m := bruteSymbolMax(x, nil, k, 0, 1<<13)
		if !(up2 >= m*m*(1-1e-14)) || up2 > m*m*(1+1e-11) {
			t.Errorf("trial %d, K %d: bound %.17g, brute-force max %.17g", trial, k, up2, m*m)
		}
		for _, p := range peaks {
			f0, _, _ := evalF(ra, rb, p.theta)
			for _, o := range []float64{-1e-5, 1e-5} {
				if th := p.theta + o; th >= 0 && th <= math.Pi {
					if f, _, _ := evalF(ra, rb, th); f > f0*(1+1e-14) {
						t.Errorf("trial %d: peak at %v is not a local maximum (%v > %v at %+g)", trial, p.theta, f, f0, o)
					}
				}
			}
		}
	}
}

// TestHermiteMax: the closed-form maximum of a cubic Hermite interpolant
// against dense sampling.
func TestHermiteMax(t *testing.T) {
	rng := rand.New(rand.NewPCG(75, 75))
	for trial := 0; trial < 200; trial++ {
		f0, f1 := rng.Float64(), rng.Float64()
		g0, g1 := 4*rng.NormFloat64(), 4*rng.NormFloat64()
		if trial%10 == 0 {
			g1 = -g0 // cubic term small
		}
		c2, c3 := 3*(f1-f0)-2*g0-g1, 2*(f0-f1)+g0+g1
		var brute float64
		for i := 0; i <= 20000; i++ {
			s := float64(i) / 20000
			brute = math.Max(brute, f0+s*(g0+s*(c2+s*c3)))
		}
		if got := hermiteMax(f0, f1, g0, g1); !(got >= brute-1e-12) || got > brute+1e-8 {
			t.Errorf("trial %d: hermiteMax %v, dense sampling %v", trial, got, brute)
		}
	}
}

// TestSymbolTolerance: a loose tolerance is met (and may stop early), one
// below rounding returns a certified answer without error.
func TestSymbolTolerance(t *testing.T) {
	rng := rand.New(rand.NewPCG(76, 76))
	in, out := structure.Band{N: 100, K: 16}, structure.Band{N: 100, K: 8}
	x := make([]float64, in.Len())
	for i := range x {
		x[i] = 10 * rng.Float64()
	}
	for _, tol := range []float64{1e-2, 1e-6, 1e-13, 1e-15} {
		r, err := SolveSymbol(in, out, x, tol)
		if err != nil {
			t.Fatalf("tol %g: %v", tol, err)
		}
		m := bruteSymbolMax(x, r.A, in.K, out.K, 1<<14)
		if !(r.Lower <= m*(1+1e-13)) || !(r.Upper >= m*(1-1e-13)) {
			t.Errorf("tol %g: [%v, %v] misses the brute-force max %v", tol, r.Lower, r.Upper, m)
		}
		if want := math.Max(tol, 2e-12); r.Gap() > want {
			t.Errorf("tol %g: gap %.3g", tol, r.Gap())
		}
	}
}

// FuzzSolveSymbol: arbitrary generators (K = 3, any K') never panic; a
// nil error comes with a sandwich that holds against brute force.
func FuzzSolveSymbol(f *testing.F) {
	f.Add(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, uint8(1))
	f.Add(1e-300, 0.0, -1e300, 0.0, 0.0, 3.0, 1e-10, uint8(0))
	f.Add(0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, uint8(2))
	f.Add(1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, uint8(2))
	f.Fuzz(func(t *testing.T, a, b, c, d, e, g, h float64, kp uint8) {
		x := []float64{a, b, c, d, e, g, h}
		in, out := structure.Band{N: 50, K: 3}, structure.Band{N: 50, K: int(kp % 4)}
		r, err := SolveSymbol(in, out, x, 0)
		if err != nil {
			return
		}
		if !(r.Lower >= 0 && r.Lower <= r.Upper) || math.IsInf(r.Upper, 0) {
			t.Fatalf("x %v → %d: sandwich [%v, %v]", x, out.K, r.Lower, r.Upper)
		}
		m := bruteSymbolMax(x, r.A, 3, out.K, 1<<12)
		if math.IsInf(m, 0) {
			return // the unscaled brute force overflows near 2^1023
		}
		var slack float64
		for _, v := range r.A {
			slack += math.Abs(v) * 0x1p-52
		}
		if !(r.Upper >= m*(1-1e-12)-slack) || !(r.Lower <= m*(1+1e-12)) {
			t.Fatalf("x %v → %d: [%v, %v] misses the brute-force max %v", x, out.K, r.Lower, r.Upper, m)
		}
	})
}
