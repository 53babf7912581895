package main

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/matapprox/matapprox/nn"
	"github.com/matapprox/matapprox/train"
)

// TestRunUntrained measures an untrained symbol model, which is a_∞
// exactly: the two methods' gaps are equal on every row (so the network is
// closer on none and the ratio is 1), and the gaps of a_∞ are positive.
// A sphere model of the same network is far worse than a_∞.
func TestRunUntrained(t *testing.T) {
	cfg, err := train.Preset("spectral-1024")
	if err != nil {
		t.Fatal(err)
	}
	cfg.N = 64
	in, out := cfg.Bands()
	net, err := nn.NewSymbol(in, out, []int{8}, nn.Tanh, nn.SymmetryFull, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := run(options{model: "tiny", rows: 6, seed: 3, batch: 4}, net, &cfg, &buf); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	s := buf.String()
	for _, want := range []string{"6 held-out rows", "symbol model", "closer to the optimum than a_∞ on 0 of 6 rows", "ratio network ÷ a_∞ 1\n", "| 64 | 5 → 3 | 6 |"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	sp := net.Clone()
	sp.Kind = nn.KindSphere
	buf.Reset()
	if err := run(options{model: "tiny", rows: 6, seed: 3, batch: 4}, sp, &cfg, &buf); err != nil {
		t.Fatal(err)
	}
	if s := buf.String(); !strings.Contains(s, "on 0 of 6 rows") || strings.Contains(s, "ratio network ÷ a_∞ 1\n") {
		t.Errorf("an untrained sphere model (the truncation plus noise) is not worse than a_∞:\n%s", s)
	}
	cfg.Loss = "frobenius"
	if err := run(options{model: "tiny", rows: 6, batch: 4}, net, &cfg, &buf); err == nil {
		t.Error("a Frobenius configuration: no error")
	}
}
