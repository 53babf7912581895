package optimal

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"

	"github.com/matapprox/matapprox/internal/gemm"
	"github.com/matapprox/matapprox/internal/vmath"
	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/structure"
)

// ErrTooLarge reports a problem size beyond what the certifier can afford:
// an exact fallback (CertifyOptions.MaxGap) at a size where the exact
// spectral solver is out of reach.
var ErrTooLarge = errors.New("problem too large")

// MaxFallbackN is the largest matrix size at which a spectral Certifier
// accepts CertifyOptions.MaxGap with the SDP forced as its fallback
// (Options.Method = MethodSDP): the SDP costs O(N³) per Newton step
// (docs/BENCHMARKS.md). With the default method the fallback above small
// sizes is Banded, O(N·K) memory, at any N.
const MaxFallbackN = 256

// maxDenseOracleN is the largest N whose singular triplets come from a dense
// SVD of the residual; larger sizes use structure.TopSingular (banded block
// Lanczos, O(N·K) memory and time per product).
const maxDenseOracleN = 64

// Defaults of CertifyOptions.
const (
	// DefaultPolishSteps is the default limit on polish steps per row
	// without CertifyOptions.MaxGap.
	DefaultPolishSteps = 12
	// DefaultRefineSteps is the default limit on polish steps per row with
	// CertifyOptions.MaxGap: a row above MaxGap is refined from the
	// candidate by at most this many subspace steps before the exact
	// solver (at MaxGap/2) is called; a refined row costs less than that
	// solve at N = 11 and N = 32 (docs/BENCHMARKS.md, "Certification").
	DefaultRefineSteps = 4
)

// CertifyOptions configures a Certifier. The zero value of every field
// selects its default; a nil *CertifyOptions selects all defaults.
type CertifyOptions struct {
	// MaxGap, when positive, is the largest certified relative gap a row
	// may keep. Each row is certified as given; a row above MaxGap is
	// refined from the candidate by at most PolishSteps polish steps
	// (DefaultRefineSteps by default), stopping as soon as its certified
	// gap is at most MaxGap; a row still above it is re-solved by the
	// exact Solver, only to a certified gap of MaxGap/2 by default (see
	// Solver; Certificate.Fallback). So every answer is within MaxGap of
	// the optimum, except where no float64 generator is (next to in-band
	// entries some 1e15 times the rest or more, x_I + δ* rounds to x_I):
	// such a row keeps the certified gap it has, which is still a valid
	// guarantee. Zero disables the fallback.
	MaxGap float64
	// Target is the certified gap at which polishing stops. Zero means
	// MaxGap when MaxGap is set (polish only as far as the guarantee
	// needs), 1e-3 otherwise.
	Target float64
	// PolishSteps limits the polish steps (each one SVD of the residual)
	// of the spectral loss per row. Zero means DefaultPolishSteps, or
	// DefaultRefineSteps with MaxGap; negative disables polishing, so the
	// candidate is returned as given (or the exact solver's answer).
	PolishSteps int
	// Workers is the number of goroutines CertifyBatch uses. Zero or
	// negative means runtime.GOMAXPROCS(0).
	Workers int
	// DualCache, when positive, is the number of dual certificates a
	// spectral Certifier remembers and reuses (at most MaxDualCache; see
	// dualcache.go): a candidate whose input lies near the direction of an
	// input certified before is first checked against the remembered
	// duals, at the cost of one singular-value computation, and certified
	// the full way only if they do not prove the target gap. Every bound
	// stays rigorous; only which rows take the fast check depends on the
	// rows certified before. CertifyBatch adds the duals of a block of
	// rows only after the whole block, in row order, so its output does
	// not depend on Workers; it does depend on the rows before a row (in
	// this batch and earlier calls). Zero disables the cache. It applies
	// to the spectral loss at N <= 64.
	DualCache int
	// ReuseTarget is the largest certified gap with which a remembered
	// dual may certify a row (the fast check of DualCache); a row it does
	// not certify that well is certified the full way, which also tightens
	// the cache near it. A looser one makes more rows take the fast check
	// with gaps further above their true ones. Zero adapts it to the
	// rows: ReuseGapFactor times the mean certified gap of the rows
	// certified the full way so far (whose gaps are near their true ones), at least
	// DefaultReuseFraction times the target (MaxGap, or Target) and at
	// most the target, so that certified gaps stay within about twice the
	// true ones on average. With zero, a remembered dual also certifies a
	// row above that target, up to the certifier's target, while the full
	// checks of such rows have lately recovered less than
	// ReuseTightFraction (AscentTightFraction with dual ascent) of their
	// remembered gap (see there; one such row in eight, then one in 128
	// once 256 have been measured, is still certified the full way, to keep
	// measuring it). Both
	// change only where the cache does, after each block of rows, so the
	// output still depends only on the sequence of rows.
	ReuseTarget float64
	// AscentSteps is the most steps of dual ascent (ascent.go) that
	// improve a remembered dual for a row whose remembered bound misses
	// the reuse target, before the row is certified the full way: zero
	// selects the default (20), a negative value none. The cache keeps the
	// factors the ascent starts from only in more than 4 out-of-band
	// dimensions (2(K−K') > 4), where its balls index it, and then keeps
	// at most AscentDualCache duals.
	AscentSteps int
	// RecordDuals, with DualCache, is the number of the dual matrices
	// found that the certifier keeps (N×N numbers each) for WriteDuals.
	// Zero keeps none.
	RecordDuals int
	// Solver configures the exact solver of the fallback; nil selects its
	// defaults. For the spectral loss a zero Tol means MaxGap/2: the
	// fallback solves only as far as the guarantee needs (a certified gap of
	// MaxGap/2 takes about a third of the Newton steps of a 1e-8 solve),
	// and a row it leaves above MaxGap is solved again at the default
	// tolerance.
	Solver *Options
}

// Certificate is the guarantee attached to one approximation.
type Certificate struct {
	// A is the certified generator (length 2K'+1): the candidate, its
	// polished version (Polished), or the exact solver's answer
	// (Fallback).
	A []float64
	// Value is the exact loss of A (for the spectral loss ||T(x)−T(EA)||_2
	// by an SVD of the residual).
	Value float64
	// Lower is a rigorous lower bound on the optimal loss. For the
	// quadratic losses it is the optimum itself.
	Lower float64
	// Polished reports that A is the candidate improved by polish steps.
	Polished bool
	// Fallback reports that the exact solver ran because the candidate's
	// certified gap still exceeded CertifyOptions.MaxGap after polishing:
	// A is its answer (or the polished candidate, if that has the smaller
	// loss) and Lower the better of the two bounds.
	Fallback bool
	// Steps is the number of polish steps taken.
	Steps int
	// Reused reports that Lower comes from a dual certificate remembered
	// from an earlier input (CertifyOptions.DualCache): A is the candidate
	// as given, certified without a polish step.
	Reused bool
	// Ascended reports, with Reused, that the remembered dual was first
	// improved for this input by dual ascent (CertifyOptions.AscentSteps).
	Ascended bool
	// Recovered reports, with Polished, that A is not the candidate but the
	// primal fitted to the optimality conditions of the dual that ascent
	// found, certified by that dual (Steps is 0).
	Recovered bool
}

// Gap returns the certified relative gap (Value−Lower)/Value: the optimum
// is at least (1−Gap)·Value. It is 0 when Value is 0.
func (c Certificate) Gap() float64 {
	if c.Value == 0 {
		return 0
	}
	return math.Max(0, (c.Value-c.Lower)/c.Value)
}

// Certifier attaches to a candidate approximation a of an input x (for
// instance a network's output) its exact loss, a certified lower bound on
// the optimum and so a certified relative gap, without solving the problem
// when it can avoid it. It is safe for concurrent use.
//
// For the quadratic losses (probe, Frobenius) the optimum is closed form
// (Projection), so the gap is exact.
//
// For the spectral loss the bound is weak duality (see SDP.certify): any
// matrix Y with ⟨Y, S_d⟩ = 0 on the output diagonals |d| <= K' proves
// opt >= |⟨Y, T(x)⟩| / ||Y||_*. The certifier builds Y = U_j Z V_jᵀ from
// the top j singular pairs of the candidate's residual R = T(x) − T(Ea),
// with Z a symmetric j×j matrix chosen so that ⟨Y, S_d⟩ vanishes (Z
// projected onto the null space of Z ↦ (⟨U_j Z V_jᵀ, S_d⟩)_d), or the dual
// matrix of a local model (below). Whatever Z is, the diagonal means
// c_d = ⟨Y, S_d⟩/(N−|d|) that remain are projected out, Y_f = Y − Σ c_d S_d,
// and the bound uses
//
//	⟨Y_f, T(x)⟩ = ⟨Z, U_jᵀ T(x_out) V_j⟩,
//	||Y_f||_* <= ||U_j||_2 ||V_j||_2 ||Z||_* + Σ_d |c_d| (N−|d|),
//
// (||S_d||_* = N−|d|; x_out is x with the output band zeroed), so it is
// valid for any computed U_j, V_j, exact or not, costs O(N·K·j) after the
// singular pairs and never forms an N×N matrix besides the oracle's.
//
// At the optimum a* the optimal dual matrix has exactly this form (the
// subdifferential of σ_max is {U_r Z V_rᵀ : Z ⪰ 0, tr Z = 1} on the top
// singular subspace); near it the bound is a convex combination of the top
// singular values and tight to second order.
//
// When the gap exceeds the target, polish steps improve the candidate and
// the bound together, by the subspace method of Banded (subspace.go): the
// compressed model min_δ ||Uᵀ R(δ) V||_2 over bases U, V accumulated from
// the top singular pairs of the residuals at the iterates (Kangal,
// Meerbergen, Mengi & Michiels, SIAM J. Matrix Anal. Appl. 39(1), 2018) is
// a relaxation whose minimum is a lower bound and whose minimiser is the
// next point (kept only if its exact value drops, within a trust region);
// its dual block, made exactly feasible by one primal–dual correction, is
// the certificate. Lower is the best bound found over all iterates, Value
// the exact loss of the returned generator.
//
// With CertifyOptions.DualCache the certifier also remembers the duals it
// finds: since ⟨Y, T(x)⟩ involves only the out-of-band entries of x, each
// dual is stored as the 2(K−K') numbers h_d = ⟨Y, S_d⟩/||Y||_* with their
// rounding bounds, and proves opt(x′) >= |Σ_d h_d x′_d| for every later
// input x′. A later row is first checked against the duals found near its
// direction of x_out, at the cost of its exact loss alone (dualcache.go;
// Certificate.Reused), and certified as above only if they do not prove
// CertifyOptions.ReuseTarget (or, with the default target, the
// certifier's target where full checks of such rows have lately only
// confirmed their remembered bounds: ReuseTightFraction).
//
// In more than 4 out-of-band dimensions the cache also keeps, with each
// vector, a rank-3 factorisation of the dual matrix it came from, and a
// row whose remembered bound misses the reuse target first improves that
// dual for itself by dual ascent (ascent.go; Certificate.Ascended): a few
// alternating steps of O(N·K) each, against the full check's eigensolver
// and model solve.
type Certifier struct {
	l       loss.Loss
	in, out structure.Band
	opts    CertifyOptions
	target  float64
	steps   int

	solver *Solver // exact solver: closed form, or the fallback at MaxGap/2
	strict *Solver // spectral fallback at the default tolerance, or nil
	proj   *Projection
	quad   *loss.Quadratic

	mu   sync.Mutex
	free []*certWork

	cache   *dualCache    // remembered duals (CertifyOptions.DualCache), or nil
	reuse   atomic.Uint64 // the fast check's target, float64 bits (CertifyOptions.ReuseTarget)
	adapt   bool          // whether reuse adapts (ReuseTarget zero)
	gapSum  float64       // the certified gaps of the rows certified the full way (c.dmu)
	gapN    int
	tight   atomic.Bool  // whether remembered duals certify rows above reuse (ReuseTightFraction)
	sample  atomic.Int32 // one row in sample of those is certified the full way (tightSampled)
	block   int          // rows between cache updates (dualBlock)
	dmu     sync.Mutex   // guards the block's bookkeeping below
	inBlock int          // rows certified in the current block
	pend    []float64    // the block's duals in row order: x_out, h, errors
	dq      []int        // cell scratch of rowDone
	img     []float64    // symmetry images of rowDone
	mixed   bool         // whether some row's x_out had entries of both signs (CertifyBatch)
	record  int          // dense duals kept for WriteDuals (CertifyOptions.RecordDuals)
	fac     int          // numbers of a remembered dual's factors (factorLen), 0 for none
	ascent  int          // the most ascent steps (CertifyOptions.AscentSteps)
	recX    []float64    // their inputs' x_out, dim each
	recY    []float64    // the dual matrices, N×N each
	tring   []float64    // the last tightWindow rows above the reuse target (ReuseTightFraction): remembered gap, recovered bound
	tpos    int          // the next slot of tring
	tn      int          // rows in tring
	tpend   []float64    // the block's such rows in row order: remembered gap, recovered bound
}

