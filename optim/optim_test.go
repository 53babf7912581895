package optim

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

// TestHandComputed checks each update rule on scalars against values
// worked out by hand (see the comments).
func TestHandComputed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		p0    float64
		grads []float64
		want  []float64 // parameter after each step
	}{
		// s = 9, p = 0 − 1·3/3 = −1; clr = 1/(1+1·1) = 0.5, s = 25,
		// p = −1 − 0.5·4/5 = −1.4.
		{"adagrad-lr-decay", Config{Algorithm: AlgAdagrad, LR: 1, LRDecay: 1}, 0, []float64{3, 4}, []float64{-1, -1.4}},
		// g = 1 + 0.5·2 = 2, s = 12 + 4 = 16, p = 2 − 2/4 = 1.5.
		{"adagrad-decay-accumulator", Config{Algorithm: AlgAdagrad, LR: 1, WeightDecay: 0.5, InitialAccumulatorValue: 12}, 2, []float64{1}, []float64{1.5}},
		// ε is added to √s: p = −0.1·2/(2 + 0.5).
		{"adagrad-eps", Config{Algorithm: AlgAdagrad, LR: 0.1, Eps: 0.5}, 0, []float64{2}, []float64{-0.08}},
		// g = 1 + 0.1·10 = 2, p = 10 − 2 = 8.
		{"sgd-weight-decay", Config{Algorithm: AlgSGD, LR: 1, WeightDecay: 0.1}, 10, []float64{1}, []float64{8}},
		// b = 2 (first step, no dampening), p = −2; b = 0.5·2 + 0.5·4 = 3,
		// p = −5.
		{"sgd-momentum-dampening", Config{Algorithm: AlgSGD, LR: 1, Momentum: 0.5, Dampening: 0.5}, 0, []float64{2, 4}, []float64{-2, -5}},
		// b = 2, d = 2 + 0.5·2 = 3, p = −3; b = 1 + 4 = 5, d = 4 + 2.5 = 6.5,
		// p = −9.5.
		{"sgd-nesterov", Config{Algorithm: AlgSGD, LR: 1, Momentum: 0.5, Nesterov: true}, 0, []float64{2, 4}, []float64{-3, -9.5}},
		// Step 1 of Adam moves by lr·sign(g) when ε = 0.
		{"adam-first-step", Config{Algorithm: AlgAdam, LR: 0.1, Beta1: 0.9, Beta2: 0.999}, 0, []float64{-3}, []float64{0.1}},
		// m = 0.5, v = 0.25; m = 0.25 + 1.5 = 1.75, v = 0.1875 + 2.25 =
		// 2.4375; m̂ = 1.75/0.75 = 7/3, v̂ = 2.4375/0.4375 = 39/7;
		// p = −0.1 − 0.1·(7/3)/√(39/7).
		{"adam-bias-correction", Config{Algorithm: AlgAdam, LR: 0.1, Beta1: 0.5, Beta2: 0.75}, 0, []float64{1, 3},
			[]float64{-0.1, -0.1 - 0.1*(7.0/3)/math.Sqrt(39.0/7)}},
		// Coupled decay: g = 1 + 0.5·2 = 2, p = 2 − 0.1 = 1.9.
		{"adam-weight-decay", Config{Algorithm: AlgAdam, LR: 0.1, Beta1: 0.9, Beta2: 0.999, WeightDecay: 0.5}, 2, []float64{1}, []float64{1.9}},
		// Decoupled: p = 2·(1 − 0.1·0.5) − 0.1 = 1.8.
		{"adamw", Config{Algorithm: AlgAdamW, LR: 0.1, Beta1: 0.9, Beta2: 0.999, WeightDecay: 0.5}, 2, []float64{1}, []float64{1.8}},
		// β₁ = 0, β₂ = 0.5: m = 2, v = 2, denominator √2/√0.5 = 2, p = −1;
		// m = 1, v = 1.5 but v̂max = 2, bc2 = 0.75, p = −1 − 1/(√2/√0.75).
		{"amsgrad", Config{Algorithm: AlgAdam, LR: 1, Beta2: 0.5, AMSGrad: true}, 0, []float64{2, 1},
			[]float64{-1, -1 - 1/(math.Sqrt(2)/math.Sqrt(0.75))}},
		// The same without AMSGrad: p = −1 − 1/(√1.5/√0.75).
		{"no-amsgrad", Config{Algorithm: AlgAdam, LR: 1, Beta2: 0.5}, 0, []float64{2, 1},
			[]float64{-1, -1 - 1/math.Sqrt(2)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := New(tc.cfg, 1)
			if err != nil {
				t.Fatal(err)
			}
			p := []float64{tc.p0}
			for i, g := range tc.grads {
				o.Step(p, []float64{g})
				if !near(p[0], tc.want[i], 1e-15) {
					t.Errorf("step %d: p = %.17g, want %.17g", i+1, p[0], tc.want[i])
				}
			}
		})
	}
}

