package eval

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"

	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/nn"
	"github.com/matapprox/matapprox/optimal"
	"github.com/matapprox/matapprox/structure"
)

// Names of the methods compared, in display order.
const (
	Network    = "network"
	Truncation = "truncation"
	Optimal    = "optimal"
)

// Methods lists the method names in display order.
var Methods = []string{Network, Truncation, Optimal}

// DefaultExactTol is the default Options.ExactTol.
const DefaultExactTol = 1e-9

// DefaultBatch is the default Options.Batch.
const DefaultBatch = 256

// ErrModel reports a model whose output cannot be evaluated: the wrong
// length or non-finite values.
var ErrModel = errors.New("unusable model output")

// Model is a trained approximator: it maps n input generators x (n×(2K+1),
// row-major) to n output generators written to dst (n×(2K'+1)).
type Model interface {
	Approximate(dst, x []float64, n int) error
}

// ModelFunc adapts a function to a Model.
type ModelFunc func(dst, x []float64, n int) error

// Approximate calls f.
func (f ModelFunc) Approximate(dst, x []float64, n int) error { return f(dst, x, n) }

var _ Model = ModelFunc(nil)

// Forwarder is what NetworkModel needs of a network with workspaces of type
// W; *nn.MLP is one.
type Forwarder[W any] interface {
	Forward(ws W, x []float64, n int) []float64
	NewWorkspace(maxBatch int) W
}

var _ Forwarder[*nn.Workspace] = (*nn.MLP)(nil)

// NetworkModel returns the Model of a network, evaluated in batches of up
// to batch rows (DefaultBatch if batch < 1) with one workspace. The Model
// is not safe for concurrent use.
func NetworkModel[W any](m Forwarder[W], batch int) Model {
	if batch < 1 {
		batch = DefaultBatch
	}
	ws := m.NewWorkspace(batch)
	return ModelFunc(func(dst, x []float64, n int) error {
		if n == 0 {
			return nil
		}
		L, Lo := len(x)/n, len(dst)/n
		for i := 0; i < n; i += batch {
			k := min(batch, n-i)
			copy(dst[i*Lo:(i+k)*Lo], m.Forward(ws, x[i*L:(i+k)*L], k))
		}
		return nil
	})
}

// Options configures an Evaluator. The zero value selects every default.
type Options struct {
	// Probe is the probe loss of the probe_loss metric and Probes says in
	// words which probes it uses (shown beside every probe_loss). A nil
	// Probe leaves probe_loss out (NaN) unless the trained loss is itself a
	// probe loss, which is then used.
	Probe  *loss.Quadratic
	Probes string
	// Solver computes the optimum of the trained loss; nil builds one
	// with optimal.NewSolver(trained, nil). Its loss must be the trained
	// loss.
	Solver *optimal.Solver
	// Batch is the number of rows evaluated at a time (DefaultBatch if
	// zero).
	Batch int
	// ExactTol is the relative size below which an optimum counts as zero
	// (see the package documentation; DefaultExactTol if zero).
	ExactTol float64
}

// Evaluator compares a model, the truncation and the exact optimum of the
// trained loss on rows of input generators. It is not safe for concurrent
// use (the spectral solves of a batch run in parallel inside it).
type Evaluator struct {
	model   Model
	trained loss.Loss
	quad    *loss.Quadratic // trained loss when quadratic
	probe   *loss.Quadratic
	probes  string
	spec    *loss.Spectral
	solver  *optimal.Solver
	in, out structure.Band
	batch   int
	tol     float64

	// Buffers of one batch.
	x, net, opt []float64
	res         []optimal.Result
	r, zero     []float64
	row         Row
}

