package train

import (
	"fmt"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/eval"
	"github.com/matapprox/matapprox/loss"
)

// MetricProbeCount is the number of Gaussian probes of the probe_loss
// metric of runs whose loss has no probes (see EvalOptions).
const MetricProbeCount = 100

// EvalRows is the largest number of rows a run is evaluated on at its end.
const EvalRows = 1000

// EvalOptions returns the evaluation options of a run trained with loss l
// (built by BuildLoss or New from cfg): for a probe loss, probe_loss is the
// trained loss itself, with its probes named; otherwise it is measured with
// MetricProbeCount Gaussian probes drawn from cfg.Seed, and says so.
func EvalOptions(cfg *Config, l loss.Loss) (*eval.Options, error) {
	if q, ok := l.(*loss.Quadratic); ok && l.Name() == "probe" {
		return &eval.Options{Probe: q, Probes: ProbesDescription(cfg) + " (the training loss)"}, nil
	}
	in, out := l.Bands()
	q, desc, err := eval.GaussianProbeMetric(in, out, MetricProbeCount, cfg.Seed)
	if err != nil {
		return nil, err
	}
	return &eval.Options{Probe: q, Probes: desc}, nil
}

// ProbesDescription says in words which probes a probe-loss configuration
// uses, for example "100 notebook probes (seed 1)" or "the 20 probes in
// p.csv".
func ProbesDescription(cfg *Config) string {
	if isDistribution(cfg.Probes) {
		return fmt.Sprintf("%d %s probes (seed %d)", cfg.NumProbes, cfg.Probes, cfg.Seed)
	}
	return "the probes in " + cfg.Probes
}

// NewEvaluator returns the evaluator of model m trained with loss l under
// cfg (see EvalOptions); a nil m evaluates truncation and the optimum only.
func NewEvaluator(m eval.Model, l loss.Loss, cfg *Config) (*eval.Evaluator, error) {
	opts, err := EvalOptions(cfg, l)
	if err != nil {
		return nil, err
	}
	return eval.New(m, l, opts)
}

// Evaluator returns the evaluator of the trainer's network under its loss.
func (t *Trainer) Evaluator() (*eval.Evaluator, error) {
	return NewEvaluator(eval.NetworkModel(t.Model, 0), t.Loss, &t.Cfg)
}

// EvalSource returns the rows a run is evaluated on: the first EvalRows of
// its validation set, or, for a run without one, of its training set,
// named as such.
func EvalSource(trainSet, valSet *data.Set) eval.Source {
	return evalSource(trainSet, valSet, eval.Optima{})
}

// EvalSource returns the rows the trainer's run is evaluated on (see the
// function EvalSource) with the validation optima the trainer has solved
// for its validation gap (ValidationOptima), so that an Evaluator from
// NewEvaluator does not solve them again; the evaluation is the same.
func (t *Trainer) EvalSource() eval.Source {
	return evalSource(t.Train, t.Val, t.valOpt)
}

// evalSource is EvalSource with the optima of valSet's rows when known.
func evalSource(trainSet, valSet *data.Set, known eval.Optima) eval.Source {
	set, origin := valSet, eval.Validation
	if set == nil || set.Rows == 0 {
		set, origin = trainSet, eval.Training
	}
	total := set.Rows
	n := min(set.Rows, EvalRows)
	sub := &data.Set{Dim: set.Dim, Rows: n, X: set.X[:n*set.Dim]}
	what := "held-out validation matrices"
	if origin == eval.Training {
		what = "training matrices (the run has no validation set: this measures fit, not generalisation)"
	}
	desc := fmt.Sprintf("%d %s", n, what)
	if n < total {
		desc = fmt.Sprintf("the first %d of %d %s", n, total, what)
	}
	if origin == eval.Validation && len(known.Results) == total && total > 0 {
		lo := len(known.A) / total
		return eval.FromSolvedSet(sub, eval.Optima{A: known.A[:n*lo], Results: known.Results[:n]}, origin, desc)
	}
	return eval.FromSet(sub, origin, desc)
}
