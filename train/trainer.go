package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/eval"
	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/nn"
	"github.com/matapprox/matapprox/optim"
	"github.com/matapprox/matapprox/optimal"
	"github.com/matapprox/matapprox/structure"
)

var (
	// ErrInterrupted is returned by Run when its context is cancelled; the
	// trainer is then at a batch boundary and can be checkpointed.
	ErrInterrupted = errors.New("training interrupted")
	// ErrDiverged is returned by Run when the loss or the weights stop
	// being finite.
	ErrDiverged = errors.New("training diverged")
)

// Random streams derived from the seed, one per use, so that changing one
// part of a configuration does not shift the random numbers of another.
const (
	streamInit uint64 = iota + 1
	streamData
	streamProbes
	streamVal
	streamShuffle
	streamDirections
)

func newRNG(seed, stream uint64) (*rand.Rand, *rand.PCG) {
	src := rand.NewPCG(seed, 0x9e3779b97f4a7c15*stream)
	return rand.New(src), src
}

// EpochStats describes one finished epoch.
type EpochStats struct {
	Epoch int `json:"epoch"` // 1-based
	// TrainLoss and ValLoss are mean per-sample losses, unscaled.
	TrainLoss float64 `json:"train_loss"`
	ValLoss   float64 `json:"val_loss"`
	// LastBatch is the training objective (reduced and scaled) of the
	// epoch's last batch, what the notebook prints.
	LastBatch float64 `json:"last_batch"`
	LR        float64 `json:"lr"`
	Elapsed   float64 `json:"elapsed_s"` // seconds since the start of training
	// ValGap is the validation optimality gap, mean network loss / mean
	// optimal loss − 1 over the validation rows whose optimum is not zero
	// (eval.Exact), the statistic eval.MethodSummary.Gap reports; NaN
	// without a validation set or during the warm start.
	ValGap    float64 `json:"val_gap"`
	WarmStart bool    `json:"warm_start,omitempty"`
}

// DefaultValFraction is the fraction of a data file's rows every preset
// holds out for validation (val-fraction); 0 trains on all of them and
// evaluates on training rows, and says so.
const DefaultValFraction = 0.1

// Callbacks are called by Run; any may be nil.
type Callbacks struct {
	// Epoch is called after each epoch; an error from it (a checkpoint
	// that could not be written, say) stops Run, which returns it.
	Epoch func(EpochStats) error
	// Batch is called after each batch with the samples done in the epoch.
	Batch func(epoch, done, total int)
	// Improved is called when the validation loss reaches a new best,
	// before Epoch; an error from it stops Run, which returns it.
	Improved func(EpochStats) error
}

// Trainer holds a training run.
type Trainer struct {
	Cfg        Config
	In, Out    structure.Band
	Model      *nn.Approximator
	Loss       loss.Loss
	Objective  loss.Objective
	Train, Val *data.Set
	Probes     []float64 // P×N, nil for non-probe losses

	opt   optim.Optimizer
	sched optim.Schedule
	src   *rand.PCG
	rng   *rand.Rand

	// Position and running sums. loader serves the training rows,
	// warmLoader the warm start's (the same loader when they coincide).
	epoch, pos         int
	loader, warmLoader *data.Loader
	epochLoss          float64
	epochSamples       int
	lastBatch          float64
	elapsed            time.Duration
	initLoss           float64 // per-sample loss of the first batch

	History []EpochStats
	// BestVal and BestEpoch are the lowest validation loss and its epoch,
	// whatever MinDelta is: best/ holds those weights.
	BestVal   float64
	BestEpoch int
	best      []float64
	// Early stopping: stale counts the epochs since the validation loss
	// last improved on ref by more than MinDelta (relative).
	stale   int
	ref     float64
	stopped *EarlyStop

	// Validation gap: the rows out of the exact ones (nil: all), and the
	// mean optimal loss over them (0: not computed yet).
	gapSet  *data.Set
	gapOpt  float64
	gapDone bool
	// The exact optima of every validation row, solved once for the gap
	// and reused by the final evaluation (ValidationOptima).
	valOpt eval.Optima

	// Warm start targets: the optimal generators of the training rows.
	targets []float64

	dataSum string // dataHash, computed once

	progress Progress

	ws       *nn.ApproxWorkspace
	xb, grad []float64
	tb       []float64
}

