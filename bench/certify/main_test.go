package main

import (
	"bytes"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/matapprox/matapprox/nn"
	"github.com/matapprox/matapprox/train"
)

// run measures an untrained sphere network at N = 9 end to end, on one
// and two workers: every row is certified within MaxGap and no bound is
// above the exact optimum (run fails otherwise), and the exact comparison
// and the table row are printed.
func TestRunTiny(t *testing.T) {
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
