package train

import (
	"errors"
	"strings"
	"testing"
)

// TestConfigFileErrors checks that every mistake in a configuration file
// is a *ConfigError naming the file, the line, the key and what is valid.
func TestConfigFileErrors(t *testing.T) {
	for _, c := range []struct {
		src, key string
		line     int
		want     string
	}{
		{"epochs: 3\nn: 13.7\n", "n", 2, "between 1 and 4096"},
		{"n: 015\n", "n", 1, "leading zero"},
		{"n: 0x10\n", "n", 1, "not an integer"},
		{"n: 1e3\n", "n", 1, "not an integer"},
		{"seed: 2^64\n", "seed", 1, "18446744073709551615"},
		{"seed: 18446744073709551616\n", "seed", 1, "out of range"},
		{"seed: -1\n", "seed", 1, "negative"},
		{"epochs: 1.9\n", "epochs", 1, "between 1 and 1000000"},
		{"epochs:\n", "epochs", 1, "no value"},
		{"lr: fast\n", "lr", 1, "finite"},
		{"lr: .inf\n", "lr", 1, "finite"},
		{"standardize: yes\n", "standardize", 1, "true or false"},
		{"hidden: [100, 1.5]\n", "hidden", 1, "at most 64 widths"},
		{"hidden: {a: 1}\n", "hidden", 1, "mapping"},
		{"n: [1, 2]\n", "n", 1, "a list where one value belongs"},
		{"optimizer: adma\n", "optimizer", 1, "did you mean adam"},
		{"loss: l1\n", "loss", 1, "probe, frobenius or spectral"},
		{"data: gausian\n", "data", 1, "did you mean gaussian"},
		{"epochs: 2\nbatchsize: 3\n", "batchsize", 2, "did you mean batch-size"},
		{"epochs: 2\n\nepochs: 3\n", "epochs", 3, "first set on line 1"},
	} {
		_, err := ParseConfig([]byte(c.src), "x.yaml", mustPreset(t, "seed"))
		var ce *ConfigError
		if !errors.As(err, &ce) || !errors.Is(err, ErrConfig) {
			t.Errorf("%q: error %v, want a *ConfigError", c.src, err)
			continue
		}
		if ce.Key != c.key || ce.File != "x.yaml" || ce.Line != c.line || !strings.Contains(err.Error(), c.want) ||
			!strings.HasPrefix(err.Error(), "x.yaml:") {
			t.Errorf("%q: %v (key %q line %d), want key %q line %d mentioning %q", c.src, err, ce.Key, ce.Line, c.key, c.line, c.want)
		}
	}
}

// TestRangeErrorsNameTheLine checks that an error found only when the
// layers are combined still names the file and line of the key.
func TestRangeErrorsNameTheLine(t *testing.T) {
	for _, c := range []struct {
		src, key string
		line     int
		want     string
	}{
		{"epochs: 3\nn: 5000\n", "n", 2, "between 1 and 4096"},
		{"n: 11\nout-band: 9\n", "out-band", 2, "between 0 and 5"},
		{"epochs: 3\nwarm-start: 4\n", "warm-start", 2, "between 0 and 3"},
		{"optimizer: adam\nmomentum: 0.9\n", "momentum", 2, "does not apply: it is for optimizer sgd"},
		{"schedule: cosine\ndrop-factor: 0.5\n", "drop-factor", 2, "schedule piecewise"},
		{"loss: spectral\nnum-probes: 7\n", "num-probes", 2, "loss probe"},
		{"data: rows.csv\ntrain-size: 7\n", "train-size", 2, "generated data"},
		{"min-delta: 0.1\n", "min-delta", 1, "patience is 0"},
		{"batch-size: 0\n", "batch-size", 1, "between 1 and 1048576"},
		// The preset's in-band 5 no longer fits: the error points at n.
		{"epochs: 3\nn: 5\n", "in-band", 2, "in-band: 5: the inherited value does not fit n = 5; want an integer between 0 and 4"},
		{"epochs: 2\nwarm-start: 0\n", "", 0, ""},
	} {
		b := NewBuilder(mustPreset(t, "seed"))
		err := b.ReadYAML([]byte(c.src), "x.yaml")
		if err == nil {
			_, err = b.Config()
		}
		if c.key == "" {
			if err != nil {
				t.Errorf("%q: %v", c.src, err)
			}
			continue
		}
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Key != c.key || ce.Line != c.line || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %s at line %d mentioning %q", c.src, err, c.key, c.line, c.want)
		}
	}
}

