package vmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestOptimizers32 checks the float32 optimizer kernels on every path
// against the generic loop bit for bit (the scalar rule), and that loop
// against the float64 rule within float32 accuracy, for every tail length
// around the 8-element vectors, every decay mode, with and without the
// float64 copy.
func TestOptimizers32(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for n := 0; n <= 37; n++ {
		for _, wd := range []float32{0, 0.01} {
			for mode := int64(0); mode <= 2; mode++ {
				p0, g, s0 := make([]float32, n), make([]float32, n), make([]float32, n)
				m0, v0 := make([]float32, n), make([]float32, n)
				for i := range p0 {
					p0[i], g[i], s0[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.Float64())
					m0[i], v0[i] = float32(rng.NormFloat64()), float32(rng.Float64())
				}
				c := &AdamConsts32{Beta1: 0.9, OneMinusBeta1: 0.1, Beta2: 0.999, OneMinusBeta2: 1 - 0.999,
					BC2Sqrt: float32(math.Sqrt(1 - 0.999*0.999)), Eps: 1e-8, StepSize: float32(1e-3 / (1 - 0.81)),
					WeightDecay: 0.1, Decay: 1 - 1e-4, Mode: mode}
				run := func(wide bool) (out [5][]float32, w [2][]float64) {
					p, s := append([]float32(nil), p0...), append([]float32(nil), s0...)
					pa, m, v := append([]float32(nil), p0...), append([]float32(nil), m0...), append([]float32(nil), v0...)
					if wide {
						w[0], w[1] = make([]float64, n+1), make([]float64, n+1)
						w[0][n], w[1][n] = -7, -7 // beyond the parameters: untouched
						Adagrad32(p, g, s, w[0][:n], 0.25, 1e-10, wd)
						Adam32(pa, g, m, v, w[1][:n], c)
					} else {
						Adagrad32(p, g, s, nil, 0.25, 1e-10, wd)
						Adam32(pa, g, m, v, nil, c)
					}
					return [5][]float32{p, s, pa, m, v}, w
				}
				var ref [5][]float32
				withPath(t, Generic, func() { ref, _ = run(false) })
				for _, p := range paths() {
					for _, wide := range []bool{false, true} {
						withPath(t, p, func() {
							got, w := run(wide)
							for k := range got {
								for i := range got[k] {
									if math.Float32bits(got[k][i]) != math.Float32bits(ref[k][i]) {
										t.Fatalf("%v n=%d wd=%v mode=%d wide=%v: output %d[%d] = %v, generic %v", p, n, wd, mode, wide, k, i, got[k][i], ref[k][i])
									}
								}
							}
							if !wide {
								return
							}
							for k, src := range [2][]float32{got[0], got[2]} {
								for i := range src {
									if w[k][i] != float64(src[i]) {
										t.Fatalf("%v n=%d: float64 copy %d[%d] = %v, want %v", p, n, k, i, w[k][i], src[i])
									}
								}
								if w[k][n] != -7 {
									t.Fatalf("%v n=%d: wrote past the parameters", p, n)
								}
							}
						})
					}
				}
				// The float32 rule follows the float64 one to float32 accuracy.
				p64, s64 := widen(p0), widen(s0)
				Adagrad64(p64, widen(g), s64, 0.25, 1e-10, float64(wd))
				for i := range p64 {
					if d := math.Abs(float64(ref[0][i]) - p64[i]); d > 1e-6*(1+math.Abs(p64[i])) {
						t.Fatalf("n=%d: Adagrad32 parameter %d = %v, float64 rule %v", n, i, ref[0][i], p64[i])
					}
				}
			}
		}
	}
}

func widen(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

// TestSumColumns32 checks SumColumns32 on every path against the
// row-by-row float32 loop, bit for bit, for column counts around the 8-
// and 32-column blocks, several row strides and row counts.
func TestSumColumns32(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, cols := range []int{1, 7, 8, 9, 31, 32, 33, 65, 100} {
		for _, rows := range []int{0, 1, 2, 7, 9} {
			for _, pad := range []int{0, 5} {
				ld := cols + pad
				src := make([]float32, max(rows*ld, 1))
				for i := range src {
					src[i] = float32(rng.NormFloat64() * math.Exp2(float64(rng.IntN(40)-20)))
				}
				dst0 := make([]float32, cols+1)
				for j := range dst0 {
					dst0[j] = float32(rng.NormFloat64())
				}
				want := append([]float32(nil), dst0...)
				for i := range rows {
					for j := range cols {
						want[j] += src[i*ld+j]
					}
				}
				for _, p := range paths() {
					withPath(t, p, func() {
						got := append([]float32(nil), dst0...)
						SumColumns32(got[:cols], src, rows, ld)
						for j := range got {
							if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
								t.Fatalf("%v cols=%d rows=%d ld=%d: column %d = %v, row by row %v", p, cols, rows, ld, j, got[j], want[j])
							}
						}
					})
				}
			}
		}
	}
}

func TestKernels32Panics(t *testing.T) {
	for name, f := range map[string]func(){
		"Adagrad32 sum": func() { Adagrad32(make([]float32, 3), make([]float32, 3), make([]float32, 2), nil, 1, 1, 0) },
		"Adagrad32 p64": func() {
			Adagrad32(make([]float32, 3), make([]float32, 3), make([]float32, 3), make([]float64, 2), 1, 1, 0)
		},
		"Adam32 mode": func() {
			Adam32(make([]float32, 1), make([]float32, 1), make([]float32, 1), make([]float32, 1), nil, &AdamConsts32{Mode: 3})
		},
		"SumColumns32":        func() { SumColumns32(make([]float32, 3), make([]float32, 8), 3, 3) },
		"SumColumns32 stride": func() { SumColumns32(make([]float32, 3), make([]float32, 9), 3, 2) },
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

// BenchmarkOptimizerScaled measures one optimizer pass over the 362 561
// parameters of the scaled network in runs of 512 (the rows of its padded
// float32 weights): the float32 Adagrad writing the float64 copy, as
// optim.Adagrad32.Step32 runs, and the float64 Adagrad writing the float32
// rounding, as optim.Adagrad.StepRound32 runs.
func BenchmarkOptimizerScaled(b *testing.B) {
	const n, run = 362561, 512
	p, g, s := make([]float32, n), make([]float32, n), make([]float32, n)
	p64, g64, s64 := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range p {
		p[i], g[i], s[i] = 0.1, 0.01, 1
		p64[i], g64[i], s64[i] = 0.1, 0.01, 1
	}
	b.Run("Adagrad32", func(b *testing.B) {
		for b.Loop() {
			for lo := 0; lo < n; lo += run {
				hi := min(lo+run, n)
				Adagrad32(p[lo:hi], g[lo:hi], s[lo:hi], p64[lo:hi], 0.01, 1e-10, 0)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e3, "µs/pass")
	})
	b.Run("Adagrad64Round32", func(b *testing.B) {
		for b.Loop() {
			for lo := 0; lo < n; lo += run {
				hi := min(lo+run, n)
				Adagrad64Round32(p64[lo:hi], g64[lo:hi], s64[lo:hi], p[lo:hi], 0.01, 1e-10, 0)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e3, "µs/pass")
	})
}