type torchCase struct {
	Name   string      `json:"name"`
	Config Config      `json:"config"`
	Params []float64   `json:"params"`
	Grads  [][]float64 `json:"grads"`
	LRs    []float64   `json:"lrs"`
	After  [][]float64 `json:"after"`
}

type torchRules struct {
	Cases []torchCase `json:"cases"`
	Clip  []struct {
		Grads   []float64 `json:"grads"`
		MaxNorm float64   `json:"max_norm"`
		Norm    float64   `json:"norm"`
		Clipped []float64 `json:"clipped"`
	} `json:"clip"`
}

func readRules(t *testing.T) torchRules {
	b, err := os.ReadFile("../testdata/parity/optim_rules.json")
	if err != nil {
		t.Fatal(err)
	}
	var r torchRules
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Cases) == 0 || len(r.Clip) == 0 {
		t.Fatal("optim_rules.json has no cases")
	}
	return r
}

// TestTorchRules replays the trajectories that torch.optim produced in
// float64 (scripts/parity.py), including a learning-rate change, and checks
// that a state saved and restored mid-way continues identically.
func TestTorchRules(t *testing.T) {
	for _, tc := range readRules(t).Cases {
		t.Run(tc.Name, func(t *testing.T) {
			n := len(tc.Params)
			o, err := New(tc.Config, n)
			if err != nil {
				t.Fatal(err)
			}
			p := append([]float64(nil), tc.Params...)
			var resumed Optimizer
			var q []float64
			for i, g := range tc.Grads {
				o.SetLR(tc.LRs[i])
				o.Step(p, g)
				for j := range p {
					if !near(p[j], tc.After[i][j], 1e-14) {
						t.Fatalf("step %d param %d: %.17g, PyTorch %.17g", i+1, j, p[j], tc.After[i][j])
					}
				}
				if resumed != nil {
					resumed.SetLR(tc.LRs[i])
					resumed.Step(q, g)
					for j := range p {
						if q[j] != p[j] {
							t.Fatalf("step %d param %d: restored optimizer gives %v, original %v", i+1, j, q[j], p[j])
						}
					}
				}
				if i == 1 {
					b, err := o.State().MarshalBinary()
					if err != nil {
						t.Fatal(err)
					}
					var st State
					if err := st.UnmarshalBinary(b); err != nil {
						t.Fatal(err)
					}
					if resumed, err = New(tc.Config, n); err != nil {
						t.Fatal(err)
					}
					if err := resumed.SetState(st); err != nil {
						t.Fatal(err)
					}
					q = append([]float64(nil), p...)
				}
			}
		})
	}
}

func TestClipTorch(t *testing.T) {
	for i, c := range readRules(t).Clip {
		g := append([]float64(nil), c.Grads...)
		norm := ClipGlobalNorm(g, c.MaxNorm)
		if !near(norm, c.Norm, 1e-14) && !(math.Abs(norm/c.Norm-1) < 1e-14) {
			t.Errorf("case %d: norm %.17g, PyTorch %.17g", i, norm, c.Norm)
		}
		for j := range g {
			if math.Abs(g[j]-c.Clipped[j]) > 1e-14*math.Abs(c.Clipped[j]) {
				t.Errorf("case %d entry %d: %.17g, PyTorch %.17g", i, j, g[j], c.Clipped[j])
			}
		}
	}
}

