package nn

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matapprox/matapprox/safetensors"
	"github.com/matapprox/matapprox/structure"
)

func sameModel(t *testing.T, got, want *MLP) {
	t.Helper()
	if got.Config.String() != want.Config.String() {
		t.Fatalf("config %v, want %v", got.Config, want.Config)
	}
	for i := range want.Params {
		if got.Params[i] != want.Params[i] {
			t.Fatalf("param %d = %v, want %v", i, got.Params[i], want.Params[i])
		}
	}
}

func TestSaveLoad(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	m, err := New(NotebookConfig(), rng)
	if err != nil {
		t.Fatal(err)
	}
	m.Standardize(randBatch(rng, 20, 11, 11), 20)
	m.Meta = Meta{In: &structure.Band{N: 11, K: 5}, Out: &structure.Band{N: 11, K: 3}, Extra: map[string]string{"loss": "probe"}}
	dir := filepath.Join(t.TempDir(), "model")
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, filepath.Join(dir, ConfigFile)} {
		got, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		sameModel(t, got, m)
		for j := range m.Mean {
			if got.Mean[j] != m.Mean[j] || got.Std[j] != m.Std[j] {
				t.Fatalf("standardisation %d: %v/%v, want %v/%v", j, got.Mean[j], got.Std[j], m.Mean[j], m.Std[j])
			}
		}
		if *got.Meta.In != *m.Meta.In || *got.Meta.Out != *m.Meta.Out || got.Meta.Extra["loss"] != "probe" {
			t.Fatalf("meta %+v, want %+v", got.Meta, m.Meta)
		}
	}

	// A bare safetensors file: architecture from shapes, activation from
	// the metadata; no standardisation.
	r := m.Clone()
	r.Config.Activation = ReLU
	r.Mean, r.Std = nil, nil
	dir2 := t.TempDir()
	if err := r.Save(dir2); err != nil {
		t.Fatal(err)
	}
	got, err := Load(filepath.Join(dir2, WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	sameModel(t, got, r)
	if got.Mean != nil {
		t.Error("bare file gave a standardisation")
	}
	// Without metadata the activation defaults to tanh.
	bare := filepath.Join(t.TempDir(), "x.safetensors")
	if err := safetensors.WriteFile(bare, r.Tensors(), nil); err != nil {
		t.Fatal(err)
	}
	if got, err := Load(bare); err != nil || got.Config.Activation != Tanh {
		t.Fatalf("bare file without metadata: %v, %v", got, err)
	}
	// A directory without config.json.
	os.Remove(filepath.Join(dir2, ConfigFile))
	if got, err := Load(dir2); err != nil || got.Config.Activation != ReLU {
		t.Fatalf("directory without config.json: %v, %v", got, err)
	}
}

func TestLoadErrors(t *testing.T) {
	m, _ := New(Config{Inputs: 3, Hidden: []int{4}, Outputs: 2}, rand.New(rand.NewPCG(1, 2)))
	dir := t.TempDir()
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	// A directory written by matapprox before ModelVersion 2: its
	// safetensors metadata has only the activation, config.json the rest.
	if err := safetensors.WriteFile(filepath.Join(dir, WeightsFile), m.Tensors(), map[string]string{"format": "pt", "activation": "tanh"}); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, ConfigFile)
	orig, _ := os.ReadFile(cfgPath)
	for _, tc := range []struct {
		name, config, want string
	}{
		{"architecture mismatch", strings.Replace(string(orig), `"hidden": [
      4
    ]`, `"hidden": [5]`, 1), "describes"},
		{"wrong format", strings.Replace(string(orig), configFormat, "other", 1), "format"},
		{"bad json", "{", "unexpected end"},
		{"bad activation", strings.Replace(string(orig), `"tanh"`, `"gelu"`, 1), "activation"},
		{"bad band", strings.Replace(string(orig), `"config"`, `"in_band": {"N": 3, "K": 2}, "config"`, 1), "band"},
		{"bad std", strings.Replace(string(orig), `"config"`, `"mean": [0,0,0], "std": [1,0,1], "config"`, 1), "deviation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(cfgPath, []byte(tc.config), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	if _, err := Load(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing path: %v", err)
	}
	m.Meta.In = &structure.Band{N: 5, K: 2}
	m.Meta.Out = &structure.Band{N: 5, K: 1}
	if err := m.Save(t.TempDir()); err == nil {
		t.Error("Save with an output band of the wrong width: no error")
	}
}

