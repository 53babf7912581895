package optimal

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/structure"
)

// ErrNoSolver reports a loss for which the package has no exact solver.
var ErrNoSolver = errors.New("no exact solver for this loss")

// Options configures a Solver. The zero value of every field selects its
// default; a nil *Options selects all defaults.
type Options struct {
	// Tol is the relative gap (Value-Lower)/Value at which iterative
	// solvers (the spectral loss) stop. Zero means DefaultSpectralTol.
	// Closed-form solvers ignore it.
	Tol float64
	// MaxIter limits the iterations of one iterative solve (Newton steps
	// of the SDP). Zero means the method's default.
	MaxIter int
	// Workers is the number of goroutines SolveBatch uses for iterative
	// solves. Zero or negative means runtime.GOMAXPROCS(0).
	Workers int
	// Method selects the 2-norm solver: MethodAuto (""), MethodSDP or
	// MethodBanded. Other losses ignore it.
	Method string
}

// The 2-norm methods of Options.Method.
const (
	// MethodAuto picks MethodBanded above N = AutoSDPMaxN, wherever its
	// subspace, 2K'+1+BandedPairs pairs, is at most half of N, and up to
	// N = AutoBandedSmallN wherever the input band exceeds the output band
	// by at least two diagonals each side (there it is faster than the
	// SDP, measured in docs/BENCHMARKS.md, "Spectral solver vs N"), and
	// MethodSDP otherwise. Up to N = AutoSDPMaxN a Banded solve that stops
	// short of the tolerance is finished by the SDP, so the automatic
	// choice is as reliable as the SDP there.
	MethodAuto = ""
	// MethodSDP is the barrier-method SDP (SDP): certified to 1e-8, cost
	// O(K'²N³) per Newton step.
	MethodSDP = "sdp"
	// MethodBanded is the large-N solver (Banded): the symbol's solution
	// refined at finite N by the subspace method, O(N·K) memory; its
	// certified gap may stop short of the tolerance.
	MethodBanded = "banded"
)

// AutoSDPMaxN is the largest N for which MethodAuto may use the SDP.
const AutoSDPMaxN = 128

// AutoBandedSmallN is the largest N at which MethodAuto uses Banded for
// any bands with K − K' >= 2 (see MethodAuto).
const AutoBandedSmallN = 48

// autoBanded reports whether MethodAuto uses Banded for the bands.
func autoBanded(in, out structure.Band) bool {
	return in.N > AutoSDPMaxN || 2*(out.Len()+BandedPairs) <= in.N ||
		(in.N <= AutoBandedSmallN && in.K-out.K >= 2)
}

// completed is MethodAuto's Banded up to N = AutoSDPMaxN: a solve that
// stops short of the tolerance is solved again by the SDP (made on first
// use), and the result with the smaller certified gap is kept.
type completed struct {
	fast spectralMethod
	in   structure.Band
	out  structure.Band
	opts SDPOptions
	sdp  spectralMethod // nil until needed
}

var _ spectralMethod = (*completed)(nil)

func (c *completed) Solve(x []float64) (Result, error) {
	r, err := c.fast.Solve(x)
	if err == nil || !errors.Is(err, ErrNotConverged) {
		return r, err
	}
	if c.sdp == nil {
		sdp, serr := NewSDP(c.in, c.out, &c.opts)
		if serr != nil {
			return r, err
		}
		c.sdp = sdp
	}
	r2, err2 := c.sdp.Solve(x)
	if err2 != nil && !errors.Is(err2, ErrNotConverged) {
		return r, err
	}
	if len(r.A) == 0 || r2.Gap() < r.Gap() {
		return r2, err2
	}
	return r, err
}

// spectralMethod is a 2-norm solver workspace.
type spectralMethod interface {
	Solve(x []float64) (Result, error)
}

var (
	_ spectralMethod = (*SDP)(nil)
	_ spectralMethod = (*Banded)(nil)
)

// RowError is the error of SolveBatch for one row it could not solve.
type RowError struct {
	// Row is the 0-based index of the row in the batch.
	Row int
	// Err is the solver's error for that row.
	Err error
}

// Error implements error; rows are numbered from 1 in the message.
func (e *RowError) Error() string { return fmt.Sprintf("row %d: %v", e.Row+1, e.Err) }