func TestClipGlobalNorm(t *testing.T) {
	g := []float64{3, 4}
	if n := ClipGlobalNorm(g, 10); n != 5 || g[0] != 3 || g[1] != 4 {
		t.Errorf("below the limit: norm %v, grads %v", n, g)
	}
	n := ClipGlobalNorm(g, 1)
	c := 1 / (5 + 1e-6)
	if n != 5 || g[0] != 3*c || g[1] != 4*c {
		t.Errorf("clipped: norm %v, grads %v, want 5, [%v %v]", n, g, 3*c, 4*c)
	}
	// The 1e-6 matters for tiny gradients: a norm equal to the limit is
	// still scaled by 1e-7/(1e-7+1e-6).
	g = []float64{1e-7}
	ClipGlobalNorm(g, 1e-7)
	if !near(g[0], 1e-7*1e-7/(1e-7+1e-6), 1e-15) {
		t.Errorf("tiny gradient: %v", g[0])
	}
	if n := Norm([]float64{1e200, 1e200}); !near(n, math.Sqrt2*1e200, 1e-15) {
		t.Errorf("Norm overflow: %v", n)
	}
	if n := Norm([]float64{3e-200, 4e-200}); !near(n/1e-200, 5, 1e-15) {
		t.Errorf("Norm underflow: %v", n)
	}
	if n := Norm(nil); n != 0 {
		t.Errorf("Norm(nil) = %v", n)
	}
	g = []float64{1, math.NaN()}
	if n := ClipGlobalNorm(g, 1); !math.IsNaN(n) || !math.IsNaN(g[0]) {
		t.Errorf("NaN gradient: norm %v, grads %v; want NaN as PyTorch", n, g)
	}
	g = []float64{1, math.Inf(1)}
	if n := ClipGlobalNorm(g, 1); !math.IsInf(n, 1) || g[0] != 0 {
		t.Errorf("infinite gradient: norm %v, grads %v", n, g)
	}
	defer func() {
		if recover() == nil {
			t.Error("negative max norm: no panic")
		}
	}()
	ClipGlobalNorm(g, -1)
}

func TestValidate(t *testing.T) {
	def := func(a Algorithm) Config {
		c, err := Defaults(a)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	with := func(c Config, f func(*Config)) Config { f(&c); return c }
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"adagrad", def(AlgAdagrad), true},
		{"sgd", def(AlgSGD), true},
		{"adam", def(AlgAdam), true},
		{"adamw", def(AlgAdamW), true},
		{"unknown", Config{Algorithm: "rmsprop", LR: 1}, false},
		{"negative lr", with(def(AlgAdam), func(c *Config) { c.LR = -1 }), false},
		{"nan lr", with(def(AlgAdam), func(c *Config) { c.LR = math.NaN() }), false},
		{"beta1 = 1", with(def(AlgAdam), func(c *Config) { c.Beta1 = 1 }), false},
		{"negative beta2", with(def(AlgAdamW), func(c *Config) { c.Beta2 = -0.1 }), false},
		{"negative eps", with(def(AlgAdagrad), func(c *Config) { c.Eps = -1 }), false},
		{"negative lr decay", with(def(AlgAdagrad), func(c *Config) { c.LRDecay = -1 }), false},
		{"negative accumulator", with(def(AlgAdagrad), func(c *Config) { c.InitialAccumulatorValue = -1 }), false},
		{"nesterov without momentum", with(def(AlgSGD), func(c *Config) { c.Nesterov = true }), false},
		{"nesterov with dampening", with(def(AlgSGD), func(c *Config) { c.Nesterov, c.Momentum, c.Dampening = true, 0.9, 0.1 }), false},
		{"nesterov", with(def(AlgSGD), func(c *Config) { c.Nesterov, c.Momentum = true, 0.9 }), true},
		{"negative momentum", with(def(AlgSGD), func(c *Config) { c.Momentum = -0.5 }), false},
		{"negative weight decay", with(def(AlgSGD), func(c *Config) { c.WeightDecay = -0.5 }), false},
	} {
		err := tc.cfg.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v does not wrap ErrConfig", tc.name, err)
		}
		if _, err := New(tc.cfg, 3); (err == nil) != tc.ok {
			t.Errorf("%s: New error %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	if _, err := Defaults("lbfgs"); !errors.Is(err, ErrConfig) {
		t.Errorf("Defaults(lbfgs): %v", err)
	}
	if a, err := ParseAlgorithm(" AdamW "); err != nil || a != AlgAdamW {
		t.Errorf("ParseAlgorithm: %v %v", a, err)
	}
}

