package optimal

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/matapprox/matapprox/structure"
)

// TestSymbolEvenConstant: for a real even x and K' = 0 the symbol is a
// real cosine polynomial and the best constant is the midrange, with
// opt_∞ = (max x̂ − min x̂)/2.
func TestSymbolEvenConstant(t *testing.T) {
	x := []float64{0.5, -1, 2, 3, 2, -1, 0.5} // K = 3
	in, out := structure.Band{N: 100, K: 3}, structure.Band{N: 100, K: 0}
	r, err := SolveSymbol(in, out, x, 0)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := 0; i <= 200000; i++ {
		th := math.Pi * float64(i) / 200000
		v := 3 + 2*(2*math.Cos(th)-math.Cos(2*th)+0.5*math.Cos(3*th))
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	want := (hi - lo) / 2
	if !(r.Lower <= want*(1+1e-12) && r.Upper >= want*(1-1e-9)) {
		t.Errorf("sandwich [%v, %v] misses the optimum %v", r.Lower, r.Upper, want)
	}
	if r.Gap() > 1e-9 {
		t.Errorf("gap %v", r.Gap())
	}
	if math.Abs(r.A[0]-(hi+lo)/2) > 1e-6 {
		t.Errorf("a = %v, want the midrange %v", r.A[0], (hi+lo)/2)
	}
}

// TestSymbolSandwichesSDP: for random inputs, LowerN(N) <= opt_N <= opt_∞
// <= Upper, with opt_N from the SDP at N = 16..48, and the symbol gap small.
func TestSymbolSandwichesSDP(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 51))
	for _, c := range []struct{ n, k, kp int }{{16, 5, 3}, {24, 5, 2}, {32, 6, 3}, {48, 4, 1}} {
		in, out := structure.Band{N: c.n, K: c.k}, structure.Band{N: c.n, K: c.kp}
		s := mustSpectral(t, in, out, nil)
		for trial := 0; trial < 3; trial++ {
			x := make([]float64, in.Len())
			for i := range x {
				x[i] = rng.NormFloat64()
			}
			x[c.k] += 1e8 // in-band entries do not matter
			r, err := SolveSymbol(in, out, x, 0)
			if err != nil {
				t.Fatal(err)
			}
			sd, err := acceptShort(s.Solve(x))
			if err != nil {
				t.Fatal(err)
			}
			ln := r.LowerN(c.n)
			what := fmt.Sprintf("%v->%d trial %d", in, c.kp, trial)
			if !(ln <= sd.Value*(1+1e-9)) {
				t.Errorf("%s: LowerN %v above opt_N %v", what, ln, sd.Value)
			}
			if !(sd.Lower <= r.Upper*(1+1e-9)) {
				t.Errorf("%s: opt_N >= %v above Upper %v", what, sd.Lower, r.Upper)
			}
			if !(r.Lower <= r.Upper) || r.Gap() > 1e-7 {
				t.Errorf("%s: symbol sandwich [%v, %v], gap %.3g after %d iterations", what, r.Lower, r.Upper, r.Gap(), r.Iterations)
			}
			// The symbol's answer used at finite N is an upper bound too.
			if v := residualValue(in, out, x, r.A); v > r.Upper*(1+1e-9) {
				t.Errorf("%s: ||T_N(x − a_∞)|| = %v above Upper %v", what, v, r.Upper)
			}
			if ln < 0.5*sd.Value {
				t.Errorf("%s: LowerN %v is weak against opt_N %v", what, ln, sd.Value)
			}
			t.Logf("%s: opt_N %.10g, LowerN %.10g, [%.12g, %.12g] gap %.2g, %d it", what, sd.Value, ln, r.Lower, r.Upper, r.Gap(), r.Iterations)
		}
	}
}

func BenchmarkSolveSymbol(b *testing.B) {
	for _, c := range []struct{ k, kp int }{{5, 3}, {16, 8}, {16, 4}} {
		b.Run(fmt.Sprintf("K=%dto%d", c.k, c.kp), func(b *testing.B) {
			in, out := structure.Band{N: 1000, K: c.k}, structure.Band{N: 1000, K: c.kp}
			rng := rand.New(rand.NewPCG(52, 52))
			x := make([]float64, in.Len())
			for i := range x {
				x[i] = rng.Float64() * 10
			}
			var gap float64
			var steps int
			for i := 0; i < b.N; i++ {
				r, err := SolveSymbol(in, out, x, 0)
				if err != nil {
					b.Fatal(err)
				}
				gap, steps = r.Gap(), r.Iterations
			}
			b.ReportMetric(gap*1e12, "gap/1e-12")
			b.ReportMetric(float64(steps), "newton-steps")
		})
	}
}