// New returns an Evaluator of model (nil: truncation and optimum only)
// under the trained loss. The losses are used as given: an Evaluator never
// draws probes itself.
func New(model Model, trained loss.Loss, opts *Options) (*Evaluator, error) {
	if trained == nil {
		return nil, errors.New("eval: no trained loss")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	e := &Evaluator{model: model, trained: trained, probe: o.Probe, probes: o.Probes, solver: o.Solver, batch: o.Batch, tol: o.ExactTol}
	e.in, e.out = trained.Bands()
	if e.batch == 0 {
		e.batch = DefaultBatch
	}
	if e.batch < 1 || e.batch > 1<<20 {
		return nil, fmt.Errorf("eval: batch %d: must be between 1 and %d", e.batch, 1<<20)
	}
	if e.tol == 0 {
		e.tol = DefaultExactTol
	}
	if !(e.tol > 0 && e.tol < 1) {
		return nil, fmt.Errorf("eval: exact tolerance %v: must be in (0, 1)", e.tol)
	}
	if q, ok := trained.(*loss.Quadratic); ok {
		e.quad = q
		if e.probe == nil && q.Name() == "probe" {
			e.probe = q
			if e.probes == "" {
				e.probes = "the trained loss's probes"
			}
		}
	}
	if e.probe != nil {
		if pin, pout := e.probe.Bands(); pin != e.in || pout != e.out {
			return nil, fmt.Errorf("eval: probe loss bands %v → %v differ from the trained loss's %v → %v", pin, pout, e.in, e.out)
		}
		if e.probes == "" {
			e.probes = "unnamed probes"
		}
	}
	var err error
	if e.spec, err = loss.NewSpectral(e.in, e.out); err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	if e.solver == nil {
		if e.solver, err = optimal.NewSolver(trained, nil); err != nil {
			return nil, fmt.Errorf("eval: %w", err)
		}
	} else if e.solver.Loss() != trained {
		return nil, errors.New("eval: Options.Solver minimises another loss than the trained one")
	}
	L, Lo := e.in.Len(), e.out.Len()
	e.x = make([]float64, e.batch*L)
	e.opt = make([]float64, e.batch*Lo)
	e.res = make([]optimal.Result, e.batch)
	if model != nil {
		e.net = make([]float64, e.batch*Lo)
	}
	e.r = make([]float64, L)
	e.zero = make([]float64, Lo)
	e.row.Approximations = make([]Approximation, 0, len(Methods))
	e.row.trunc = make([]float64, Lo)
	return e, nil
}

// Bands returns the input and output bands.
func (e *Evaluator) Bands() (in, out structure.Band) { return e.in, e.out }

// Loss returns the trained loss.
func (e *Evaluator) Loss() loss.Loss { return e.trained }

// Probes says which probes the probe_loss metric uses ("" when there is
// none).
func (e *Evaluator) Probes() string { return e.probes }

// HasModel reports whether rows include a network approximation.
func (e *Evaluator) HasModel() bool { return e.model != nil }

// Approximation is one method's approximation of one row with its errors.
type Approximation struct {
	Method    string    `json:"-"`
	A         []float64 `json:"generator"`
	Loss      float64   `json:"loss"`       // the trained loss L(x, a)
	Frobenius float64   `json:"frobenius"`  // ‖X − A‖_F
	Spectral  float64   `json:"spectral"`   // ‖X − A‖₂
	ProbeLoss float64   `json:"probe_loss"` // (1/P) Σ ‖(X − A)y‖²/‖y‖², NaN without probes
	// Gap is Loss/L(optimal) − 1, NaN on an exact row.
	Gap float64 `json:"gap"`
}

// Row is the evaluation of one input. The slices of a Row passed to a
// callback are reused for the next row: Clone it to keep it.
type Row struct {
	// Index is the 0-based position of the row in its Source.
	Index int
	X     []float64
	// Exact reports that the optimum is zero to rounding: the row is out
	// of the ratio statistics.
	Exact bool
	// Lower is a certified lower bound on the optimal loss (equal to the
	// optimum for closed-form solves); Converged is false when an
	// iterative solve stopped short of its tolerance (the bound still
	// holds).
	Lower     float64
	Converged bool
	// Approximations holds one entry per method, in the order of Methods.
	Approximations []Approximation

	trunc []float64
}

// Method returns the approximation of the named method, or nil.
func (r *Row) Method(name string) *Approximation {
	for i := range r.Approximations {
		if r.Approximations[i].Method == name {
			return &r.Approximations[i]
		}
	}
	return nil
}

// Clone returns a deep copy of r.
func (r *Row) Clone() *Row {
	c := &Row{Index: r.Index, X: append([]float64(nil), r.X...), Exact: r.Exact, Lower: r.Lower, Converged: r.Converged}
	c.Approximations = make([]Approximation, len(r.Approximations))
	for i, a := range r.Approximations {
		a.A = append([]float64(nil), a.A...)
		c.Approximations[i] = a
	}
	return c
}

// Run evaluates every row of src, calls each (if not nil) with every Row in
// order, and returns the Summary of all rows. An error from src, the
// solver, the model or each stops the run; the Summary then covers the
// rows done.
func (e *Evaluator) Run(src Source, each func(*Row) error) (Summary, error) {
	acc := e.NewAccumulator(src.Origin(), "")
	done := func(err error) (Summary, error) {
		acc.SetDescription(src.Describe())
		return acc.Summary(), err
	}
	ss, solved := src.(solvedSource)
	index := 0
	for {
		var n int
		var err error
		if solved {
			n, err = ss.nextSolved(e.x, e.opt, e.res)
		} else {
			n, err = src.Next(e.x)
		}
		if n > 0 {
			if err := e.batchRows(n, index, solved, func(r *Row) error {
				acc.Add(r)
				if each != nil {
					return each(r)
				}
				return nil
			}); err != nil {
				return done(err)
			}
			index += n
		}
		if err == io.EOF {
			return done(nil)
		}
		if err != nil {
			return done(fmt.Errorf("eval: input row %d: %w", index+1, err))
		}
	}
}

// Evaluate evaluates one input generator x (length 2K+1).
func (e *Evaluator) Evaluate(x []float64) (*Row, error) {
	if err := e.in.Validate(x); err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	copy(e.x, x)
	var out *Row
	err := e.batchRows(1, 0, false, func(r *Row) error { out = r.Clone(); return nil })
	return out, err
}

// batchRows evaluates the first n rows of e.x; solved says that e.opt and
// e.res already hold their optima.
func (e *Evaluator) batchRows(n, index int, solved bool, each func(*Row) error) error {
	L, Lo := e.in.Len(), e.out.Len()
	x := e.x[:n*L]
	if !solved {
		if err := e.solver.SolveBatch(e.opt, e.res, x, n); err != nil {
			var re *optimal.RowError
			if errors.As(err, &re) {
				re.Row += index
				return fmt.Errorf("eval: optimum: %w", re)
			}
			return fmt.Errorf("eval: optimum: %w", err)
		}
	}
	if e.model != nil {
		if err := e.model.Approximate(e.net[:n*Lo], x, n); err != nil {
			return fmt.Errorf("eval: model: %w", err)
		}
		for i, v := range e.net[:n*Lo] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("eval: model output for input row %d is %v: %w", index+i/Lo+1, v, ErrModel)
			}
		}
	}
	r := &e.row
	for i := 0; i < n; i++ {
		xi := x[i*L : (i+1)*L]
		r.Index, r.X = index+i, xi
		r.Lower, r.Converged = e.res[i].Lower, e.res[i].Converged
		r.Approximations = r.Approximations[:0]
		opt := e.measure(Optimal, xi, e.opt[i*Lo:(i+1)*Lo])
		zero := e.lossOf(xi, e.zero)
		r.Exact = Exact(e.trained, opt.Loss, zero, e.tol)
		if e.model != nil {
			r.Approximations = append(r.Approximations, e.measure(Network, xi, e.net[i*Lo:(i+1)*Lo]))
		}
		structure.Restrict(r.trunc, xi, e.in, e.out)
		r.Approximations = append(r.Approximations, e.measure(Truncation, xi, r.trunc), opt)
		if err := representable(r.Approximations, index+i); err != nil {
			return err
		}
		for j := range r.Approximations {
			a := &r.Approximations[j]
			switch {
			case r.Exact:
				a.Gap = math.NaN()
			case a.Method == Optimal:
				a.Gap = 0
			default:
				a.Gap = a.Loss/opt.Loss - 1
			}
		}
		if err := each(r); err != nil {
			return err
		}
	}
	return nil
}