// NewCertifier returns a certifier for the loss l. opts may be nil. A loss
// without an exact solver gives an error wrapping ErrNoSolver, invalid
// options ErrOption, and MaxGap with a spectral loss of size beyond
// MaxFallbackN and the SDP forced as the fallback ErrTooLarge.
func NewCertifier(l loss.Loss, opts *CertifyOptions) (*Certifier, error) {
	c := &Certifier{l: l}
	if opts != nil {
		c.opts = *opts
	}
	o := &c.opts
	if !(o.MaxGap >= 0 && o.MaxGap < 1) {
		return nil, fmt.Errorf("optimal: certifier MaxGap %v: must be in [0, 1): %w", o.MaxGap, ErrOption)
	}
	if !(o.Target >= 0 && o.Target < 1) {
		return nil, fmt.Errorf("optimal: certifier Target %v: must be in [0, 1): %w", o.Target, ErrOption)
	}
	c.target = o.Target
	if c.target == 0 {
		c.target = 1e-3
		if o.MaxGap > 0 {
			c.target = o.MaxGap
		}
	}
	c.steps = o.PolishSteps
	if c.steps == 0 {
		c.steps = DefaultPolishSteps
		if o.MaxGap > 0 {
			c.steps = DefaultRefineSteps
		}
	}
	c.steps = max(0, c.steps)
	if !(o.ReuseTarget >= 0 && o.ReuseTarget < 1) {
		return nil, fmt.Errorf("optimal: certifier ReuseTarget %v: must be in [0, 1): %w", o.ReuseTarget, ErrOption)
	}
	if !(o.DualCache >= 0 && o.DualCache <= MaxDualCache) {
		return nil, fmt.Errorf("optimal: certifier DualCache %d: must be in [0, %d]: %w", o.DualCache, MaxDualCache, ErrOption)
	}
	if o.Solver != nil && !(o.Solver.Tol >= 0 && o.Solver.Tol < 1) {
		return nil, fmt.Errorf("optimal: tolerance %v: must be in [0, 1): %w", o.Solver.Tol, ErrOption)
	}
	c.in, c.out = l.Bands()
	if err := structure.CheckNested(c.in, c.out); err != nil {
		return nil, fmt.Errorf("optimal: certifier: %w", err)
	}
	if _, spectral := l.(*loss.Spectral); !spectral || o.MaxGap > 0 {
		if spectral && c.in.N > MaxFallbackN && o.Solver != nil && o.Solver.Method == MethodSDP {
			return nil, fmt.Errorf("optimal: certifying %v with the SDP as fallback: the SDP is limited to N <= %d here (use the default method, or certify without MaxGap): %w", c.in, MaxFallbackN, ErrTooLarge)
		}
		// The exact solver: the projection of a quadratic loss, or the
		// fallback (its SDP workspace is O(N²), so it is made only when a
		// fallback is asked for).
		s, err := NewSolver(l, o.Solver)
		if err != nil {
			return nil, err
		}
		c.solver = s
		if !s.Iterative() {
			c.proj, c.quad = s.proj, s.quad
			return c, nil
		}
		if o.Solver == nil || o.Solver.Tol == 0 {
			// Solve only as far as the guarantee needs; a row left
			// above MaxGap is solved again at the default tolerance.
			so := Options{}
			if o.Solver != nil {
				so = *o.Solver
			}
			c.strict = s
			so.Tol = o.MaxGap / 2
			if c.solver, err = NewSolver(l, &so); err != nil {
				return nil, err
			}
		}
	}
	// One workspace now, so that its size is checked up front.
	w, err := newCertWork(c.in, c.out, true)
	if err != nil {
		return nil, fmt.Errorf("optimal: certifying %v: %w", c.in, err)
	}
	c.free = append(c.free, w)
	if o.DualCache > 0 && c.in.N <= maxDualCacheN {
		entries := o.DualCache
		if dim := 2 * (c.in.K - c.out.K); dim > dualGridMaxDim && o.AscentSteps >= 0 {
			entries = min(entries, AscentDualCache)
		}
		c.cache = newDualCache(2*(c.in.K-c.out.K), entries)
		c.block, c.dq = dualBlock, make([]int, c.cache.dim)
		c.record = min(max(o.RecordDuals, 0), o.DualCache)
		r := o.ReuseTarget
		if r == 0 {
			r, c.adapt = DefaultReuseFraction*c.target, true
		}
		c.reuse.Store(math.Float64bits(r))
		c.sample.Store(tightSample)
		c.ascent = o.AscentSteps
		if c.ascent == 0 {
			c.ascent = ascentSteps
		}
		if c.ascent > 0 && c.cache.ix != nil {
			c.fac = factorLen(c.in.N)
			c.cache.keepFactors(c.fac)
		}
	}
	return c, nil
}

// Loss returns the loss whose approximations are certified.
func (c *Certifier) Loss() loss.Loss { return c.l }

// Bands returns the input and output bands.
func (c *Certifier) Bands() (in, out structure.Band) { return c.in, c.out }

// ReuseTarget returns the fast check's target now: the largest certified
// gap with which a remembered dual certifies a row (CertifyOptions
// .ReuseTarget as given, or as adapted to the rows so far), or 0 where no
// dual cache is kept.
func (c *Certifier) ReuseTarget() float64 {
	if c.cache == nil {
		return 0
	}
	return math.Float64frombits(c.reuse.Load())
}

// Solver returns the exact solver of closed-form optima and of fallbacks
// (for the spectral loss the first one a fallback tries, at its tolerance
// of CertifyOptions.Solver); nil for a spectral loss without MaxGap.
func (c *Certifier) Solver() *Solver { return c.solver }

// Certify returns the certificate of the candidate a (length 2K'+1) for
// the input x (length 2K+1). a is not modified; Certificate.A is a new
// slice. Invalid x or a give errors wrapping structure.ErrLength or
// structure.ErrNonFinite.
func (c *Certifier) Certify(x, a []float64) (Certificate, error) {
	if err := c.in.Validate(x); err != nil {
		return Certificate{}, fmt.Errorf("optimal: certify: input: %w", err)
	}
	if err := c.out.Validate(a); err != nil {
		return Certificate{}, fmt.Errorf("optimal: certify: candidate: %w", err)
	}
	w := c.get()
	defer c.put(w)
	dst := make([]float64, c.out.Len())
	cert, err := c.certify(w, dst, x, a)
	if err == nil && c.cache != nil {
		c.dmu.Lock()
		iw := w.sub.w
		if iw.capOK {
			c.pend = c.appendPending(c.pend, iw)
		}
		if iw.tightGap > 0 {
			c.tpend = append(c.tpend, iw.tightGap, iw.tightGain)
		}
		c.rowDone(1)
		c.dmu.Unlock()
	}
	return cert, err
}

// dualBlock is the number of rows CertifyBatch certifies between updates
// of the dual cache.
const dualBlock = 128

// CertifyBatch certifies the n candidates a (n×(2K'+1), row-major) of the
// inputs x (n×(2K+1)), writing the certified generators into dst (which
// may be a itself) and, if res is not nil (length at least n), each row's
// Certificate, whose A aliases dst. Rows run on Options.Workers
// goroutines; the output does not depend on their number. The first
// invalid or unsolvable row (lowest index) stops the batch with a
// *RowError; rows after it may be left unwritten.
func (c *Certifier) CertifyBatch(dst []float64, res []Certificate, x, a []float64, n int) error {
	L, Lo := c.in.Len(), c.out.Len()
	if n < 0 || len(x) < n*L || len(a) < n*Lo || len(dst) < n*Lo || (res != nil && len(res) < n) {
		return fmt.Errorf("optimal: CertifyBatch of %d rows: slices of length %d (x), %d (a), %d (dst), %d (res) are too short: %w",
			n, len(x), len(a), len(dst), len(res), structure.ErrLength)
	}
	for i := 0; i < n; i++ {
		if err := c.in.Validate(x[i*L : (i+1)*L]); err != nil {
			return &RowError{Row: i, Err: err}
		}
		if err := c.out.Validate(a[i*Lo : (i+1)*Lo]); err != nil {
			return &RowError{Row: i, Err: fmt.Errorf("candidate: %w", err)}
		}
	}
	if c.cache == nil {
		return c.certifyRows(dst, res, x, a, 0, n, nil)
	}
	// The cache is read, not written, during a block of c.block rows
	// (counted over all calls); the duals found in a block are added after
	// it, in row order, so that the output depends neither on the workers
	// nor on how the rows are split into calls.
	st := c.pendStride()
	var slot, tight []float64
	var ok []bool
	for lo := 0; lo < n; {
		c.dmu.Lock()
		hi := min(n, lo+c.block-c.inBlock)
		c.dmu.Unlock()
		if len(ok) < hi-lo {
			slot, ok = make([]float64, st*(hi-lo)), make([]bool, hi-lo)
		}
		clear(ok)
		if len(tight) < 2*(hi-lo) {
			tight = make([]float64, 2*(hi-lo))
		}
		keep := func(i int, w *certWork) {
			w = w.sub.w
			if w.capOK {
				// Written in place: the slice has room for one dual.
				c.appendPending(slot[st*(i-lo):st*(i-lo):st*(i-lo+1)], w)
				ok[i-lo] = true
			}
			tight[2*(i-lo)], tight[2*(i-lo)+1] = w.tightGap, w.tightGain
		}
		if err := c.certifyRows(dst, res, x, a, lo, hi, keep); err != nil {
			return err
		}
		c.dmu.Lock()
		for i := lo; i < hi; i++ {
			if ok[i-lo] {
				c.pend = append(c.pend, slot[st*(i-lo):st*(i-lo+1)]...)
			}
			if g := tight[2*(i-lo)]; g > 0 {
				c.tpend = append(c.tpend, g, tight[2*(i-lo)+1])
			}
			if !c.mixed {
				c.mixed = c.mixedOut(x[i*L : (i+1)*L])
			}
		}
		c.rowDone(hi - lo)
		c.dmu.Unlock()
		lo = hi
	}
	return nil
}

// pendStride is the length of one pending dual: x_out, h, the rounding
// bounds, the row's certified gap, its factors where the cache keeps them
// and, when duals are recorded for WriteDuals, the dense matrix.
func (c *Certifier) pendStride() int {
	st := 3*c.cache.dim + 1 + c.fac
	if c.record > 0 {
		st += c.in.N * c.in.N
	}
	return st
}

// appendPending appends w's captured dual to p (pendStride numbers).
func (c *Certifier) appendPending(p []float64, w *certWork) []float64 {
	p = append(append(append(p, w.xoRaw...), w.capH...), w.capE...)
	p = append(p, w.capGap)
	if c.fac > 0 {
		// The factors of the captured dual U_j Z V_jᵀ, truncated to
		// ascentRank (a NaN first where that fails).
		aw := w.asc
		if w.capK > 0 && aw.align(w.capA, w.capB, w.capK, aw.a, aw.b) {
			p = append(append(p, aw.a...), aw.b...)
		} else {
			p = append(p, math.NaN())
			for range c.fac - 1 {
				p = append(p, 0)
			}
		}
	}
	if c.record > 0 {
		p = append(p, w.capY...)
	}
	return p
}

