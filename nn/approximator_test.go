package nn

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matapprox/matapprox/safetensors"
	"github.com/matapprox/matapprox/structure"
)

func sphereFor(t *testing.T, n, k, ko int, hidden []int, sym Symmetry, seed uint64) *Approximator {
	t.Helper()
	a, err := NewSphere(structure.Band{N: n, K: k}, structure.Band{N: n, K: ko}, hidden, Tanh, sym, rand.New(rand.NewPCG(seed, 7)))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func gaussRows(rng *rand.Rand, n, l int) []float64 {
	x := make([]float64, n*l)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return x
}

// transform applies a group element to a generator of half-bandwidth k
// (index j is diagonal j−k) by its definition on diagonals.
func transform(g Symmetry, x []float64, k int) []float64 {
	y := make([]float64, len(x))
	for j := range x {
		d := j - k
		src := j
		if g&Reverse != 0 {
			src = k - d
		}
		v := x[src]
		if g&Modulate != 0 && d%2 != 0 {
			v = -v
		}
		if g&Odd != 0 {
			v = -v
		}
		y[j] = v
	}
	return y
}

func TestSphereExactByConstruction(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		n, k, ko int
		hidden   []int
		sym      Symmetry
	}{
		{11, 5, 3, []int{16, 16}, SymmetryFull},
		{11, 5, 3, nil, Odd},
		{32, 15, 7, []int{8}, SymmetryFull},
		{9, 4, 0, []int{5}, Odd | Modulate},
		{7, 3, 2, []int{5}, Reverse},
	} {
		a := sphereFor(t, tc.n, tc.k, tc.ko, tc.hidden, tc.sym, 1)
		L, lo := 2*tc.k+1, 2*tc.ko+1
		x := gaussRows(rng, 6, L)
		ws := a.NewWorkspace(8)
		base := append([]float64(nil), a.Forward(ws, x, 6)...)
		for i := 0; i < 6; i++ {
			xi := x[i*L : (i+1)*L]
			ai := base[i*lo : (i+1)*lo]
			// In-band input: exactly x_I.
			in := make([]float64, L)
			copy(in[tc.k-tc.ko:], xi[tc.k-tc.ko:tc.k+tc.ko+1])
			if got := a.Forward(ws, in, 1); !equal(got, xi[tc.k-tc.ko:tc.k+tc.ko+1]) {
				t.Fatalf("%v: in-band input %v gave %v", tc, in, got)
			}
			// Changing x_I shifts a by the same amount.
			sh := append([]float64(nil), xi...)
			for j := tc.k - tc.ko; j <= tc.k+tc.ko; j++ {
				sh[j] += float64(j)
			}
			got := a.Forward(ws, sh, 1)
			for j := range got {
				if math.Abs(got[j]-ai[j]-float64(j+tc.k-tc.ko)) > 1e-12*(1+math.Abs(ai[j])) {
					t.Fatalf("%v: shifting x_I: entry %d %v, want %v", tc, j, got[j], ai[j]+float64(j+tc.k-tc.ko))
				}
			}
			// Positive homogeneity of the correction, over 600 decades.
			for _, c := range []float64{1e-300, 1e-3, 7, 1e3, 1e300} {
				xc := make([]float64, L)
				for j := range xc {
					xc[j] = c * xi[j]
				}
				got := a.Forward(ws, xc, 1)
				for j := range got {
					if want := c * ai[j]; math.Abs(got[j]-want) > 1e-13*math.Abs(c)*(1+math.Abs(ai[j])) || math.IsInf(got[j], 0) {
						t.Fatalf("%v: scale %g: entry %d %v, want %v", tc, c, j, got[j], want)
					}
				}
			}
			// Equivariance under every element of the group.
			for _, g := range elements(tc.sym) {
				got := a.Forward(ws, transform(g, xi, tc.k), 1)
				want := transform(g, ai, tc.ko)
				for j := range got {
					if math.Abs(got[j]-want[j]) > 1e-12*(1+math.Abs(want[j])) {
						t.Fatalf("%v: element %v: entry %d %v, want %v", tc, g, j, got[j], want[j])
					}
				}
			}
		}
	}
}