func mustPreset(t testing.TB, name string) Config {
	t.Helper()
	c, err := Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestBuilder checks choice names ignoring case, flags over files, and
// that inherited settings that do not apply are dropped, not rejected.
func TestBuilder(t *testing.T) {
	b := NewBuilder(mustPreset(t, "default")) // cosine schedule, min-lr 1e-5, notebook probes
	if err := b.ReadYAML([]byte("optimizer: ADAMW\nloss: Frobenius\nepochs: 5\n"), "x.yaml"); err != nil {
		t.Fatal(err)
	}
	if err := b.Set("schedule", "Constant", Origin{Flag: true}); err != nil {
		t.Fatal(err)
	}
	if err := b.Set("epochs", "7", Origin{Flag: true}); err != nil {
		t.Fatal(err)
	}
	c, err := b.Config()
	if err != nil {
		t.Fatal(err)
	}
	if c.Optimizer != "adamw" || c.Loss != "frobenius" || c.Schedule != "constant" || c.Epochs != 7 {
		t.Errorf("got %+v", c)
	}
	if c.MinLR != 0 || c.Probes != "" || c.NumProbes != 0 {
		t.Errorf("inherited settings that do not apply were kept: min-lr %g, probes %q, num-probes %d", c.MinLR, c.Probes, c.NumProbes)
	}
	if at, ok := b.Origin("epochs"); !ok || !at.Flag {
		t.Errorf("epochs origin %+v", at)
	}
	err = b.Set("epochs", "1.9", Origin{Flag: true})
	if err == nil || err.Error() != "-epochs 1.9: not an integer; want an integer between 1 and 1000000" {
		t.Errorf("flag error %q", err)
	}
}

// TestPresetsRoundTrip checks that every preset is valid and survives
// MarshalConfig → ParseConfig unchanged, and that preset names ignore case
// and suggest.
func TestPresetsRoundTrip(t *testing.T) {
	for _, name := range PresetNames() {
		c := mustPreset(t, name)
		b := NewBuilder(c)
		got, err := b.Config()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		round, err := ParseConfig(MarshalConfig(&got), "round", Config{})
		if err != nil || ConfigHash(&round) != ConfigHash(&got) {
			t.Errorf("%s: round trip: %v\n%s", name, err, MarshalConfig(&got))
		}
	}
	if _, err := Preset("SPECTRAL-32"); err != nil {
		t.Error(err)
	}
	if _, err := Preset("spectal"); err == nil || !strings.Contains(err.Error(), "did you mean spectral?") {
		t.Errorf("Preset(spectal): %v", err)
	}
}

// TestChoicesListEveryName checks that help's names are the registries'.
func TestChoicesListEveryName(t *testing.T) {
	want := map[string]string{"loss": "probe|frobenius|spectral", "optimizer": "adagrad|sgd|adam|adamw",
		"schedule": "constant|piecewise|cosine", "activation": "tanh|relu|identity", "reduction": "mean|sum",
		"probes": "notebook|gaussian|rademacher|FILE", "n": "int", "seed": "int", "hidden": "list", "lr": "float"}
	for key, typ := range want {
		k, ok := LookupKey(key)
		if !ok || k.Type() != typ {
			t.Errorf("%s: type %q, want %q", key, k.Type(), typ)
		}
	}
	for _, k := range ConfigKeys() {
		if k.Doc == "" || k.Group == "" {
			t.Errorf("key %s lacks a doc or group tag", k.Name)
		}
	}
}

// FuzzBuilder feeds arbitrary YAML to the parser: it must never panic,
// every error must be a *ConfigError, and a configuration it accepts must
// validate, marshal and parse back to itself.
func FuzzBuilder(f *testing.F) {
	base := mustPreset(f, "seed")
	f.Add(MarshalConfig(&base))
	f.Add([]byte("n: 015\nseed: 2^64\n"))
	f.Add([]byte("hidden: [1, 2]\noptimizer: SGD\nmomentum: 0.9\n"))
	f.Add([]byte("a: &x 3\nepochs: *x\n"))
	f.Add([]byte("--- \n---\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		b := NewBuilder(base)
		if err := b.ReadYAML(src, "fuzz.yaml"); err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %v is not a *ConfigError", err, err)
			}
			return
		}
		c, err := b.Config()
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %v is not a *ConfigError", err, err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Config() returned an invalid configuration: %v", err)
		}
		round, err := ParseConfig(MarshalConfig(&c), "round", Config{})
		if err != nil || ConfigHash(&round) != ConfigHash(&c) {
			t.Fatalf("round trip: %v\n%s", err, MarshalConfig(&c))
		}
	})
}

