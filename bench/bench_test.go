package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/matapprox/matapprox/train"
)

// TestRunTiny runs the whole Go part of the harness at the tiny sizes for a
// fraction of a second, without PyTorch, and checks the tables.
func TestRunTiny(t *testing.T) {
	var out bytes.Buffer
	o := options{rounds: 2,
		sizes: []string{"tiny"}, threads: []int{1, 2}, seconds: 0.05, reps: 1,
		training: true, inference: true, inferSizes: []string{"tiny"}, inferTotal: 500,
		minSolves: 4, peakN: 32, ghz: 2, log: io.Discard,
	}
	if err := run(o, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"PyTorch not measured", "| tiny | 1 |", "| tiny | 2 |", "| 6 | 2 → 1 | 5→8→3 | 1 |", "| 6 | 2 → 1 | 5→8→3 | 2 |"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "| — |") || strings.Contains(s, "NaN") || strings.Contains(s, "+Inf") {
		t.Errorf("output has a missing or non-finite figure:\n%s", s)
	}
}

// TestRunSkipsTorch checks that an interpreter without torch gives a note,
// not an error.
func TestRunSkipsTorch(t *testing.T) {
	var out bytes.Buffer
	o := options{rounds: 1,
		sizes: []string{"tiny"}, threads: []int{1}, seconds: 0.02, reps: 1, training: true, torch: true,
		runner: torchRunner{python: "/nonexistent/python3", script: "../scripts/bench_torch.py"},
		peakN:  16, log: io.Discard,
	}
	if err := run(o, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "PyTorch skipped:") {
		t.Errorf("no skip note:\n%s", out.String())
	}
}

// TestRunForCountsSamples checks the sample count against a run of known
// length whose last batch is partial.
func TestRunForCountsSamples(t *testing.T) {
	s := sizes["tiny"]
	cfg, err := s.config()
	if err != nil {
		t.Fatal(err)
	}
	cfg.TrainSize, cfg.BatchSize, cfg.Epochs = 30, 4, 3
	tr, err := train.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, _, _, err := runFor(tr, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got != 90 {
		t.Errorf("counted %d samples, want 3 epochs × 30 = 90", got)
	}
}

func TestFlopsPerSample(t *testing.T) {
	for _, tc := range []struct {
		size string
		want float64
	}{
		// 2·(11·100 + 100·100 + 100·7) = 23 600 forward; ×3; + 2·11².
		{"notebook", 3*23600 + 2*121},
		// 2·(129·512 + 512·512 + 512·65) = 722 944; ×3; + 2·129².
		{"scaled", 3*722944 + 2*129*129},
	} {
		if got := sizes[tc.size].flopsPerSample(); got != tc.want {
			t.Errorf("%s: %v flops per sample, want %v", tc.size, got, tc.want)
		}
	}
}

func TestParseInts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
		bad  bool
	}{
		{in: "1,2", want: []int{1, 2}},
		{in: " 4 ", want: []int{4}},
		{in: "1,,3", want: []int{1, 3}},
		{in: "", bad: true},
		{in: "0", bad: true},
		{in: "x", bad: true},
	} {
		got, err := parseInts(tc.in)
		if (err != nil) != tc.bad || !equalInts(got, tc.want) {
			t.Errorf("parseInts(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

// TestTorchSizesAgree checks that scripts/bench_torch.py describes the
// same problems as sizes.go (the script's table is read without importing
// torch).
func TestTorchSizesAgree(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	cmd := exec.Command(python, "-c", "import json, sys; sys.path.insert(0, '../scripts'); import bench_torch; print(json.dumps(bench_torch.SIZES))")
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("reading the script's sizes: %v", err)
	}
	var py map[string]struct {
		N, K, Ko, Batch, Train, Probes int
		Hidden                         []int
	}
	if err := json.Unmarshal(b, &py); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"notebook", "scaled"} {
		g, p := sizes[name], py[name]
		if g.N != p.N || g.K != p.K || g.Ko != p.Ko || g.Batch != p.Batch || g.Train != p.Train || g.Probes != p.Probes || !equalInts(g.Hidden, p.Hidden) {
			t.Errorf("size %s: Go %+v, script %+v", name, g, p)
		}
	}
}
