package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/matapprox/matapprox/internal/progress"
)

// slowClock makes every phase look long: each reading of the clock is six
// seconds after the previous one, so a progress line prints on every
// update in Lines mode.
func slowClock(t *testing.T) {
	t.Helper()
	old := newReporter
	t.Cleanup(func() { newReporter = old })
	now := time.Unix(1e9, 0)
	newReporter = func(w io.Writer, quiet bool) *progress.Reporter {
		mode := progress.Lines
		if quiet {
			mode = progress.Off
		}
		return progress.NewMode(w, mode, func() time.Time { now = now.Add(6 * time.Second); return now })
	}
}

// TestProgress checks that train reports data generation, warm-start
// targets, epochs and evaluation, and approx its rows, with rate and ETA
// on stderr, and that -quiet silences all of it.
func TestProgress(t *testing.T) {
	slowClock(t)
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "run")
	code, _, errs := runCLI(t, "train", "-preset", "seed", "-epochs", "2", "-warm-start", "1", "-train-size", "5000",
		"-val-size", "50", "-batch-size", "1000", "-no-report", "-out", dir)
	if code != 0 {
		t.Fatal(errs)
	}
	for _, want := range []string{
		"training data  82% 4096/5000 rows", "rows/s, ETA ", "training data: 5000 rows in",
		"warm-start targets", "/5000 matrices", "epoch 1/2 ", "epoch 2/2 ", "1000/5000 rows", "evaluation  ", "/50 matrices",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("train progress lacks %q:\n%s", want, errs)
		}
	}
	in := filepath.Join(tmp, "in.csv")
	os.WriteFile(in, []byte(strings.Repeat("0,0,0,1,2,4,2,1,0,0,0\n", 10)), 0o644)
	code, _, errs = runCLI(t, "approx", "-model", dir, "-input", in, "-output", filepath.Join(tmp, "out.csv"), "-batch", "3")
	if code != 0 || !strings.Contains(errs, "approx 3 rows") || !strings.Contains(errs, "approx: 10 rows in") {
		t.Errorf("approx progress: %d %q", code, errs)
	}
	code, _, errs = runCLI(t, "eval", "-model", dir, "-count", "20")
	if code != 0 || !strings.Contains(errs, "evaluation   5% 1/20 matrices") || !strings.Contains(errs, "evaluation: 20 matrices in") {
		t.Errorf("eval progress: %d %q", code, errs)
	}
	if code, _, errs = runCLI(t, "eval", "-quiet", "-model", dir, "-count", "20"); code != 0 || errs != "" {
		t.Errorf("eval -quiet: %d %q", code, errs)
	}
	code, _, errs = runCLI(t, "train", "-preset", "seed", "-epochs", "1", "-train-size", "5000", "-val-size", "50",
		"-no-report", "-quiet", "-out", filepath.Join(tmp, "quiet"))
	if code != 0 || errs != "" {
		t.Errorf("-quiet: exit %d, stderr %q", code, errs)
	}
	code, _, errs = runCLI(t, "approx", "-quiet", "-model", dir, "-input", in, "-output", filepath.Join(tmp, "out2.csv"), "-batch", "3")
	if code != 0 || errs != "" {
		t.Errorf("approx -quiet: exit %d, stderr %q", code, errs)
	}
}

// TestBatchProgress checks that `optimal -input`, `eval -json` and
// `eval -input -output` (a shard's block included) report their rows with
// rate and ETA on stderr, that -quiet silences them, and that -quiet is not
// a setting of a part file (parts with and without it merge).
func TestBatchProgress(t *testing.T) {
	slowClock(t)
	tmp := t.TempDir()
	run := filepath.Join(tmp, "run")
	quickTrain(t, run, "-quiet")
	in, _ := writeInput(t, tmp, "in.npy", 600, 5, 11)
	out := func(name string) string { return filepath.Join(tmp, name) }
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"optimal", "-out-band", "3", "-input", in, "-output", out("opt.jsonl")},
			[]string{"probe optima  43% 256/600 rows", "rows/s, ETA ", "probe optima: 600 rows in"}},
		{[]string{"eval", "-model", run, "-input", in, "-json"},
			[]string{"evaluation   0% 1/600 matrices", "matrices/s, ETA ", "evaluation: 600 matrices in"}},
		{[]string{"eval", "-model", run, "-input", in, "-output", out("e0.part"), "-shard", "0/2"},
			[]string{"evaluation  85% 256/300 matrices", "matrices/s, ETA ", "evaluation: 300 matrices in"}},
	} {
		code, _, errs := runCLI(t, c.args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s", c.args, code, errs)
		}
		for _, w := range c.want {
			if !strings.Contains(errs, w) {
				t.Errorf("%v: progress lacks %q:\n%s", c.args, w, errs)
			}
		}
		// -quiet before the other flags: it must not change them.
		q := append([]string{c.args[0], "-quiet"}, c.args[1:]...)
		for i, a := range q {
			if a == out("e0.part") {
				q[i] = out("e1.part")
				q[i+2] = "1/2"
			}
		}
		if code, _, errs := runCLI(t, q...); code != 0 || errs != "" {
			t.Errorf("%v: exit %d, stderr %q", q, code, errs)
		}
	}
	if code, _, errs := runCLI(t, "merge", "-output", out("e.jsonl"), out("e0.part"), out("e1.part")); code != 0 {
		t.Errorf("merge of parts written with and without -quiet: exit %d\n%s", code, errs)
	}
}
