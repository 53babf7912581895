package train

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/matapprox/matapprox/optim"
)

func small(t *testing.T, preset string) Config {
	t.Helper()
	c, err := Preset(preset)
	if err != nil {
		t.Fatal(err)
	}
	c.TrainSize, c.ValSize, c.Epochs = 600, 100, 3
	if c.Schedule == "cosine" {
		c.Epochs = 3
	}
	return c
}

func run(t *testing.T, c Config) *Trainer {
	t.Helper()
	tr, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background(), Callbacks{}); err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestPresetsValidate(t *testing.T) {
	for _, name := range PresetNames() {
		c, _ := Preset(name)
		if err := c.Validate(); err != nil {
			t.Errorf("preset %s: %v", name, err)
		}
	}
	if _, err := Preset("nope"); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "seed") {
		t.Errorf("unknown preset: %v", err)
	}
}

func TestTrainingLowersLoss(t *testing.T) {
	// The notebook's run plateaus after one epoch: compare with the
	// network at initialisation.
	c := small(t, "seed")
	tr, _ := New(c)
	init := tr.ValLoss()
	tr.Run(context.Background(), Callbacks{})
	if h := tr.History; !(h[2].ValLoss < init/5) {
		t.Errorf("seed: validation loss %v after 3 epochs, %v at initialisation", h[2].ValLoss, init)
	}
	h := run(t, small(t, "default")).History
	if len(h) != 3 || !(h[2].ValLoss < h[0].ValLoss) {
		t.Errorf("default: validation loss did not fall: %+v", h)
	}
}

func TestDeterministic(t *testing.T) {
	c := small(t, "seed")
	a := run(t, c)
	prev := runtime.GOMAXPROCS(1)
	b := run(t, c)
	runtime.GOMAXPROCS(prev)
	for i := range a.Model.Params() {
		if math.Float64bits(a.Model.Params()[i]) != math.Float64bits(b.Model.Params()[i]) {
			t.Fatalf("param %d differs between runs: %v vs %v", i, a.Model.Params()[i], b.Model.Params()[i])
		}
	}
	c.Seed++
	d := run(t, c)
	if d.Model.Params()[0] == a.Model.Params()[0] {
		t.Error("a different seed gave the same weights")
	}
}

// TestResumeBitIdentical interrupts a run at several batches, checkpoints,
// resumes in a new Trainer and compares with an uninterrupted run.
func TestResumeBitIdentical(t *testing.T) {
	for _, tc := range []struct {
		preset, prec, opt string
		clip              float64
	}{
		{"seed", "", "", 0}, {"default", "", "", 0},
		// float32 model, float32 optimizer state (optim.New32).
		{"seed", "f32", "", 0}, {"default", "f32", "adam", 1},
	} {
		preset := tc.preset
		c := small(t, preset)
		if tc.prec != "" {
			c.Precision = tc.prec
			preset += " " + tc.prec
		}
		if tc.opt != "" {
			c.Optimizer, c.LR = tc.opt, 1e-3
		}
		c.ClipNorm = tc.clip
		want := run(t, c)
		if tc.prec == "f32" {
			if _, ok := want.Optimizer().(optim.Stepper32); !ok {
				t.Fatalf("%s: optimizer %T is not float32", preset, want.Optimizer())
			}
			for i, v := range want.Model.Params() {
				if float64(float32(v)) != v {
					t.Fatalf("%s: parameter %d = %v is not a float32 value", preset, i, v)
				}
			}
		}
		for _, stopAt := range []int{1, 6, 7, 13} {
			tr, _ := New(c)
			ctx, cancel := context.WithCancel(context.Background())
			batches := 0
			err := tr.Run(ctx, Callbacks{Batch: func(int, int, int) {
				if batches++; batches == stopAt {
					cancel()
				}
			}})
			if !errors.Is(err, ErrInterrupted) {
				t.Fatalf("interrupted run returned %v", err)
			}
			path := filepath.Join(t.TempDir(), CheckpointFile)
			if err := tr.WriteCheckpoint(path); err != nil {
				t.Fatal(err)
			}
			again, _ := New(c)
			if err := again.Resume(path); err != nil {
				t.Fatal(err)
			}
			if err := again.Run(context.Background(), Callbacks{}); err != nil {
				t.Fatal(err)
			}
			for i := range want.Model.Params() {
				if math.Float64bits(want.Model.Params()[i]) != math.Float64bits(again.Model.Params()[i]) {
					t.Fatalf("%s stopped after batch %d: param %d = %v, uninterrupted %v", preset, stopAt, i, again.Model.Params()[i], want.Model.Params()[i])
				}
			}
			if len(again.History) != len(want.History) || again.History[2].ValLoss != want.History[2].ValLoss {
				t.Fatalf("history differs after resume")
			}
		}
	}
}

