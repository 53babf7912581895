package optimal

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/structure"
)

// TestSolverMethod: the method follows the size and the output band under
// MethodAuto (Banded where its subspace of 2K'+1+BandedPairs pairs is at
// most N/2, or above AutoSDPMaxN) and the option otherwise; a large-N
// answer is certified and flagged when short.
func TestSolverMethod(t *testing.T) {
	for _, c := range []struct {
		n, kp  int
		method string
		want   string
	}{{11, 3, "", MethodSDP}, {23, 3, "", MethodSDP}, {24, 3, "", MethodBanded}, {128, 40, "", MethodSDP}, {129, 40, "", MethodBanded},
		{11, 3, MethodBanded, MethodBanded}, {200, 3, MethodSDP, MethodSDP}} {
		l, err := loss.NewSpectral(structure.Band{N: c.n, K: c.kp + 2}, structure.Band{N: c.n, K: c.kp})
		if err != nil {
			t.Fatal(err)
		}
		s, err := NewSolver(l, &Options{Method: c.method})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Method(); got != c.want {
			t.Errorf("N=%d K'=%d method %q: Method() = %q, want %q", c.n, c.kp, c.method, got, c.want)
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
