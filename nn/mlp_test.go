package nn

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"

	"github.com/matapprox/matapprox/internal/gemm"
)

func randBatch(rng *rand.Rand, n, d int, scale float64) []float64 {
	x := make([]float64, n*d)
	for i := range x {
		x[i] = scale * rng.Float64()
	}
	return x
}

// naiveForward evaluates one sample with plain loops, independently of
// Forward's batched products.
func naiveForward(m *MLP, x []float64) []float64 {
	a := append([]float64(nil), x...)
	if m.Mean != nil {
		for j := range a {
			a[j] = (a[j] - m.Mean[j]) / m.Std[j]
		}
	}
	for l := 0; l < m.NumLayers(); l++ {
		ly := m.Layer(l)
		z := make([]float64, ly.Out)
		for o := 0; o < ly.Out; o++ {
			s := ly.B[o]
			for i := 0; i < ly.In; i++ {
				s += ly.W[o*ly.In+i] * a[i]
			}
			if l < m.NumLayers()-1 {
				switch m.Config.Activation {
				case Tanh:
					s = math.Tanh(s)
				case ReLU:
					s = math.Max(s, 0)
				}
			}
			z[o] = s
		}
		a = z
	}
	return a
}

func TestForwardMatchesNaive(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		std  bool
	}{
		{"notebook", NotebookConfig(), false},
		{"notebook-standardised", NotebookConfig(), true},
		{"relu", Config{Inputs: 5, Hidden: []int{8, 3, 6}, Outputs: 2, Activation: ReLU}, false},
		{"identity", Config{Inputs: 4, Hidden: []int{3}, Outputs: 4, Activation: Identity}, true},
		{"no-hidden", Config{Inputs: 3, Outputs: 2, Activation: Tanh}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			m, err := New(tc.cfg, rng)
			if err != nil {
				t.Fatal(err)
			}
			const n = 9
			x := randBatch(rng, n, tc.cfg.Inputs, 3)
			if tc.std {
				m.Standardize(x, n)
			}
			ws := m.NewWorkspace(n + 3)
			for _, rows := range []int{n, 1, 0, n} {
				y := m.Forward(ws, x, rows)
				if len(y) != rows*tc.cfg.Outputs {
					t.Fatalf("Forward returned %d values, want %d", len(y), rows*tc.cfg.Outputs)
				}
				for i := 0; i < rows; i++ {
					want := naiveForward(m, x[i*tc.cfg.Inputs:(i+1)*tc.cfg.Inputs])
					for j, w := range want {
						if got := y[i*tc.cfg.Outputs+j]; math.Abs(got-w) > 1e-12*(1+math.Abs(w)) {
							t.Fatalf("rows=%d sample %d output %d: got %v, want %v", rows, i, j, got, w)
						}
					}
				}
			}
			p := m.Predict(x, n)
			y := m.Forward(ws, x, n)
			for i := range p {
				if p[i] != y[i] {
					t.Fatalf("Predict[%d] = %v, Forward gives %v", i, p[i], y[i])
				}
			}
		})
	}
}

// quadLoss is E = ½ Σ c_ij (y_ij − t_ij)², a simple loss with a non-trivial
// gradient.
func quadLoss(y, t, c, grad []float64) float64 {
	var e float64
	for i := range y {
		r := y[i] - t[i]
		e += 0.5 * c[i] * r * r
		if grad != nil {
			grad[i] = c[i] * r
		}
	}
	return e
}

