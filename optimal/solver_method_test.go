package optimal

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/structure"
)

// TestSolverMethod: the method follows the size and the bands under
// MethodAuto (Banded where its subspace of 2K'+1+BandedPairs pairs is at
// most N/2, above AutoSDPMaxN, or up to AutoBandedSmallN where K − K' >= 2)
// and the option otherwise; a large-N answer is certified and flagged when
// short.
func TestSolverMethod(t *testing.T) {
	for _, c := range []struct {
		n, k, kp int
		method   string
		want     string
	}{{11, 5, 3, "", MethodBanded}, {11, 4, 3, "", MethodSDP}, {23, 5, 3, "", MethodBanded}, {24, 4, 3, "", MethodBanded},
		{32, 15, 7, "", MethodBanded}, {32, 8, 7, "", MethodSDP}, {48, 23, 20, "", MethodBanded}, {49, 23, 20, "", MethodSDP},
		{64, 31, 15, "", MethodSDP}, {128, 42, 40, "", MethodSDP}, {129, 42, 40, "", MethodBanded},
		{11, 4, 3, MethodBanded, MethodBanded}, {200, 5, 3, MethodSDP, MethodSDP}} {
		l, err := loss.NewSpectral(structure.Band{N: c.n, K: c.k}, structure.Band{N: c.n, K: c.kp})
		if err != nil {
			t.Fatal(err)
		}
		s, err := NewSolver(l, &Options{Method: c.method})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Method(); got != c.want {
			t.Errorf("N=%d K=%d K'=%d method %q: Method() = %q, want %q", c.n, c.k, c.kp, c.method, got, c.want)
		}
	}
	l, _ := loss.NewSpectral(structure.Band{N: 500, K: 5}, structure.Band{N: 500, K: 3})
	if _, err := NewSolver(l, &Options{Method: "simplex"}); !errors.Is(err, ErrOption) {
		t.Errorf("unknown method: %v", err)
	}
	s, err := NewSolver(l, nil)
	if err != nil {
		t.Fatal(err)
	}
	x := notebookInput(rand.New(rand.NewPCG(71, 71)), structure.Band{N: 500, K: 5})
	r, err := s.Solve(x)
	if err != nil {
		t.Fatal(err)
	}
	if !(r.Lower > 0 && r.Lower <= r.Value) || r.Converged != (r.Gap() <= DefaultSpectralTol) {
		t.Errorf("N=500: Lower %v, Value %v, gap %v, Converged %v", r.Lower, r.Value, r.Gap(), r.Converged)
	}
}

// shortMethod is a 2-norm method that always stops short: the candidate
// it is given, with a loose bound.
type shortMethod struct {
	a   []float64
	err error
}

func (m shortMethod) Solve(x []float64) (Result, error) {
	return Result{A: m.a, Value: 10, Lower: 1}, m.err
}

// MethodAuto's Banded up to AutoSDPMaxN hands a row it stops short on to
// the SDP and keeps the tighter answer; other errors pass through, and a
// converged solve makes no SDP.
func TestAutoCompletesShortBanded(t *testing.T) {
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	x := notebookInput(rand.New(rand.NewPCG(21, 22)), in)
	short := fmt.Errorf("banded: %w", ErrNotConverged)
	c := &completed{fast: shortMethod{a: make([]float64, out.Len()), err: short}, in: in, out: out}
	r, err := acceptShort(c.Solve(x))
	if err != nil || !r.Converged || r.Gap() > DefaultSpectralTol || c.sdp == nil {
		t.Errorf("short Banded not completed by the SDP: %+v, %v", r, err)
	}
	checkResult(t, in, out, x, r)
	other := errors.New("broken")
	c = &completed{fast: shortMethod{err: other}, in: in, out: out}
	if _, err := c.Solve(x); !errors.Is(err, other) || c.sdp != nil {
		t.Errorf("other error: %v (SDP made: %v)", err, c.sdp != nil)
	}
	b, err := NewBanded(in, out, 0)
	if err != nil {
		t.Fatal(err)
	}
	c = &completed{fast: b, in: in, out: out}
	if r, err := c.Solve(x); err != nil || c.sdp != nil || r.Gap() > DefaultSpectralTol {
		t.Errorf("converged Banded: gap %v, %v (SDP made: %v)", r.Gap(), err, c.sdp != nil)
	}
	// The Solver's automatic choice here is this wrapper.
	l, _ := loss.NewSpectral(in, out)
	s, _ := NewSolver(l, nil)
	m, err := s.newSDP()
	if _, ok := m.(*completed); !ok || err != nil {
		t.Errorf("MethodAuto at N = 11 made %T, %v", m, err)
	}
}