// Options are the limits a Trainer is built under.
type Options struct {
	// MaxMemory bounds the estimated memory of the run (TrainingEstimate)
	// in bytes; 0 means DefaultMaxMemory().
	MaxMemory int64
	// Progress, when not nil, is told how far the long phases of building
	// the trainer have got: data generation and the warm start's exact
	// optima (see Progress).
	Progress Progress
}

// New builds a Trainer from a valid configuration, under the default
// memory limit.
func New(cfg Config) (*Trainer, error) { return NewWithOptions(cfg, Options{}) }

// NewWithOptions builds a Trainer from a valid configuration. A
// configuration whose estimated memory exceeds the limit is refused with
// ErrTooLarge and the estimate, before anything is allocated.
func NewWithOptions(cfg Config, opt Options) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	limit := opt.MaxMemory
	if limit <= 0 {
		limit = DefaultMaxMemory()
	}
	if err := TrainingEstimate(&cfg).Check(limit, "this configuration", "-max-memory"); err != nil {
		return nil, err
	}
	t := &Trainer{Cfg: cfg, BestVal: math.Inf(1), ref: math.Inf(1), progress: opt.Progress}
	t.In, t.Out = cfg.Bands()
	var err error
	if err = t.loadData(); err != nil {
		return nil, err
	}
	if t.Loss, t.Probes, err = BuildLoss(&cfg); err != nil {
		return nil, err
	}
	red, _ := cfg.Reduce()
	t.Objective = loss.Objective{Loss: t.Loss, Reduction: red, Scale: cfg.LossScale}
	if cfg.SpectralSmoothing > 0 {
		if t.Objective.Loss, err = loss.NewSmoothSpectral(t.In, t.Out, cfg.SpectralSmoothing); err != nil {
			return nil, err
		}
	}
	if t.Model, err = NewModel(&cfg, t.Train); err != nil {
		return nil, err
	}
	if q, ok := t.Objective.Loss.(*loss.Quadratic); ok && t.Model.Net.Precision() == nn.Float32 {
		// A float32 model's training loss in float32 (t.Loss, which
		// evaluation and the exact optima use, stays float64).
		t.Objective.Loss = q.Float32()
	}
	if cfg.OnSphere() && cfg.SphereFraction > 0 {
		r, _ := newRNG(cfg.Seed, streamDirections)
		t.Train = data.CoverSphere(t.Train, t.In, t.Out, cfg.SphereFraction, r)
	}
	oc, err := cfg.OptimizerConfig()
	if err != nil {
		return nil, err
	}
	newOpt := optim.New
	if t.Model.Net.Precision() == nn.Float32 {
		// A float32 model trains with a float32 optimizer, as in
		// PyTorch (optim.New32; SGD and AMSGrad stay float64).
		newOpt = optim.New32
	}
	if t.opt, err = newOpt(oc, len(t.Model.Params())); err != nil {
		return nil, err
	}
	if t.sched, err = cfg.LRSchedule(); err != nil {
		return nil, err
	}
	t.dataSum = t.computeDataHash() // now, in setup, not at the first checkpoint
	t.rng, t.src = newRNG(cfg.Seed, streamShuffle)
	bs := min(cfg.BatchSize, t.Train.Rows)
	if t.loader, err = data.NewLoader(t.Train, bs, false); err != nil {
		return nil, fmt.Errorf("training data: %w", err)
	}
	t.warmLoader = t.loader
	if w := t.warmSet(); w != t.Train {
		if t.warmLoader, err = data.NewLoader(w, min(bs, w.Rows), false); err != nil {
			return nil, fmt.Errorf("warm-start data: %w", err)
		}
	}
	t.ref = math.Inf(1)
	t.ws = t.Model.NewWorkspace(max(bs, 256))
	t.xb = make([]float64, bs*t.In.Len())
	t.grad = make([]float64, max(bs, 256)*t.Out.Len())
	if cfg.WarmStart > 0 {
		if t.targets, err = t.optimalTargets(t.warmSet()); err != nil {
			return nil, err
		}
		t.tb = make([]float64, bs*t.Out.Len())
	}
	return t, nil
}