func TestStateErrors(t *testing.T) {
	ada, _ := New(Config{Algorithm: AlgAdagrad, LR: 0.1}, 3)
	adam, _ := New(Config{Algorithm: AlgAdam, LR: 0.1, Beta1: 0.9, Beta2: 0.99, AMSGrad: true}, 3)
	sgd, _ := New(Config{Algorithm: AlgSGD, LR: 0.1, Momentum: 0.9}, 3)
	short, _ := New(Config{Algorithm: AlgAdagrad, LR: 0.1}, 2)
	for _, tc := range []struct {
		name string
		o    Optimizer
		st   State
	}{
		{"wrong algorithm", ada, adam.State()},
		{"wrong size", short, ada.State()},
		{"missing buffer", adam, State{Algorithm: AlgAdam, Buffers: map[string][]float64{"exp_avg": make([]float64, 3)}}},
		{"extra buffer", sgd, State{Algorithm: AlgSGD, Buffers: map[string][]float64{"momentum_buffer": make([]float64, 3), "x": nil}}},
		{"negative step", ada, State{Algorithm: AlgAdagrad, Step: -1, Buffers: map[string][]float64{"sum": make([]float64, 3)}}},
		{"nan lr", ada, State{Algorithm: AlgAdagrad, LR: math.NaN(), Buffers: map[string][]float64{"sum": make([]float64, 3)}}},
	} {
		if err := tc.o.SetState(tc.st); !errors.Is(err, ErrState) {
			t.Errorf("%s: SetState error %v, want ErrState", tc.name, err)
		}
	}
	// A failed SetState leaves the optimizer unchanged.
	p := []float64{1, 2, 3}
	adam.Step(p, []float64{1, 1, 1})
	before := adam.State()
	bad := adam.State()
	bad.Buffers["exp_avg"] = []float64{9, 9, 9}
	delete(bad.Buffers, "exp_avg_sq")
	if adam.SetState(bad) == nil {
		t.Fatal("SetState with a missing buffer succeeded")
	}
	if adam.State().Buffers["exp_avg"][0] != before.Buffers["exp_avg"][0] {
		t.Error("failed SetState modified the optimizer")
	}
	var st State
	for _, data := range [][]byte{nil, []byte("OPTST1\x00\x00"), []byte("garbage!")} {
		if err := st.UnmarshalBinary(data); !errors.Is(err, ErrState) {
			t.Errorf("UnmarshalBinary(%q): %v", data, err)
		}
	}
}

func TestStepDoesNotAllocate(t *testing.T) {
	const n = 1000
	p, g := make([]float64, n), make([]float64, n)
	for i := range g {
		g[i] = float64(i%7) - 3
	}
	for _, alg := range []Algorithm{AlgAdagrad, AlgSGD, AlgAdam, AlgAdamW} {
		c, _ := Defaults(alg)
		c.Momentum = 0.9
		c.AMSGrad = true
		o, err := New(c, n)
		if err != nil {
			t.Fatal(err)
		}
		if a := testing.AllocsPerRun(10, func() { o.Step(p, g) }); a != 0 {
			t.Errorf("%s: %v allocations per step", alg, a)
		}
	}
	if a := testing.AllocsPerRun(10, func() { ClipGlobalNorm(g, 1) }); a != 0 {
		t.Errorf("ClipGlobalNorm: %v allocations", a)
	}
}