// TestSphereLinearHead: with no hidden layer and the odd symmetry the
// approximator is exactly the linear map x ↦ x_I + W x_out (the bias
// cancels), which is the exact form of the probe and Frobenius optima.
func TestSphereLinearHead(t *testing.T) {
	a := sphereFor(t, 11, 5, 3, nil, Odd, 2)
	rng := rand.New(rand.NewPCG(5, 6))
	x := gaussRows(rng, 4, 11)
	got := a.Predict(x, 4)
	ly := a.Net.Layer(0)
	for i := 0; i < 4; i++ {
		xo := append(append([]float64(nil), x[i*11:i*11+2]...), x[i*11+9:i*11+11]...)
		for o := 0; o < 7; o++ {
			want := x[i*11+2+o]
			for j, v := range xo {
				want += ly.W[o*4+j] * v
			}
			if math.Abs(got[i*7+o]-want) > 1e-12 {
				t.Fatalf("row %d entry %d: %v, want %v", i, o, got[i*7+o], want)
			}
		}
	}
}

func TestSphereGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	for _, sym := range []Symmetry{0, Odd, SymmetryFull} {
		a := sphereFor(t, 11, 5, 3, []int{6, 5}, sym, 3)
		n := 5
		x := gaussRows(rng, n, 11)
		x[3*11+0], x[3*11+1], x[3*11+9], x[3*11+10] = 0, 0, 0, 0 // an in-band row
		c := gaussRows(rng, n, 7)
		checkGradient(t, a, x, n, c, nil, 3, 1e-6, 1e-6, sym)
	}
}

// checkGradient compares a's gradient by Backward with central finite
// differences (step h·(1+|p|), tolerance tol·(1+|fd|)) on every stride-th
// parameter, for the energy E = Σ c·(y − ref)²/2 of its output y on the n
// rows x (ref nil: zero).
func checkGradient(t *testing.T, a *Approximator, x []float64, n int, c, ref []float64, stride int, h0, tol float64, sym Symmetry) {
	t.Helper()
	dev := func(y []float64, i int) float64 {
		if ref == nil {
			return y[i]
		}
		return y[i] - ref[i]
	}
	energy := func() float64 {
		y := a.Predict(x, n)
		e := 0.0
		for i := range y {
			d := dev(y, i)
			e += c[i] * d * d / 2
		}
		return e
	}
	ws := a.NewWorkspace(n)
	y := a.Forward(ws, x, n)
	d := make([]float64, len(y))
	for i := range y {
		d[i] = c[i] * dev(y, i)
	}
	a.ZeroGrad()
	a.Backward(ws, d)
	p := a.Params()
	for i := 0; i < len(p); i += stride {
		old := p[i]
		h := h0 * (1 + math.Abs(old))
		p[i] = old + h
		ep := energy()
		p[i] = old - h
		em := energy()
		p[i] = old
		fd := (ep - em) / (2 * h)
		if g := a.Grads()[i]; math.Abs(g-fd) > tol*(1+math.Abs(fd)) {
			t.Fatalf("symmetry %v: ∂E/∂p[%d] = %v, finite difference %v", sym, i, g, fd)
		}
	}
}