func TestGradientFiniteDifference(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		std  bool
	}{
		{"tanh", Config{Inputs: 11, Hidden: []int{12, 10}, Outputs: 7, Activation: Tanh}, false},
		{"tanh-standardised", Config{Inputs: 6, Hidden: []int{5}, Outputs: 3, Activation: Tanh}, true},
		{"relu", Config{Inputs: 5, Hidden: []int{7, 6}, Outputs: 3, Activation: ReLU}, false},
		{"identity", Config{Inputs: 4, Hidden: []int{3, 5}, Outputs: 2, Activation: Identity}, false},
		{"no-hidden", Config{Inputs: 4, Outputs: 3, Activation: Tanh}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			m, err := New(tc.cfg, rng)
			if err != nil {
				t.Fatal(err)
			}
			const n = 6
			x := randBatch(rng, n, tc.cfg.Inputs, 2)
			if tc.std {
				m.Standardize(x, n)
			}
			no := n * tc.cfg.Outputs
			target := randBatch(rng, n, tc.cfg.Outputs, 1)
			c := randBatch(rng, n, tc.cfg.Outputs, 1)
			dOut := make([]float64, no)
			ws := m.NewWorkspace(n)
			m.ZeroGrad()
			quadLoss(m.Forward(ws, x, n), target, c, dOut)
			m.Backward(ws, dOut)
			grads := append([]float64(nil), m.Grads...)

			// Gradients accumulate.
			m.Backward(ws, dOut)
			for i, g := range grads {
				if math.Abs(m.Grads[i]-2*g) > 1e-14*(1+math.Abs(g)) {
					t.Fatalf("second Backward: grad %d = %v, want %v", i, m.Grads[i], 2*g)
				}
			}

			eval := func() float64 { return quadLoss(m.Forward(ws, x, n), target, c, nil) }
			const h = 1e-6
			var worst float64
			for i := range m.Params {
				p := m.Params[i]
				m.Params[i] = p + h
				ep := eval()
				m.Params[i] = p - h
				em := eval()
				m.Params[i] = p
				fd := (ep - em) / (2 * h)
				if d := math.Abs(fd-grads[i]) / (1e-6 + math.Abs(fd) + math.Abs(grads[i])); d > worst {
					worst = d
				}
				if math.Abs(fd-grads[i]) > 1e-7+1e-6*math.Abs(fd) {
					t.Errorf("param %d: backprop %v, finite difference %v", i, grads[i], fd)
				}
			}
			t.Logf("worst relative gradient error %.2g over %d parameters", worst, len(m.Params))
		})
	}
}

// gemmAllocs measures the allocations of the matrix products alone that one
// forward and backward pass of m on n rows performs, so that TestNoAllocations
// can tell allocations of this package from those of internal/gemm (gonum's
// parallel kernel allocates for large products).
func gemmAllocs(m *MLP, n int) float64 {
	s := m.sizes
	var bufs [][]float64
	for l := 1; l < len(s); l++ {
		bufs = append(bufs, make([]float64, n*max(s[l], s[l-1])*max(s[l], s[l-1])+n*s[l-1]+n*s[l]))
	}
	return testing.AllocsPerRun(20, func() {
		for l := 0; l < len(s)-1; l++ {
			in, out := s[l], s[l+1]
			b := bufs[l]
			a, z, w := b[:n*in], b[n*in:n*in+n*out], b[n*in+n*out:]
			gemm.Dgemm(blas.NoTrans, blas.Trans, n, out, in, 1, a, in, w, in, 0, z, out)
			gemm.Dgemm(blas.Trans, blas.NoTrans, out, in, n, 1, z, out, a, in, 1, w, in)
			if l > 0 {
				gemm.Dgemm(blas.NoTrans, blas.NoTrans, n, in, out, 1, z, out, w, in, 0, a, in)
			}
		}
	})
}

func TestNoAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are unreliable under the race detector")
	}
	for _, tc := range []struct {
		cfg Config
		n   int
	}{
		{Config{Inputs: 11, Hidden: []int{40, 40}, Outputs: 7, Activation: Tanh}, 50},
		{Config{Inputs: 5, Hidden: []int{8}, Outputs: 3, Activation: ReLU}, 16},
		{NotebookConfig(), 100},
	} {
		for _, std := range []bool{false, true} {
			rng := rand.New(rand.NewPCG(5, 6))
			m, err := New(tc.cfg, rng)
			if err != nil {
				t.Fatal(err)
			}
			n := tc.n
			x := randBatch(rng, n, tc.cfg.Inputs, 11)
			if std {
				m.Standardize(x, n)
			}
			ws := m.NewWorkspace(n)
			dOut := randBatch(rng, n, tc.cfg.Outputs, 1)
			allocs := testing.AllocsPerRun(20, func() {
				m.ZeroGrad()
				m.Forward(ws, x, n)
				m.Backward(ws, dOut)
			})
			g := gemmAllocs(m, n)
			if allocs > g {
				t.Errorf("%v batch %d standardise=%v: %v allocations per forward+backward, of which internal/gemm makes %v; want none from nn", tc.cfg, n, std, allocs, g)
			} else if g > 0 {
				t.Logf("%v batch %d: all %v allocations per step come from internal/gemm", tc.cfg, n, g)
			}
		}
	}
}