func TestStepLengthPanics(t *testing.T) {
	for _, alg := range []Algorithm{AlgAdagrad, AlgSGD, AlgAdam} {
		c, _ := Defaults(alg)
		o, _ := New(c, 3)
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Step with wrong lengths did not panic", alg)
				}
			}()
			o.Step(make([]float64, 2), make([]float64, 2))
		}()
	}
}

func FuzzStateUnmarshal(f *testing.F) {
	o, _ := New(Config{Algorithm: AlgAdam, LR: 0.1, Beta1: 0.9, Beta2: 0.99, AMSGrad: true}, 4)
	o.Step([]float64{1, 2, 3, 4}, []float64{0.5, -1, 2, 0})
	b, _ := o.State().MarshalBinary()
	f.Add(b)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var st State
		if err := st.UnmarshalBinary(data); err != nil {
			return
		}
		b, err := st.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var st2 State
		if err := st2.UnmarshalBinary(b); err != nil {
			t.Fatalf("re-decoding: %v", err)
		}
		if st2.Algorithm != st.Algorithm || st2.Step != st.Step || math.Float64bits(st2.LR) != math.Float64bits(st.LR) || len(st2.Buffers) != len(st.Buffers) {
			t.Fatalf("round trip changed the state: %+v vs %+v", st, st2)
		}
	})
}

// TestAdagradStepRound32 checks that StepRound32 updates the parameters
// and the state exactly as Step does, over several steps with learning-rate
// decay and weight decay, writes the float32 rounding into every run (runs
// with gaps between them, at the ends and none), and panics on bad runs.
func TestAdagradStepRound32(t *testing.T) {
	const n = 37
	layouts := []struct{ off, lens []int }{
		{nil, nil},
		{[]int{0}, []int{n}},
		{[]int{0, 5, 20}, []int{5, 9, 17}},
		{[]int{3, 10}, []int{4, 1}},
	}
	for li, lay := range layouts {
		cfg := Config{Algorithm: AlgAdagrad, LR: 0.1, LRDecay: 0.01, WeightDecay: 0.02, Eps: 1e-10}
		ref, err := New(cfg, n)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := New(cfg, n)
		pr, pg := make([]float64, n), make([]float64, n)
		for i := range pr {
			pr[i] = math.Sin(float64(i)) * 3
			pg[i] = pr[i]
		}
		dst := make([][]float32, len(lay.off))
		for r, l := range lay.lens {
			dst[r] = make([]float32, l)
		}
		for step := range 4 {
			grads := make([]float64, n)
			for i := range grads {
				grads[i] = math.Cos(float64(i*(step+2))) - 0.3
			}
			ref.Step(pr, grads)
			got.(Rounder32).StepRound32(pg, grads, lay.off, dst)
			for i := range pr {
				if pr[i] != pg[i] {
					t.Fatalf("layout %d step %d: param %d = %v, Step gives %v", li, step, i, pg[i], pr[i])
				}
			}
			for r, lo := range lay.off {
				for i, v := range dst[r] {
					if v != float32(pr[lo+i]) {
						t.Fatalf("layout %d step %d: run %d[%d] = %v, want %v", li, step, r, i, v, float32(pr[lo+i]))
					}
				}
			}
		}
		if a, b := ref.State().Buffers["sum"], got.State().Buffers["sum"]; !slicesEqual(a, b) {
			t.Fatalf("layout %d: state differs", li)
		}
	}
	for _, bad := range []struct{ off, lens []int }{{[]int{0, 3}, []int{4, 1}}, {[]int{35}, []int{3}}, {[]int{0}, nil}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("runs %v %v: no panic", bad.off, bad.lens)
				}
			}()
			o, _ := New(Config{Algorithm: AlgAdagrad, LR: 0.1}, n)
			dst := make([][]float32, len(bad.lens))
			for r, l := range bad.lens {
				dst[r] = make([]float32, l)
			}
			o.(Rounder32).StepRound32(make([]float64, n), make([]float64, n), bad.off, dst)
		}()
	}
}

func slicesEqual(a, b []float64) bool {
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
