package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/eval"
	"github.com/matapprox/matapprox/internal/atomicfile"
	"github.com/matapprox/matapprox/internal/progress"
	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/nn"
	"github.com/matapprox/matapprox/optimal"
	"github.com/matapprox/matapprox/report"
	"github.com/matapprox/matapprox/train"
)

// notebookTest is the notebook's test matrix.
var notebookTest = []float64{0, 0, 0, 1, 2, 4, 2, 1, 0, 0, 0}

func runReport(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", "report -model DIR [-out FILE.html]", stderr)
	modelPath := fs.String("model", "", "run directory written by matapprox train (required)")
	out := fs.String("out", "", "HTML file to write (default DIR/report.html)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *modelPath == "" {
		return usagef("-model is required: a run directory written by matapprox train")
	}
	lm, err := loadModel(*modelPath, 0, "", "")
	if err != nil {
		return err
	}
	if lm.dir == "" {
		return usagef("-model %s: report needs a run directory (its metrics and configuration), not a bare model file", *modelPath)
	}
	path := *out
	if path == "" {
		path = filepath.Join(lm.dir, "report.html")
	} else if err := checkReportPath(path, lm.dir); err != nil {
		return err
	}
	if err := train.CheckInputs(lm.dir, "data", "probes"); err != nil {
		return err
	}
	sig := catchInterrupts(stderr, "no report was written")
	defer sig.stop()
	hist, err := train.ReadMetrics(filepath.Join(lm.dir, train.MetricsFile))
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	trainSet, valSet, err := train.Datasets(&lm.cfg) // the run's data, regenerated from its seed
	if err != nil {
		return err
	}
	l, _, err := train.BuildLoss(&lm.cfg)
	if err != nil {
		return err
	}
	re, err := evaluateRun(lm.model, l, &lm.cfg, trainSet, valSet, train.EvalSource(trainSet, valSet), nil)
	if err != nil {
		return err
	}
	if err := report.WriteFile(path, reportData(&lm.cfg, hist, re)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", path)
	return nil
}

// runEvaluation is the final evaluation of a run, with the rows the report
// shows.
type runEvaluation struct {
	ev    *eval.Evaluator
	sum   eval.Summary
	gaps  []float64   // the network's per-row gaps (ratio rows)
	cert  []float64   // the certified gaps of the network's answers (spectral loss)
	first []*eval.Row // the first rows, as random examples
	worst eval.Worst  // the rows with the largest network gap
}

// evaluateRun evaluates network m, trained with loss l under cfg, on src:
// the run's validation matrices (or training matrices when it has none),
// from train.EvalSource or, after training, Trainer.EvalSource (which
// reuses the trainer's validation optima).
func evaluateRun(m *nn.Approximator, l loss.Loss, cfg *train.Config, trainSet, valSet *data.Set, src eval.Source, rep *progress.Reporter) (*runEvaluation, error) {
	ev, err := train.NewEvaluator(eval.NetworkModel(m, 0), l, cfg)
	if err != nil {
		return nil, err
	}
	re := &runEvaluation{ev: ev, worst: eval.Worst{K: 3}}
	// The report draws the certified gaps of the network's own answers
	// (no polishing) for the spectral loss; for the quadratic losses they
	// equal the gaps above.
	var cf *optimal.Certifier
	if _, ok := l.(*loss.Spectral); ok {
		if cf, err = optimal.NewCertifier(l, &optimal.CertifyOptions{PolishSteps: -1}); err != nil {
			return nil, err
		}
	}
	ph := rep.Start("evaluation", evalRows(trainSet, valSet), "matrices")
	defer ph.Finish()
	re.sum, err = ev.Run(src, func(r *eval.Row) error {
		ph.Add(1)
		if !r.Exact {
			if a := r.Method(eval.Network); a != nil {
				re.gaps = append(re.gaps, a.Gap)
			}
		}
		if cf != nil && r.Method(eval.Network) != nil {
			c, err := eval.CertifyRow(cf, r, nil)
			if err != nil {
				return err
			}
			re.cert = append(re.cert, c.Gap())
		}
		if len(re.first) < 3 {
			re.first = append(re.first, r.Clone())
		}
		re.worst.Add(r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return re, nil
}

// writeReport writes DIR/report.html for a finished run.
func writeReport(dir string, cfg *train.Config, hist []train.EpochStats, re *runEvaluation) error {
	return report.WriteFile(filepath.Join(dir, "report.html"), reportData(cfg, hist, re))
}

func reportData(cfg *train.Config, hist []train.EpochStats, re *runEvaluation) report.Data {
	sum := &re.sum
	d := report.Data{
		Title:     fmt.Sprintf("matapprox: %d×%d, half-bandwidth %d → %d, %s loss", cfg.N, cfg.N, cfg.InBand, cfg.OutBand, cfg.Loss),
		Generated: time.Now(),
		Loss:      cfg.Loss, N: cfg.N, InBand: cfg.InBand, OutBand: cfg.OutBand,
		OptimalVal:    math.NaN(),
		Gaps:          re.gaps,
		CertifiedGaps: re.cert,
	}
	cv := reflect.ValueOf(*cfg)
	for i, k := range train.Keys() {
		v := fmt.Sprint(cv.Field(i).Interface())
		if h, ok := cv.Field(i).Interface().([]int); ok {
			v = strings.Trim(strings.Join(strings.Fields(fmt.Sprint(h)), ", "), "[]")
		}
		d.Config = append(d.Config, report.Field{Name: k, Value: v})
	}
	for _, h := range hist {
		d.Epochs = append(d.Epochs, report.Epoch{Epoch: h.Epoch, Train: h.TrainLoss, Val: h.ValLoss, ValGap: h.ValGap, LR: h.LR, Elapsed: h.Elapsed})
	}
	if o := sum.Method(eval.Optimal); o != nil {
		d.OptimalVal = o.Loss
	}
	d.Summary = sum
	example := func(name string, r *eval.Row) report.Example {
		ex := report.Example{Name: name, X: r.X, Optimal: r.Method(eval.Optimal).A, Truncation: r.Method(eval.Truncation).A}
		if a := r.Method(eval.Network); a != nil {
			ex.Network = a.A
			ex.Note = fmt.Sprintf("Network gap (%s loss / optimal loss − 1): %s.", sum.Loss, pct(a.Gap))
			if r.Exact {
				ex.Note = fmt.Sprintf("An exact row: the optimum is 0, so there is no gap; the network's %s loss is %.4g.", sum.Loss, a.Loss)
			}
		}
		return ex
	}
	add := func(name string, r *eval.Row) { d.Examples = append(d.Examples, example(name, r)) }
	for i, r := range re.worst.Rows() {
		ex := example(fmt.Sprintf("worst %d: %s matrix %d", i+1, sum.EvaluatedOn, r.Index+1), r)
		d.Worst = append(d.Worst, ex)
	}
	if in, _ := cfg.Bands(); in.N == 11 && in.K == 5 {
		if r, err := re.ev.Evaluate(notebookTest); err == nil {
			add("the notebook's test matrix", r)
		}
	}
	for i, r := range re.first {
		add(fmt.Sprintf("%s matrix %d", sum.EvaluatedOn, i+1), r)
	}
	return d
}

// writeSummary writes DIR/summary.json, the last file of a finished run:
// the configuration, the epochs run, the best validation epoch (the
// weights of best/), the early-stopping record (null when the run was not
// stopped early) and the final evaluation (eval.Summary, with
// "evaluated_on" and "exact_rows").
func writeSummary(dir string, cfg *train.Config, tr *train.Trainer, sum *eval.Summary) error {
	obj := map[string]any{
		"config": cfg, "epochs": tr.Epoch(), "best_epoch": tr.BestEpoch, "best_val_loss": jsonNum(tr.BestVal),
		"elapsed_s": lastElapsed(tr.History), "eval": sum, "early_stop": tr.Stopped(),
	}
	b, err := json.MarshalIndent(obj, "", "  ")
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	return atomicfile.WriteFile(filepath.Join(dir, train.SummaryFile), append(b, '\n'), 0o644)
}
