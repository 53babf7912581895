package nn

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/matapprox/matapprox/internal/gemm"
	"github.com/matapprox/matapprox/internal/vmath"
	"github.com/matapprox/matapprox/optim"
)

// TestFloat32MatchesFloat64 checks the float32 forward and backward passes
// against the float64 ones, on every kernel path of internal/gemm and
// internal/vmath, for odd widths, every activation, with and without
// standardisation, and widths whose float32 rows are padded: outputs and
// gradients must agree to float32 accuracy relative to their scale.
func TestFloat32MatchesFloat64(t *testing.T) {
	cfgs := []Config{
		NotebookConfig(),
		{Inputs: 13, Hidden: []int{17, 33}, Outputs: 5, Activation: Tanh},
		{Inputs: 7, Hidden: []int{9}, Outputs: 3, Activation: ReLU},
		{Inputs: 3, Hidden: []int{5}, Outputs: 2, Activation: Identity},
		// Rows of 512 floats are 2 KiB: padded float32 layout (pad32).
		{Inputs: 512, Hidden: []int{512, 17}, Outputs: 3, Activation: Tanh},
	}
	for gp := gemm.Generic; gp <= gemm.BestPath(); gp++ {
		for vp := vmath.Generic; vp <= vmath.Best(); vp++ {
			wg, wv := gemm.SetPath(gp), vmath.SetPath(vp)
			for ci, cfg := range cfgs {
				for _, std := range []bool{false, true} {
					rng := rand.New(rand.NewPCG(uint64(ci), 9))
					m, err := New(cfg, rng)
					if err != nil {
						t.Fatal(err)
					}
					n := 1 + rng.IntN(40)
					x := randBatch(rng, n, cfg.Inputs, 2)
					if std {
						m.Standardize(x, n)
					}
					dOut := randBatch(rng, n, cfg.Outputs, 1)
					run := func(p Precision) (y, g []float64) {
						if err := m.SetPrecision(p); err != nil {
							t.Fatal(err)
						}
						ws := m.NewWorkspace(n)
						m.ZeroGrad()
						y = append([]float64(nil), m.Forward(ws, x, n)...)
						m.Backward(ws, dOut)
						return y, append([]float64(nil), m.Grads...)
					}
					y64, g64 := run(Float64)
					y32, g32 := run(Float32)
					m.SetPrecision(Float64)
					close := func(what string, a, b []float64) {
						scale := 0.0
						for _, v := range b {
							scale = max(scale, math.Abs(v))
						}
						for i := range a {
							if !(math.Abs(a[i]-b[i]) <= 2e-5*scale+1e-30) {
								t.Fatalf("gemm %v vmath %v %v std=%v: %s[%d] float32 %v, float64 %v (scale %v)", gp, vp, cfg, std, what, i, a[i], b[i], scale)
							}
						}
					}
					close("output", y32, y64)
					close("gradient", g32, g64)
				}
			}
			gemm.SetPath(wg)
			vmath.SetPath(wv)
		}
	}
}

func TestFloat32NoAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are unreliable under the race detector")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	cfg := NotebookConfig()
	m, err := New(cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetPrecision(Float32); err != nil {
		t.Fatal(err)
	}
	n := 100
	x := randBatch(rng, n, cfg.Inputs, 11)
	ws := m.NewWorkspace(n)
	dOut := randBatch(rng, n, cfg.Outputs, 1)
	if a := testing.AllocsPerRun(20, func() {
		m.ZeroGrad()
		m.Forward(ws, x, n)
		m.Backward(ws, dOut)
	}); a != 0 {
		t.Errorf("float32 forward+backward: %v allocations", a)
	}
}

func TestPrecisionNames(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want Precision
		ok   bool
	}{{"f32", Float32, true}, {" Float64 ", Float64, true}, {"F64", Float64, true}, {"float32", Float32, true}, {"f16", 0, false}, {"", 0, false}} {
		got, err := ParsePrecision(tc.s)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParsePrecision(%q) = %v, %v", tc.s, got, err)
		}
		if err != nil && !errors.Is(err, ErrConfig) {
			t.Errorf("ParsePrecision(%q): error %v does not wrap ErrConfig", tc.s, err)
		}
		if tc.ok && got.String() != map[Precision]string{Float32: "f32", Float64: "f64"}[got] {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
	m, _ := New(NotebookConfig(), rand.New(rand.NewPCG(1, 1)))
	if err := m.SetPrecision(7); !errors.Is(err, ErrConfig) {
		t.Errorf("SetPrecision(7) = %v", err)
	}
	m.SetPrecision(Float32)
	if m.Clone().Precision() != Float32 {
		t.Errorf("Clone does not keep the precision")
	}
}