// representable returns an error wrapping structure.ErrNonFinite when a
// metric of row (0-based) is not a finite float64: its true value is
// beyond the float64 range (for example the squared entries of a probe
// loss above 1e154), and a table of Inf and NaN would say nothing true.
func representable(aps []Approximation, row int) error {
	for _, a := range aps {
		for _, m := range [...]struct {
			name string
			v    float64
			nan  bool // NaN means "not computed"
		}{{"loss", a.Loss, false}, {"frobenius", a.Frobenius, false}, {"spectral", a.Spectral, false}, {"probe_loss", a.ProbeLoss, true}} {
			if math.IsInf(m.v, 0) || (math.IsNaN(m.v) && !m.nan) {
				return fmt.Errorf("eval: input row %d: the %s of the %s approximation is %v, beyond the float64 range; rescale the input: %w",
					row+1, m.name, a.Method, m.v, structure.ErrNonFinite)
			}
		}
	}
	return nil
}

// lossOf returns the trained loss of a for x.
func (e *Evaluator) lossOf(x, a []float64) float64 {
	e.residual(x, a)
	return e.lossOfResidual(x, a)
}

// lossOfResidual returns the trained loss of a for x, e.r holding the
// residual x − embed(a).
func (e *Evaluator) lossOfResidual(x, a []float64) float64 {
	switch {
	case e.quad != nil:
		return math.Max(0, e.quad.Value(e.r))
	case e.trained.Name() == "spectral":
		return e.spec.Norm(nil, e.r)
	}
	return e.trained.Eval(nil, x, a, 1)
}

