package nn

import (
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/matapprox/matapprox/structure"
)

var updateTorch = flag.Bool("update-torch", false, "rewrite the models and inputs of testdata/torch (then run scripts/matapprox_torch.py --fixtures)")

const torchDir = "../testdata/torch"

// torchModels are the fixture models: every architecture, symmetry and
// activation, standardised or not.
func torchModels(t *testing.T) map[string]*Approximator {
	rng := rand.New(rand.NewPCG(21, 22))
	ms := map[string]*Approximator{}
	mlp := func(cfg Config, std bool) *Approximator {
		m, err := New(cfg, rng)
		if err != nil {
			t.Fatal(err)
		}
		if std {
			m.Standardize(randBatch(rng, 50, cfg.Inputs, 11), 50)
		}
		a := FromMLP(m)
		a.Meta = Meta{In: &structure.Band{N: 11, K: 5}, Out: &structure.Band{N: 11, K: 3}}
		return a
	}
	ms["mlp_std.safetensors"] = mlp(Config{Inputs: 11, Hidden: []int{16, 16}, Outputs: 7, Activation: Tanh}, true)
	ms["mlp_relu.safetensors"] = mlp(Config{Inputs: 11, Hidden: []int{8}, Outputs: 7, Activation: ReLU}, false)
	sphere := func(n, k, ko int, hidden []int, act Activation, sym Symmetry) *Approximator {
		a, err := NewSphere(structure.Band{N: n, K: k}, structure.Band{N: n, K: ko}, hidden, act, sym, rng)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	ms["sphere_full.safetensors"] = sphere(11, 5, 3, []int{12, 12}, Tanh, SymmetryFull)
	ms["sphere_linear.safetensors"] = sphere(11, 5, 3, nil, Tanh, Odd)
	ms["sphere_32.safetensors"] = sphere(32, 15, 7, []int{8}, Tanh, SymmetryFull)
	ms["sphere_mod.safetensors"] = sphere(9, 4, 1, []int{6}, ReLU, Odd|Modulate)
	ms["sphere_none.safetensors"] = sphere(9, 4, 1, []int{6}, Identity, 0)
	return ms
}

// torchInputs are the fixture inputs for generators of length l: random,
// extreme scales, zero and in-band rows.
func torchInputs(l int) [][]float64 {
	rng := rand.New(rand.NewPCG(uint64(l), 5))
	k := (l - 1) / 2
	var rows [][]float64
	for i := 0; i < 6; i++ {
		r := make([]float64, l)
		for j := range r {
			if i < 3 {
				r[j] = rng.Float64() * float64(l)
			} else {
				r[j] = rng.NormFloat64()
			}
		}
		rows = append(rows, r)
	}
	for _, c := range []float64{1e-300, 1e-3, 1e3, 1e300} {
		r := make([]float64, l)
		for j := range r {
			r[j] = c * rows[3][j]
		}
		rows = append(rows, r)
	}
	rows = append(rows, make([]float64, l))
	inband := append([]float64(nil), rows[0]...)
	inband[0], inband[l-1] = 0, 0
	if k > 0 {
		inband[1], inband[l-2] = 0, 0
	}
	return append(rows, inband)
}

// TestTorchFixtures checks that scripts/matapprox_torch.py, which produced
// testdata/torch/expected.json from the model files beside it, computes
// what matapprox computes, to 1e-9 relative to each output row.
func TestTorchFixtures(t *testing.T) {
	if *updateTorch {
		for name, a := range torchModels(t) {
			dir := t.TempDir()
			if err := a.Save(dir); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(dir, WeightsFile))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(torchDir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		nb, err := os.ReadFile(filepath.Join("../testdata/parity", "notebook.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(torchDir, "notebook.safetensors"), nb, 0o644); err != nil {
			t.Fatal(err)
		}
		inputs := map[string][][]float64{}
		for _, l := range []int{9, 11, 31} {
			inputs[strconv.Itoa(l)] = torchInputs(l)
		}
		b, _ := json.MarshalIndent(inputs, "", " ")
		if err := os.WriteFile(filepath.Join(torchDir, "inputs.json"), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("now run: /usr/bin/python3 scripts/matapprox_torch.py --fixtures")
		return
	}
	var inputs map[string][][]float64
	raw, err := os.ReadFile(filepath.Join(torchDir, "inputs.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &inputs); err != nil {
		t.Fatal(err)
	}
	var expected struct {
		Outputs map[string][][]string `json:"outputs"`
	}
	raw, err = os.ReadFile(filepath.Join(torchDir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &expected); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(torchDir, "*.safetensors"))
	if len(names) < 8 || len(expected.Outputs) != len(names) {
		t.Fatalf("%d model files and %d expected outputs in %s", len(names), len(expected.Outputs), torchDir)
	}
	sort.Strings(names)
	for _, path := range names {
		name := filepath.Base(path)
		a, err := LoadApproximator(path)
		if err != nil {
			t.Fatal(err)
		}
		rows := inputs[strconv.Itoa(a.Inputs())]
		want := expected.Outputs[name]
		if len(rows) == 0 || len(want) != len(rows) {
			t.Fatalf("%s: %d inputs, %d expected rows", name, len(rows), len(want))
		}
		L := a.Inputs()
		x := make([]float64, 0, len(rows)*L)
		for _, r := range rows {
			x = append(x, r...)
		}
		got := a.Predict(x, len(rows))
		lo := a.Outputs()
		for i, wr := range want {
			w := make([]float64, lo)
			scale := 0.0
			for j, s := range wr {
				if w[j], err = strconv.ParseFloat(s, 64); err != nil {
					t.Fatal(err)
				}
				scale = math.Max(scale, math.Abs(w[j]))
			}
			for j := range w {
				if d := math.Abs(got[i*lo+j] - w[j]); !(d <= 1e-9*scale) {
					t.Errorf("%s row %d entry %d: matapprox %v, PyTorch %v", name, i, j, got[i*lo+j], w[j])
				}
			}
		}
	}
}