// rowDone counts k rows certified in the current block of the dual cache
// and, when the block is complete, adds the duals its rows found, in row
// order (and records them for WriteDuals), and adapts the fast check's
// target (CertifyOptions.ReuseTarget). c.dmu is held.
func (c *Certifier) rowDone(k int) {
	c.inBlock += k
	if c.inBlock < c.block {
		return
	}
	dim, st := c.cache.dim, c.pendStride()
	for p := 0; p+st <= len(c.pend); p += st {
		e := c.pend[p : p+st]
		var f []float64
		if c.fac > 0 {
			f = e[3*dim+1 : 3*dim+1+c.fac]
		}
		c.addImages(e[:dim], e[dim:2*dim], e[2*dim:3*dim], f)
		if g := e[3*dim]; g >= 0 && g <= 1 {
			c.gapSum += g
			c.gapN++
		}
		if c.record > 0 && len(c.recX) < c.record*dim {
			c.recX = append(c.recX, e[:dim]...)
			c.recY = append(c.recY, e[3*dim+1+c.fac:]...)
		}
	}
	c.pend, c.inBlock = c.pend[:0], 0
	if c.adapt && c.gapN > 0 {
		r := math.Min(c.target, math.Max(DefaultReuseFraction*c.target, ReuseGapFactor*c.gapSum/float64(c.gapN)))
		c.reuse.Store(math.Float64bits(r))
	}
	if len(c.tpend) > 0 {
		c.tightDone()
	}
}

// tightDone moves the block's rows above the reuse target (c.tpend) into
// the window of the last tightWindow and decides from it whether
// remembered duals certify such rows (ReuseTightFraction). c.dmu is held.
func (c *Certifier) tightDone() {
	if c.tring == nil {
		c.tring = make([]float64, 2*tightWindow)
	}
	for p := 0; p+2 <= len(c.tpend); p += 2 {
		c.tring[2*c.tpos], c.tring[2*c.tpos+1] = c.tpend[p], c.tpend[p+1]
		c.tpos = (c.tpos + 1) % tightWindow
		c.tn = min(c.tn+1, tightWindow)
	}
	c.tpend = c.tpend[:0]
	if c.tn < tightMin {
		return
	}
	var gap, gain float64
	for i := 0; i < c.tn; i++ {
		gap += c.tring[2*i]
		gain += c.tring[2*i+1]
	}
	frac := ReuseTightFraction
	if c.fac > 0 {
		frac = AscentTightFraction
	}
	c.tight.Store(gain <= frac*gap)
	if c.tn == tightWindow {
		c.sample.Store(tightSampleFull)
	}
}

