package main

import (
	"bytes"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/nn"
	"github.com/matapprox/matapprox/optimal"
	"github.com/matapprox/matapprox/train"
)

// tinyRun returns the spectral preset's configuration at N = 9 (K 4 → 2)
// and an untrained sphere network for it.
func tinyRun(t *testing.T) (train.Config, *nn.Approximator) {
	t.Helper()
	cfg, err := train.Preset("spectral")
	if err != nil {
		t.Fatal(err)
	}
	cfg.N, cfg.InBand, cfg.OutBand = 9, 4, 2
	in, out := cfg.Bands()
	net, err := nn.NewSphere(in, out, []int{8}, nn.Tanh, nn.Odd, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	return cfg, net
}

// run measures an untrained sphere network at N = 9 end to end, on one
// and two workers: every row is certified within MaxGap and no bound is
// above the exact optimum (run fails otherwise), and the exact comparison
// and the table row are printed.
func TestRunTiny(t *testing.T) {
	cfg, net := tinyRun(t)
	for _, c := range []struct {
		workers   int
		precision string
	}{{1, "f64"}, {2, "f64"}, {2, "f32"}} {
		workers := c.workers
		var buf bytes.Buffer
		o := options{rows: 40, exact: 10, batch: 16, workers: workers, maxGap: 0.01, polishSteps: 2, seed: 3, log: io.Discard, precision: c.precision, sdpToo: true}
		if err := run(o, net, &cfg, &buf); err != nil {
			t.Fatalf("%d workers: %v\n%s", workers, err, buf.String())
		}
		s := buf.String()
		for _, want := range []string{"40 held-out rows", "exact solver (banded) on 10 rows spread over the run", "the SDP on the same rows", "lower bounds above the optimum: 0", "rows above MaxGap: 0", "| 9, 4 → 2 | 40 | 10 |"} {
			if !strings.Contains(s, want) {
				t.Errorf("%d workers: output lacks %q:\n%s", workers, want, s)
			}
		}
	}
	if err := run(options{rows: 0, batch: 1, workers: 1, log: io.Discard, precision: "f64"}, net, &cfg, io.Discard); err == nil {
		t.Error("0 rows: no error")
	}
}

// -run-duals loads a dual file into the cache before the first row and
// says how many it loaded; a missing file is an error.
func TestRunDuals(t *testing.T) {
	cfg, net := tinyRun(t)
	// A dual file from a block of rows of the run's generator on another
	// seed (the certifier records duals once a block of 128 is done).
	l, _, err := train.BuildLoss(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := optimal.NewCertifier(l, &optimal.CertifyOptions{MaxGap: 0.01, DualCache: 1000, RecordDuals: 1000})
	if err != nil {
		t.Fatal(err)
	}
	in, _ := cfg.Bands()
	gen, err := data.GeneratorByName(cfg.Data, in)
	if err != nil {
		t.Fatal(err)
	}
	const rows = 160
	L := in.Len()
	x := make([]float64, rows*L)
	rng := rand.New(rand.NewPCG(77, 78))
	for i := 0; i < rows; i++ {
		gen.Fill(x[i*L:(i+1)*L], rng)
	}
	a := net.Forward(net.NewWorkspace(rows), x, rows)
	if err := c.CertifyBatch(make([]float64, len(a)), nil, x, a, rows); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), train.DualsFile)
	nw, err := c.WriteDuals(path)
	if err != nil || nw == 0 {
		t.Fatalf("WriteDuals: %d, %v", nw, err)
	}
	var buf bytes.Buffer
	o := options{rows: 40, exact: 10, batch: 16, workers: 1, maxGap: 0.01, seed: 3, log: io.Discard, precision: "f64", dualCache: 1000, runDuals: path}
	if err := run(o, net, &cfg, &buf); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if !strings.Contains(buf.String(), "the run's remembered duals: ") || !strings.Contains(buf.String(), " loaded from "+path) {
		t.Errorf("output does not say what it loaded:\n%s", buf.String())
	}
	o.runDuals = filepath.Join(t.TempDir(), "missing.safetensors")
	if err := run(o, net, &cfg, io.Discard); err == nil {
		t.Error("a missing dual file: no error")
	}
}
