package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/matapprox/matapprox/internal/gemm"
	"github.com/matapprox/matapprox/internal/vmath"
)

// TestGradient32 checks Gradient32 on every gemm and vmath path, with one
// and three threads, for odd and padded widths: with one thread its
// weight gradients are those of Backward (float32 products widened) bit
// for bit and its bias gradients agree to float32 accuracy; with any
// thread count it agrees with the float64 gradient to float32 accuracy;
// it leaves Grads alone and does not allocate.
func TestGradient32(t *testing.T) {
	cfgs := []Config{
		{Inputs: 13, Hidden: []int{17, 33}, Outputs: 5, Activation: Tanh},
		{Inputs: 9, Hidden: []int{512, 7}, Outputs: 65, Activation: Tanh},
		{Inputs: 7, Hidden: []int{9}, Outputs: 3, Activation: ReLU},
	}
	for gp := gemm.Generic; gp <= gemm.BestPath(); gp++ {
		for vp := vmath.Generic; vp <= vmath.Best(); vp++ {
			wg, wv := gemm.SetPath(gp), vmath.SetPath(vp)
			for ci, cfg := range cfgs {
				rng := rand.New(rand.NewPCG(uint64(ci), 41))
				m, err := New(cfg, rng)
				if err != nil {
					t.Fatal(err)
				}
				n := 1 + rng.IntN(30)
				x := randBatch(rng, n, cfg.Inputs, 2)
				dOut := randBatch(rng, n, cfg.Outputs, 1)
				ws := m.NewWorkspace(n)
				m.Forward(ws, x, n)
				m.ZeroGrad()
				m.Backward(ws, dOut)
				g64 := append([]float64(nil), m.Grads...)
				m.SetPrecision(Float32)
				for _, th := range []int{1, 3} {
					m.SetThreads(th)
					m.Forward(ws, x, n)
					m.ZeroGrad()
					m.Backward(ws, dOut)
					back := append([]float64(nil), m.Grads...)
					m.Forward(ws, x, n)
					g := m.Gradient32(ws, dOut)
					for i := range back {
						if math.Float64bits(m.Grads[i]) != math.Float64bits(back[i]) {
							t.Fatalf("Gradient32 changed Grads[%d]", i)
						}
					}
					scale := 0.0
					for _, v := range g64 {
						scale = max(scale, math.Abs(v))
					}
					for l := range m.NumLayers() {
						ly := m.Layer(l)
						wOff := m.off[l]
						for i := range ly.W {
							k := wOff + i
							if th == 1 && float64(g[k]) != back[k] {
								t.Fatalf("gemm %v vmath %v %v: weight gradient %d = %v, Backward %v", gp, vp, cfg, k, g[k], back[k])
							}
						}
						for i := range ly.B {
							k := wOff + len(ly.W) + i
							if d := math.Abs(float64(g[k]) - back[k]); d > 1e-6*scale {
								t.Fatalf("%v: bias gradient %d = %v, Backward %v", cfg, k, g[k], back[k])
							}
						}
					}
					for i := range g64 {
						if !(math.Abs(float64(g[i])-g64[i]) <= 2e-5*scale+1e-30) {
							t.Fatalf("gemm %v vmath %v %v threads %d: gradient %d float32 %v, float64 %v", gp, vp, cfg, th, i, g[i], g64[i])
						}
					}
					if !raceEnabled {
						if a := testing.AllocsPerRun(5, func() {
							m.Forward(ws, x, n)
							m.Gradient32(ws, dOut)
						}); a != 0 {
							t.Errorf("%v threads %d: %v allocations", cfg, th, a)
						}
					}
				}
				m.SetThreads(1)
				m.Forward(ws, x, 0)
				for i, v := range m.Gradient32(ws, dOut) {
					if v != 0 {
						t.Fatalf("empty batch: gradient %d = %v", i, v)
					}
				}
			}
			gemm.SetPath(wg)
			vmath.SetPath(wv)
		}
	}
}

func TestGradient32Panics(t *testing.T) {
	cfg := Config{Inputs: 3, Hidden: []int{4}, Outputs: 2, Activation: Tanh}
	m, err := New(cfg, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, 6)
	for name, f := range map[string]func(){
		"before Forward": func() { m.Gradient32(m.NewWorkspace(2), make([]float64, 4)) },
		"float64 Forward": func() {
			ws := m.NewWorkspace(2)
			m.Forward(ws, x, 2)
			m.Gradient32(ws, make([]float64, 4))
		},
		"short": func() {
			m.SetPrecision(Float32)
			defer m.SetPrecision(Float64)
			ws := m.NewWorkspace(2)
			m.Forward(ws, x, 2)
			m.Gradient32(ws, make([]float64, 3))
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// TestApproximatorGradient32 checks that an Approximator's Gradient32
// gives, for both kinds, the weight gradients of its Gradient in Float32
// mode bit for bit (float32 products widened) and leaves Grads alone.
func TestApproximatorGradient32(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	mlp, err := New(Config{Inputs: 11, Hidden: []int{10}, Outputs: 7, Activation: Tanh}, rng)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []*Approximator{sphereFor(t, 11, 5, 3, []int{12}, SymmetryFull, 3), FromMLP(mlp)} {
		if err := a.Net.SetPrecision(Float32); err != nil {
			t.Fatal(err)
		}
		const n = 6
		x := gaussRows(rng, n, 11)
		dOut := gaussRows(rng, n, 7)
		ws := a.NewWorkspace(n)
		a.Forward(ws, x, n)
		a.Gradient(ws, dOut)
		want := append([]float64(nil), a.Grads()...)
		a.Forward(ws, x, n)
		g := a.Gradient32(ws, dOut)
		for l := range a.Net.NumLayers() {
			ly := a.Net.Layer(l)
			for i := range ly.W {
				k := a.Net.off[l] + i
				if float64(g[k]) != want[k] || a.Grads()[k] != want[k] {
					t.Fatalf("%v: weight gradient %d = %v, Gradient %v (Grads now %v)", a.Kind, k, g[k], want[k], a.Grads()[k])
				}
			}
		}
	}
}