func TestResumeRejects(t *testing.T) {
	c := small(t, "seed")
	tr, _ := New(c)
	path := filepath.Join(t.TempDir(), CheckpointFile)
	if err := tr.WriteCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	c2 := c
	c2.LR = 0.1
	other, _ := New(c2)
	if err := other.Resume(path); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("other config: %v", err)
	}
	if err := tr.Resume(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestDivergenceStops(t *testing.T) {
	c := small(t, "seed")
	for _, opt := range []string{"sgd", "adagrad", "adam"} {
		c.Optimizer, c.LR = opt, 1e6
		tr, _ := New(c)
		err := tr.Run(context.Background(), Callbacks{})
		if !errors.Is(err, ErrDiverged) || !strings.Contains(err.Error(), "learning rate") {
			t.Fatalf("%s lr 1e6: error %v, want ErrDiverged naming the learning rate", opt, err)
		}
	}
	tr, _ := New(c)
	tr.Run(context.Background(), Callbacks{})
	for _, v := range tr.Model.Params() {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			// The weights of the diverged step may be non-finite; the CLI
			// refuses to save them. Check that Check reports it.
			if tr.Model.Check() == nil {
				t.Fatal("Check accepts non-finite weights")
			}
			break
		}
	}
}

func TestValidateErrors(t *testing.T) {
	for _, c := range []struct {
		key string
		mod func(*Config)
	}{
		{"n", func(c *Config) { c.N = 0 }},
		{"in-band", func(c *Config) { c.InBand = 11 }},
		{"out-band", func(c *Config) { c.OutBand = 6 }},
		{"loss", func(c *Config) { c.Loss = "l1" }},
		{"num-probes", func(c *Config) { c.NumProbes = 0 }},
		{"batch-size", func(c *Config) { c.BatchSize = -1 }},
		{"lr", func(c *Config) { c.LR = math.NaN() }},
		{"epochs", func(c *Config) { c.Epochs = 0 }},
		{"hidden", func(c *Config) { c.Hidden = []int{0} }},
		{"activation", func(c *Config) { c.Activation = "sigmoid" }},
		{"optimizer", func(c *Config) { c.Optimizer = "lbfgs" }},
		{"schedule", func(c *Config) { c.Schedule = "step" }},
		{"drop-period", func(c *Config) { c.Schedule, c.DropFactor, c.DropPeriod = "piecewise", 0.5, 0 }},
		{"reduction", func(c *Config) { c.Reduction = "avg" }},
		{"train-size", func(c *Config) { c.TrainSize = 0 }},
	} {
		cfg, _ := Preset("seed")
		c.mod(&cfg)
		err := cfg.Validate()
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%s: error %v, want ErrConfig naming the key", c.key, err)
		}
	}
}

func TestParseConfig(t *testing.T) {
	base, _ := Preset("seed")
	c, err := ParseConfig([]byte("epochs: 3\nhidden: [8, 9]\nlr: 0.5\n"), "x.yaml", base)
	if err != nil || c.Epochs != 3 || len(c.Hidden) != 2 || c.LR != 0.5 || c.N != 11 {
		t.Fatalf("got %+v, %v", c, err)
	}
	for _, src := range []string{"epochs: 3\nbogus: 1\n", "epochs: three\n", "epochs: [1\n"} {
		_, err := ParseConfig([]byte(src), "x.yaml", base)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "x.yaml") {
			t.Errorf("%q: %v", src, err)
		}
	}
	_, err = ParseConfig([]byte("epochs: 3\nbogus: 1\n"), "x.yaml", base)
	if !strings.Contains(err.Error(), "x.yaml:2") || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("unknown key error does not name file and line: %v", err)
	}
	round, err := ParseConfig(MarshalConfig(&base), "round", Config{})
	if err != nil || ConfigHash(&round) != ConfigHash(&base) {
		t.Errorf("YAML round trip changed the config: %v", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	base, _ := Preset("seed")
	f.Add(MarshalConfig(&base))
	f.Add([]byte("epochs: -1\nhidden: [1,2]\n"))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := ParseConfig(src, "fuzz.yaml", base)
		if err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("error without ErrConfig: %v", err)
			}
			return
		}
		_ = c.Validate() // must not panic
	})
}