// NewModel returns the untrained approximator of a validated configuration:
// the plain network (architecture mlp, standardised on trainSet if asked) or
// the sphere or symbol approximator with its symmetry, initialised from
// the seed.
func NewModel(cfg *Config, trainSet *data.Set) (*nn.Approximator, error) {
	in, out := cfg.Bands()
	initRNG, _ := newRNG(cfg.Seed, streamInit)
	var a *nn.Approximator
	if cfg.OnSphere() {
		act, err := nn.ParseActivation(cfg.Activation)
		if err != nil {
			return nil, err
		}
		sym, err := cfg.ModelSymmetry()
		if err != nil {
			return nil, err
		}
		newArch := nn.NewSphere
		if cfg.Architecture == string(nn.KindSymbol) {
			newArch = nn.NewSymbol
		}
		if a, err = newArch(in, out, cfg.Hidden, act, sym, initRNG); err != nil {
			return nil, err
		}
	} else {
		ncfg, err := cfg.NetworkConfig()
		if err != nil {
			return nil, err
		}
		m, err := nn.New(ncfg, initRNG)
		if err != nil {
			return nil, err
		}
		if cfg.Standardize {
			m.Standardize(trainSet.X, trainSet.Rows)
		}
		a = nn.FromMLP(m)
	}
	if prec, err := cfg.NetworkPrecision(); err != nil || a.Net.SetPrecision(prec) != nil {
		return nil, fmt.Errorf("precision %q: %w", cfg.Precision, ErrConfig)
	}
	a.Meta = nn.Meta{In: &in, Out: &out, Extra: map[string]string{"loss": cfg.Loss}}
	return a, nil
}

func (t *Trainer) loadData() (err error) {
	t.Train, t.Val, err = datasets(&t.Cfg, t.progress)
	return err
}

// Datasets returns a configuration's training and validation sets: drawn
// from its generator with the seed, or read from its data file and split.
func Datasets(cfg *Config) (trainSet, valSet *data.Set, err error) { return datasets(cfg, nil) }

func datasets(cfg *Config, p Progress) (trainSet, valSet *data.Set, err error) {
	in, _ := cfg.Bands()
	if o, ok := generators.Lookup(cfg.Data); ok {
		g, err := o.Value(in)
		if err != nil {
			return nil, nil, fmt.Errorf("data: %w", err)
		}
		r, _ := newRNG(cfg.Seed, streamData)
		trainSet = generate(g, in, cfg.TrainSize, r, p, "training data")
		r, _ = newRNG(cfg.Seed, streamVal)
		return trainSet, generate(g, in, cfg.ValSize, r, p, "validation data"), nil
	}
	set, err := data.ReadFile(cfg.Data)
	if err != nil {
		return nil, nil, fmt.Errorf("data: %w", err)
	}
	if err := set.Validate(in); err != nil {
		return nil, nil, fmt.Errorf("data file %s: %w", cfg.Data, err)
	}
	if cfg.ValFraction == 0 {
		return set, &data.Set{Dim: set.Dim}, nil
	}
	r, _ := newRNG(cfg.Seed, streamVal)
	if trainSet, valSet, err = set.Split(cfg.ValFraction, r); err != nil {
		return nil, nil, fmt.Errorf("data file %s: %w", cfg.Data, err)
	}
	return trainSet, valSet, nil
}

