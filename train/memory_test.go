package train

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTooLargeRefused checks that configurations that pass Validate but
// cannot fit are refused by New with the estimate, before allocating (each
// of these died out of memory in a first version).
func TestTooLargeRefused(t *testing.T) {
	const limit = 8 << 30
	for _, c := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"hidden 65536×65536", func(c *Config) { c.Hidden = []int{65536, 65536} }, "network weights"},
		{"n 4096, 10⁶ probes", func(c *Config) { c.N, c.InBand, c.OutBand, c.NumProbes = 4096, 5, 3, 1_000_000 }, "probes"},
		{"train-size 10⁸", func(c *Config) { c.TrainSize = 100_000_000 }, "data"},
	} {
		cfg, _ := Preset("seed")
		c.edit(&cfg)
		if err := cfg.Validate(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		_, err := NewWithOptions(cfg, Options{MaxMemory: limit})
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "-max-memory") {
			t.Errorf("%s: %v, want ErrTooLarge naming %q and -max-memory", c.name, err, c.want)
		}
	}
	for _, name := range PresetNames() {
		cfg, _ := Preset(name)
		if err := TrainingEstimate(&cfg).Check(1<<30, name, "-max-memory"); err != nil {
			t.Errorf("preset %s does not fit in 1 GiB: %v", name, err)
		}
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"8GB": 8e9, "512MiB": 512 << 20, "2e9": 2e9, "100k": 1e5, "1.5Gi": 3 << 29} {
		if got, err := ParseBytes(in); err != nil || got != want {
			t.Errorf("%s: %d %v, want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1GB", "x", "NaN", "1e300"} {
		if _, err := ParseBytes(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	if DefaultMaxMemory() < 1<<20 {
		t.Errorf("default limit %d", DefaultMaxMemory())
	}
}

// TestDivergenceConfigurable trains on data with one valid row much larger
// than the others, which trips the divergence check at a learning rate of
// 1e-12; divergence: -1 turns the check off (a first version had no way).
func TestDivergenceConfigurable(t *testing.T) {
	p := filepath.Join(t.TempDir(), "d.csv")
	var b strings.Builder
	for i := 0; i < 2000; i++ {
		v := 1.0
		if i == 1500 {
			v = 1e6
		}
		fmt.Fprintf(&b, "%g,1,2,3,4,5,4,3,2,1,1\n", v)
	}
	os.WriteFile(p, []byte(b.String()), 0o644)
	c, _ := Preset("seed")
	c.Data, c.ValFraction, c.LR, c.Epochs, c.Optimizer = p, 0, 1e-12, 1, "sgd"
	if err := runErr(c); !errors.Is(err, ErrDiverged) || !strings.Contains(err.Error(), "divergence") {
		t.Fatalf("default check: %v, want ErrDiverged mentioning the divergence key", err)
	}
	c.Divergence = -1
	if err := runErr(c); err != nil {
		t.Errorf("divergence -1: %v", err)
	}
	c.Divergence = 1e30
	if err := runErr(c); err != nil {
		t.Errorf("divergence 1e30: %v", err)
	}
}

func runErr(c Config) error {
	tr, err := New(c)
	if err != nil {
		return err
	}
	return tr.Run(context.Background(), Callbacks{})
}

// TestReadMetricsPartialLine checks the recovery of an append cut short.
func TestReadMetricsPartialLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), MetricsFile)
	AppendMetrics(p, EpochStats{Epoch: 1, TrainLoss: 2, ValLoss: nan, WarmStart: true})
	os.WriteFile(p+".x", nil, 0o644)
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"epoch": 2, "tr`)
	f.Close()
	h, err := ReadMetrics(p)
	if err != nil || len(h) != 1 || !h[0].WarmStart || h[0].TrainLoss != 2 {
		t.Errorf("%+v %v", h, err)
	}
	os.WriteFile(p, []byte("garbage\n{}\n"), 0o644)
	if _, err := ReadMetrics(p); err == nil || !strings.Contains(err.Error(), ":1:") {
		t.Errorf("malformed line: %v", err)
	}
}