// tightSampled reports whether the row x is one of the one in rate
// (tightSample or tightSampleFull) that are certified the full way even
// where remembered duals certify the rows like it (ReuseTightFraction): by
// a hash of its entries' bits (FNV-1a over 64-bit words, then a final
// mix), so that the choice depends only on the row.
func tightSampled(x []float64, rate uint64) bool {
	h := uint64(14695981039346656037)
	for _, v := range x {
		h ^= math.Float64bits(v)
		h *= 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h%rate == 0
}

// addImages adds the dual vector h (rounding bounds e) found for x_out =
// xo to the cache with its images under the 2-norm's symmetries: the
// transpose Yᵀ (reversal, h_d ↦ h_−d) and D Y D with D = diag((−1)^i)
// (modulation, h_d ↦ (−1)^d h_d) are duals of the image inputs, exactly
// orthogonal to the output diagonals with the same nuclear norm, and the
// rounding bounds map alike. The modulated images have out-of-band
// entries of both signs where x_out has one sign; they are added only
// once some row's x_out has had both (c.mixed, set for a block before its
// duals are added, so that this too depends only on the rows), since until then they
// would fill the cache with directions no row takes (the notebook's
// entries, for one, are all positive). The dual's factors f (A then B,
// nil for none) map alike: Yᵀ = B Aᵀ, and D Y D = (D A)(D B)ᵀ. c.dmu is
// held.
func (c *Certifier) addImages(xo, h, e, f []float64) {
	dim := c.cache.dim
	if len(c.img) < 3*dim+len(f) {
		c.img = make([]float64, 3*dim+len(f))
	}
	img := c.img[:3*dim]
	var fi []float64
	if f != nil {
		fi = c.img[3*dim : 3*dim+len(f)]
	}
	images := 2
	if c.mixed {
		images = 4
	}
	for g := 0; g < images; g++ {
		for part, src := range [3][]float64{xo, h, e} {
			dst := img[part*dim : (part+1)*dim]
			for i := range dst {
				j := i
				if g&1 != 0 {
					j = dim - 1 - i
				}
				v := src[j]
				if g&2 != 0 && part != 2 && c.oddOut(i) {
					v = -v
				}
				dst[i] = v
			}
		}
		if fi != nil {
			imageFactors(fi, f, c.in.N, g&1 != 0, g&2 != 0)
		}
		c.cache.addFactors(img[:dim], img[dim:2*dim], img[2*dim:], fi, c.dq)
	}
}

// imageFactors writes into dst the factors of the image of the dual whose
// factors are f (A then B, n×ascentRank each): of its transpose (swap A
// and B) if transpose, and then of D Y D, D = diag((−1)^i), if modulate
// (negate the odd rows of both). A NaN marker (no factors) is copied.
func imageFactors(dst, f []float64, n int, transpose, modulate bool) {
	h := n * ascentRank
	a, b := f[:h], f[h:2*h]
	if transpose {
		a, b = b, a
	}
	copy(dst[:h], a)
	copy(dst[h:2*h], b)
	if math.IsNaN(f[0]) {
		dst[0] = math.NaN()
		return
	}
	if modulate {
		// By columns: the odd entries of each.
		for t := 0; t < 2*ascentRank; t++ {
			for i := 1; i < n; i += 2 {
				dst[t*n+i] = -dst[t*n+i]
			}
		}
	}
}

// mixedSigns reports whether the entries of the slices have both signs.
func mixedSigns(parts ...[]float64) bool {
	pos, neg := false, false
	for _, p := range parts {
		for _, v := range p {
			pos, neg = pos || v > 0, neg || v < 0
		}
	}
	return pos && neg
}

// mixedOut reports whether the out-of-band entries of x (those outside
// writes) have both signs.
func (c *Certifier) mixedOut(x []float64) bool {
	off, nd := c.in.K-c.out.K, c.out.Len()
	return mixedSigns(x[:off], x[off+nd:])
}

// oddOut reports whether the i-th out-of-band entry (in the order of
// outside) lies on an odd diagonal.
func (c *Certifier) oddOut(i int) bool {
	off := c.in.K - c.out.K
	d := i - c.in.K // diagonals −K … −K'−1
	if i >= off {
		d = i - off + c.out.K + 1 // diagonals K'+1 … K
	}
	return d%2 != 0
}

// certifyRows certifies rows lo..hi−1 of CertifyBatch on the workers,
// calling keep (if not nil) after each row with the workspace that
// certified it.
func (c *Certifier) certifyRows(dst []float64, res []Certificate, x, a []float64, lo, hi int, keep func(int, *certWork)) error {
	L, Lo := c.in.Len(), c.out.Len()
	return forRows(hi-lo, c.opts.Workers, func() (func(int) error, func(), error) {
		w := c.get()
		row := func(r int) error {
			i := lo + r
			d := dst[i*Lo : (i+1)*Lo]
			cert, err := c.certify(w, d, x[i*L:(i+1)*L], a[i*Lo:(i+1)*Lo])
			if err == nil && res != nil {
				res[i] = cert
			}
			if err == nil && keep != nil {
				keep(i, w)
			}
			return err
		}
		return row, func() { c.put(w) }, nil
	})
}

// outside writes the out-of-band entries of x (the diagonals K' < |d| <= K,
// in order) into xo.
func (c *Certifier) outside(xo, x []float64) {
	off, nd := c.in.K-c.out.K, c.out.Len()
	copy(xo, x[:off])
	copy(xo[off:], x[off+nd:])
}

func (c *Certifier) get() *certWork {
	c.mu.Lock()
	if n := len(c.free); n > 0 {
		w := c.free[n-1]
		c.free = c.free[:n-1]
		c.mu.Unlock()
		return w
	}
	c.mu.Unlock()
	w, err := newCertWork(c.in, c.out, c.proj == nil)
	if err != nil {
		// The first workspace, of the same size, was made by NewCertifier.
		panic("optimal: certifier workspace: " + err.Error())
	}
	return w
}

func (c *Certifier) put(w *certWork) {
	c.mu.Lock()
	c.free = append(c.free, w)
	c.mu.Unlock()
}

// certify writes the certified generator into dst (which may alias a) and
// returns its certificate, with A = dst. x and a are valid.
func (c *Certifier) certify(w *certWork, dst, x, a []float64) (Certificate, error) {
	var cert Certificate
	if c.proj != nil {
		copy(w.a, a)
		v := c.solver.quadValue(x, w.a, w.r)
		c.proj.Apply(w.ao, x, 1)
		opt := c.solver.quadValue(x, w.ao, w.r)
		cert = Certificate{Value: v, Lower: math.Min(opt, v)}
		copy(dst, w.a)
		cert.A = dst
		if c.opts.MaxGap > 0 && cert.Gap() > c.opts.MaxGap {
			copy(dst, w.ao)
			cert = Certificate{A: dst, Value: opt, Lower: opt, Fallback: true}
		}
		return cert, nil
	}
	sw := w.sub
	w = sw.w // the subspace method's workspace: its dense oracle and Y_f
	w.capOK, w.capOn = false, false
	w.tightGap = 0
	remembered := 0.0 // the remembered duals' bound, if they did not suffice
	if c.cache != nil {
		c.outside(w.xoRaw, x)
		// The fast check: the candidate's exact loss against the
		// remembered duals, which need bound it only from v(1 − r) up
		// (the floor is a little lower, so that rounding cannot drop a
		// bound the test below accepts).
		if c.fac > 0 {
			w.ascWork()
		}
		if c.cache.len() > 0 {
			r := math.Float64frombits(c.reuse.Load())
			if v := w.value(x, a); v > 0 && !math.IsInf(v, 0) {
				floor := v * (1 - r) * (1 - 1e-9)
				var fac []float64
				if c.fac > 0 {
					// Below the reuse target, a remembered dual is still
					// a start for the ascent.
					fac, floor = w.asc.ab, v*(1-ascentFloor)
				}
				lo, start := c.cache.lowerFactors(w.xoRaw, w.q, floor, fac)
				tight := c.tight.Load() && !tightSampled(x, uint64(c.sample.Load()))
				reuse := func(g float64) bool { return g <= r || (g <= c.target && tight) }
				ascended := false
				if lo > 0 && (v-lo)/v > r && start {
					// The ascent goes on while it gains, up to the reuse
					// target: a row above it is certified (where remembered
					// duals certify such rows, ReuseTightFraction) by the
					// same bound as the rows that measure whether they do.
					if up := w.asc.ascend(w.xoRaw, v, v*(1-r)*(1+1e-12), v*(1-c.target), c.ascent); up > lo {
						lo, ascended = up, true
						// A candidate the bound leaves above the target
						// would be refined: first try the primal the
						// ascended dual points to.
						if (v-lo)/v > c.target {
							// The fit needs the dual near its optimum: the
							// ascent goes on while it gains.
							lo = math.Max(lo, w.asc.ascend(w.xoRaw, lo*(1+1e-3), math.Inf(1), math.Inf(-1), c.ascent))
							if cert, ok := c.recovered(w, dst, x, a, lo); ok {
								return cert, nil
							}
						}
					}
				}
				if lo > 0 {
					// Above r the bound is one the ascent started from
					// (whether or not it gained), or one without factors.
					g := (v - lo) / v
					if reuse(g) {
						copy(dst, a)
						return Certificate{A: dst, Value: v, Lower: math.Min(lo, v), Reused: true, Ascended: ascended}, nil
					}
					remembered = lo
					if c.adapt && g <= c.target {
						// A row of the measure behind ReuseTightFraction.
						w.tightGap, w.tightV = g, v
					}
				}
			}
		}
		w.capOn, w.capBest = true, 0
		if c.record > 0 && w.capY == nil {
			w.capY = make([]float64, w.n*w.n)
		}
	}
	// The remembered duals' bound is not passed to the subspace method as
	// a hint: a loose hint sets a trust radius that makes the first model
	// solve's bound local, and the candidate is then polished where its
	// unconstrained bound would have certified it. It only sets where the
	// model's barrier starts.
	cert = sw.solve(x, a, c.target, c.steps, 0, remembered)
	cert.Lower = math.Max(cert.Lower, math.Min(remembered, cert.Value))
	if w.tightGap > 0 {
		w.tightGain = math.Max(0, (cert.Lower-remembered)/w.tightV)
	}
	if w.capOn {
		w.capOn = false
		// Remember the dual only if it certifies this row well.
		if w.capOK {
			var s float64
			for d, v := range w.xoRaw {
				s += w.capH[d] * v
			}
			w.capOK = math.Abs(s) >= (1-c.target/2)*cert.Value
			w.capGap = cert.Gap()
		}
	}
	copy(dst, cert.A)
	cert.A = dst
	// !(gap <= MaxGap): a NaN value (a failed SVD) falls back too.
	if c.opts.MaxGap > 0 && !(cert.Gap() <= c.opts.MaxGap) {
		cert.Fallback = true
		for _, s := range [2]*Solver{c.solver, c.strict} {
			if s == nil {
				continue
			}
			r, err := s.Solve(x)
			if err != nil {
				return Certificate{}, fmt.Errorf("optimal: certify: fallback: %w", err)
			}
			if r.Value <= cert.Value || math.IsNaN(cert.Value) {
				copy(dst, r.A)
				cert.Value = r.Value
			}
			// Both bounds are valid: keep the better, never above Value.
			cert.Lower = math.Min(math.Max(cert.Lower, r.Lower), cert.Value)
			if cert.Gap() <= c.opts.MaxGap {
				break
			}
		}
	}
	return cert, nil
}

// recoverPrior is the weight, relative to the mean diagonal of the normal
// equations, that pulls the primal fitted to an ascended dual towards the
// candidate (ascentWork.recover): the fit constrains the residual on the
// dual's few pairs only, and the candidate, poor as it is, holds the rest
// (the choice of the weight: docs/BENCHMARKS.md, issue 13).
const recoverPrior = 1.0

// recovered returns the certificate of the primal that w's last dual
// ascent points to (ascentWork.recover, unweighted, then weighted, pulled
// towards the candidate a) with the bound lo, if its certified gap is
// within the target.
func (c *Certifier) recovered(w *certWork, dst, x, a []float64, lo float64) (Certificate, bool) {
	aw := w.asc
	for _, weighted := range [2]bool{false, true} {
		if !aw.recover(x, aw.cand, weighted, a, recoverPrior) {
			continue
		}
		if v := w.value(x, aw.cand); v > 0 && !math.IsInf(v, 0) && (v-lo)/v <= c.target {
			copy(dst, aw.cand)
			return Certificate{A: dst, Value: v, Lower: math.Min(lo, v), Polished: true, Recovered: true}, true
		}
	}
	return Certificate{}, false
}

// ascentFloor is the largest relative gap of a remembered dual from which
// the certifier starts a dual ascent.
const ascentFloor = 0.05

// ascWork makes w's ascent scratch and capture buffers on first use.
func (w *certWork) ascWork() {
	if w.asc != nil {
		return
	}
	w.asc = newAscentWork(w.n, w.in.K, w.out.K, w.kmax)
	w.capA, w.capB = make([]float64, w.n*w.kmax), make([]float64, w.n*w.kmax)
}

// certWork is the workspace of one certification.
type certWork struct {
	in, out structure.Band
	n, m    int // matrix size, number of output diagonals 2K'+1
	kmax    int // singular pairs used

	a, ao []float64 // candidate, trial generator (output band)
	r     []float64 // residual generator (input band)
	xo    []float64 // x with the output band zeroed, scaled

	ts     *structure.TopSingular // oracle for N > maxDenseOracleN, else nil
	hsym   *mat.SymDense          // the dense oracle's H = R J (factor)
	eig    mat.EigenSym           // of H
	evals  []float64
	evecs  *mat.Dense
	ydense *mat.Dense // dual matrix Y_f for the exact nuclear norm
	ysvd   mat.SVD
	yval   []float64
	u, v   *mat.Dense
	sig    []float64
	g      []float64 // G_d = U_kᵀ S_d V_k, m blocks of kmax×kmax
	bm     []float64 // U_kᵀ T(x_out) V_k, kmax×kmax
	tvm    []float64 // T(x_out) V, n×kmax (made on first use)
	uz     []float64 // U_j Z for exactNuclear, n×kmax (made on first use)
	jac    []float64 // Jacobi workspace, kmax×kmax
	md     model
	sub    *subspaceWork // spectral loss: the subspace method
	dl     []float64     // a − x_I, scaled

	// The dual cache (Certifier.cache): while capOn, bound records in
	// capH, capE the vector and rounding bounds (dualEntry) of the best
	// bound so far (capBest, scaled units) and sets capOK.
	capOn, capOK bool
	capBest      float64
	capGap       float64 // the row's certified gap, when capOK
	capH, capE   []float64
	capY         []float64 // the dense dual, N×N, when recording (else nil)
	// With the cache's factors: U_j Z and V_j of the captured dual, n×capK
	// each (by columns), and the ascent's scratch.
	capA, capB []float64
	capK       int
	asc        *ascentWork
	xoRaw      []float64 // the out-of-band entries of the input
	q          []int     // the cache's cell scratch
	// A row above the reuse target but within the certifier's target
	// (ReuseTightFraction): its remembered gap (0: none), its candidate's
	// value, and the bound the full check added, relative to that value.
	tightGap, tightV, tightGain float64
	// value: S = RᵀR (n×n), its tridiagonal form and workspace.
	vs, vd, ve, vwork []float64
}

// newCertWork returns the workspace of one certification: for a quadratic
// loss a few vectors; for the spectral loss the subspace method's
// workspace (its oracle and compressed model) as well.
func newCertWork(in, out structure.Band, spectral bool) (*certWork, error) {
	w, err := newCertWorkOracle(in, out, false, 1, 1, nil)
	if err != nil || !spectral {
		return w, err
	}
	// Two pairs fewer than Banded's: the model's cost grows as the cube
	// of the pairs, and with 2K'+4 the certified gap of a perturbed
	// optimum is already within 4 % of the true one at N = 11 and 32
	// (docs/BENCHMARKS.md, issue 13).
	kn := min(in.N, out.Len()+3)
	mm := min(in.N, kn+(kn+1)/2)
	if w.sub, err = newSubspaceWork(in, out, kn, mm, subspaceOracle(in.N, kn)); err != nil {
		return nil, err
	}
	return w, nil
}

// newCertWorkOracle returns a certWork with blocks for kmax pairs (capped
// at N) and, if spectral, a singular-triplet oracle: a dense SVD up to
// maxDenseOracleN, above it a banded one (options opts) for the top
// koracle <= kmax triplets.
func newCertWorkOracle(in, out structure.Band, spectral bool, kmax, koracle int, opts *structure.TopSingularOptions) (*certWork, error) {
	n, m := in.N, out.Len()
	kmax = min(n, kmax)
	koracle = min(kmax, koracle)
	w := &certWork{in: in, out: out, n: n, m: m, kmax: kmax,
		a: make([]float64, m), ao: make([]float64, m),
		r: make([]float64, in.Len()), xo: make([]float64, in.Len()),
		sig: make([]float64, n),
		g:   make([]float64, m*kmax*kmax),
		bm:  make([]float64, kmax*kmax),
		jac: make([]float64, 8*kmax*kmax),
		dl:  make([]float64, m),
	}
	if nout := 2 * (in.K - out.K); nout > 0 {
		w.capH, w.capE = make([]float64, nout), make([]float64, nout)
		w.xoRaw, w.q = make([]float64, nout), make([]int, nout)
	}
	if spectral && n > maxDenseOracleN {
		ts, err := structure.NewTopSingular(in, koracle, opts)
		if err != nil {
			return nil, err
		}
		w.ts = ts
	} else if spectral {
		w.u = mat.NewDense(n, n, nil)
		w.v = mat.NewDense(n, n, nil)
		w.hsym = mat.NewSymDense(n, nil)
		w.evals, w.evecs = make([]float64, n), mat.NewDense(n, n, nil)
	}
	if spectral {
		w.md = newModel(kmax, m)
		if n <= maxExactNuclearN {
			w.ydense = mat.NewDense(n, n, nil)
			w.yval = make([]float64, n)
		}
	}
	return w, nil
}

// residual sets w.r = (x − E a)/scale.
func (w *certWork) residual(x, a []float64, scale float64) {
	off := w.in.K - w.out.K
	copy(w.r, x)
	for i, v := range a {
		w.r[off+i] -= v
	}
	for i := range w.r {
		w.r[i] /= scale
	}
}

// factor computes the top singular triplets of T(w.r), filling sig, u, v
// (at least kmax columns); it reports false if that fails. This is the
// singular-triplet oracle: a dense SVD up to maxDenseOracleN, banded block
// Lanczos (structure.TopSingular) beyond.
func (w *certWork) factor() bool {
	if w.ts != nil {
		sg, err := w.ts.Compute(w.r)
		if err != nil || len(sg.Values) == 0 {
			return false
		}
		copy(w.sig, sg.Values)
		w.u, w.v = sg.U, sg.V
		// Ritz values are at most the singular values; Upper is a
		// certified upper bound on σ_1, so Value never understates the loss.
		if !math.IsInf(sg.Upper, 0) && sg.Upper > w.sig[0] {
			w.sig[0] = sg.Upper
		}
		return true
	}
	// The residual R is Toeplitz, so J R J = Rᵀ (J the exchange matrix)
	// and H = R J, a Hankel matrix, is symmetric: H_ij = R_{i,n−1−j} =
	// r[K + n−1−i−j]. Its eigenpairs H q = λ q are R's singular triplets,
	// σ = |λ|, u = q, v = sign(λ) J q (R v = sign(λ) H q = |λ| q), and a
	// symmetric eigensolver (backward stable, so the triplets are exact for
	// H + E, ||E||_2 = O(ε)||H||_2, as the SVD's are) is cheaper than the
	// SVD with both bases (docs/BENCHMARKS.md, "Certification", seventh
	// session).
	// H's upper triangle, which is all hsym reads.
	n, k := w.n, w.in.K
	raw := w.hsym.RawSymmetric()
	for i := 0; i < n; i++ {
		row := raw.Data[i*raw.Stride : i*raw.Stride+n]
		for j := i; j < n; j++ {
			row[j] = 0
			if d := n - 1 - i - j; d >= -k && d <= k {
				row[j] = w.r[k+d]
			}
		}
	}
	if !w.eig.Factorize(w.hsym, true) {
		return false
	}
	vals := w.eig.Values(w.evals)
	w.eig.VectorsTo(w.evecs)
	// vals ascends: the largest |λ| is at one end or the other.
	q, u, v := w.evecs.RawMatrix(), w.u.RawMatrix(), w.v.RawMatrix()
	lo, hi := 0, n-1
	for c := 0; c < n; c++ {
		idx, sg := hi, 1.0
		if -vals[lo] > vals[hi] {
			idx, sg = lo, -1.0
			lo++
		} else {
			hi--
		}
		w.sig[c] = sg * vals[idx]
		for r := 0; r < n; r++ {
			e := q.Data[r*q.Stride+idx]
			u.Data[r*u.Stride+c] = e
			v.Data[(n-1-r)*v.Stride+c] = sg * e
		}
	}
	return true
}

// pairsJ computes, for the first j <= kmax columns of w.u and w.v, the
// blocks G_d[a][b] = Σ_i u_a[i] v_b[i+d] for |d| <= K' and
// B = U_jᵀ T(x_out) V_j (both with the stride kmax).
func (w *certWork) pairsJ(j int) {
	n, k, kp, km := w.n, w.in.K, w.out.K, w.kmax
	ur, vr := w.u.RawMatrix(), w.v.RawMatrix()
	for di := 0; di < w.m; di++ {
		d := di - kp
		g := w.g[di*km*km : (di+1)*km*km]
		lo, hi := max(0, -d), min(n, n-d)
		gemm.Dgemm(blas.Trans, blas.NoTrans, j, j, hi-lo, 1, ur.Data[lo*ur.Stride:], ur.Stride, vr.Data[(lo+d)*vr.Stride:], vr.Stride, 0, g, km)
	}
	// TV = T(x_out)·V_j row by row (rows of V are contiguous), then
	// B = U_jᵀ·TV.
	if len(w.tvm) < n*km {
		w.tvm = make([]float64, n*km)
	}
	tv := w.tvm[:n*j]
	for i := 0; i < n; i++ {
		row := tv[i*j : (i+1)*j]
		for c := range row {
			row[c] = 0
		}
		for c := max(0, i-k); c <= min(n-1, i+k); c++ {
			if d := c - i; d < -kp || d > kp {
				axpy(w.xo[k+d], vr.Data[c*vr.Stride:c*vr.Stride+j], row)
			}
		}
	}
	gemm.Dgemm(blas.Trans, blas.NoTrans, j, j, n, 1, ur.Data, ur.Stride, tv, j, 0, w.bm, km)
}

// bound returns the certified lower bound (in the scaled units) of the
// dual matrix Y = U_j Z V_jᵀ for the symmetric j×j matrix z (row-major,
// stride j), see the Certifier documentation.
func (w *certWork) bound(z []float64, j int) float64 {
	n, km := w.n, w.kmax
	var num float64
	for a := 0; a < j; a++ {
		for b := 0; b < j; b++ {
			num += z[a*j+b] * w.bm[a*km+b]
		}
	}
	// exactNuclear gives ||Y_f||_* itself (plus a rounding margin), which
	// the estimate from ||Z||_* bounds from above: the estimate, and its
	// j×j SVD, are needed only where N is too large for the exact one.
	exact := math.Inf(1)
	if n <= maxExactNuclearN {
		exact = w.exactNuclear(z, j)
	}
	den := exact
	if math.IsInf(exact, 0) {
		// ||Σ c_d S_d||_* <= min(Σ |c_d| (N−|d|), √N ||Σ c_d S_d||_F),
		// with c_d (N−|d|) = ⟨Z, G_d⟩ and ||Σ c_d S_d||_F² = Σ c_d² (N−|d|).
		var pen, fro float64
		for di := 0; di < w.m; di++ {
			g := w.g[di*km*km:]
			var s float64
			for a := 0; a < j; a++ {
				for b := 0; b < j; b++ {
					s += z[a*j+b] * g[a*km+b]
				}
			}
			pen += math.Abs(s)
			nd := float64(n - abs(di-w.out.K))
			fro += s * s / nd
		}
		pen = math.Min(pen, math.Sqrt(float64(n)*fro))
		nuc := nuclearGen(z, j, w.jac)
		gu, gv := orthFactor(w.u, n, j), orthFactor(w.v, n, j)
		den = nuc*gu*gv + pen
	}
	lo := math.Abs(num) / den
	// Rounding in the O(N·j) sums above.
	lo *= 1 - 16*float64(n+j*j)*epsilon
	if !(lo > 0) || math.IsInf(lo, 0) {
		return 0
	}
	if w.capOn && lo > w.capBest && !math.IsInf(exact, 0) {
		w.capBest = lo
		w.dualEntry(exact, j)
	}
	return lo
}

const epsilon = 0x1p-52

// maxExactNuclearN is the largest N at which bound computes ||Y_f||_*
// exactly by an SVD of the N×N matrix, in addition to the cheap estimate.
const maxExactNuclearN = 64

// exactNuclear returns an upper bound on ||Y_f||_* for Y = U_j Z V_jᵀ from
// the singular values of Y_f formed densely, plus a rounding margin.
func (w *certWork) exactNuclear(z []float64, j int) float64 {
	n, kp := w.n, w.out.K
	ur, vr := w.u.RawMatrix(), w.v.RawMatrix()
	y := w.ydense.RawMatrix()
	// Y = (U_j Z) V_jᵀ by two products. Each entry of U_j Z and of Y is a
	// sum of j terms, whatever order the products add them in, so the
	// margin below (j·4ε relative) covers their rounding.
	if len(w.uz) < n*j {
		w.uz = make([]float64, n*w.kmax)
	}
	uz := w.uz[:n*j]
	gemm.Dgemm(blas.NoTrans, blas.NoTrans, n, j, j, 1, ur.Data, ur.Stride, z, j, 0, uz, j)
	gemm.Dgemm(blas.NoTrans, blas.Trans, n, n, j, 1, uz, j, vr.Data, vr.Stride, 0, y.Data, y.Stride)
	for d := -kp; d <= kp; d++ {
		lo, hi := max(0, -d), min(n, n-d)
		var sum float64
		for i := lo; i < hi; i++ {
			sum += y.Data[i*y.Stride+i+d]
		}
		mean := sum / float64(hi-lo)
		for i := lo; i < hi; i++ {
			y.Data[i*y.Stride+i+d] -= mean
		}
	}
	// Y_f is exactly orthogonal to the output diagonals only up to the
	// rounding of the means; the numerator uses ⟨Z, U_jᵀ T(x_out) V_j⟩,
	// which equals ⟨Y_f, T(x)⟩ whatever the means are.
	if !w.ysvd.Factorize(w.ydense, mat.SVDNone) {
		return math.Inf(1)
	}
	vals := w.ysvd.Values(w.yval)
	var nuc float64
	for _, v := range vals {
		nuc += v
	}
	return nuc + float64(n*n)*4*epsilon*vals[0] + nuc*float64(j)*4*epsilon
}

// dualEntry sets capH, capE (and capY when recording, capA, capB where
// they are kept) from the dual matrix Y_f = U_j Z V_jᵀ that exactNuclear
// left in w.ydense (and U_j Z in w.uz), whose nuclear norm is at most nuc
// (dualVector).
func (w *certWork) dualEntry(nuc float64, j int) {
	y := w.ydense.RawMatrix()
	if !dualVector(y.Data, y.Stride, w.n, w.in.K, w.out.K, nuc, w.capH, w.capE) {
		return
	}
	if w.capA != nil {
		// By columns, as the ascent stores factors.
		n := w.n
		vr := w.v.RawMatrix()
		for i := 0; i < n; i++ {
			for l := 0; l < j; l++ {
				w.capA[l*n+i] = w.uz[i*j+l]
				w.capB[l*n+i] = vr.Data[i*vr.Stride+l]
			}
		}
		w.capK = j
	}
	if w.capY != nil {
		for i := 0; i < w.n; i++ {
			copy(w.capY[i*w.n:(i+1)*w.n], y.Data[i*y.Stride:i*y.Stride+w.n])
		}
	}
	w.capOK = true
}

// dualVector sets h, e (2(K−K') each) from the N×N dual matrix Y (row-major
// with stride ld) whose nuclear norm is at most nuc, and reports whether
// they are finite: h_d = s_d/ν for the out-of-band diagonal sums s_d of Y,
// with
//
//	ν = nuc + Σ_{|d|<=K'} (|e_d| + γ_N a_d),
//
// e_d the output diagonals' sums (zero up to rounding for the certifier's
// Y_f, anything for another matrix), a_d the sums of magnitudes and
// γ_N = Nε/(1−Nε) the rounding of a sum of N terms. The exact sums ẽ_d are
// within γ_N a_d of e_d, so Y' = Y − Σ ẽ_d S_d/(N−|d|) is exactly
// orthogonal to the output diagonals with ||Y'||_* <= ν, and its
// out-of-band sums (those of Y) are within γ_N a_d of s_d: e holds those
// errors over ν, plus the rounding of the division. So |Σ_d h_d x_d| −
// Σ_d e_d |x_d| (less the rounding of that sum) is at most
// |⟨Y', T(x)⟩|/||Y'||_* <= opt(x) for every x, whatever Y is.
func dualVector(y []float64, ld, n, k, kp int, nuc float64, h, e []float64) bool {
	gamma := float64(n) * epsilon / (1 - float64(n)*epsilon)
	den := nuc
	c := 0
	for d := -k; d <= k; d++ {
		lo, hi := max(0, -d), min(n, n-d)
		var s, a float64
		for i := lo; i < hi; i++ {
			v := y[i*ld+i+d]
			s += v
			a += math.Abs(v)
		}
		if d >= -kp && d <= kp {
			den += math.Abs(s) + gamma*a
			continue
		}
		h[c], e[c] = s, gamma*a
		c++
	}
	// den is a sum of 2K'+2 nonnegative terms.
	den *= 1 + float64(2*kp+4)*epsilon
	if !(den > 0) || math.IsInf(den, 0) {
		return false
	}
	for i := range h {
		h[i] /= den
		e[i] = e[i]/den + 2*epsilon*math.Abs(h[i])
		if math.IsNaN(h[i]) || math.IsInf(h[i], 0) || math.IsNaN(e[i]) || math.IsInf(e[i], 0) {
			return false
		}
	}
	return true
}

// scaledResidual sets w.r = (x − Ea)/sc for the power of two sc nearest
// the residual's largest entry and returns sc: 0 for a zero residual (w.r
// then zero), NaN for a non-finite one.
func (w *certWork) scaledResidual(x, a []float64) float64 {
	w.residual(x, a, 1)
	big := 0.0
	for _, r := range w.r {
		big = math.Max(big, math.Abs(r))
	}
	if big == 0 {
		return 0
	}
	if math.IsInf(big, 0) || math.IsNaN(big) {
		return math.NaN()
	}
	sc := pow2(big)
	for i := range w.r {
		w.r[i] /= sc
	}
	return sc
}

// value returns ||T(x) − T(Ea)||_2 = λ_max(RᵀR)^½ for the residual
// R = T(x) − T(Ea) (scaled by a power of two), or NaN if that fails:
// S = RᵀR is formed by its displacement recurrence (toeplitzGram, O(N²)),
// reduced to tridiagonal form and its largest eigenvalue found
// (maxEigSym), backward stable like the SVD but without singular vectors
// or the bidiagonal dqds. Forming S perturbs λ_max by at most 3N²ε σ₁²,
// far below any gap the certifier reports.
func (w *certWork) value(x, a []float64) float64 {
	sc := w.scaledResidual(x, a)
	if sc == 0 || math.IsNaN(sc) {
		return sc
	}
	n, k := w.n, w.in.K
	if w.vs == nil {
		w.vs, w.vd, w.ve, w.vwork = make([]float64, n*n), make([]float64, n), make([]float64, n), make([]float64, 2*n)
	}
	s := w.vs
	toeplitzGram(s, w.r, n, k)
	lam, ok := maxEigSym(s, n, w.vd, w.ve, w.vwork)
	if !ok {
		return math.NaN()
	}
	return math.Sqrt(math.Max(lam, 0)) * sc
}

// toeplitzGram sets the lower triangle of the n×n matrix s (row-major) to
// S = RᵀR for the banded Toeplitz R with R_li = r[K+i−l] (|i−l| <= K, zero
// elsewhere; len(r) = 2K+1), in O(n²) rather than O(n·K²): its first
// column directly, S_i0 = Σ_l R_li R_l0, then along each diagonal by the
// displacement recurrence of a Toeplitz Gram matrix,
//
//	S_{i+1,j+1} = S_ij + R_{−1,i} R_{−1,j} − R_{n−1,i} R_{n−1,j},
//
// R_{−1,i} = r[K+i+1] the row above R and R_{n−1,i} its last row (shifting
// both indices moves R down one row). Entries beyond the band 2K come out
// exactly zero. Each step adds the rounding of three terms bounded by
// column norms squared, so an entry is within 3nε·max_i ||R e_i||² <=
// 3nε σ₁² of S_ij, and λ_max within 3n²ε σ₁².
func toeplitzGram(s, r []float64, n, k int) {
	for i := 0; i < n; i++ {
		var v float64
		for l := max(0, i-k); l <= min(n-1, k); l++ {
			v += r[k+i-l] * r[k-l]
		}
		s[i*n] = v
	}
	for i := 0; i+1 < n; i++ {
		src, dst := s[i*n:i*n+i+1], s[(i+1)*n+1:(i+1)*n+i+2]
		// R_{−1,j} is nonzero for j < K and R_{n−1,j} for j >= n−1−K; for
		// j <= i, if j qualifies for the last row so does i, and if i
		// qualifies for the row above so does j.
		up, lo := i+1 <= k, n-1-i <= k
		ui, li := 0.0, 0.0
		if up {
			ui = r[k+i+1]
		}
		if lo {
			li = r[k+i-n+1]
		}
		for j, v := range src {
			if up {
				v += ui * r[k+j+1]
			}
			if lo && n-1-j <= k {
				v -= li * r[k+j-n+1]
			}
			dst[j] = v
		}
	}
}

// sturmPivot returns the pivot v of a Sturm count, a zero one (or one
// smaller than tiny) replaced by −tiny as LAPACK's dstebz does.
func sturmPivot(v, tiny float64) float64 {
	if math.Abs(v) < tiny {
		return -tiny
	}
	return v
}

// maxEigSym returns the largest eigenvalue of the symmetric n×n matrix
// whose lower triangle is in s (row-major; s is overwritten), or false if
// it is not finite: Householder reduction to tridiagonal form (Golub & Van
// Loan, Matrix Computations, §8.3.1; backward stable), then Sturm counts
// (§8.4.1) narrowing [max_i T_ii, Gershgorin's bound] to a few ulps at the
// points Laguerre's iteration proposes (laguerreTop), finished by
// bisection (four points a pass) where it stalls, returning the
// interval's upper end; every end of the interval is decided by a count.
// d, e (length n) and work (length 2n) are scratch. The entries must be
// of moderate magnitude (squares of the largest neither overflowing nor
// subnormal; value scales S so that its largest entry is within a few
// powers of two of 1): the reflectors and the Sturm counts are formed from
// plain sums of squares.
func maxEigSym(s []float64, n int, d, e, work []float64) (float64, bool) {
	v, p := work[:n], work[n:2*n]
	for c := 0; c+2 < n; c++ {
		// The reflector that zeroes column c below its subdiagonal.
		m := n - c - 1
		x := v[:m]
		var ss float64
		for i := range x {
			x[i] = s[(c+1+i)*n+c]
			ss += x[i] * x[i]
		}
		nrm := math.Sqrt(ss)
		d[c] = s[c*n+c]
		if nrm == 0 {
			e[c] = 0
			continue
		}
		alpha := -math.Copysign(nrm, x[0])
		e[c] = alpha
		x[0] -= alpha
		var vv float64
		for _, t := range x {
			vv += t * t
		}
		if vv == 0 {
			continue
		}
		// A ← H A H on the trailing block, H = I − 2vvᵀ/vᵀv:
		// p = 2Av/vᵀv, q = p − (vᵀp/vᵀv) v, A ← A − v qᵀ − q vᵀ, on the
		// lower triangle only (A's row i below the diagonal gives both
		// (Av)_i's terms j < i and, by symmetry, its terms to each j < i).
		beta := 2 / vv
		q := p[:m]
		clear(q)
		base := (c+1)*n + c + 1 // A[i][j] at s[base+i*n+j], j <= i
		for i := 0; i < m; i++ {
			row := s[base+i*n : base+i*n+i+1]
			xi := x[i]
			var t float64
			for j, a := range row[:i] {
				t += a * x[j]
				q[j] += a * xi
			}
			q[i] += t + row[i]*xi
		}
		var vp float64
		for i := range q {
			q[i] *= beta
			vp += x[i] * q[i]
		}
		kk := vp / vv
		for i := range q {
			q[i] -= kk * x[i]
		}
		for i := 0; i < m; i++ {
			row := s[base+i*n : base+i*n+i+1]
			xi, qi := x[i], q[i]
			for j := range row {
				row[j] -= xi*q[j] + qi*x[j]
			}
		}
	}
	if n >= 2 {
		d[n-2], e[n-2] = s[(n-2)*n+n-2], s[(n-1)*n+n-2]
	}
	d[n-1] = s[(n-1)*n+n-1]
	lo, hi := math.Inf(-1), math.Inf(-1)
	for i := 0; i < n; i++ {
		r := 0.0
		if i > 0 {
			r += math.Abs(e[i-1])
		}
		if i+1 < n {
			r += math.Abs(e[i])
		}
		lo, hi = math.Max(lo, d[i]), math.Max(hi, d[i]+r)
	}
	if math.IsNaN(hi) || math.IsInf(hi, 0) {
		return 0, false
	}
	// Bisection: count(x) is the number of eigenvalues below x, by the
	// signs of the pivots of T − xI (a zero pivot replaced by a tiny one,
	// as LAPACK's dstebz does).
	tiny := math.Max(hi-lo, math.Abs(hi)) * epsilon * epsilon
	if tiny == 0 {
		return hi, true
	}
	// e holds the squared off-diagonal from here on (e is scratch).
	e2 := e[:max(n-1, 0)]
	for i, t := range e2 {
		e2[i] = t * t
	}
	// Laguerre's iteration from above narrows the bracket in a few passes;
	// quadrisection finishes it (or does all the work, where Laguerre's
	// steps stall).
	lo, hi = laguerreTop(d[:n], e2, lo, hi, tiny)
	// Quadrisection: four Sturm counts a pass, whose pivot recurrences are
	// independent and so run interleaved (the recurrence is a chain of
	// divisions, bound by their latency), narrowing the bracket fivefold a
	// pass where bisection halves it.
	var mid [4]float64
	for it := 0; it < 100 && hi-lo > 4*epsilon*math.Max(math.Abs(hi), math.Abs(lo)); it++ {
		w := (hi - lo) / 5
		for j := range mid {
			mid[j] = lo + float64(j+1)*w
		}
		if !(mid[0] > lo && mid[3] < hi && mid[0] < mid[1] && mid[1] < mid[2] && mid[2] < mid[3]) {
			// The bracket is a few ulps wide: bisect what is left.
			m := lo + (hi-lo)/2
			if m <= lo || m >= hi {
				break
			}
			mid = [4]float64{m, m, m, m}
		}
		var cnt [4]int
		q0, q1, q2, q3 := 1.0, 1.0, 1.0, 1.0
		m0, m1, m2, m3 := mid[0], mid[1], mid[2], mid[3]
		for i := 0; i < n; i++ {
			di := d[i]
			v0, v1, v2, v3 := di-m0, di-m1, di-m2, di-m3
			if i > 0 {
				ei := e2[i-1]
				v0 -= ei / q0
				v1 -= ei / q1
				v2 -= ei / q2
				v3 -= ei / q3
			}
			q0, q1, q2, q3 = sturmPivot(v0, tiny), sturmPivot(v1, tiny), sturmPivot(v2, tiny), sturmPivot(v3, tiny)
			cnt[0] += int(math.Float64bits(q0) >> 63)
			cnt[1] += int(math.Float64bits(q1) >> 63)
			cnt[2] += int(math.Float64bits(q2) >> 63)
			cnt[3] += int(math.Float64bits(q3) >> 63)
		}
		// Every eigenvalue is below mid[j] iff cnt[j] == n; the counts
		// grow with mid.
		nlo, nhi := lo, hi
		for j := 3; j >= 0; j-- {
			if cnt[j] == n {
				nhi = mid[j]
			} else {
				nlo = mid[j]
				break
			}
		}
		lo, hi = nlo, nhi
	}
	return hi, true
}

// laguerreTop narrows the bracket [lo, hi] of the largest eigenvalue λ₁
// of the symmetric tridiagonal T (diagonal d, squared off-diagonal e2),
// every eigenvalue below hi and one above lo, by Laguerre's iteration from
// above: with G = Σ_j 1/(x − λ_j) = (log|p|)′ and H = Σ_j 1/(x − λ_j)² for
// p(x) = det(T − xI),
//
//	x ← x − n / (G + sqrt((n−1)(nH − G²))),
//
// which for a polynomial with real roots moves monotonically from above λ₁
// towards it, cubically once λ₁ is resolved (Wilkinson, The Algebraic
// Eigenvalue Problem, 1965, ch. 7; Parlett, "Laguerre's method applied to
// the matrix eigenvalue problem", Math. Comp. 18, 1964). G and H come from
// the pivots q_i of the LDLᵀ factorisation of T − xI and their derivatives
// (q_i = d_i − x − e_{i−1}²/q_{i−1}), in the pass that counts the negative
// pivots at x. Each pass evaluates two points, interleaved: Laguerre's
// step and Newton's step on 1/G (x − G/H), which is exact for a multiple
// λ₁, where Laguerre's converges only linearly. No step is trusted: each
// point's Sturm count (the same recurrence as maxEigSym's bisection, so
// the same backward error) decides whether it is an upper or a lower end.
// The next pass starts from the nearest upper end found, else from the
// highest lower end (Newton's step on 1/G then moves up). It stops when
// the bracket is a few ulps wide, a step fails to move inside it, or after
// laguerreMaxSteps passes; bisection finishes what is left.
func laguerreTop(d, e2 []float64, lo, hi, tiny float64) (float64, float64) {
	n := len(d)
	if n < 2 {
		return lo, hi
	}
	fn := float64(n)
	// x is the point the next candidates step from, g and h its sums, and
	// above whether it is an upper end (every eigenvalue below it).
	x, above := hi, true
	_, _, g, h, _, _ := sturmLaguerre2(d, e2, x, x, tiny)
	for it := 0; it < laguerreMaxSteps; it++ {
		tol := 4 * epsilon * math.Max(math.Abs(hi), math.Abs(lo))
		if hi-lo <= tol {
			break
		}
		var p1, p2 float64
		if above {
			disc := (fn - 1) * (fn*h - g*g)
			if !(g > 0) || !(disc >= 0) || math.IsInf(disc, 0) {
				break
			}
			// Laguerre's step, and Newton's step on 1/G, x − G/H, which
			// is exact for a double λ₁ and lands within a fifth of the
			// distance below a close pair's upper member where Laguerre's
			// step still moves a fraction of it; the second point is at
			// least a little below the first (by the step times its
			// relative size, at most a thousandth of it: a cubically
			// converging step lands far closer than that once λ₁ is
			// resolved; and at least half the final width), so that the
			// bracket closes on the pass after convergence.
			p1 = x - fn/(g+math.Sqrt(disc))
			step := x - p1
			p2 = math.Min(x-g/h, p1-math.Max(step*math.Min(1e-3, step/math.Abs(x)), tol/2))
			// A step lost to rounding (x within a few ulps of λ₁) still
			// moves by half the final width, towards the lower end.
			p1 = math.Min(p1, x-tol/2)
		} else {
			// x is below λ₁, between it and λ₂, where G < 0: Newton's step
			// on 1/G moves up to λ₁ quadratically (1/G has a simple zero
			// there), and the second point is a little above it.
			if !(g < 0 && h > 0) {
				break
			}
			p1 = math.Max(x-g/h, x+tol/2)
			step := p1 - x
			p2 = p1 + math.Max(step*math.Min(1e-3, step/math.Abs(x)), tol/2)
		}
		if !(p1 > lo && p1 < hi) {
			break
		}
		if !(p2 > lo && p2 < hi) {
			p2 = lo + (hi-lo)/2
		}
		c1, c2, g1, h1, g2, h2 := sturmLaguerre2(d, e2, p1, p2, tiny)
		// Every count decides a bracket end. The next step starts from the
		// nearest upper end found, else from the highest lower end (a
		// Laguerre step from above converges monotonically; Newton's on
		// 1/G from below only near λ₁).
		above = false
		var gl, hl float64 // the sums at the highest lower end
		for _, pt := range [2]struct {
			p      float64
			c      int
			gs, hs float64
		}{{p1, c1, g1, h1}, {p2, c2, g2, h2}} {
			switch {
			case pt.c == n:
				hi = math.Min(hi, pt.p)
				if !above || pt.p < x {
					x, g, h, above = pt.p, pt.gs, pt.hs, true
				}
			case pt.p > lo:
				lo, gl, hl = pt.p, pt.gs, pt.hs
			}
		}
		if !above {
			x, g, h = lo, gl, hl
		}
	}
	return lo, hi
}

// laguerreMaxSteps bounds laguerreTop's passes.
const laguerreMaxSteps = 12

// sturmLaguerre2 returns the Sturm counts of T − xI and T − yI (the
// numbers of eigenvalues of T below x and y) and Laguerre's sums G and H
// at x and at y (laguerreTop), the two recurrences interleaved.
func sturmLaguerre2(d, e2 []float64, x, y, tiny float64) (cnt, cntY int, g, h, gy, hy float64) {
	n := len(d)
	q := sturmPivot(d[0]-x, tiny)
	qy := sturmPivot(d[0]-y, tiny)
	cnt = int(math.Float64bits(q) >> 63)
	cntY = int(math.Float64bits(qy) >> 63)
	r, ry := -1/q, -1/qy
	rp, rpy := -r*r, -ry*ry
	g, h, gy, hy = r, -rp, ry, -rpy
	for i := 1; i < n; i++ {
		ei := e2[i-1]
		t, ty := ei/q, ei/qy
		qp, qpy := -1+t*r, -1+ty*ry
		qpp, qppy := t*(rp-r*r), ty*(rpy-ry*ry)
		q, qy = sturmPivot(d[i]-x-t, tiny), sturmPivot(d[i]-y-ty, tiny)
		cnt += int(math.Float64bits(q) >> 63)
		cntY += int(math.Float64bits(qy) >> 63)
		r, ry = qp/q, qpy/qy
		rp, rpy = qpp/q-r*r, qppy/qy-ry*ry
		g, h, gy, hy = g+r, h-rp, gy+ry, hy-rpy
	}
	return cnt, cntY, g, h, gy, hy
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// orthFactor returns an upper bound on ||Q_j||_2 for the first j columns
// of q (N×N): sqrt(1 + ||Q_jᵀQ_j − I||_F).
func orthFactor(q *mat.Dense, n, j int) float64 {
	raw := q.RawMatrix()
	g := make([]float64, j*j)
	gemm.Dgemm(blas.Trans, blas.NoTrans, j, j, n, 1, raw.Data, raw.Stride, raw.Data, raw.Stride, 0, g, j)
	var e float64
	for a := 0; a < j; a++ {
		g[a*j+a]--
	}
	for _, v := range g {
		e += v * v
	}
	return math.Sqrt(1 + math.Sqrt(e) + float64(n)*epsilon)
}

// model is the barrier solver of the compressed local model
//
//	minimise t  subject to  [[t I, M(Δ)], [M(Δ)ᵀ, t I]] ⪰ 0,  ||Δ||² <= ρ²,
//	M(Δ) = Uᵀ R(a+Δ) V = B₀ − Σ_d Δ_d G_d,
//
// the residual compressed to the bases U, V of the subspace method. Because
// ||Uᵀ R V||_2 <= ||R||_2, its minimum over Δ is a lower bound on the
// optimum (a relaxation: the dual restricted to Y = U W Vᵀ), and its
// dual block W = Z₁₂ is the certificate; its minimiser is the polish step.
// W is a general k×k matrix: near a split cluster the left and right
// singular bases rotate differently, so a symmetric W would not do.
// Barrier method as in SDP (Boyd & Vandenberghe, Convex Optimization,
// §11.3), on the 2k×2k matrix through its k×k Schur complement.
type model struct {
	k, m       int
	g          []float64 // m blocks k×k: G_d
	l, wi      []float64 // the Cholesky factor of S (k×k), W = F⁻¹ (2k×2k)
	zv, zt, dz []float64
	gr, hs, hl []float64
	delta      []float64
	w12, b0    []float64 // dual block; base matrix M(0) (k×k)
	gg, ggt    []float64 // the blocks side by side, k × mk, and transposed
	x1, x2     []float64 // A·GG, B·GGt (k × mk)
	v1, v2, zb []float64 // the same stacked vertically (mk × k); Z_d blocks
	eb, mz     []float64 // AB + BC; M(z) (k×k)
	sinv, xs   []float64 // S⁻¹ and M S⁻¹ (k×k)
	bv         []float64 // the block B of W gathered contiguous (k×k, system)
	t          float64   // t of the last build
	hm         []float64 // tr(W F_d W F_e), m×m
	cd, td     []float64 // tr(W F_d), tr(W² F_d)
	ldet       float64
}

func newModel(k, m int) model {
	nv, k2 := m+1, 4*k*k
	return model{k: k, m: m,
		g: make([]float64, m*k*k), l: make([]float64, k*k), wi: make([]float64, k2),
		zv: make([]float64, nv), zt: make([]float64, nv), dz: make([]float64, nv), gr: make([]float64, nv),
		hs: make([]float64, nv*nv), hl: make([]float64, nv*nv),
		delta: make([]float64, m), w12: make([]float64, k*k), b0: make([]float64, k*k),
		gg: make([]float64, k*m*k), ggt: make([]float64, k*m*k),
		x1: make([]float64, k*m*k), x2: make([]float64, k*m*k), v1: make([]float64, m*k*k), v2: make([]float64, m*k*k),
		zb: make([]float64, m*k*k), eb: make([]float64, k*k), mz: make([]float64, k*k), sinv: make([]float64, k*k), xs: make([]float64, k*k), bv: make([]float64, k*k), hm: make([]float64, m*m), cd: make([]float64, m), td: make([]float64, m),
	}
}

// build reports whether F(z) = [[t I, M], [Mᵀ, t I]] (M = M(z), t = z_m)
// is positive definite, through its Schur complement S = t I − MᵀM/t
// (F ≻ 0 iff t > 0 and S ≻ 0; a k×k Cholesky factorisation instead of a
// 2k×2k one), leaving M in md.mz, the Cholesky factor of S in md.l and
// log det F = k log t + log det S in md.ldet.
func (md *model) build(z []float64) bool {
	k, m := md.k, md.m
	t := z[m]
	if !(t > 0) {
		return false
	}
	// M(z) = B₀ − Σ_d z_d G_d, block by block (contiguous).
	kk := k * k
	mz := md.mz[:kk]
	copy(mz, md.b0[:kk])
	// vec M −= Gᵀ z for the m×k² matrix G of the blocks, one gemv.
	blas64.Gemv(blas.Trans, -1, blas64.General{Rows: m, Cols: kk, Stride: kk, Data: md.g[:m*kk]},
		blas64.Vector{N: m, Inc: 1, Data: z[:m]}, 1, blas64.Vector{N: kk, Inc: 1, Data: mz})
	l := md.l[:k*k]
	gemm.Dgemm(blas.Trans, blas.NoTrans, k, k, k, -1/t, mz, k, mz, k, 0, l, k)
	for a := 0; a < k; a++ {
		l[a*k+a] += t
	}
	ld := float64(k) * math.Log(t)
	for j := 0; j < k; j++ {
		for i := j; i < k; i++ {
			v := l[i*k+j] - floats.Dot(l[i*k:i*k+j], l[j*k:j*k+j])
			if i == j {
				if !(v > 0) {
					return false
				}
				l[j*k+j] = math.Sqrt(v)
				ld += math.Log(v)
			} else {
				l[i*k+j] = v / l[j*k+j]
			}
		}
	}
	md.ldet = ld
	md.t = t
	return true
}

// inverse sets md.wi = F⁻¹ from the factor of build:
//
//	F⁻¹ = [[I/t + M S⁻¹ Mᵀ/t², −M S⁻¹/t], [−S⁻¹ Mᵀ/t, S⁻¹]].
func (md *model) inverse() {
	k := md.k
	n2 := 2 * k
	t := md.t
	wi := md.wi[:n2*n2]
	sinv := md.sinv[:k*k]
	copy(sinv, md.l[:k*k])
	if _, ok := lapack64.Potri(blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: k, Stride: k, Data: sinv}); !ok {
		// A zero pivot cannot occur after build succeeded; fall back to
		// NaN so that callers see the failure.
		for i := range wi {
			wi[i] = math.NaN()
		}
		return
	}
	for i := 0; i < k; i++ {
		for j := i + 1; j < k; j++ {
			sinv[i*k+j] = sinv[j*k+i]
		}
	}
	// X = M S⁻¹ (k×k): W₁₂ = −X/t, W₁₁ = I/t + X Mᵀ/t².
	x := md.xs[:k*k]
	gemm.Dgemm(blas.NoTrans, blas.NoTrans, k, k, k, 1, md.mz[:k*k], k, sinv, k, 0, x, k)
	gemm.Dgemm(blas.NoTrans, blas.Trans, k, k, k, 1/(t*t), x, k, md.mz[:k*k], k, 0, wi, n2)
	for a := 0; a < k; a++ {
		wi[a*n2+a] += 1 / t
		for b := 0; b < k; b++ {
			v := -x[a*k+b] / t
			wi[a*n2+k+b] = v
			wi[(k+b)*n2+a] = v
		}
		copy(wi[(k+a)*n2+k:(k+a)*n2+n2], sinv[a*k:(a+1)*k])
	}
}

// solveBase runs the barrier method on the compressed model
// M(Δ) = B₀ − Σ_d Δ_d G_d, whose base matrix B₀ and blocks G_d (k×k) are
// already in md.b0 and md.g, with trust radius rho (scaled units); s1 is an
// upper bound on ||B₀||_2 (σ_1 of the residual it compresses), target the
// relative accuracy its dual block needs and gap the relative gap already
// certified for this residual (1 if none), which sets only where the
// barrier starts. It leaves the step in md.delta and returns the certified
// bound of its dual block (certWork.bound), the predicted decrease s1 − t
// and whether it succeeded.
func (md *model) solveBase(w *certWork, k int, s1, rho, target, gap float64) (lower, pred float64, ok bool) {
	md.k = k
	m, n2 := md.m, 2*k
	nv := m + 1
	md.pack()
	for i := range md.zv {
		md.zv[i] = 0
	}
	// The start t₀ = (1 + f)σ₁ and the first barrier parameter
	// μ₀ = f σ₁/2k scale with the gap f the caller knows (at most 0.1, at
	// least twice the target, so that one stage remains): the model's
	// minimum lies within about that gap below σ₁, so the central path at
	// μ₀ passes near t₀, and a nearly converged solve skips the stages
	// whose duality gap n·μ is far above it.
	f := math.Min(0.1, math.Max(gap, 2*target))
	md.zv[m] = (1+f)*s1 + 0.1*f
	if !md.build(md.zv) {
		return 0, 0, false
	}
	rho2 := rho * rho
	phi := func(z []float64, mu float64) (float64, bool) {
		var dd float64
		for _, v := range z[:m] {
			dd += v * v
		}
		s := rho2 - dd
		if !(s > 0) || !md.build(z) {
			return 0, false
		}
		return z[m]/mu - md.ldet - math.Log(s), true
	}
	mu := f * s1 / float64(n2)
	// The dual block need be accurate only well below the target gap.
	muStop := 0.05 * target * s1 / float64(n2)
	cur, _ := phi(md.zv, mu)
	fresh := true // md.l holds the factor of S(md.zv)
	wi := md.wi[:n2*n2]
	for outer := 0; outer < 12; outer++ {
		for it := 0; it < 30; it++ {
			if !fresh && !md.build(md.zv) {
				return 0, 0, false
			}
			md.inverse()
			md.system()
			var dd float64
			for _, v := range md.zv[:m] {
				dd += v * v
			}
			s := rho2 - dd
			var trW, trW2 float64
			for a := 0; a < n2; a++ {
				trW += wi[a*n2+a]
			}
			trW2 = floats.Dot(wi, wi) // tr(W W), W symmetric
			md.gr[m] = 1/mu - trW
			md.hs[m*nv+m] = trW2
			for d := 0; d < m; d++ {
				// −tr(W F_d) and tr(W W F_d) (system).
				md.gr[d] = -md.cd[d] + 2*md.zv[d]/s
				htd := md.td[d]
				md.hs[d*nv+m], md.hs[m*nv+d] = htd, htd
				for e := d; e < m; e++ {
					v := md.hm[d*m+e]
					v += 4 * md.zv[d] * md.zv[e] / (s * s)
					if d == e {
						v += 2 / s
					}
					md.hs[d*nv+e], md.hs[e*nv+d] = v, v
				}
			}
			next, stop, good := newtonStep(md.hl, md.hs, md.dz, md.gr, md.zv, md.zt, nv, trW2, mu, cur, phi)
			if !good {
				return 0, 0, false
			}
			cur = next
			// A step taken ends with phi at the new point, so its factor
			// is in md.l; otherwise the last trial was rejected.
			fresh = !stop
			if stop {
				break
			}
		}
		if mu <= muStop {
			break
		}
		next := math.Max(mu/barrierShrink, muStop/2)
		if v, ok := md.predict(mu, next, phi); ok {
			// The factor of the predicted point is in md.l.
			mu, cur, fresh = next, v, true
		} else {
			mu = next
			cur, fresh = phi(md.zv, mu)
		}
	}
	// Dual block W₁₂ of F⁻¹ at the last centered point.
	if !md.build(md.zv) {
		return 0, 0, false
	}
	md.inverse()
	for a := 0; a < k; a++ {
		for b := 0; b < k; b++ {
			md.w12[a*k+b] = wi[a*n2+k+b]
		}
	}
	lower = w.bound(md.w12[:k*k], k)
	if md.restore() {
		lower = math.Max(lower, w.bound(md.w12[:k*k], k))
	}
	copy(md.delta, md.zv[:m])
	return lower, s1 - md.zv[m], true
}

// The barrier method's path following (solveBase): each stage divides μ by
// barrierShrink and centres until half the squared Newton decrement is at
// most centerTol, a point within the region of quadratic convergence
// (Boyd & Vandenberghe, §9.6.4, λ <= 0.32). Centring more finely does not
// tighten the certificate, which bound computes exactly from whatever dual
// block the last point gives (the steps these settings save are measured in
// docs/BENCHMARKS.md, "Certification", sixth session).
const (
	barrierShrink = 20
	centerTol     = 5e-2
)

// predict moves md.zv, centred for the barrier parameter mu (md.hs its
// Hessian there), along the central path's tangent towards its point for
// next < mu: the centre z(μ) satisfies ∇f(z, μ) = 0 for
// f = t/μ + barrier, so H ż = e_t/μ² and z(next) ≈ z + (next − μ) ż, the
// first Newton step of the next stage without its overshoot (the Newton
// step for next from z is μ/next times longer along the same direction).
// The step is halved until the point is strictly feasible; predict
// returns phi there at next, or ok false, md.zv left where it was, if no
// step is.
func (md *model) predict(mu, next float64, phi func([]float64, float64) (float64, bool)) (v float64, ok bool) {
	nv := md.m + 1
	gr := md.gr[:nv]
	clear(gr)
	gr[md.m] = (mu - next) / (mu * mu)
	// cholSolve solves H dz = −gr.
	if !cholSolve(md.hl, md.hs, md.dz, gr, nv, 0) {
		return 0, false
	}
	step := 1.0
	for ls := 0; ls < 30; ls++ {
		for i := 0; i < nv; i++ {
			md.zt[i] = md.zv[i] + step*md.dz[i]
		}
		if v, ok := phi(md.zt, next); ok {
			copy(md.zv, md.zt)
			return v, true
		}
		step /= 2
	}
	return 0, false
}

// pack lays out the blocks G_d side by side, GG = [G_0 | G_1 | …], and
// transposed, GGt = [G_0ᵀ | G_1ᵀ | …] (k × mk each), for system: once per
// solveBase, since the blocks do not change within it.
func (md *model) pack() {
	k, m := md.k, md.m
	mk, kk := m*k, k*k
	gg, ggt := md.gg[:k*mk], md.ggt[:k*mk]
	for d := 0; d < m; d++ {
		g := md.g[d*kk : (d+1)*kk]
		for p := 0; p < k; p++ {
			copy(gg[p*mk+d*k:p*mk+(d+1)*k], g[p*k:(p+1)*k])
			for q := 0; q < k; q++ {
				ggt[q*mk+d*k+p] = g[p*k+q]
			}
		}
	}
}

// system computes the Newton system of the barrier at W = md.wi =
// [[A, B], [Bᵀ, C]] (k×k blocks) from the block structure of
// F_d = −[[0, G_d], [G_dᵀ, 0]], in O(m·k³) by five matrix products instead
// of forming W F_d:
//
//	tr(W F_d)        = −2⟨B, G_d⟩                     (md.cd),
//	tr(W² F_d)       = −2⟨AB + BC, G_d⟩               (md.td),
//	tr(W F_d W F_e)  = 2⟨Z_d, G_e⟩, Z_d = A G_d C + B G_dᵀ B  (md.hm; Z_d in md.zb).
//
// (Expand W F_d = −[[B G_dᵀ, A G_d], [C G_dᵀ, Bᵀ G_d]] and use the cyclic
// invariance of the trace.)
func (md *model) system() {
	k, m := md.k, md.m
	n2, mk, kk := 2*k, m*k, k*k
	wi := md.wi[:n2*n2]
	a, b, c := wi, wi[k:], wi[k*n2+k:]
	gg, ggt := md.gg[:k*mk], md.ggt[:k*mk] // see pack
	// X1 = A·GG, X2 = B·GGt (k × mk), restacked vertically (mk × k) so
	// that Z = X1v·C + X2v·B is two products.
	x1, x2 := md.x1[:k*mk], md.x2[:k*mk]
	gemm.Dgemm(blas.NoTrans, blas.NoTrans, k, mk, k, 1, a, n2, gg, mk, 0, x1, mk)
	gemm.Dgemm(blas.NoTrans, blas.NoTrans, k, mk, k, 1, b, n2, ggt, mk, 0, x2, mk)
	v1, v2 := md.v1[:mk*k], md.v2[:mk*k]
	for d := 0; d < m; d++ {
		for p := 0; p < k; p++ {
			copy(v1[(d*k+p)*k:(d*k+p+1)*k], x1[p*mk+d*k:p*mk+(d+1)*k])
			copy(v2[(d*k+p)*k:(d*k+p+1)*k], x2[p*mk+d*k:p*mk+(d+1)*k])
		}
	}
	zb := md.zb[:mk*k]
	gemm.Dgemm(blas.NoTrans, blas.NoTrans, mk, k, k, 1, v1, k, c, n2, 0, zb, k)
	gemm.Dgemm(blas.NoTrans, blas.NoTrans, mk, k, k, 1, v2, k, b, n2, 1, zb, k)
	gemm.Dgemm(blas.NoTrans, blas.Trans, m, m, kk, 2, zb, kk, md.g[:m*kk], kk, 0, md.hm[:m*m], m)
	// E = A B + B C (k×k) for tr(W² F_d).
	eb := md.eb[:kk]
	gemm.Dgemm(blas.NoTrans, blas.NoTrans, k, k, k, 1, a, n2, b, n2, 0, eb, k)
	gemm.Dgemm(blas.NoTrans, blas.NoTrans, k, k, k, 1, b, n2, c, n2, 1, eb, k)
	// ⟨B, G_d⟩ and ⟨E, G_d⟩ for every d: the blocks' rows of k² numbers
	// against B (gathered contiguous) and E, by vmath.DotRows rather than
	// scalar dot products, which the latency of their additions bounds.
	bv := md.bv[:kk]
	for p := 0; p < k; p++ {
		copy(bv[p*k:(p+1)*k], b[p*n2:p*n2+k])
	}
	cd, td := md.cd[:m], md.td[:m]
	vmath.DotRows(cd, md.g[:m*kk], kk, bv)
	vmath.DotRows(td, md.g[:m*kk], kk, eb)
	for d := range cd {
		cd[d], td[d] = -2*cd[d], -2*td[d]
	}
}

// restore makes the dual block exactly feasible to first order: at the
// final barrier point W = F⁻¹ satisfies tr(W F_d) = c_d, which vanishes
// only up to the centering error (large relative to ||W|| when F is nearly
// singular, near the optimum). W' = W + Σ_e y_e W F_e W with
// Σ_e tr(W F_d W F_e) y_e = −c_d has tr(W' F_d) = 0, and the correction
// lies in the range of W, so W' stays positive semidefinite when it is
// small (the dual feasibility step of a primal–dual method). It leaves the
// block W'₁₂ in md.w12 and reports whether the system was solved.
func (md *model) restore() bool {
	k, m := md.k, md.m
	n2, kk := 2*k, k*k
	wi := md.wi[:n2*n2]
	md.system()
	h, l, y := md.hs[:m*m], md.hl[:m*m], md.dz[:m]
	copy(h, md.hm[:m*m])
	if !cholSolve(l, h, y, md.cd[:m], m, 0) {
		return false
	}
	// W'₁₂ = B + Σ_e y_e (W F_e W)₁₂ = B − Σ_e y_e Z_e.
	for p := 0; p < k; p++ {
		copy(md.w12[p*k:(p+1)*k], wi[p*n2+k:p*n2+n2])
	}
	blas64.Gemv(blas.Trans, -1, blas64.General{Rows: m, Cols: kk, Stride: kk, Data: md.zb[:m*kk]},
		blas64.Vector{N: m, Inc: 1, Data: y}, 1, blas64.Vector{N: kk, Inc: 1, Data: md.w12[:kk]})
	return true
}

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func axpy(alpha float64, x, y []float64) {
	for i, v := range x {
		y[i] += alpha * v
	}
}

// nuclearGen returns an upper bound on the nuclear norm of the general j×j
// matrix z: the sum of its singular values computed by gonum's SVD, plus
// their backward-error bound (the computed values are those of z + E with
// ||E||_2 <= c·j·ε·||z||_2, so each moves by at most that). work holds 8j²
// numbers.
func nuclearGen(z []float64, j int, work []float64) float64 {
	if j == 0 {
		return 0
	}
	a := mat.NewDense(j, j, work[:j*j])
	copy(work[:j*j], z[:j*j])
	var svd mat.SVD
	if !svd.Factorize(a, mat.SVDNone) {
		return math.Inf(1)
	}
	vals := svd.Values(work[j*j : j*j+j])
	var nuc float64
	for _, v := range vals {
		nuc += v
	}
	return nuc + float64(j)*float64(16*j)*epsilon*vals[0]
}

// pow2 returns the power of two nearest above v > 0 (scaling by it is
// exact). It overflows for v >= 2^1023; callers scale such inputs first.
func pow2(v float64) float64 {
	_, e := math.Frexp(v)
	return math.Ldexp(1, e)
}

// newtonStep takes one damped Newton step of a barrier model: it solves
// H dz = −g (hs the Hessian, hl its Cholesky workspace, gr the gradient,
// regularised once if H is numerically singular) and backtracks from zv
// along dz (zt as workspace) until phi(·, mu) decreases by the Armijo
// fraction of the Newton decrement. It returns the new value of phi, stop
// when centering is done (half the squared decrement at most centerTol,
// or no step decreases phi), and ok false when the Newton system fails.
func newtonStep(hl, hs, dz, gr, zv, zt []float64, nv int, trW2, mu, cur float64, phi func([]float64, float64) (float64, bool)) (next float64, stop, ok bool) {
	if !cholSolve(hl, hs, dz, gr, nv, 0) &&
		!cholSolve(hl, hs, dz, gr, nv, 1e-12*math.Max(trW2, 1)) {
		return cur, false, false
	}
	var lam2 float64
	for i := 0; i < nv; i++ {
		lam2 -= gr[i] * dz[i]
	}
	if !(lam2 >= 0) {
		return cur, false, false
	}
	if lam2/2 <= centerTol {
		return cur, true, true
	}
	step := 1.0
	moved := false
	for ls := 0; ls < 50; ls++ {
		for i := 0; i < nv; i++ {
			zt[i] = zv[i] + step*dz[i]
		}
		if v, fok := phi(zt, mu); fok && v <= cur-0.1*step*lam2 {
			copy(zv, zt)
			cur = v
			moved = true
			break
		}
		step /= 2
	}
	if !moved {
		return cur, true, true
	}
	return cur, false, true
}
