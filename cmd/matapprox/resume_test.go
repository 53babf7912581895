package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/matapprox/matapprox/nn"
	"github.com/matapprox/matapprox/optim"
	"github.com/matapprox/matapprox/train"
)

// countdown is a context whose Err turns non-nil after n calls: the
// trainer checks it at every batch, so it interrupts at a chosen batch.
type countdown struct {
	context.Context
	n atomic.Int64
}

func (c *countdown) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// interruptAfter makes the next training run stop after n checks.
func interruptAfter(t *testing.T, n int64) {
	t.Helper()
	old := runContext
	t.Cleanup(func() { runContext = old })
	runContext = func(ctx context.Context) context.Context {
		c := &countdown{Context: ctx}
		c.n.Store(n)
		runContext = old // one run only
		return c
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// snapshot returns every file under dir with its contents and mtime.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			b, _ := os.ReadFile(p)
			m[p] = info.ModTime().String() + "\x00" + string(b)
		}
		return nil
	})
	return m
}

// TestResumeCommandRepeatsRunFlags interrupts a run in-process, checks that
// the printed command repeats -tensorboard and -no-report, runs that
// command, and compares the model with an uninterrupted run's.
func TestResumeCommandRepeatsRunFlags(t *testing.T) {
	tmp := t.TempDir()
	args := []string{"train", "-preset", "seed", "-epochs", "3", "-train-size", "300", "-val-size", "50", "-no-report"}
	ref := filepath.Join(tmp, "ref")
	if code, _, errs := runCLI(t, append(args, "-out", ref)...); code != 0 {
		t.Fatal(errs)
	}
	dir := filepath.Join(tmp, "run dir")
	interruptAfter(t, 6) // 3 batches an epoch: in the second epoch
	code, _, errs := runCLI(t, append(args, "-out", dir, "-tensorboard", "-max-memory", "2GiB")...)
	if code != 130 {
		t.Fatalf("interrupted run: exit %d, %s", code, errs)
	}
	want := "matapprox train -resume '" + dir + "' -tensorboard -no-report -max-memory 2147483648B\n"
	i := strings.Index(errs, "matapprox train -resume")
	if i < 0 || !strings.HasPrefix(errs[i:], want) {
		t.Fatalf("resume hint %q, want %q", errs, want)
	}
	if code, _, errs := runCLI(t, "train", "-resume", dir, "-tensorboard", "-no-report", "-max-memory", "2147483648B"); code != 0 {
		t.Fatalf("resume: %s", errs)
	}
	if !bytes.Equal(mustRead(t, filepath.Join(ref, nn.WeightsFile)), mustRead(t, filepath.Join(dir, nn.WeightsFile))) {
		t.Error("the resumed model differs from the uninterrupted one")
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*tfevents*")); len(m) == 0 {
		t.Error("the resumed run with -tensorboard wrote no event file")
	}
}