func TestFromTensors(t *testing.T) {
	m, _ := New(NotebookConfig(), rand.New(rand.NewPCG(3, 3)))
	ts := m.Tensors()
	names := []string{"net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias", "net.4.weight", "net.4.bias"}
	for i, n := range names {
		if ts[i].Name != n || ts[i].DType != "F64" {
			t.Fatalf("tensor %d is %s %s, want %s F64", i, ts[i].Name, ts[i].DType, n)
		}
	}
	if s := ts[2].Shape; len(s) != 2 || s[0] != 100 || s[1] != 100 {
		t.Fatalf("net.2.weight shape %v", s)
	}
	rename := func(prefix string) []safetensors.Tensor {
		out := make([]safetensors.Tensor, len(ts))
		for i, t := range ts {
			t.Name = prefix + strings.TrimPrefix(t.Name, "net.")
			out[i] = t
		}
		return out
	}
	for _, p := range []string{"", "net.", "model.net."} {
		got, err := FromTensors(rename(p), Tanh)
		if err != nil {
			t.Fatalf("prefix %q: %v", p, err)
		}
		sameModel(t, got, m)
	}
	// Order of tensors does not matter.
	rev := rename("net.")
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	if got, err := FromTensors(rev, Tanh); err != nil {
		t.Fatal(err)
	} else {
		sameModel(t, got, m)
	}

	edit := func(f func(ts []safetensors.Tensor) []safetensors.Tensor) []safetensors.Tensor {
		c := make([]safetensors.Tensor, len(ts))
		for i, t := range ts {
			t.Shape = append([]int(nil), t.Shape...)
			c[i] = t
		}
		return f(c)
	}
	for _, tc := range []struct {
		name string
		ts   []safetensors.Tensor
		want string
	}{
		{"empty", nil, "no tensors"},
		{"missing bias", edit(func(c []safetensors.Tensor) []safetensors.Tensor { return append(c[:3:3], c[4:]...) }), `"net.2.bias" missing`},
		{"missing layer", edit(func(c []safetensors.Tensor) []safetensors.Tensor { return append(c[:2:2], c[4:]...) }), "layer 1"},
		{"odd index", edit(func(c []safetensors.Tensor) []safetensors.Tensor { c[2].Name = "net.1.weight"; return c }), `"net.1.weight"`},
		{"unknown tensor", edit(func(c []safetensors.Tensor) []safetensors.Tensor {
			return append(c, safetensors.Tensor{Name: "net.0.running_mean", DType: "F64", Shape: []int{1}, Data: []float64{0}})
		}), `"net.0.running_mean"`},
		{"mixed prefix", edit(func(c []safetensors.Tensor) []safetensors.Tensor { c[3].Name = "model.net.2.bias"; return c }), "prefix"},
		{"chain mismatch", edit(func(c []safetensors.Tensor) []safetensors.Tensor {
			c[2].Shape = []int{100, 50}
			c[2].Data = c[2].Data[:5000]
			return c
		}), `"net.2.weight" has shape [100 50]`},
		{"bias shape", edit(func(c []safetensors.Tensor) []safetensors.Tensor { c[5].Shape = []int{1, 7}; return c }), `"net.4.bias" has shape [1 7], want [7]`},
		{"weight rank", edit(func(c []safetensors.Tensor) []safetensors.Tensor { c[0].Shape = []int{1100}; return c }), `"net.0.weight" has shape [1100]`},
		{"data length", edit(func(c []safetensors.Tensor) []safetensors.Tensor { c[1].Data = c[1].Data[:3]; return c }), `"net.0.bias": 3 values`},
		{"duplicate", edit(func(c []safetensors.Tensor) []safetensors.Tensor { return append(c, c[0]) }), "twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromTensors(tc.ts, Tanh)
			if !errors.Is(err, ErrTensor) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrTensor mentioning %s", err, tc.want)
			}
		})
	}
}

func FuzzLoadBytes(f *testing.F) {
	m, _ := New(Config{Inputs: 2, Hidden: []int{3}, Outputs: 1}, rand.New(rand.NewPCG(1, 1)))
	var buf bytes.Buffer
	if err := safetensors.Encode(&buf, m.Tensors(), map[string]string{"activation": "relu"}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, meta, err := safetensors.Decode(data)
		if err != nil {
			return
		}
		act, err := ParseActivation(meta["activation"])
		if err != nil {
			act = Tanh
		}
		var n int
		for _, t := range ts {
			n += len(t.Data)
		}
		if n > 1<<16 {
			return
		}
		m, err := FromTensors(ts, act)
		if err != nil {
			return
		}
		if err := m.Check(); err != nil {
			t.Fatalf("FromTensors accepted an inconsistent model: %v", err)
		}
		// Round trip.
		m2, err := FromTensors(m.Tensors(), act)
		if err != nil {
			t.Fatal(err)
		}
		sameModel(t, m2, m)
	})
}
