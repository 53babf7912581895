package optimal

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/structure"
)

// TestSolverMethod: the method follows the size under MethodAuto and the
// option otherwise; a large-N answer is certified and flagged when short.
func TestSolverMethod(t *testing.T) {
	for _, c := range []struct {
		n      int
		method string
		want   string
	}{{11, "", MethodSDP}, {128, "", MethodSDP}, {129, "", MethodBanded}, {11, MethodBanded, MethodBanded}, {200, MethodSDP, MethodSDP}} {
		l, err := loss.NewSpectral(structure.Band{N: c.n, K: 5}, structure.Band{N: c.n, K: 3})
		if err != nil {
			t.Fatal(err)
		}
		s, err := NewSolver(l, &Options{Method: c.method})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Method(); got != c.want {
			t.Errorf("N=%d method %q: Method() = %q, want %q", c.n, c.method, got, c.want)
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