// TestThreadsSplit checks the batch split of SetThreads in both precisions:
// outputs bit-identical to one thread, gradients equal to one thread's to
// rounding and bit-identical between runs with the same thread count, no
// allocation after the first call, odd batch sizes (including fewer rows
// than threads).
func TestThreadsSplit(t *testing.T) {
	cfg := Config{Inputs: 11, Hidden: []int{37, 20}, Outputs: 7, Activation: Tanh}
	for _, prec := range []Precision{Float64, Float32} {
		for _, std := range []bool{false, true} {
			for _, n := range []int{1, 2, 3, 57, 100} {
				rng := rand.New(rand.NewPCG(uint64(n), 3))
				m, err := New(cfg, rng)
				if err != nil {
					t.Fatal(err)
				}
				m.SetPrecision(prec)
				x := randBatch(rng, n, cfg.Inputs, 3)
				if std {
					m.Standardize(x, n)
				}
				dOut := randBatch(rng, n, cfg.Outputs, 1)
				ws := m.NewWorkspace(n)
				run := func(threads int) (y, g []float64) {
					if err := m.SetThreads(threads); err != nil {
						t.Fatal(err)
					}
					m.ZeroGrad()
					y = append([]float64(nil), m.Forward(ws, x, n)...)
					m.Backward(ws, dOut)
					return y, append([]float64(nil), m.Grads...)
				}
				y1, g1 := run(1)
				for _, th := range []int{2, 3} {
					y, g := run(th)
					_, again := run(th)
					for i := range y1 {
						if y[i] != y1[i] {
							t.Fatalf("%v std=%v n=%d threads=%d: output %d = %v, one thread %v", prec, std, n, th, i, y[i], y1[i])
						}
					}
					scale := 0.0
					for _, v := range g1 {
						scale = max(scale, math.Abs(v))
					}
					for i := range g1 {
						if math.Abs(g[i]-g1[i]) > 1e-5*scale {
							t.Fatalf("%v std=%v n=%d threads=%d: gradient %d = %v, one thread %v", prec, std, n, th, i, g[i], g1[i])
						}
						if math.Float64bits(again[i]) != math.Float64bits(g[i]) {
							t.Fatalf("%v n=%d threads=%d: gradient %d differs between runs", prec, n, th, i)
						}
					}
					if !raceEnabled {
						if a := testing.AllocsPerRun(5, func() {
							m.Forward(ws, x, n)
							m.Backward(ws, dOut)
						}); a != 0 {
							t.Errorf("%v n=%d threads=%d: %v allocations", prec, n, th, a)
						}
					}
				}
			}
		}
	}
	m, _ := New(cfg, rand.New(rand.NewPCG(1, 1)))
	for _, bad := range []int{0, -1, 65} {
		if err := m.SetThreads(bad); !errors.Is(err, ErrConfig) {
			t.Errorf("SetThreads(%d) = %v", bad, err)
		}
	}
}

