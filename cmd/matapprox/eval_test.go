package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/train"
)

// rowsCSV holds the notebook's in-band test matrix, an all-zero row and
// one ordinary row.
const rowsCSV = "0,0,0,1,2,4,2,1,0,0,0\n0,0,0,0,0,0,0,0,0,0,0\n1,2,3,4,5,6,7,8,9,10,11\n"

// TestEvalNamesItsRows checks what eval says it evaluated: a file's rows
// ("3 matrices from FILE", evaluated_on file, never "held-out"), with the
// in-band and all-zero rows counted as exact rows, not dropped, and a
// finite gap_mean.
func TestEvalNamesItsRows(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	quickTrain(t, dir)
	in := filepath.Join(t.TempDir(), "in.csv")
	os.WriteFile(in, []byte(rowsCSV), 0o644)
	code, out, errs := runCLI(t, "eval", "-model", dir, "-input", in)
	if code != 0 {
		t.Fatalf("eval -input: %d %s", code, errs)
	}
	for _, want := range []string{"evaluation on 3 matrices from " + in + " (evaluated_on: file)", "exact_rows: 2", "probe_loss uses 100 notebook probes (seed 1) (the training loss)", "exact row"} {
		if !strings.Contains(out, want) {
			t.Errorf("eval -input output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "held-out") {
		t.Errorf("a file's rows are called held-out:\n%s", out)
	}
	code, out, errs = runCLI(t, "eval", "-model", dir, "-input", in, "-json")
	if code != 0 {
		t.Fatalf("eval -input -json: %d %s", code, errs)
	}
	var obj struct {
		Probes      string `json:"probes"`
		EvaluatedOn string `json:"evaluated_on"`
		Results     []struct {
			Exact bool `json:"exact"`
		}
		Summary struct {
			EvaluatedOn string `json:"evaluated_on"`
			Rows        int    `json:"rows"`
			ExactRows   int    `json:"exact_rows"`
			Methods     map[string]struct {
				GapMean       *float64 `json:"gap_mean"`
				ExactLossMean *float64 `json:"exact_loss_mean"`
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &obj); err != nil {
		t.Fatalf("eval -json: %v\n%s", err, out)
	}
	s := obj.Summary
	if len(obj.Results) != 3 || !obj.Results[0].Exact || !obj.Results[1].Exact || obj.Results[2].Exact || s.Rows != 3 || s.ExactRows != 2 || s.EvaluatedOn != "file" || obj.Probes == "" {
		t.Errorf("eval -json: %+v", obj)
	}
	if g := s.Methods["network"].GapMean; g == nil || *g > 100 || s.Methods["network"].ExactLossMean == nil {
		t.Errorf("network gap_mean %v, exact_loss_mean %v", g, s.Methods["network"].ExactLossMean)
	}
	// Random matrices are generated, not held out.
	if code, out, _ := runCLI(t, "eval", "-model", dir, "-count", "20"); code != 0 || !strings.Contains(out, "evaluated_on: generated") {
		t.Errorf("eval -count: %d\n%s", code, out)
	}
}

// TestEvalProbesOnlyChangesProbeLoss checks that -probes changes the
// probe_loss metric and nothing else, and says which probes it used.
func TestEvalProbesOnlyChangesProbeLoss(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	quickTrain(t, dir)
	tmp := t.TempDir()
	probes := filepath.Join(tmp, "p.csv")
	var b strings.Builder
	for i := 0; i < 5; i++ {
		b.WriteString("1,-1,2,0,3,1,-2,1,0,1,1\n")
	}
	os.WriteFile(probes, []byte(b.String()), 0o644)
	type approx struct {
		Generator []float64 `json:"generator"`
		Loss      float64   `json:"loss"`
		ProbeLoss float64   `json:"probe_loss"`
	}
	get := func(extra ...string) (string, map[string]approx) {
		args := append([]string{"eval", "-model", dir, "-matrix", "1,2,3,4,5,6,7,8,9,10,11", "-json"}, extra...)
		code, out, errs := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("%v: %s", args, errs)
		}
		var obj struct {
			Probes  string `json:"probes"`
			Results []struct {
				Approximations map[string]approx `json:"approximations"`
			}
		}
		if err := json.Unmarshal([]byte(out), &obj); err != nil {
			t.Fatal(err)
		}
		return obj.Probes, obj.Results[0].Approximations
	}
	p0, a0 := get()
	p1, a1 := get("-probes", probes)
	if !strings.Contains(p1, "the 5 probes in "+probes) || p0 == p1 {
		t.Errorf("probes named %q, then %q", p0, p1)
	}
	for _, m := range []string{"network", "truncation", "optimal"} {
		if a0[m].Loss != a1[m].Loss || len(a0[m].Generator) != 7 || a0[m].Generator[0] != a1[m].Generator[0] {
			t.Errorf("%s: -probes changed the trained loss or the generator: %+v vs %+v", m, a0[m], a1[m])
		}
	}
	if a0["network"].ProbeLoss == a1["network"].ProbeLoss {
		t.Error("-probes did not change probe_loss")
	}
	// A bare model evaluated under the spectral loss names its metric probes.
	code, out, errs := runCLI(t, "eval", "-model", filepath.Join(dir, "model.safetensors"), "-loss", "spectral", "-count", "3")
	if code != 0 || !strings.Contains(out, "probe_loss uses 100 Gaussian probes") {
		t.Errorf("spectral eval: %d %s\n%s", code, errs, out)
	}
}

// TestDataFileRun checks a run on a data file: a held-out split by
// default, best/, and a summary.json that says what it evaluated on.
func TestDataFileRun(t *testing.T) {
	tmp := t.TempDir()
	cfg, _ := train.Preset("seed")
	in, _ := cfg.Bands()
	s := &data.Set{Dim: in.Len()}
	for i := 0; i < 400; i++ {
		row := make([]float64, in.Len())
		for j := range row {
			row[j] = float64((i*7+j*3)%11) + 0.5
		}
		s.X = append(s.X, row...)
		s.Rows++
	}
	copy(s.Row(5), notebookTest)
	path := filepath.Join(tmp, "rows.csv")
	data.WriteFile(path, s)
	dir := filepath.Join(tmp, "run")
	code, out, errs := runCLI(t, "train", "-preset", "seed", "-epochs", "3", "-data", path, "-out", dir, "-no-report", "-patience", "1", "-min-delta", "0.99", "-tensorboard")
	if code != 0 {
		t.Fatalf("train: %d %s", code, errs)
	}
	// TensorBoard has the gap per epoch and the final table's statistics.
	events, _ := filepath.Glob(filepath.Join(dir, "events.out.tfevents.*"))
	if len(events) != 1 {
		t.Fatalf("event files %v", events)
	}
	ev, _ := os.ReadFile(events[0])
	for _, tag := range []string{"gap/val", "eval/network/gap_mean", "eval/network/gap_p95", "eval/exact_rows", "eval/truncation/gap"} {
		if !strings.Contains(string(ev), tag) {
			t.Errorf("no TensorBoard scalar %s", tag)
		}
	}
	if !strings.Contains(out, "evaluation on 40 held-out validation matrices (evaluated_on: validation)") {
		t.Errorf("train output:\n%s", out)
	}
	if !strings.Contains(out, "early stopping after epoch 2") {
		t.Errorf("no early-stopping line:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, train.BestFile, "model.safetensors")); err != nil {
		t.Errorf("no best/: %v", err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, train.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		BestEpoch int `json:"best_epoch"`
		EarlyStop *struct {
			Epoch int `json:"epoch"`
		} `json:"early_stop"`
		Eval struct {
			EvaluatedOn string `json:"evaluated_on"`
			ExactRows   *int   `json:"exact_rows"`
			Rows        int    `json:"rows"`
		} `json:"eval"`
	}
	if err := json.Unmarshal(raw, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Eval.EvaluatedOn != "validation" || sum.Eval.ExactRows == nil || sum.Eval.Rows != 40 || sum.EarlyStop == nil || sum.EarlyStop.Epoch != 2 || sum.BestEpoch < 1 {
		t.Errorf("summary.json: %s", raw)
	}
	// val-fraction 0: evaluated on training rows, and said so.
	dir2 := filepath.Join(tmp, "run2")
	code, out, errs = runCLI(t, "train", "-preset", "seed", "-epochs", "1", "-data", path, "-val-fraction", "0", "-out", dir2, "-no-report")
	if code != 0 || !strings.Contains(out, "evaluated_on: training") || !strings.Contains(out, "not generalisation") {
		t.Errorf("val-fraction 0: %d %s\n%s", code, errs, out)
	}
}
