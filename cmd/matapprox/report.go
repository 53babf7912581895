package main

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/matapprox/matapprox/nn"
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
	hist, err := train.ReadMetrics(filepath.Join(lm.dir, train.MetricsFile))
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	trainSet, valSet, err := train.Datasets(&lm.cfg) // the run's data, regenerated from its seed
	if err != nil {
		return err
	}
	ev, res, sum, err := evaluateRun(lm.model, &lm.cfg, trainSet, valSet)
	if err != nil {
		return err
	}
	path := *out
	if path == "" {
		path = filepath.Join(lm.dir, "report.html")
	}
	if err := report.WriteFile(path, reportData(lm.model, &lm.cfg, hist, ev, res, sum)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", path)
	return nil
}

// writeReport writes DIR/report.html for a finished run.
func writeReport(dir string, m *nn.Approximator, cfg *train.Config, hist []train.EpochStats, ev *evaluator, res []result, sum summary) error {
	return report.WriteFile(filepath.Join(dir, "report.html"), reportData(m, cfg, hist, ev, res, sum))
}

func reportData(m *nn.Approximator, cfg *train.Config, hist []train.EpochStats, ev *evaluator, res []result, sum summary) report.Data {
	d := report.Data{
		Title:     fmt.Sprintf("matapprox: %d×%d, half-bandwidth %d → %d, %s loss", cfg.N, cfg.N, cfg.InBand, cfg.OutBand, cfg.Loss),
		Generated: time.Now(),
		Loss:      cfg.Loss, N: cfg.N, InBand: cfg.InBand, OutBand: cfg.OutBand,
		OptimalVal: math.NaN(),
		Gaps:       sum.gaps,
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
		d.Epochs = append(d.Epochs, report.Epoch{Epoch: h.Epoch, Train: h.TrainLoss, Val: h.ValLoss, LR: h.LR, Elapsed: h.Elapsed})
	}
	if o := sum.Methods["optimal"]; o != nil {
		d.OptimalVal = o.Loss
	}
	for _, name := range methods {
		if ms := sum.Methods[name]; ms != nil {
			d.Summary = append(d.Summary, report.Row{Method: name, ProbeLoss: ms.ProbeLoss, Frobenius: ms.Frobenius, Spectral: ms.Spectral, Gap: ms.Gap})
		}
	}
	var examples []result
	if in, _ := cfg.Bands(); in.N == 11 && in.K == 5 {
		if r, err := ev.evaluate(notebookTest, 1); err == nil {
			examples = append(examples, r[0])
		}
	}
	examples = append(examples, res[:min(3, len(res))]...)
	for i, r := range examples {
		name := fmt.Sprintf("held-out matrix %d", i)
		if i == 0 && len(examples) > min(3, len(res)) {
			name = "the notebook's test matrix"
		}
		ex := report.Example{Name: name, X: r.Input, Optimal: r.Approximations["optimal"].Generator, Truncation: r.Approximations["truncation"].Generator}
		if a := r.Approximations["network"]; a != nil {
			ex.Network = a.Generator
		}
		d.Examples = append(d.Examples, ex)
	}
	return d
}