func TestInitialisation(t *testing.T) {
	cfg := Config{Inputs: 64, Hidden: []int{256}, Outputs: 16, Activation: Tanh}
	a, err := New(cfg, rand.New(rand.NewPCG(7, 8)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := New(cfg, rand.New(rand.NewPCG(7, 8)))
	for i := range a.Params {
		if a.Params[i] != b.Params[i] {
			t.Fatal("same seed gave different parameters")
		}
	}
	// Order: layer 0 weight, then bias, from the same stream.
	rng := rand.New(rand.NewPCG(7, 8))
	bound := 1 / math.Sqrt(64)
	for i := 0; i < 64*256+256; i++ {
		if want := bound * (2*rng.Float64() - 1); a.Params[i] != want {
			t.Fatalf("param %d = %v, want %v", i, a.Params[i], want)
		}
	}
	for l := 0; l < a.NumLayers(); l++ {
		ly := a.Layer(l)
		bound := 1 / math.Sqrt(float64(ly.In))
		var mx, sum2 float64
		for _, v := range append(append([]float64(nil), ly.W...), ly.B...) {
			mx = math.Max(mx, math.Abs(v))
			sum2 += v * v
		}
		if mx > bound || mx < 0.95*bound {
			t.Errorf("layer %d: max |param| %v, want just below %v", l, mx, bound)
		}
		// Uniform on ±bound has variance bound²/3.
		v := sum2 / float64(len(ly.W)+len(ly.B))
		if math.Abs(v/(bound*bound/3)-1) > 0.1 {
			t.Errorf("layer %d: variance %v, want about %v", l, v, bound*bound/3)
		}
	}
	if _, err := New(cfg, nil); err == nil {
		t.Error("New with nil generator: no error")
	}
}

func TestLayout(t *testing.T) {
	m, err := New(NotebookConfig(), rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(m.Params), 11*100+100+100*100+100+100*7+7; got != want {
		t.Fatalf("%d parameters, want %d", got, want)
	}
	if m.Config.NumParams() != len(m.Params) {
		t.Fatalf("NumParams %d, len(Params) %d", m.Config.NumParams(), len(m.Params))
	}
	off := 0
	for l := 0; l < m.NumLayers(); l++ {
		ly := m.Layer(l)
		if &ly.W[0] != &m.Params[off] || &ly.GW[0] != &m.Grads[off] {
			t.Fatalf("layer %d weight not at offset %d", l, off)
		}
		off += ly.In * ly.Out
		if &ly.B[0] != &m.Params[off] || &ly.GB[0] != &m.Grads[off] {
			t.Fatalf("layer %d bias not at offset %d", l, off)
		}
		off += ly.Out
	}
	c := m.Clone()
	c.Params[0]++
	if c.Params[0] == m.Params[0] {
		t.Error("Clone shares parameters")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg Config
		ok  bool
	}{
		{NotebookConfig(), true},
		{Config{Inputs: 1, Outputs: 1}, true},
		{Config{Inputs: 0, Outputs: 1}, false},
		{Config{Inputs: 1, Outputs: 0}, false},
		{Config{Inputs: 1, Hidden: []int{3, 0}, Outputs: 1}, false},
		{Config{Inputs: 1, Hidden: []int{-2}, Outputs: 1}, false},
		{Config{Inputs: 1, Outputs: 1, Activation: 7}, false},
		{Config{Inputs: 1 << 24, Hidden: []int{1 << 24, 1 << 24}, Outputs: 1}, false},
	} {
		err := tc.cfg.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%+v: Validate() = %v, want ok=%v", tc.cfg, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: error %v does not wrap ErrConfig", tc.cfg, err)
		}
		if _, err := New(tc.cfg, rand.New(rand.NewPCG(1, 1))); (err == nil) != tc.ok {
			t.Errorf("%+v: New error %v, want ok=%v", tc.cfg, err, tc.ok)
		}
	}
}

func TestConfigJSON(t *testing.T) {
	b, err := json.Marshal(NotebookConfig())
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"inputs":11,"hidden":[100,100],"outputs":7,"activation":"tanh"}`; string(b) != want {
		t.Errorf("JSON %s, want %s", b, want)
	}
	var c Config
	if err := json.Unmarshal([]byte(`{"inputs":3,"hidden":[4],"outputs":2,"activation":"ReLU"}`), &c); err != nil {
		t.Fatal(err)
	}
	if c.Activation != ReLU || c.Inputs != 3 || len(c.Hidden) != 1 || c.Outputs != 2 {
		t.Errorf("decoded %+v", c)
	}
	if err := json.Unmarshal([]byte(`{"activation":"sigmoid"}`), &c); !errors.Is(err, ErrConfig) {
		t.Errorf("unknown activation: error %v, want ErrConfig", err)
	}
	if s := NotebookConfig().String(); s != "11-100-100-7 tanh" {
		t.Errorf("String() = %q", s)
	}
}

func TestStandardize(t *testing.T) {
	m, _ := New(Config{Inputs: 3, Outputs: 1}, rand.New(rand.NewPCG(1, 1)))
	x := []float64{
		1, 5, 2,
		3, 5, 4,
		5, 5, 9,
	}
	m.Standardize(x, 3)
	wantMean := []float64{3, 5, 5}
	wantStd := []float64{math.Sqrt(8.0 / 3), 1, math.Sqrt(26.0 / 3)}
	for j := range wantMean {
		if math.Abs(m.Mean[j]-wantMean[j]) > 1e-15 || math.Abs(m.Std[j]-wantStd[j]) > 1e-15 {
			t.Errorf("column %d: mean %v std %v, want %v %v", j, m.Mean[j], m.Std[j], wantMean[j], wantStd[j])
		}
	}
	if err := m.Check(); err != nil {
		t.Error(err)
	}
	m.Std[1] = 0
	if err := m.Check(); !errors.Is(err, ErrConfig) {
		t.Errorf("zero deviation: Check() = %v, want ErrConfig", err)
	}
}

func TestActivationNames(t *testing.T) {
	for _, a := range []Activation{Tanh, ReLU, Identity} {
		b, err := ParseActivation(a.String())
		if err != nil || b != a {
			t.Errorf("ParseActivation(%q) = %v, %v", a.String(), b, err)
		}
	}
	if _, err := ParseActivation("softmax"); !errors.Is(err, ErrConfig) {
		t.Errorf("ParseActivation(softmax) error %v", err)
	}
	if s := Activation(9).String(); s != "Activation(9)" {
		t.Errorf("String of invalid activation: %q", s)
	}
}

func FuzzParseActivation(f *testing.F) {
	for _, s := range []string{"tanh", "ReLU", " linear ", "", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseActivation(s)
		if err != nil {
			return
		}
		b, err := ParseActivation(a.String())
		if err != nil || b != a {
			t.Fatalf("%q parsed as %v, which does not round-trip", s, a)
		}
	})
}

func TestConcurrentForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	m, err := New(NotebookConfig(), rng)
	if err != nil {
		t.Fatal(err)
	}
	const n = 70
	x := randBatch(rng, n, 11, 11)
	m.Standardize(x, n)
	want := m.Predict(x, n)
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			ws := m.NewWorkspace(n)
			for it := 0; it < 5; it++ {
				y := m.Forward(ws, x, n)
				for i := range y {
					if y[i] != want[i] {
						errs <- fmt.Errorf("output %d = %v, want %v", i, y[i], want[i])
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