// BuildLoss returns the loss a configuration trains with and, for the
// probe loss, its probes (P×N).
func BuildLoss(cfg *Config) (loss.Loss, []float64, error) {
	o, ok := losses.Lookup(cfg.Loss)
	if !ok {
		return nil, nil, cfg.choiceError("loss", cfg.Loss)
	}
	return o.Value(cfg)
}

// Probes returns the configuration's probe vectors (P×N, row-major): drawn
// from its distribution with the seed, or read from its file.
func Probes(cfg *Config) ([]float64, error) {
	if o, ok := probeDistributions.Lookup(cfg.Probes); ok {
		r, _ := newRNG(cfg.Seed, streamProbes)
		return o.Value(r, cfg.NumProbes, cfg.N), nil
	}
	set, err := data.ReadFile(cfg.Probes)
	if err != nil {
		return nil, fmt.Errorf("probes: %w", err)
	}
	if set.Dim != cfg.N {
		return nil, fmt.Errorf("probes file %s: rows have %d entries, want N = %d (one probe vector per row): %w", cfg.Probes, set.Dim, cfg.N, ErrConfig)
	}
	if set.Rows == 0 {
		return nil, fmt.Errorf("probes file %s has no rows: %w", cfg.Probes, ErrConfig)
	}
	return set.X, nil
}

// warmSet returns the training rows of the warm start: the first
// Cfg.WarmStartSize rows, or all when it is 0 or larger.
func (t *Trainer) warmSet() *data.Set {
	n := t.Cfg.WarmStartSize
	if n <= 0 || n >= t.Train.Rows {
		return t.Train
	}
	return &data.Set{X: t.Train.X[:n*t.Train.Dim], Rows: n, Dim: t.Train.Dim}
}

// optimalTargets returns the exact optimum of the configured loss for every
// row of s, in row order; for the spectral loss the rows are solved in
// parallel on GOMAXPROCS goroutines (see optimal.Solver), with results
// that do not depend on the number of goroutines.
func (t *Trainer) optimalTargets(s *data.Set) ([]float64, error) {
	return chunkedTargets(t.Loss, s, t.progress)
}

// Epoch returns the number of finished epochs.
func (t *Trainer) Epoch() int { return t.epoch }

// Optimizer returns the optimizer.
func (t *Trainer) Optimizer() optim.Optimizer { return t.opt }

// EarlyStop records why and when early stopping ended a run.
type EarlyStop struct {
	// Epoch is the last epoch run (1-based).
	Epoch int `json:"epoch"`
	// Patience and MinDelta are the configured criterion: Patience epochs
	// in a row without a relative improvement larger than MinDelta.
	Patience int     `json:"patience"`
	MinDelta float64 `json:"min_delta"`
	// BestEpoch and BestVal are the best validation epoch and loss, the
	// weights of best/.
	BestEpoch int     `json:"best_epoch"`
	BestVal   float64 `json:"best_val_loss"`
}

// String says in one line why and when training stopped.
func (e EarlyStop) String() string {
	delta := ""
	if e.MinDelta > 0 {
		delta = fmt.Sprintf(" by more than %g (relative)", e.MinDelta)
	}
	return fmt.Sprintf("early stopping after epoch %d: the validation loss did not improve%s for %d epochs; best epoch %d (validation loss %.5g)",
		e.Epoch, delta, e.Patience, e.BestEpoch, e.BestVal)
}