func TestSphereSaveLoadBare(t *testing.T) {
	a := sphereFor(t, 11, 5, 3, []int{9, 7}, SymmetryFull, 4)
	a.Meta.Extra = map[string]string{"loss": "spectral"}
	dir := t.TempDir()
	if err := a.Save(dir); err != nil {
		t.Fatal(err)
	}
	got, err := LoadApproximator(filepath.Join(dir, WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != KindSphere || got.Symmetry != SymmetryFull || *got.Meta.In != *a.Meta.In || got.Meta.Extra["loss"] != "spectral" {
		t.Fatalf("loaded %+v", got)
	}
	x := gaussRows(rand.New(rand.NewPCG(1, 1)), 10, 11)
	if !equal(got.Predict(x, 10), a.Predict(x, 10)) {
		t.Fatal("a bare model file gives other outputs than the model")
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "LoadApproximator") {
		t.Fatalf("Load of a sphere model: %v", err)
	}
	// A standardised plain network: the standardisation travels in the file.
	m, _ := New(NotebookConfig(), rand.New(rand.NewPCG(2, 2)))
	m.Standardize(x, 10)
	d2 := t.TempDir()
	if err := m.Save(d2); err != nil {
		t.Fatal(err)
	}
	bare, err := LoadApproximator(filepath.Join(d2, WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	if !equal(bare.Predict(x, 10), m.Predict(x, 10)) {
		t.Fatal("a bare standardised model file gives other outputs than the model")
	}
}

func TestFromFileRefuses(t *testing.T) {
	a := sphereFor(t, 11, 5, 3, []int{4}, Odd, 5)
	ts := a.Net.Tensors()
	meta, err := a.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	good := meta[MetadataKey]
	for _, tc := range []struct{ name, info, want string }{
		{"no bands", strings.Replace(strings.Replace(good, `"in_band":{"N":11,"K":5},`, "", 1), `"out_band":{"N":11,"K":3},`, "", 1), "needs in_band and out_band"},
		{"no kind", strings.Replace(good, `"kind":"sphere",`, "", 1), "architecture"},
		{"unknown kind", strings.Replace(good, `"sphere"`, `"conv"`, 1), "conv"},
		{"no activation", strings.Replace(good, `"activation":"tanh",`, "", 1), "no activation"},
		{"no symmetry", strings.Replace(good, `"symmetry":"odd",`, "", 1), "no symmetry"},
		{"bad symmetry", strings.Replace(good, `"odd"`, `"odd+rotate"`, 1), "rotate"},
		{"old version", strings.Replace(good, `"version":2`, `"version":1`, 1), "version"},
		{"future version", strings.Replace(good, `"version":2`, `"version":9`, 1), "version"},
		{"unknown field", strings.Replace(good, `{`, `{"bands2":1,`, 1), "bands2"},
		{"hidden mismatch", strings.Replace(good, `"hidden":[4]`, `"hidden":[5]`, 1), "hidden"},
		{"wrong bands", strings.Replace(good, `"K":3`, `"K":2`, 1), "needs a network"},
		{"standardised sphere", strings.Replace(good, `{`, `{"mean":[0,0,0,0],"std":[1,1,1,1],`, 1), "standardisation"},
		{"bad json", good[:10], "metadata"},
	} {
		if _, err := FromFile(ts, tc.info); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
	if _, err := FromFile(ts, good); err != nil {
		t.Fatal(err)
	}
	// An older matapprox file without its config.json is refused.
	p := filepath.Join(t.TempDir(), "old.safetensors")
	m, _ := New(NotebookConfig(), rand.New(rand.NewPCG(1, 1)))
	if err := safetensors.WriteFile(p, m.Tensors(), map[string]string{"format": "pt", "activation": "tanh"}); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadApproximator(p); err == nil || !strings.Contains(err.Error(), "older matapprox") {
		t.Errorf("old bare file: %v", err)
	}
}

func TestSymmetryParse(t *testing.T) {
	for s := Symmetry(0); s <= SymmetryFull; s++ {
		got, err := ParseSymmetry(s.String())
		if err != nil || got != s {
			t.Errorf("ParseSymmetry(%q) = %v, %v", s.String(), got, err)
		}
		if s.Order() != len(elements(s)) {
			t.Errorf("%v: order %d, %d elements", s, s.Order(), len(elements(s)))
		}
	}
}

func FuzzParseSymmetry(f *testing.F) {
	for _, s := range []string{"none", "odd", "odd+reverse+modulate", "reverse+odd", "x", "+"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		s, err := ParseSymmetry(v)
		if err != nil {
			return
		}
		if back, err := ParseSymmetry(s.String()); err != nil || back != s {
			t.Fatalf("%q → %v → %q", v, s, s.String())
		}
	})
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// BenchmarkApproximatorForward compares, side by side, a forward pass of
// the notebook's MLP with the sphere architectures of the presets on
// batches of 256 notebook-like inputs at N = 11.
func BenchmarkApproximatorForward(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	m, _ := New(NotebookConfig(), rng)
	lin, _ := NewSphere(in, out, nil, Tanh, Odd, rng)
	sp, _ := NewSphere(in, out, []int{64, 64}, Tanh, SymmetryFull, rng)
	x := randBatch(rng, 256, 11, 11)
	for _, c := range []struct {
		name string
		a    *Approximator
	}{{"mlp-11-100-100-7", FromMLP(m)}, {"sphere-linear-odd", lin}, {"sphere-64-64-full", sp}} {
		b.Run(c.name, func(b *testing.B) {
			ws := c.a.NewWorkspace(256)
			for i := 0; i < b.N; i++ {
				c.a.Forward(ws, x, 256)
			}
			b.ReportMetric(float64(b.N*256)/b.Elapsed().Seconds(), "matrices/s")
		})
	}
}