// Unwrap returns the row's error.
func (e *RowError) Unwrap() error { return e.Err }

// Solver computes the exact optimum of a loss.Loss: the closed-form
// projection for quadratic losses (probe and Frobenius), a certified
// spectral-norm solver for the 2-norm loss, chosen by Options.Method (by
// default whichever is faster for the bands, see MethodAuto).
// It is safe for concurrent use.
//
// Every answer is a Result: the generator, its exact loss value and a
// certified lower bound on the optimum. The policy for an iterative solve
// that stops short of the tolerance is the same everywhere: its certified
// pair is returned with Converged false and its gap in Result.Gap, never
// discarded; only a solve whose answer is unusable (non-finite, or no
// answer at all) is an error.
type Solver struct {
	l       loss.Loss
	in, out structure.Band
	opts    Options

	proj *Projection
	quad *loss.Quadratic

	mu   sync.Mutex
	free []spectralMethod // idle 2-norm workspaces (one per concurrent solve)
}

// NewSolver returns the exact solver for l. opts may be nil. A loss
// without an exact solver gives an error wrapping ErrNoSolver; invalid
// options wrap ErrOption.
func NewSolver(l loss.Loss, opts *Options) (*Solver, error) {
	s := &Solver{l: l}
	if opts != nil {
		s.opts = *opts
	}
	if !(s.opts.Tol >= 0 && s.opts.Tol < 1) {
		return nil, fmt.Errorf("optimal: tolerance %v: must be in [0, 1): %w", s.opts.Tol, ErrOption)
	}
	if s.opts.MaxIter < 0 {
		return nil, fmt.Errorf("optimal: MaxIter %d: must not be negative: %w", s.opts.MaxIter, ErrOption)
	}
	switch s.opts.Method {
	case MethodAuto, MethodSDP, MethodBanded:
	default:
		return nil, fmt.Errorf("optimal: method %q: want %q, %q or empty (automatic): %w", s.opts.Method, MethodSDP, MethodBanded, ErrOption)
	}
	s.in, s.out = l.Bands()
	switch l := l.(type) {
	case *loss.Quadratic:
		p, err := NewProjection(l)
		if err != nil {
			return nil, err
		}
		s.proj, s.quad = p, l
	case *loss.Spectral:
		// Check the bands and options once; workspaces are made on demand.
		sdp, err := s.newSDP()
		if err != nil {
			return nil, err
		}
		s.free = append(s.free, sdp)
	default:
		return nil, fmt.Errorf("optimal: loss %q: %w", l.Name(), ErrNoSolver)
	}
	return s, nil
}

// Loss returns the loss the solver minimises.
func (s *Solver) Loss() loss.Loss { return s.l }

// Bands returns the input and output bands.
func (s *Solver) Bands() (in, out structure.Band) { return s.in, s.out }

// Iterative reports whether solves are iterative (and costly), as for the
// spectral loss, rather than closed form.
func (s *Solver) Iterative() bool { return s.proj == nil }

// Method returns the 2-norm method in use (MethodSDP or MethodBanded), or
// "" for losses with a closed-form optimum.
func (s *Solver) Method() string {
	if s.proj != nil {
		return ""
	}
	if s.opts.Method == MethodBanded || (s.opts.Method == MethodAuto && autoBanded(s.in, s.out)) {
		return MethodBanded
	}
	return MethodSDP
}

func (s *Solver) newSDP() (spectralMethod, error) {
	sdpOpts := SDPOptions{Tol: s.opts.Tol, MaxNewton: s.opts.MaxIter}
	if s.Method() == MethodBanded {
		b, err := NewBanded(s.in, s.out, s.opts.Tol)
		if err != nil {
			return nil, err
		}
		if s.opts.Method != MethodAuto || s.in.N > AutoSDPMaxN {
			return b, nil
		}
		return &completed{fast: b, in: s.in, out: s.out, opts: sdpOpts}, nil
	}
	return NewSDP(s.in, s.out, &sdpOpts)
}