// step computes the gradient of the batch whose loss gradient is g (after
// the matching Forward with t.ws), clips it and performs the optimizer
// step. In float32 mode with a float32 optimizer (optim.Stepper32) the
// gradient is float32 (nn.Approximator.Gradient32) and the optimizer
// updates the network's float32 weights, which the next Forward with t.ws
// then uses as they are, and writes Params as their widening; with an
// optimizer that can round (optim.Rounder32) the float64 step writes the
// float32 weights in the same pass.
func (t *Trainer) step(g []float64) {
	if s, ok := t.opt.(optim.Stepper32); ok && t.Model.Net.Precision() == nn.Float32 {
		g32 := t.Model.Gradient32(t.ws, g)
		if t.Cfg.ClipNorm > 0 {
			optim.ClipGlobalNorm32(g32, t.Cfg.ClipNorm)
		}
		off, dst := t.Model.Params32(t.ws)
		s.Step32(t.Model.Params(), g32, off, dst)
		t.Model.SetParams32Current(t.ws, true)
		return
	}
	t.Model.Gradient(t.ws, g)
	if t.Cfg.ClipNorm > 0 {
		optim.ClipGlobalNorm(t.Model.Grads(), t.Cfg.ClipNorm)
	}
	if r, ok := t.opt.(optim.Rounder32); ok {
		if off, dst := t.Model.Params32(t.ws); dst != nil {
			r.StepRound32(t.Model.Params(), t.Model.Grads(), off, dst)
			t.Model.SetParams32Current(t.ws, true)
			return
		}
	}
	t.opt.Step(t.Model.Params(), t.Model.Grads())
}

// Stopped returns the early-stopping record, or nil if early stopping has
// not ended the run.
func (t *Trainer) Stopped() *EarlyStop { return t.stopped }

