package nn

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matapprox/matapprox/optimal"
	"github.com/matapprox/matapprox/structure"
)

func symbolFor(t *testing.T, n, k, ko int, hidden []int, sym Symmetry, seed uint64) *Approximator {
	t.Helper()
	a, err := NewSymbol(structure.Band{N: n, K: k}, structure.Band{N: n, K: ko}, hidden, Tanh, sym, rand.New(rand.NewPCG(seed, 7)))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// randomizeLast gives the last layer random weights of order one, so that
// the correction is not zero.
func randomizeLast(a *Approximator, rng *rand.Rand) {
	ly := a.Net.Layer(a.Net.NumLayers() - 1)
	for i := range ly.W {
		ly.W[i] = rng.NormFloat64()
	}
	for i := range ly.B {
		ly.B[i] = rng.NormFloat64()
	}
}

// symbolA returns a_∞ of x by optimal.SolveSymbol.
func symbolA(t *testing.T, a *Approximator, x []float64) []float64 {
	t.Helper()
	r, err := optimal.SolveSymbol(*a.Meta.In, *a.Meta.Out, x, 0)
	if err != nil {
		t.Fatal(err)
	}
	return r.A
}

// TestSymbolStartsAtSymbolSolution: a new symbol approximator is a_∞ bit
// for bit, whatever the hidden layers.
func TestSymbolStartsAtSymbolSolution(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		n, k, ko int
		hidden   []int
		sym      Symmetry
	}{
		{1024, 5, 3, []int{16, 16}, SymmetryFull},
		{64, 5, 3, nil, Odd},
		{32, 15, 7, []int{8}, SymmetryFull},
		{9, 4, 0, []int{5}, Odd | Modulate},
	} {
		a := symbolFor(t, tc.n, tc.k, tc.ko, tc.hidden, tc.sym, 1)
		L, lo := 2*tc.k+1, 2*tc.ko+1
		x := gaussRows(rng, 5, L)
		got := a.Predict(x, 5)
		for i := 0; i < 5; i++ {
			if want := symbolA(t, a, x[i*L:(i+1)*L]); !equal(got[i*lo:(i+1)*lo], want) {
				t.Fatalf("%v: row %d: %v, want a_∞ %v", tc, i, got[i*lo:(i+1)*lo], want)
			}
		}
	}
}

// TestSymbolCorrection: the output is a_∞ + (K/N)²·ρ·S f(u) with S f(u) the
// sphere approximator's correction for the same network.
func TestSymbolCorrection(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	a := symbolFor(t, 256, 5, 3, []int{7}, SymmetryFull, 2)
	randomizeLast(a, rng)
	sp := a.Clone()
	sp.Kind = KindSphere
	if a.CorrectionScale() != (5.0/256)*(5.0/256) || sp.CorrectionScale() != 1 || FromMLP(a.Net).CorrectionScale() != 0 {
		t.Fatalf("correction scales %v %v", a.CorrectionScale(), sp.CorrectionScale())
	}
	x := gaussRows(rng, 6, 11)
	got, ref := a.Predict(x, 6), sp.Predict(x, 6)
	c := a.CorrectionScale()
	for i := 0; i < 6; i++ {
		ainf := symbolA(t, a, x[i*11:(i+1)*11])
		for j := 0; j < 7; j++ {
			want := ainf[j] + c*(ref[i*7+j]-x[i*11+2+j])
			if math.Abs(got[i*7+j]-want) > 1e-12*(1+math.Abs(want)) {
				t.Fatalf("row %d entry %d: %v, want %v", i, j, got[i*7+j], want)
			}
		}
	}
}