// BenchmarkAutoMethods times both 2-norm methods, one certified solve to
// the default tolerance per operation, on notebook-like rows (entries
// uniform in [0, 2K+1)), for the band pairs that set MethodAuto's rule
// (docs/BENCHMARKS.md, "Spectral solver vs N"):
//
//	go test -run XXX -bench AutoMethods -benchtime 12x ./optimal/
func BenchmarkAutoMethods(b *testing.B) {
	for _, c := range [][3]int{{5, 2, 1}, {5, 2, 0}, {8, 3, 1}, {8, 3, 2}, {11, 5, 1}, {11, 5, 3}, {11, 5, 4}, {11, 10, 5},
		{16, 7, 2}, {16, 7, 4}, {16, 7, 6}, {16, 15, 13}, {24, 11, 5}, {24, 11, 9}, {32, 15, 3}, {32, 15, 7}, {32, 15, 12},
		{32, 15, 13}, {32, 31, 15}, {32, 31, 28}, {48, 23, 11}, {48, 23, 20}, {64, 31, 15}, {64, 31, 24}, {64, 31, 28}} {
		in, out := structure.Band{N: c[0], K: c[1]}, structure.Band{N: c[0], K: c[2]}
		l, err := loss.NewSpectral(in, out)
		if err != nil {
			b.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		xs := make([][]float64, 16)
		for i := range xs {
			xs[i] = make([]float64, in.Len())
			for j := range xs[i] {
				xs[i][j] = rng.Float64() * float64(in.Len())
			}
		}
		for _, m := range []string{MethodSDP, MethodBanded} {
			b.Run(fmt.Sprintf("N=%d,K=%d,K'=%d/%s", c[0], c[1], c[2], m), func(b *testing.B) {
				s, err := NewSolver(l, &Options{Method: m, Workers: 1})
				if err != nil {
					b.Fatal(err)
				}
				i := 0
				for b.Loop() {
					if _, err := s.Solve(xs[i%len(xs)]); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		}
	}
}

// On adversarial rows (zeros, in-band only, 1e±300, subnormal, a 10³⁰⁰
// dynamic range, one entry, in-band entries 10¹⁵ times the rest, signs
// alternating) MethodAuto, Banded at these sizes, and the SDP give
// certificates that bracket each other's answers, without errors.
func TestAutoAgreesWithSDPOnHostileRows(t *testing.T) {
	for _, bs := range [][3]int{{11, 5, 3}, {32, 15, 7}, {8, 3, 1}} {
		in, out := structure.Band{N: bs[0], K: bs[1]}, structure.Band{N: bs[0], K: bs[2]}
		l, _ := loss.NewSpectral(in, out)
		auto, err := NewSolver(l, nil)
		if err != nil || auto.Method() != MethodBanded {
			t.Fatalf("N=%d: %v, method %q", bs[0], err, auto.Method())
		}
		sdp, _ := NewSolver(l, &Options{Method: MethodSDP})
		off := in.K - out.K
		inBand := func(i int) bool { return i >= off && i < off+out.Len() }
		for name, f := range map[string]func(i int) float64{
			"zeros":       func(i int) float64 { return 0 },
			"in-band":     func(i int) float64 { return map[bool]float64{true: float64(i + 1)}[inBand(i)] },
			"1e300":       func(i int) float64 { return 1e300 * float64(i%3+1) },
			"1e-300":      func(i int) float64 { return 1e-300 * float64(i%3+1) },
			"subnormal":   func(i int) float64 { return 5e-324 * float64(i%3+1) },
			"range":       func(i int) float64 { return [2]float64{1e150, 1e-150}[i%2] },
			"one entry":   func(i int) float64 { return map[bool]float64{true: 1}[i == 0] },
			"in-band1e15": func(i int) float64 { return map[bool]float64{true: 1e15, false: 1}[inBand(i)] },
			"alternating": func(i int) float64 { return math.Pow(-1, float64(i)) * float64(i+1) },
		} {
			x := make([]float64, in.Len())
			for i := range x {
				x[i] = f(i)
			}
			ra, err := auto.Solve(x)
			if err != nil {
				t.Fatalf("N=%d %s: auto: %v", bs[0], name, err)
			}
			rs, err := sdp.Solve(x)
			if err != nil {
				t.Fatalf("N=%d %s: SDP: %v", bs[0], name, err)
			}
			if v := residualValue(in, out, x, ra.A); math.Abs(v-ra.Value) > 1e-12*math.Max(v, 1e-300) || !(ra.Lower >= 0 && ra.Lower <= ra.Value) {
				t.Errorf("N=%d %s: auto Value %v, Lower %v, ||T(x)-T(A)||_2 = %v", bs[0], name, ra.Value, ra.Lower, v)
			}
			// Never worse than the truncation, up to the rounding of two
			// ways of computing a singular value.
			if tr := residualValue(in, out, x, truncation(in, out, x)); ra.Value > tr*(1+1e-13) {
				t.Errorf("N=%d %s: auto Value %v exceeds the truncation's %v", bs[0], name, ra.Value, tr)
			}
			if ra.Lower > rs.Value*(1+1e-12) || rs.Lower > ra.Value*(1+1e-12) {
				t.Errorf("N=%d %s: auto [%v, %v] and SDP [%v, %v] do not bracket each other", bs[0], name, ra.Lower, ra.Value, rs.Lower, rs.Value)
			}
		}
	}
}