// Run trains until Cfg.Epochs epochs are done, early stopping triggers
// (Stopped then says why), the context is cancelled (ErrInterrupted, at a
// batch boundary) or the loss stops being finite (ErrDiverged, weights of
// the last finite step kept).
func (t *Trainer) Run(ctx context.Context, cb Callbacks) error {
	start := time.Now()
	base := t.elapsed
	defer func() { t.elapsed = base + time.Since(start) }()
	Lo := t.Out.Len()
	// The parameters may have changed since the last step (a restored
	// checkpoint): round them again.
	t.Model.SetParams32Current(t.ws, false)
	for t.epoch < t.Cfg.Epochs {
		if t.Cfg.Patience > 0 && t.stale >= t.Cfg.Patience {
			t.stopped = &EarlyStop{Epoch: t.epoch, Patience: t.Cfg.Patience, MinDelta: t.Cfg.MinDelta, BestEpoch: t.BestEpoch, BestVal: t.BestVal}
			break
		}
		// Interrupt before drawing the next permutation, so that a
		// checkpoint at pos == 0 always means "shuffle next".
		if t.pos == 0 && ctx.Err() != nil {
			return ErrInterrupted
		}
		warm := t.epoch < t.Cfg.WarmStart
		ld := t.loader
		if warm {
			ld = t.warmLoader
		}
		nTrain := t.Train.Rows
		if warm {
			nTrain = t.warmSet().Rows
		}
		if t.pos == 0 {
			ld.Reset(t.rng)
			t.epochLoss, t.epochSamples = 0, 0
			if t.epoch == t.Cfg.WarmStart && t.epoch > 0 {
				// The divergence check compares with the first batch of
				// the loss itself, not of the supervised warm start,
				// whose units differ.
				t.initLoss = 0
			}
		}
		lr := t.sched.LR(t.epoch)
		t.opt.SetLR(lr)
		if sm, ok := t.Objective.Loss.(*loss.SmoothSpectral); ok {
			sm.SetRelative(t.Cfg.SpectralSmoothing * lr / t.Cfg.LR) // sharpens with the schedule
		}
		bs := ld.BatchSize()
		for {
			// At least one batch follows a shuffle (see above).
			if t.pos > 0 && ctx.Err() != nil {
				return ErrInterrupted
			}
			n, ok := ld.Next(t.xb)
			if !ok {
				break
			}
			xb := t.xb[:n*t.In.Len()]
			if warm {
				for i, r := range ld.Indices() {
					copy(t.tb[i*Lo:(i+1)*Lo], t.targets[r*Lo:(r+1)*Lo])
				}
			}
			a := t.Model.Forward(t.ws, xb, n)
			g := t.grad[:n*Lo]
			var v, raw float64
			if warm {
				v = supervised(g, a, t.tb[:n*Lo], n)
				raw = v * float64(n)
			} else {
				v = t.Objective.Eval(g, xb, a, n)
				raw = v / t.Objective.Factor(n)
			}
			perSample := raw / float64(n)
			if t.initLoss == 0 {
				t.initLoss = perSample
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("%w: the training loss became %v at epoch %d, batch %d (learning rate %g); lower the learning rate, set clip-norm (for example 1), or check the data for extreme values", ErrDiverged, v, t.epoch+1, t.pos/bs+1, lr)
			}
			if div := t.divergence(); div > 0 && perSample > div*t.initLoss {
				return fmt.Errorf("%w: the training loss grew to %.3g per sample at epoch %d, batch %d, more than %.0g times its initial %.3g (learning rate %g); lower the learning rate or set clip-norm (for example 1); if the data hold rows much larger than others, raise divergence or set it to -1 to turn this check off", ErrDiverged, perSample, t.epoch+1, t.pos/bs+1, div, t.initLoss, lr)
			}
			t.step(g)
			t.epochLoss += raw
			t.epochSamples += n
			t.lastBatch = v
			t.pos = ld.Pos()
			if cb.Batch != nil {
				cb.Batch(t.epoch+1, t.pos, nTrain)
			}
		}
		if err := t.Model.Check(); err != nil {
			return fmt.Errorf("%w: after epoch %d: %v; lower the learning rate (now %g) or set clip-norm", ErrDiverged, t.epoch+1, err, lr)
		}
		t.pos = 0
		t.epoch++
		st := EpochStats{
			Epoch:     t.epoch,
			TrainLoss: t.epochLoss / float64(max(t.epochSamples, 1)),
			ValLoss:   t.ValLoss(),
			ValGap:    math.NaN(),
			LastBatch: t.lastBatch,
			LR:        lr,
			Elapsed:   (base + time.Since(start)).Seconds(),
			WarmStart: warm,
		}
		if warm {
			st.TrainLoss = math.NaN() // not the configured loss
		}
		if math.IsNaN(st.ValLoss) && t.Val.Rows > 0 || math.IsInf(st.ValLoss, 0) {
			return fmt.Errorf("%w: the validation loss became %v after epoch %d; lower the learning rate (now %g) or set clip-norm", ErrDiverged, st.ValLoss, t.epoch, lr)
		}
		if !warm && t.Val.Rows > 0 {
			g, err := t.valGap(st.ValLoss)
			if err != nil {
				return err
			}
			st.ValGap = g
		}
		st.Elapsed = (base + time.Since(start)).Seconds()
		t.History = append(t.History, st)
		if err := t.track(st, warm, cb); err != nil {
			return err
		}
		if cb.Epoch != nil {
			if err := cb.Epoch(st); err != nil {
				return err
			}
		}
	}
	if t.Cfg.Patience > 0 && t.stale >= t.Cfg.Patience && t.stopped == nil && t.epoch < t.Cfg.Epochs {
		t.stopped = &EarlyStop{Epoch: t.epoch, Patience: t.Cfg.Patience, MinDelta: t.Cfg.MinDelta, BestEpoch: t.BestEpoch, BestVal: t.BestVal}
	}
	return nil
}

// divergence returns the configured divergence factor (<= 0: no check).
func (t *Trainer) divergence() float64 {
	if t.Cfg.Divergence == 0 {
		return DefaultDivergence
	}
	return t.Cfg.Divergence
}