// TestParams32 checks that training steps whose optimizer writes the
// float32 parameters (Params32, optim.Rounder32, SetParams32Current) give
// bit for bit the outputs and parameters of the usual steps, with padded
// and unpadded layers, that the declaration is consumed by one Forward,
// and that Params32 is empty in Float64 mode.
func TestParams32(t *testing.T) {
	cfg := Config{Inputs: 11, Hidden: []int{512, 9}, Outputs: 4, Activation: Tanh}
	const n = 13
	rng := rand.New(rand.NewPCG(21, 22))
	base, err := New(cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	x := randBatch(rng, n, cfg.Inputs, 1)
	dOut := randBatch(rng, n, cfg.Outputs, 1)
	run := func(fused bool) (ys [][]float64, params []float64) {
		m := base.Clone()
		if err := m.SetPrecision(Float32); err != nil {
			t.Fatal(err)
		}
		ws := m.NewWorkspace(n)
		opt, err := optim.New(optim.Config{Algorithm: optim.AlgAdagrad, LR: 0.05, Eps: 1e-10}, len(m.Params))
		if err != nil {
			t.Fatal(err)
		}
		for range 4 {
			ys = append(ys, append([]float64(nil), m.Forward(ws, x, n)...))
			m.ZeroGrad()
			m.Backward(ws, dOut)
			if !fused {
				opt.Step(m.Params, m.Grads)
				continue
			}
			off, dst := m.Params32(ws)
			if len(off) == 0 || len(off) != len(dst) {
				t.Fatalf("Params32: %d offsets, %d runs", len(off), len(dst))
			}
			opt.(optim.Rounder32).StepRound32(m.Params, m.Grads, off, dst)
			m.SetParams32Current(ws, true)
		}
		ys = append(ys, append([]float64(nil), m.Forward(ws, x, n)...))
		// The declaration is consumed: a change of Params now reaches
		// the next Forward.
		m.Params[0] += 1
		y := m.Forward(ws, x, n)
		m.Params[0] -= 1
		if slices.Equal(y, ys[len(ys)-1]) {
			t.Fatalf("fused=%v: Forward after a change of Params gives the old outputs", fused)
		}
		return ys, m.Params
	}
	y0, p0 := run(false)
	y1, p1 := run(true)
	for s := range y0 {
		if !slices.Equal(y0[s], y1[s]) {
			t.Fatalf("step %d: outputs differ", s)
		}
	}
	if !slices.Equal(p0, p1) {
		t.Fatal("parameters differ")
	}
	m := base.Clone()
	if off, dst := m.Params32(m.NewWorkspace(1)); off != nil || dst != nil {
		t.Fatal("Params32 in Float64 mode is not empty")
	}
	// A declaration about one network does not apply to another network
	// that uses the same workspace.
	m.SetPrecision(Float32)
	other := base.Clone()
	other.SetPrecision(Float32)
	for i := range other.Params {
		other.Params[i] *= 0.5
	}
	want := append([]float64(nil), other.Forward(other.NewWorkspace(n), x, n)...)
	ws := m.NewWorkspace(n)
	m.Forward(ws, x, n)
	m.SetParams32Current(ws, true)
	if got := other.Forward(ws, x, n); !slices.Equal(got, want) {
		t.Fatal("Forward of another network used the declared float32 parameters")
	}
}

// TestGradientSets checks that Gradient gives bit for bit what ZeroGrad and
// Backward give, on every gemm path, in both precisions, with one and three
// threads, over stale gradients.
func TestGradientSets(t *testing.T) {
	cfg := Config{Inputs: 9, Hidden: []int{512, 7}, Outputs: 5, Activation: Tanh}
	rng := rand.New(rand.NewPCG(23, 24))
	m, err := New(cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	const n = 11
	x := randBatch(rng, n, cfg.Inputs, 1)
	dOut := randBatch(rng, n, cfg.Outputs, 1)
	dOut[0] = math.Copysign(0, -1)
	for gp := gemm.Generic; gp <= gemm.BestPath(); gp++ {
		defer gemm.SetPath(gemm.SetPath(gp))
		testGradientSets(t, m, x, dOut, n)
	}
}

func testGradientSets(t *testing.T, m *MLP, x, dOut []float64, n int) {
	for _, p := range []Precision{Float64, Float32} {
		for _, th := range []int{1, 3} {
			if err := m.SetPrecision(p); err != nil {
				t.Fatal(err)
			}
			if err := m.SetThreads(th); err != nil {
				t.Fatal(err)
			}
			ws := m.NewWorkspace(n)
			m.Forward(ws, x, n)
			m.ZeroGrad()
			m.Backward(ws, dOut)
			want := append([]float64(nil), m.Grads...)
			for i := range m.Grads {
				m.Grads[i] = float64(i) // stale
			}
			m.Forward(ws, x, n)
			m.Gradient(ws, dOut)
			for i := range want {
				if math.Float64bits(m.Grads[i]) != math.Float64bits(want[i]) {
					t.Fatalf("gemm %v, %v threads %d: Grads[%d] = %v, ZeroGrad and Backward give %v", gemm.CurrentPath(), p, th, i, m.Grads[i], want[i])
				}
			}
		}
	}
}