// residual sets e.r to x − embed(a).
func (e *Evaluator) residual(x, a []float64) {
	copy(e.r, x)
	off := structure.Offset(e.in, e.out)
	for j, v := range a {
		e.r[off+j] -= v
	}
}

// measure returns the errors of approximation a of x.
func (e *Evaluator) measure(method string, x, a []float64) Approximation {
	e.residual(x, a)
	ap := Approximation{Method: method, A: a, ProbeLoss: math.NaN()}
	ap.Frobenius = e.in.Frobenius(e.r)
	ap.Spectral = e.spec.Norm(nil, e.r)
	if e.probe != nil {
		ap.ProbeLoss = math.Max(0, e.probe.Value(e.r))
	}
	if e.quad == nil && e.trained.Name() == "spectral" {
		ap.Loss = ap.Spectral
	} else {
		ap.Loss = e.lossOfResidual(x, a)
	}
	return ap
}

// GaussianProbeMetric returns a probe loss of count Gaussian probes drawn
// from seed, with its description, for the probe_loss metric of runs
// whose trained loss has no probes (spectral, Frobenius). It is a metric
// only: the trained loss and its optimum are unaffected.
func GaussianProbeMetric(in, out structure.Band, count int, seed uint64) (*loss.Quadratic, string, error) {
	if count < 1 || count > 1_000_000 {
		return nil, "", fmt.Errorf("eval: %d metric probes: must be between 1 and 1000000", count)
	}
	if int64(count)*int64(in.N) > 1<<28 {
		return nil, "", fmt.Errorf("eval: %d metric probes of length %d: more than %d values", count, in.N, 1<<28)
	}
	p := loss.GaussianProbes(rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)), count, in.N)
	q, err := loss.NewProbe(in, out, p, count)
	if err != nil {
		return nil, "", fmt.Errorf("eval: %w", err)
	}
	return q, fmt.Sprintf("%d Gaussian probes (seed %d; a metric, not the trained loss)", count, seed), nil
}

// Exact reports whether opt, the optimal value of loss l for an input, is
// zero to rounding relative to zero, the loss of the zero approximation of
// the same input (see the package documentation), with tolerance tol
// (DefaultExactTol if 0). The Evaluator marks rows with it.
func Exact(l loss.Loss, opt, zero, tol float64) bool {
	if tol == 0 {
		tol = DefaultExactTol
	}
	if zero <= 0 || opt <= 0 {
		return true
	}
	rel := opt / zero
	if _, ok := l.(*loss.Quadratic); ok {
		rel = math.Sqrt(rel)
	}
	return rel <= tol
}