// TestValidateCanonicalizes checks that Validate accepts choice names in
// any case and rewrites them, so that code comparing names sees one
// spelling.
func TestValidateCanonicalizes(t *testing.T) {
	c := mustPreset(t, "seed")
	c.Loss, c.Optimizer, c.Activation, c.Reduction, c.Probes = "PROBE", "AdaGrad", "Tanh", "Sum", "Notebook"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Loss != "probe" || c.Optimizer != "adagrad" || c.Activation != "tanh" || c.Reduction != "sum" || c.Probes != "notebook" {
		t.Errorf("not canonical: %+v", c)
	}
	c.Optimizer, c.Nesterov = "sgd", true
	var ce *ConfigError
	if err := c.Validate(); !errors.As(err, &ce) || ce.Key != "nesterov" {
		t.Errorf("nesterov without momentum: %v", err)
	}
}

// TestBuilderArchitectureKeys checks that the sphere presets' own settings
// (sphere-fraction, symmetry, spectral-smoothing) are dropped when a flag
// picks architecture mlp or another loss, and rejected when set explicitly.
func TestBuilderArchitectureKeys(t *testing.T) {
	for _, tc := range []struct {
		preset, key, value string
	}{
		{"default", "architecture", "mlp"},
		{"spectral", "architecture", "MLP"},
		{"spectral-32", "loss", "frobenius"},
	} {
		b := NewBuilder(mustPreset(t, tc.preset))
		if err := b.Set(tc.key, tc.value, Origin{Flag: true}); err != nil {
			t.Fatal(err)
		}
		c, err := b.Config()
		if err != nil {
			t.Errorf("%s -%s %s: %v", tc.preset, tc.key, tc.value, err)
			continue
		}
		if c.Architecture != "sphere" && (c.SphereFraction != 0 || c.Symmetry != "") {
			t.Errorf("%s -%s %s: sphere settings kept: %+v", tc.preset, tc.key, tc.value, c)
		}
		if c.Loss != "spectral" && c.SpectralSmoothing != 0 {
			t.Errorf("%s -%s %s: spectral-smoothing kept: %g", tc.preset, tc.key, tc.value, c.SpectralSmoothing)
		}
	}
	b := NewBuilder(mustPreset(t, "seed"))
	for key, value := range map[string]string{"architecture": "Sphere", "symmetry": "ODD", "standardize": "false"} {
		if err := b.Set(key, value, Origin{Flag: true}); err != nil {
			t.Fatal(err)
		}
	}
	if c, err := b.Config(); err != nil || c.Architecture != "sphere" || c.Symmetry != "odd" {
		t.Errorf("architecture Sphere, symmetry ODD: %v, %q %q", err, c.Architecture, c.Symmetry)
	}
	b = NewBuilder(mustPreset(t, "seed"))
	if err := b.Set("sphere-fraction", "0.3", Origin{Flag: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Config(); err == nil || !strings.Contains(err.Error(), "does not apply: it is for architecture sphere") {
		t.Errorf("sphere-fraction on an mlp: got %v", err)
	}
}
