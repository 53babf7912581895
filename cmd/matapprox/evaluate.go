package main

import (
	"fmt"
	"io"
	"math"
	"sort"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/nn"
	"github.com/matapprox/matapprox/optimal"
	"github.com/matapprox/matapprox/structure"
	"github.com/matapprox/matapprox/train"
)

// methods are the approximations compared, in display order.
var methods = []string{"network", "truncation", "optimal"}

// approximation is one approximation of one input, with its errors.
type approximation struct {
	Generator []float64 `json:"generator"`
	ProbeLoss float64   `json:"probe_loss"` // mean over probes of ||(X−A)y||²/||y||², unscaled
	Frobenius float64   `json:"frobenius"`  // ||X−A||_F
	Spectral  float64   `json:"spectral"`   // ||X−A||_2
	loss      float64   // the trained loss (not in JSON: it is one of the above or a function of one)
}

type result struct {
	Input          []float64                 `json:"input"`
	Approximations map[string]*approximation `json:"approximations"`
}

// evaluator computes the three approximations and their errors.
type evaluator struct {
	cfg      train.Config
	in, out  structure.Band
	model    *nn.Approximator // nil: no network
	ws       *nn.ApproxWorkspace
	probe    *loss.Quadratic
	spec     *loss.Spectral
	trained  loss.Loss
	solver   *optimal.Solver
	lossName string
}

// newEvaluator prepares the losses and the exact solver for the loss cfg
// trains with. The probe-loss metric uses cfg's probes, or 100 Gaussian
// probes when cfg has none.
func newEvaluator(m *nn.Approximator, cfg *train.Config) (*evaluator, error) {
	e := &evaluator{cfg: *cfg, model: m, lossName: cfg.Loss}
	e.in, e.out = cfg.Bands()
	var err error
	if e.trained, _, err = train.BuildLoss(cfg); err != nil {
		return nil, err
	}
	pc := *cfg
	pc.Loss = "probe"
	if pc.Probes == "" {
		pc.Probes, pc.NumProbes = "gaussian", 100
	}
	pl, _, err := train.BuildLoss(&pc)
	if err != nil {
		return nil, err
	}
	e.probe = pl.(*loss.Quadratic)
	if e.spec, err = loss.NewSpectral(e.in, e.out); err != nil {
		return nil, err
	}
	if e.solver, err = optimal.NewSolver(e.trained, nil); err != nil {
		return nil, err
	}
	if m != nil {
		e.ws = m.NewWorkspace(256)
	}
	return e, nil
}

// evaluate returns the results for the first n rows of x.
func (e *evaluator) evaluate(x []float64, n int) ([]result, error) {
	L, Lo := e.in.Len(), e.out.Len()
	opt := make([]float64, n*Lo)
	if err := e.solver.SolveBatch(opt, nil, x[:n*L], n); err != nil {
		return nil, fmt.Errorf("optimum: %w", err)
	}
	var net []float64
	if e.model != nil {
		net = make([]float64, n*Lo)
		for i := 0; i < n; i += e.ws.MaxBatch() {
			k := min(e.ws.MaxBatch(), n-i)
			copy(net[i*Lo:], e.model.Forward(e.ws, x[i*L:(i+k)*L], k))
		}
	}
	res := make([]result, n)
	for i := range res {
		xi := append([]float64(nil), x[i*L:(i+1)*L]...)
		r := result{Input: xi, Approximations: map[string]*approximation{}}
		gens := map[string][]float64{"optimal": opt[i*Lo : (i+1)*Lo]}
		tr := make([]float64, Lo)
		structure.Restrict(tr, xi, e.in, e.out)
		gens["truncation"] = tr
		if net != nil {
			gens["network"] = net[i*Lo : (i+1)*Lo]
		}
		for name, a := range gens {
			r.Approximations[name] = e.measure(xi, a)
		}
		res[i] = r
	}
	return res, nil
}

// measure computes the errors of the approximation a of x.
func (e *evaluator) measure(x, a []float64) *approximation {
	ap := &approximation{Generator: append([]float64(nil), a...)}
	ap.ProbeLoss = e.probe.Eval(nil, x, a, 1)
	r := make([]float64, e.in.Len())
	structure.Embed(r, e.in, a, e.out)
	for j := range r {
		r[j] = x[j] - r[j]
	}
	ap.Frobenius = e.in.Frobenius(r)
	ap.Spectral = e.spec.Norm(nil, r)
	switch e.lossName {
	case "probe":
		ap.loss = ap.ProbeLoss
	case "spectral":
		ap.loss = ap.Spectral
	default:
		ap.loss = e.trained.Eval(nil, x, a, 1)
	}
	return ap
}