func (s *Solver) getSDP() (spectralMethod, error) {
	s.mu.Lock()
	if n := len(s.free); n > 0 {
		sdp := s.free[n-1]
		s.free = s.free[:n-1]
		s.mu.Unlock()
		return sdp, nil
	}
	s.mu.Unlock()
	return s.newSDP()
}

func (s *Solver) putSDP(sdp spectralMethod) {
	s.mu.Lock()
	s.free = append(s.free, sdp)
	s.mu.Unlock()
}

// Solve returns the optimum for one input generator x (length 2K+1). An
// invalid x gives an error wrapping structure.ErrLength or
// structure.ErrNonFinite. A spectral solve that stops short of the
// tolerance returns its certified answer with Converged false and a nil
// error.
func (s *Solver) Solve(x []float64) (Result, error) {
	if err := s.in.Validate(x); err != nil {
		return Result{}, fmt.Errorf("optimal: %w", err)
	}
	if s.proj != nil {
		a := make([]float64, s.out.Len())
		s.proj.Apply(a, x, 1)
		v := s.quadValue(x, a, make([]float64, s.in.Len()))
		return Result{A: a, Value: v, Lower: v, Converged: true}, nil
	}
	sdp, err := s.getSDP()
	if err != nil {
		return Result{}, err
	}
	defer s.putSDP(sdp)
	return acceptShort(sdp.Solve(x))
}

// acceptShort applies the package's policy to an iterative solve: a result
// that stopped short of the tolerance but is certified and finite is kept.
func acceptShort(r Result, err error) (Result, error) {
	if err == nil {
		r.Converged = true
		return r, nil
	}
	if errors.Is(err, ErrNotConverged) && len(r.A) > 0 && finite(r.A) &&
		!math.IsNaN(r.Value) && !math.IsInf(r.Value, 0) && r.Lower >= 0 && r.Lower <= r.Value {
		r.Converged = false
		return r, nil
	}
	return r, err
}

// quadValue returns the quadratic loss of a for x, using r (length 2K+1)
// as workspace.
func (s *Solver) quadValue(x, a, r []float64) float64 {
	copy(r, x)
	off := structure.Offset(s.in, s.out)
	for i, v := range a {
		r[off+i] -= v
	}
	return math.Max(0, s.quad.Value(r))
}

// SolveBatch writes the optimal generators of the n rows of x (n×(2K+1),
// row-major) into dst (n×(2K'+1)) and, if res is not nil (length at least
// n), each row's Result into res; the Results' A alias dst. Iterative
// solves run on Options.Workers goroutines; the output does not depend on
// their number. The first invalid or unsolvable row (lowest index) stops
// the batch with a *RowError; rows after it may be left unwritten.
func (s *Solver) SolveBatch(dst []float64, res []Result, x []float64, n int) error {
	L, Lo := s.in.Len(), s.out.Len()
	if n < 0 || len(x) < n*L || len(dst) < n*Lo || (res != nil && len(res) < n) {
		return fmt.Errorf("optimal: SolveBatch of %d rows: slices of length %d (x), %d (dst), %d (res) are too short: %w",
			n, len(x), len(dst), len(res), structure.ErrLength)
	}
	for i := 0; i < n; i++ {
		if err := s.in.Validate(x[i*L : (i+1)*L]); err != nil {
			return &RowError{Row: i, Err: err}
		}
	}
	if s.proj != nil {
		s.proj.Apply(dst, x, n)
		if res != nil {
			r := make([]float64, L)
			for i := 0; i < n; i++ {
				a := dst[i*Lo : (i+1)*Lo]
				v := s.quadValue(x[i*L:(i+1)*L], a, r)
				res[i] = Result{A: a, Value: v, Lower: v, Converged: true}
			}
		}
		return nil
	}
	return forRows(n, s.opts.Workers, func() (func(int) error, func(), error) {
		sdp, err := s.getSDP()
		if err != nil {
			return nil, nil, err
		}
		row := func(i int) error {
			r, err := acceptShort(sdp.Solve(x[i*L : (i+1)*L]))
			if err != nil {
				return err
			}
			a := dst[i*Lo : (i+1)*Lo]
			copy(a, r.A)
			r.A = a
			if res != nil {
				res[i] = r
			}
			return nil
		}
		return row, func() { s.putSDP(sdp) }, nil
	})
}
