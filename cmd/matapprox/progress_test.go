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