// TestSymbolExactByConstruction checks the properties of the package
// documentation for a symbol approximator with a nonzero correction: exact
// on in-band inputs, in-band shifts pass through, homogeneity over 600
// decades (to 1e-12) and equivariance under the group (to 1e-10 relative:
// the symbol solver's answers, not rounding alone, set these two).
func TestSymbolExactByConstruction(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct {
		n, k, ko int
		hidden   []int
		sym      Symmetry
	}{
		{1024, 5, 3, []int{16, 16}, SymmetryFull},
		{48, 7, 2, []int{8}, SymmetryFull},
		{11, 5, 3, nil, Odd},
	} {
		a := symbolFor(t, tc.n, tc.k, tc.ko, tc.hidden, tc.sym, 3)
		randomizeLast(a, rng)
		L, lo := 2*tc.k+1, 2*tc.ko+1
		x := gaussRows(rng, 4, L)
		ws := a.NewWorkspace(4)
		base := append([]float64(nil), a.Forward(ws, x, 4)...)
		for i := 0; i < 4; i++ {
			xi := x[i*L : (i+1)*L]
			ai := base[i*lo : (i+1)*lo]
			scale := 0.0
			for _, v := range xi {
				scale = math.Max(scale, math.Abs(v))
			}
			in := make([]float64, L)
			copy(in[tc.k-tc.ko:], xi[tc.k-tc.ko:tc.k+tc.ko+1])
			if got := a.Forward(ws, in, 1); !equal(got, xi[tc.k-tc.ko:tc.k+tc.ko+1]) {
				t.Fatalf("%v: in-band input %v gave %v", tc, in, got)
			}
			sh := append([]float64(nil), xi...)
			for j := tc.k - tc.ko; j <= tc.k+tc.ko; j++ {
				sh[j] += float64(j)
			}
			got := a.Forward(ws, sh, 1)
			for j := range got {
				if want := ai[j] + float64(j+tc.k-tc.ko); math.Abs(got[j]-want) > 1e-12*(scale+math.Abs(want)) {
					t.Fatalf("%v: shifting x_I: entry %d %v, want %v", tc, j, got[j], want)
				}
			}
			for _, c := range []float64{1e-300, 1e-3, 7, 1e3, 1e300} {
				xc := make([]float64, L)
				for j := range xc {
					xc[j] = c * xi[j]
				}
				got := a.Forward(ws, xc, 1)
				for j := range got {
					if want := c * ai[j]; math.Abs(got[j]-want) > 1e-12*c*scale || math.IsInf(got[j], 0) {
						t.Fatalf("%v: scale %g: entry %d %v, want %v", tc, c, j, got[j], want)
					}
				}
			}
			for _, g := range elements(tc.sym) {
				got := a.Forward(ws, transform(g, xi, tc.k), 1)
				want := transform(g, ai, tc.ko)
				for j := range got {
					if math.Abs(got[j]-want[j]) > 1e-10*scale {
						t.Fatalf("%v: element %v: entry %d %v, want %v", tc, g, j, got[j], want[j])
					}
				}
			}
		}
	}
}

// TestSymbolNonFinite: a row with a non-finite entry gives NaN outputs and
// leaves the other rows alone.
func TestSymbolNonFinite(t *testing.T) {
	a := symbolFor(t, 64, 5, 3, []int{4}, SymmetryFull, 4)
	x := gaussRows(rand.New(rand.NewPCG(7, 8)), 2, 11)
	want := a.Predict(x[11:], 1)
	x[0] = math.Inf(1)
	got := a.Predict(x, 2)
	for j := 0; j < 7; j++ {
		if !math.IsNaN(got[j]) {
			t.Fatalf("row with +Inf: entry %d = %v, want NaN", j, got[j])
		}
	}
	if !equal(got[7:], want) {
		t.Fatalf("the finite row changed: %v, want %v", got[7:], want)
	}
}

func TestSymbolGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	for _, sym := range []Symmetry{0, Odd, SymmetryFull} {
		a := symbolFor(t, 40, 5, 3, []int{6, 5}, sym, 3)
		randomizeLast(a, rng)
		n := 5
		x := gaussRows(rng, n, 11)
		x[3*11+0], x[3*11+1], x[3*11+9], x[3*11+10] = 0, 0, 0, 0 // an in-band row
		// The loss E = Σ c·(y − a_∞)²/2 ties the parameters to the
		// correction alone; a_∞ does not depend on them.
		ainf := make([]float64, n*7)
		for i := 0; i < n; i++ {
			copy(ainf[i*7:], symbolA(t, a, x[i*11:(i+1)*11]))
		}
		c := gaussRows(rng, n, 7)
		for i := range c {
			c[i] /= a.CorrectionScale()
		}
		checkGradient(t, a, x, n, c, ainf, 2, 1e-5, 1e-5, sym)
	}
}

func TestSymbolSaveLoad(t *testing.T) {
	a := symbolFor(t, 1024, 5, 3, []int{9, 7}, SymmetryFull, 4)
	randomizeLast(a, rand.New(rand.NewPCG(2, 3)))
	a.Meta.Extra = map[string]string{"loss": "spectral"}
	dir := t.TempDir()
	if err := a.Save(dir); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, filepath.Join(dir, WeightsFile)} {
		got, err := LoadApproximator(p)
		if err != nil {
			t.Fatal(err)
		}
		if got.Kind != KindSymbol || got.Symmetry != SymmetryFull || *got.Meta.In != *a.Meta.In || *got.Meta.Out != *a.Meta.Out || got.Meta.Extra["loss"] != "spectral" {
			t.Fatalf("loaded %+v", got)
		}
		x := gaussRows(rand.New(rand.NewPCG(1, 1)), 10, 11)
		if !equal(got.Predict(x, 10), a.Predict(x, 10)) {
			t.Fatalf("%s gives other outputs than the model", p)
		}
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "symbol approximator") {
		t.Fatalf("Load of a symbol model: %v", err)
	}
	meta, err := a.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	info := meta[MetadataKey]
	bare := strings.Replace(strings.Replace(info, `"in_band":{"N":1024,"K":5},`, "", 1), `"out_band":{"N":1024,"K":3},`, "", 1)
	if _, err := FromFile(a.Net.Tensors(), bare); err == nil || !strings.Contains(err.Error(), "architecture symbol needs in_band and out_band") {
		t.Fatalf("a symbol model without bands: %v", err)
	}
}

func TestSymbolRefuses(t *testing.T) {
	in, out := structure.Band{N: 64, K: 5}, structure.Band{N: 64, K: 3}
	rng := rand.New(rand.NewPCG(1, 1))
	if _, err := NewSymbol(in, in, []int{4}, Tanh, Odd, rng); err == nil {
		t.Error("NewSymbol with K' = K: no error")
	}
	if _, err := NewSymbol(out, in, []int{4}, Tanh, Odd, rng); err == nil {
		t.Error("NewSymbol with K' > K: no error")
	}
	a, err := NewSymbol(in, out, []int{4}, Tanh, Odd, rng)
	if err != nil {
		t.Fatal(err)
	}
	a.Net.Mean, a.Net.Std = make([]float64, 4), []float64{1, 1, 1, 1}
	if err := a.Check(); err == nil || !strings.Contains(err.Error(), "symbol takes unit directions") {
		t.Errorf("standardised symbol approximator: %v", err)
	}
	if k, err := ParseKind("symbol"); err != nil || k != KindSymbol || !k.OnSphere() || KindMLP.OnSphere() {
		t.Errorf("ParseKind(symbol) = %v, %v", k, err)
	}
	sp := symbolFor(t, 64, 5, 3, []int{4}, Odd, 1)
	sp.Kind = KindSphere
	defer func() {
		if recover() == nil {
			t.Error("a sphere workspace accepted by a symbol approximator")
		}
	}()
	a.Forward(sp.NewWorkspace(2), gaussRows(rng, 1, 11), 1)
}