// valGap returns the validation gap for a validation loss val: it solves
// the validation optima once, on the first call.
func (t *Trainer) valGap(val float64) (float64, error) {
	if !t.gapDone {
		sol, err := optimal.NewSolver(t.Loss, nil)
		if err != nil {
			return math.NaN(), fmt.Errorf("validation gap: %w", err)
		}
		L, Lo := t.In.Len(), t.Out.Len()
		rows := t.Val.Rows
		dst := make([]float64, rows*Lo)
		res := make([]optimal.Result, rows)
		if err := sol.SolveBatch(dst, res, t.Val.X, rows); err != nil {
			return math.NaN(), fmt.Errorf("validation gap: %w", err)
		}
		t.valOpt = eval.Optima{A: dst, Results: res}
		zero := make([]float64, Lo)
		var keep []int
		var opt float64
		for i := 0; i < rows; i++ {
			z := t.Loss.Eval(nil, t.Val.X[i*L:(i+1)*L], zero, 1)
			if !eval.Exact(t.Loss, res[i].Value, z, 0) {
				keep = append(keep, i)
				opt += res[i].Value
			}
		}
		if len(keep) < rows {
			t.gapSet = &data.Set{Dim: L, Rows: len(keep), X: make([]float64, len(keep)*L)}
			for j, i := range keep {
				copy(t.gapSet.Row(j), t.Val.Row(i))
			}
		}
		if len(keep) > 0 {
			t.gapOpt = opt / float64(len(keep))
		}
		t.gapDone = true
	}
	if t.gapOpt <= 0 {
		return math.NaN(), nil
	}
	if t.gapSet != nil {
		val = MeanLoss(t.Model, t.ws, t.Loss, t.gapSet)
	}
	return val/t.gapOpt - 1, nil
}

// ValidationOptima returns the exact optima of the loss for the
// validation rows, as solved (once) for the validation gap: what
// optimal.NewSolver(t.Loss, nil) gives, which an Evaluator built by
// NewEvaluator also uses. It is the zero Optima before the first validated
// epoch of this process (a resumed run solves them again).
func (t *Trainer) ValidationOptima() eval.Optima { return t.valOpt }

// track updates the best validation loss (any decrease) and the
// early-stopping counter (decreases by more than MinDelta, relative).
func (t *Trainer) track(st EpochStats, warm bool, cb Callbacks) error {
	if t.Val.Rows == 0 || warm {
		return nil
	}
	if st.ValLoss < t.ref*(1-t.Cfg.MinDelta) {
		t.ref, t.stale = st.ValLoss, 0
	} else {
		t.stale++
	}
	if st.ValLoss < t.BestVal {
		t.BestVal, t.BestEpoch = st.ValLoss, st.Epoch
		t.best = append(t.best[:0], t.Model.Params()...)
		if cb.Improved != nil {
			return cb.Improved(st)
		}
	}
	return nil
}

// BestParams returns the weights with the lowest validation loss (nil
// before the first validated epoch).
func (t *Trainer) BestParams() []float64 { return t.best }

// supervised is the mean over the batch of ||a − target||², with its
// gradient.
func supervised(grad, a, target []float64, n int) float64 {
	var s float64
	for i := range a {
		d := a[i] - target[i]
		s += d * d
		grad[i] = 2 * d / float64(n)
	}
	return s / float64(n)
}

// ValLoss returns the mean per-sample loss on the validation set (NaN when
// there is none).
func (t *Trainer) ValLoss() float64 {
	if t.Val.Rows == 0 {
		return math.NaN()
	}
	return MeanLoss(t.Model, t.ws, t.Loss, t.Val)
}

// MeanLoss returns the mean per-sample loss of the network on a set, in
// chunks of the workspace's batch size.
func MeanLoss(m *nn.Approximator, ws *nn.ApproxWorkspace, l loss.Loss, s *data.Set) float64 {
	in, _ := l.Bands()
	L := in.Len()
	var sum float64
	for i := 0; i < s.Rows; i += ws.MaxBatch() {
		n := min(ws.MaxBatch(), s.Rows-i)
		x := s.X[i*L : (i+n)*L]
		sum += l.Eval(nil, x, m.Forward(ws, x, n), n)
	}
	return sum / float64(s.Rows)
}

var nan = math.NaN()
