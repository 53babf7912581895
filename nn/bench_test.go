package nn

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/matapprox/matapprox/optim"
)

// BenchmarkTrainStep measures one training step — forward, a quadratic loss
// gradient, backward and an Adagrad update — at the notebook's size and at
// the scaled size, in both precisions, reporting samples per second. f32
// is the float32 network with the float64 optimizer, f32opt the float32
// network with the float32 optimizer on float32 gradients (Gradient32,
// optim.Stepper32), as train.Trainer runs a float32 model. min-µs/step is
// the fastest single step, which other load on the machine can only
// lengthen.
func BenchmarkTrainStep(b *testing.B) {
	for _, bc := range []struct {
		name  string
		cfg   Config
		batch int
	}{
		{"notebook", NotebookConfig(), 100},
		{"scaled", Config{Inputs: 129, Hidden: []int{512, 512}, Outputs: 65, Activation: Tanh}, 256},
	} {
		for _, variant := range []string{"f64", "f32", "f32opt"} {
			prec := Float64
			if variant != "f64" {
				prec = Float32
			}
			b.Run(bc.name+"/"+variant, func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 2))
				m, err := New(bc.cfg, rng)
				if err != nil {
					b.Fatal(err)
				}
				m.SetPrecision(prec)
				x := randBatch(rng, bc.batch, bc.cfg.Inputs, 1)
				target := randBatch(rng, bc.batch, bc.cfg.Outputs, 1)
				dOut := make([]float64, len(target))
				ws := m.NewWorkspace(bc.batch)
				newOpt := optim.New
				if variant == "f32opt" {
					newOpt = optim.New32
				}
				opt, err := newOpt(optim.Config{Algorithm: optim.AlgAdagrad, LR: 0.01, Eps: 1e-10}, len(m.Params))
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				best := time.Duration(math.MaxInt64)
				var last time.Time
				for b.Loop() {
					if now := time.Now(); !last.IsZero() && now.Sub(last) < best {
						best = now.Sub(last)
					}
					last = time.Now()
					y := m.Forward(ws, x, bc.batch)
					for i, v := range y {
						dOut[i] = v - target[i]
					}
					if s32, ok := opt.(optim.Stepper32); ok {
						g := m.Gradient32(ws, dOut)
						off, dst := m.Params32(ws)
						s32.Step32(m.Params, g, off, dst)
						m.SetParams32Current(ws, true)
						continue
					}
					m.Gradient(ws, dOut)
					// As train.Trainer does: the float32 weights are
					// rounded in the optimizer's pass.
					if off, dst := m.Params32(ws); dst != nil {
						opt.(optim.Rounder32).StepRound32(m.Params, m.Grads, off, dst)
						m.SetParams32Current(ws, true)
					} else {
						opt.Step(m.Params, m.Grads)
					}
				}
				if now := time.Now(); now.Sub(last) < best {
					best = now.Sub(last)
				}
				b.ReportMetric(float64(b.N*bc.batch)/b.Elapsed().Seconds(), "samples/s")
				// The fastest step, which other load can only lengthen.
				b.ReportMetric(float64(best.Microseconds()), "min-µs/step")
			})
		}
	}
}