// TestResumeExtends checks -resume DIR -epochs M: a finished run with
// nothing to do changes no file; a constant-schedule run extended from 2 to
// 4 epochs equals a 4-epoch run; an interrupted run extends too; a cosine
// run's added epochs follow the 4-epoch curve.
func TestResumeExtends(t *testing.T) {
	tmp := t.TempDir()
	base := []string{"train", "-preset", "seed", "-train-size", "300", "-val-size", "50", "-no-report"}
	four := filepath.Join(tmp, "four")
	if code, _, errs := runCLI(t, append(base, "-epochs", "4", "-out", four)...); code != 0 {
		t.Fatal(errs)
	}
	dir := filepath.Join(tmp, "two")
	if code, _, errs := runCLI(t, append(base, "-epochs", "2", "-out", dir)...); code != 0 {
		t.Fatal(errs)
	}
	before := snapshot(t, dir)
	for _, extra := range [][]string{nil, {"-epochs", "2"}, {"-epochs", "1"}} {
		code, out, errs := runCLI(t, append([]string{"train", "-resume", dir, "-no-report"}, extra...)...)
		if code != 0 || !strings.Contains(out, "nothing to do") {
			t.Errorf("resume %v of a finished run: exit %d, %q %q", extra, code, out, errs)
		}
	}
	after := snapshot(t, dir)
	if len(after) != len(before) {
		t.Errorf("files changed: %d before, %d after", len(before), len(after))
	}
	for p, v := range before {
		if after[p] != v {
			t.Errorf("resuming a finished run with nothing to do changed %s", p)
		}
	}
	if code, out, errs := runCLI(t, "train", "-resume", dir, "-epochs", "4", "-no-report"); code != 0 || !strings.Contains(out, "extending") {
		t.Fatalf("extend: exit %d %s %s", code, out, errs)
	}
	if !bytes.Equal(mustRead(t, filepath.Join(four, nn.WeightsFile)), mustRead(t, filepath.Join(dir, nn.WeightsFile))) {
		t.Error("a constant-schedule run extended from 2 to 4 epochs differs from a 4-epoch run")
	}
	if h, _ := train.ReadMetrics(filepath.Join(dir, train.MetricsFile)); len(h) != 4 {
		t.Errorf("extended metrics have %d epochs", len(h))
	}
	cfg, err := train.LoadConfig(filepath.Join(dir, train.ConfigFile), train.Config{})
	if err != nil || cfg.Epochs != 4 {
		t.Errorf("config.yaml after extending: epochs %d, %v", cfg.Epochs, err)
	}
	if _, err := os.Stat(filepath.Join(dir, train.SummaryFile)); err != nil {
		t.Error("the extended run has no summary")
	}

	// An interrupted 2-epoch run extended to 4.
	cut := filepath.Join(tmp, "cut")
	interruptAfter(t, 6)
	if code, _, _ := runCLI(t, append(base, "-epochs", "2", "-out", cut)...); code != 130 {
		t.Fatalf("interrupted: exit %d", code)
	}
	if code, _, errs := runCLI(t, "train", "-resume", cut, "-epochs", "4", "-no-report"); code != 0 {
		t.Fatal(errs)
	}
	if !bytes.Equal(mustRead(t, filepath.Join(four, nn.WeightsFile)), mustRead(t, filepath.Join(cut, nn.WeightsFile))) {
		t.Error("an interrupted run extended to 4 epochs differs from a 4-epoch run")
	}
	if code, _, errs := runCLI(t, "train", "-resume", cut, "-epochs", "3"); code != 0 || errs != "" {
		t.Errorf("shrinking a finished run: exit %d %q", code, errs)
	}

	// Cosine: the added epochs' learning rates are those of the 4-epoch curve.
	cos := filepath.Join(tmp, "cos")
	if code, _, errs := runCLI(t, "train", "-preset", "default", "-train-size", "300", "-val-size", "50", "-no-report", "-epochs", "2", "-out", cos); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := runCLI(t, "train", "-resume", cos, "-epochs", "4", "-no-report"); code != 0 {
		t.Fatal(errs)
	}
	h, _ := train.ReadMetrics(filepath.Join(cos, train.MetricsFile))
	c2 := optim.Cosine{Rate: 3e-3, Min: 1e-5, Epochs: 2}
	c4 := optim.Cosine{Rate: 3e-3, Min: 1e-5, Epochs: 4}
	if len(h) != 4 || h[0].LR != c2.LR(0) || h[1].LR != c2.LR(1) || h[2].LR != c4.LR(2) || h[3].LR != c4.LR(3) {
		t.Errorf("cosine extension learning rates %v", h)
	}
	if code, _, errs := runCLI(t, "train", "-resume", cos, "-epochs", "1.5"); code != 2 || !strings.Contains(errs, "-epochs 1.5") {
		t.Errorf("-resume -epochs 1.5: %d %q", code, errs)
	}
	if code, _, errs := runCLI(t, "train", "-resume", cos, "-lr", "1"); code != 2 || !strings.Contains(errs, "-lr") {
		t.Errorf("-resume -lr: %d %q", code, errs)
	}
}