// evaluateRun evaluates a trained network on (up to 1000 of) a run's
// validation matrices, or its training matrices when it has none.
func evaluateRun(m *nn.Approximator, cfg *train.Config, trainSet, valSet *data.Set) (*evaluator, []result, summary, error) {
	ev, err := newEvaluator(m, cfg)
	if err != nil {
		return nil, nil, summary{}, err
	}
	set := valSet
	if set.Rows == 0 {
		set = trainSet
	}
	res, err := ev.evaluate(set.X, min(set.Rows, 1000))
	if err != nil {
		return nil, nil, summary{}, err
	}
	return ev, res, summarize(res, cfg.Loss), nil
}

// methodSummary holds the means of a method's errors and its gap to the
// optimum under the trained loss.
type methodSummary struct {
	ProbeLoss float64 `json:"probe_loss"`
	Frobenius float64 `json:"frobenius"`
	Spectral  float64 `json:"spectral"`
	Loss      float64 `json:"loss"`
	// Gap is mean loss / mean optimal loss − 1; GapMean and GapP95 are the
	// mean and 95th percentile of the per-matrix ratios − 1.
	Gap     float64 `json:"gap"`
	GapMean float64 `json:"gap_mean"`
	GapP95  float64 `json:"gap_p95"`
}

type summary struct {
	Count   int                       `json:"count"`
	Loss    string                    `json:"loss"`
	Methods map[string]*methodSummary `json:"methods"`
	gaps    []float64
}

func summarize(res []result, lossName string) summary {
	s := summary{Count: len(res), Loss: lossName, Methods: map[string]*methodSummary{}}
	for _, m := range methods {
		if len(res) == 0 || res[0].Approximations[m] == nil {
			continue
		}
		ms := &methodSummary{}
		var ratios []float64
		var optSum float64
		for _, r := range res {
			a, o := r.Approximations[m], r.Approximations["optimal"]
			ms.ProbeLoss += a.ProbeLoss
			ms.Frobenius += a.Frobenius
			ms.Spectral += a.Spectral
			ms.Loss += a.loss
			optSum += o.loss
			if o.loss > 0 {
				ratios = append(ratios, a.loss/o.loss-1)
			}
		}
		n := float64(len(res))
		ms.ProbeLoss /= n
		ms.Frobenius /= n
		ms.Spectral /= n
		ms.Loss /= n
		ms.Gap = ms.Loss/(optSum/n) - 1
		if optSum == 0 {
			ms.Gap = math.NaN()
		}
		ms.GapMean, ms.GapP95 = meanP95(ratios)
		if m == "network" {
			s.gaps = ratios
		}
		s.Methods[m] = ms
	}
	return s
}

func meanP95(v []float64) (mean, p95 float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	for _, x := range s {
		mean += x
	}
	mean /= float64(len(s))
	idx := int(math.Ceil(0.95*float64(len(s)))) - 1
	return mean, s[max(idx, 0)]
}

func printSummary(w io.Writer, s summary) {
	fmt.Fprintf(w, "evaluation on %d held-out matrices (trained loss: %s; optimal = exact optimum of that loss)\n", s.Count, s.Loss)
	fmt.Fprintf(w, "%-11s %12s %12s %12s %10s %10s %10s\n", "method", "probe_loss", "frobenius", "spectral", "gap", "gap_mean", "gap_p95")
	for _, m := range methods {
		ms := s.Methods[m]
		if ms == nil {
			continue
		}
		fmt.Fprintf(w, "%-11s %12.5g %12.5g %12.5g %9.3f%% %9.3f%% %9.3f%%\n", m, ms.ProbeLoss, ms.Frobenius, ms.Spectral, 100*ms.Gap, 100*ms.GapMean, 100*ms.GapP95)
	}
	fmt.Fprintln(w, "gap = mean loss / mean optimal loss − 1; gap_mean and gap_p95 over the per-matrix ratios")
}
