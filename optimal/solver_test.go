package optimal

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/structure"
)

func notebookRows(rng *rand.Rand, b structure.Band, rows int) []float64 {
	x := make([]float64, 0, rows*b.Len())
	for i := 0; i < rows; i++ {
		x = append(x, notebookInput(rng, b)...)
	}
	return x
}

// The batched spectral solve equals row-by-row solves by one workspace of
// the same method (the SDP, and Banded, which MethodAuto picks here),
// whatever the number of workers, and reports the lowest bad row by
// number.
func TestSolverBatchWorkers(t *testing.T) {
	in, out := structure.Band{N: 9, K: 4}, structure.Band{N: 9, K: 2}
	l, err := loss.NewSpectral(in, out)
	if err != nil {
		t.Fatal(err)
	}
	const rows = 23
	x := notebookRows(rand.New(rand.NewPCG(3, 4)), in, rows)
	L, Lo := in.Len(), out.Len()
	for _, method := range []string{MethodSDP, MethodAuto} {
		one, err := NewSolver(l, &Options{Method: method, Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float64, rows*Lo)
		for i := 0; i < rows; i++ {
			r, err := one.Solve(x[i*L : (i+1)*L])
			if err != nil {
				t.Fatal(err)
			}
			copy(want[i*Lo:], r.A)
		}
		for _, w := range []int{0, 1, 2, 3, 7, 100} {
			s, err := NewSolver(l, &Options{Method: method, Workers: w})
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float64, len(want))
			res := make([]Result, rows)
			if err := s.SolveBatch(got, res, x, rows); err != nil {
				t.Fatalf("%s, %d workers: %v", method, w, err)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s, %d workers: entry %d is %v, row by row %v", method, w, i, got[i], want[i])
				}
			}
			for i, r := range res {
				checkResult(t, in, out, x[i*L:(i+1)*L], r)
				if &r.A[0] != &got[i*Lo] {
					t.Fatalf("result %d does not alias dst", i)
				}
			}
		}
	}
	s, _ := NewSolver(l, &Options{Workers: 3})
	x[5*L+1] = math.NaN()
	err = s.SolveBatch(make([]float64, rows*Lo), nil, x, rows)
	var re *RowError
	if !errors.As(err, &re) || re.Row != 5 || !errors.Is(err, structure.ErrNonFinite) || !strings.HasPrefix(err.Error(), "row 6:") {
		t.Errorf("NaN in row 6: got %v", err)
	}
}

// A solve that stops short of the tolerance is returned certified with
// Converged false, and no error: the one policy of the package.
func TestSolverStopShortPolicy(t *testing.T) {
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	l, _ := loss.NewSpectral(in, out)
	// MaxIter limits the SDP's Newton steps (Banded has its own limits).
	s, err := NewSolver(l, &Options{MaxIter: 2, Method: MethodSDP})
	if err != nil {
		t.Fatal(err)
	}
	x := notebookInput(rand.New(rand.NewPCG(8, 8)), in)
	r, err := s.Solve(x)
	if err != nil {
		t.Fatalf("stopped short: err = %v, want nil", err)
	}
	if r.Converged || !(r.Gap() > 1e-8) {
		t.Errorf("Converged = %v with gap %v after 2 Newton steps", r.Converged, r.Gap())
	}
	checkResult(t, in, out, x, r)
	full, _ := NewSolver(l, nil)
	rf, err := full.Solve(x)
	if err != nil || !rf.Converged || rf.Gap() > DefaultSpectralTol {
		t.Errorf("default solve: %+v, %v", rf, err)
	}
	// The short answer's certificate brackets the optimum.
	if r.Lower > rf.Value*(1+1e-12) || r.Value < rf.Lower*(1-1e-12) {
		t.Errorf("short [%v, %v] does not bracket full [%v, %v]", r.Lower, r.Value, rf.Lower, rf.Value)
	}
}

// For quadratic losses the Solver is the projection, its Value the exact
// loss, and Lower = Value.
func TestSolverQuadratic(t *testing.T) {
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	rng := rand.New(rand.NewPCG(1, 2))
	probe, err := loss.NewProbe(in, out, loss.GaussianProbes(rng, 50, 11), 50)
	if err != nil {
		t.Fatal(err)
	}
	frob, _ := loss.NewFrobenius(in, out, false)
	for _, l := range []loss.Loss{probe, frob} {
		s, err := NewSolver(l, nil)
		if err != nil {
			t.Fatal(err)
		}
		if s.Iterative() {
			t.Errorf("%s: Iterative", l.Name())
		}
		const rows = 7
		x := notebookRows(rng, in, rows)
		L, Lo := in.Len(), out.Len()
		dst := make([]float64, rows*Lo)
		res := make([]Result, rows)
		if err := s.SolveBatch(dst, res, x, rows); err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			v := l.Eval(nil, x[i*L:(i+1)*L], r.A, 1)
			if math.Abs(v-r.Value) > 1e-10*v || r.Lower != r.Value || !r.Converged {
				t.Errorf("%s row %d: %+v, loss %v", l.Name(), i, r, v)
			}
			one, err := s.Solve(x[i*L : (i+1)*L])
			if err != nil || math.Abs(one.Value-r.Value) > 1e-12*v {
				t.Errorf("%s row %d: Solve %v, %v vs batch %v", l.Name(), i, one.Value, err, r.Value)
			}
			// Perturbing the answer never lowers the loss.
			a := append([]float64(nil), r.A...)
			a[i%Lo] += 1e-3
			if l.Eval(nil, x[i*L:(i+1)*L], a, 1) < v {
				t.Errorf("%s row %d: perturbed answer is better", l.Name(), i)
			}
		}
	}
}

func TestSolverErrors(t *testing.T) {
	in, out := structure.Band{N: 5, K: 2}, structure.Band{N: 5, K: 1}
	l, _ := loss.NewSpectral(in, out)
	for _, o := range []*Options{{Tol: -1}, {Tol: 1}, {Tol: math.NaN()}, {MaxIter: -1}} {
		if _, err := NewSolver(l, o); !errors.Is(err, ErrOption) {
			t.Errorf("%+v: %v, want ErrOption", o, err)
		}
	}
	s, _ := NewSolver(l, nil)
	if err := s.SolveBatch(make([]float64, 2), nil, make([]float64, 5), 2); !errors.Is(err, structure.ErrLength) {
		t.Errorf("short slices: %v", err)
	}
	if _, err := s.Solve([]float64{1, 2}); !errors.Is(err, structure.ErrLength) {
		t.Errorf("short row: %v", err)
	}
}
