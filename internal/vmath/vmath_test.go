package vmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The stated maximum errors against math.Tanh, in units in the last place
// of the exact result (float64 for Tanh64, float32 for Tanh32).
const (
	Tanh64MaxULP = 2
	Tanh32MaxULP = 4
)

// paths returns every path this CPU runs.
func paths() []Path {
	var ps []Path
	for p := Generic; p <= Best(); p++ {
		ps = append(ps, p)
	}
	return ps
}

func withPath(t testing.TB, p Path, f func()) {
	t.Helper()
	was := SetPath(p)
	defer SetPath(was)
	if Current() != p {
		t.Fatalf("SetPath(%v): current %v", p, Current())
	}
	f()
}

// inputs64 returns adversarial and random float64 inputs: zeros, tiny and
// subnormal values, the branch point 0.625, values around the saturation,
// huge values, infinities and NaN, plus a log-uniform sweep.
func inputs64(rng *rand.Rand) []float64 {
	xs := []float64{0, math.Copysign(0, -1), 5e-324, 1e-310, 1e-300, 1e-20, 1e-8, 1e-3,
		0.625, math.Nextafter(0.625, 0), math.Nextafter(0.625, 1), 0.3, 1, 2, 5, 10, 18, 19, 19.1, 20, 22, 40, 41,
		1e10, 1e300, math.MaxFloat64, math.Inf(1), math.Inf(-1), math.NaN()}
	for range 200000 {
		e := rng.Float64()*30 - 25 // 2^-25 … 2^5
		xs = append(xs, math.Exp2(e)*(1+rng.Float64()))
	}
	for range 20000 {
		xs = append(xs, rng.Float64()*2)
	}
	n := len(xs)
	for i := range n {
		xs = append(xs, -xs[i])
	}
	return xs
}

// ulps64 is |got − want| in ulps of want (an exact result of 0 counts an
// error of one smallest subnormal as one ulp).
func ulps64(got, want float64) float64 {
	if got == want {
		return 0
	}
	u := math.Nextafter(math.Abs(want), math.Inf(1)) - math.Abs(want)
	return math.Abs(got-want) / u
}

func TestTanh64Accuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	xs := inputs64(rng)
	for _, p := range paths() {
		withPath(t, p, func() {
			got := make([]float64, len(xs))
			Tanh64(got, xs)
			worst, at := 0.0, 0.0
			for i, x := range xs {
				want := math.Tanh(x)
				if math.IsNaN(x) {
					if !math.IsNaN(got[i]) {
						t.Errorf("%v: tanh(NaN) = %v", p, got[i])
					}
					continue
				}
				if math.Signbit(got[i]) != math.Signbit(want) || math.Abs(got[i]) > 1 {
					t.Errorf("%v: tanh(%g) = %g, want %g", p, x, got[i], want)
				}
				if u := ulps64(got[i], want); u > worst {
					worst, at = u, x
				}
			}
			t.Logf("%v: max error %.2f ulp at x = %g", p, worst, at)
			if worst > Tanh64MaxULP {
				t.Errorf("%v: max error %.2f ulp at x = %g, want ≤ %d", p, worst, at, Tanh64MaxULP)
			}
		})
	}
}

func ulps32(got, want float32) float64 {
	if got == want {
		return 0
	}
	a := float32(math.Abs(float64(want)))
	u := math.Nextafter32(a, float32(math.Inf(1))) - a
	return math.Abs(float64(got)-float64(want)) / float64(u)
}

func TestTanh32Accuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x64 := inputs64(rng)
	xs := make([]float32, len(x64))
	for i, v := range x64 {
		xs[i] = float32(v)
	}
	for _, p := range paths() {
		withPath(t, p, func() {
			got := make([]float32, len(xs))
			Tanh32(got, xs)
			worst, at := 0.0, float32(0)
			for i, x := range xs {
				want := float32(math.Tanh(float64(x)))
				if x != x {
					if got[i] == got[i] {
						t.Errorf("%v: tanh(NaN) = %v", p, got[i])
					}
					continue
				}
				if math.Signbit(float64(got[i])) != math.Signbit(float64(want)) || math.Abs(float64(got[i])) > 1 {
					t.Errorf("%v: tanh(%g) = %g, want %g", p, x, got[i], want)
				}
				if u := ulps32(got[i], want); u > worst {
					worst, at = u, x
				}
			}
			t.Logf("%v: max error %.2f ulp at x = %g", p, worst, at)
			if worst > Tanh32MaxULP {
				t.Errorf("%v: max error %.2f ulp at x = %g, want ≤ %d", p, worst, at, Tanh32MaxULP)
			}
		})
	}
}

// TestPathsAgree checks that every path gives the generic path's results
// bit for bit (float64) or within one ulp (float32, whose generic fused
// multiply-adds round twice), for every length up to 70 (so every tail),
// with and without bias, and in place.
func TestPathsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for n := 0; n <= 70; n++ {
		x := make([]float64, n)
		b := make([]float64, n)
		y := make([]float64, n)
		d := make([]float64, n)
		for i := range x {
			x[i] = 6 * rng.NormFloat64()
			b[i] = rng.NormFloat64()
			y[i] = 2*rng.Float64() - 1
			d[i] = rng.NormFloat64()
		}
		x32, b32, y32, d32 := to32(x), to32(b), to32(y), to32(d)
		type res struct {
			t, tb, dd []float64
			t32, tb32 []float32
			dd32      []float32
		}
		run := func() res {
			var r res
			r.t, r.tb, r.dd = make([]float64, n), append([]float64(nil), x...), append([]float64(nil), d...)
			Tanh64(r.t, x)
			AddTanh64(r.tb, r.tb, b)
			TanhDeriv64(r.dd, y)
			r.t32, r.tb32, r.dd32 = make([]float32, n), append([]float32(nil), x32...), append([]float32(nil), d32...)
			Tanh32(r.t32, x32)
			AddTanh32(r.tb32, r.tb32, b32)
			TanhDeriv32(r.dd32, y32)
			return r
		}
		var ref res
		withPath(t, Generic, func() { ref = run() })
		for i := range n {
			if want := tanh64(x[i] + b[i]); ref.tb[i] != want {
				t.Fatalf("generic AddTanh64 differs from the scalar reference")
			}
		}
		for _, p := range paths()[1:] {
			withPath(t, p, func() {
				got := run()
				for i := range n {
					if math.Float64bits(got.t[i]) != math.Float64bits(ref.t[i]) || got.tb[i] != ref.tb[i] || got.dd[i] != ref.dd[i] {
						t.Fatalf("%v n=%d i=%d: float64 %v %v %v, generic %v %v %v", p, n, i, got.t[i], got.tb[i], got.dd[i], ref.t[i], ref.tb[i], ref.dd[i])
					}
					if ulps32(got.t32[i], ref.t32[i]) > 1 || ulps32(got.tb32[i], ref.tb32[i]) > 1 || got.dd32[i] != ref.dd32[i] {
						t.Fatalf("%v n=%d i=%d: float32 %v %v %v, generic %v %v %v", p, n, i, got.t32[i], got.tb32[i], got.dd32[i], ref.t32[i], ref.tb32[i], ref.dd32[i])
					}
				}
			})
		}
	}
}

func to32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

// TestOptimizersAgree checks the vector optimizer kernels against their
// scalar loops bit for bit, for every tail length and decay mode.
func TestOptimizersAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for n := 0; n <= 21; n++ {
		for _, wd := range []float64{0, 0.01} {
			for mode := int64(0); mode <= 2; mode++ {
				p0, g, s0 := make([]float64, n), make([]float64, n), make([]float64, n)
				m0, v0 := make([]float64, n), make([]float64, n)
				for i := range p0 {
					p0[i], g[i], s0[i] = rng.NormFloat64(), rng.NormFloat64(), rng.Float64()
					m0[i], v0[i] = rng.NormFloat64(), rng.Float64()
				}
				c := &AdamConsts{Beta1: 0.9, OneMinusBeta1: 0.1, Beta2: 0.999, OneMinusBeta2: 1 - 0.999,
					BC2Sqrt: math.Sqrt(1 - 0.999*0.999), Eps: 1e-8, StepSize: 1e-3 / (1 - 0.81), WeightDecay: 0.1, Decay: 1 - 1e-4, Mode: mode}
				run := func() (p, s, pa, m, v []float64) {
					p, s = append([]float64(nil), p0...), append([]float64(nil), s0...)
					Adagrad64(p, g, s, 0.25, 1e-10, wd)
					pa, m, v = append([]float64(nil), p0...), append([]float64(nil), m0...), append([]float64(nil), v0...)
					Adam64(pa, g, m, v, c)
					return
				}
				var ref [5][]float64
				withPath(t, Generic, func() { ref[0], ref[1], ref[2], ref[3], ref[4] = run() })
				for _, p := range paths()[1:] {
					withPath(t, p, func() {
						var got [5][]float64
						got[0], got[1], got[2], got[3], got[4] = run()
						for k := range got {
							for i := range got[k] {
								if got[k][i] != ref[k][i] {
									t.Fatalf("%v n=%d wd=%v mode=%d: output %d[%d] = %v, generic %v", p, n, wd, mode, k, i, got[k][i], ref[k][i])
								}
							}
						}
					})
				}
			}
		}
	}
}

func TestSetPath(t *testing.T) {
	was := SetPath(AVX512 + 5)
	defer SetPath(was)
	if Current() != Best() {
		t.Errorf("SetPath above the best: current %v, best %v", Current(), Best())
	}
	SetPath(-3)
	if Current() != Generic {
		t.Errorf("SetPath(-3): current %v", Current())
	}
	for _, p := range []Path{Generic, AVX2, AVX512, 9} {
		if p.String() == "" {
			t.Errorf("empty name for %d", p)
		}
	}
}

func TestShortSlicesPanic(t *testing.T) {
	for name, f := range map[string]func(){
		"Tanh64":              func() { Tanh64(make([]float64, 3), make([]float64, 2)) },
		"AddTanh32":           func() { AddTanh32(make([]float32, 3), make([]float32, 3), make([]float32, 2)) },
		"Adagrad64":           func() { Adagrad64(make([]float64, 3), make([]float64, 3), make([]float64, 2), 1, 1, 0) },
		"SetFloat32":          func() { SetFloat32(make([]float64, 3), make([]float32, 2)) },
		"AddColumns32":        func() { AddColumns32(make([]float64, 3), make([]float32, 8), 3, 3) },
		"AddColumns32 stride": func() { AddColumns32(make([]float64, 3), make([]float32, 9), 3, 2) },
		"Adagrad64Round32": func() {
			Adagrad64Round32(make([]float64, 3), make([]float64, 3), make([]float64, 3), make([]float32, 2), 1, 1, 0)
		},
		"Adam64": func() {
			Adam64(make([]float64, 1), make([]float64, 1), make([]float64, 1), make([]float64, 1), &AdamConsts{Mode: 3})
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f()
		}()
	}
}

func BenchmarkTanh(b *testing.B) {
	x := make([]float64, 10000)
	x32 := make([]float32, 10000)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range x {
		x[i] = 3 * rng.NormFloat64()
		x32[i] = float32(x[i])
	}
	d := make([]float64, len(x))
	d32 := make([]float32, len(x))
	for _, p := range paths() {
		b.Run("f64/"+p.String(), func(b *testing.B) {
			withPath(b, p, func() {
				for b.Loop() {
					Tanh64(d, x)
				}
			})
			b.ReportMetric(float64(b.N*len(x))/b.Elapsed().Seconds()/1e6, "Melem/s")
		})
		b.Run("f32/"+p.String(), func(b *testing.B) {
			withPath(b, p, func() {
				for b.Loop() {
					Tanh32(d32, x32)
				}
			})
			b.ReportMetric(float64(b.N*len(x))/b.Elapsed().Seconds()/1e6, "Melem/s")
		})
	}
	b.Run("f64/math.Tanh", func(b *testing.B) {
		for b.Loop() {
			for i, v := range x {
				d[i] = math.Tanh(v)
			}
		}
		b.ReportMetric(float64(b.N*len(x))/b.Elapsed().Seconds()/1e6, "Melem/s")
	})
}

// TestConversions checks the float64↔float32 conversions on every path and
// tail length against Go's conversions, including values that round, NaN,
// infinities and overflow.
func TestConversions(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for n := 0; n <= 23; n++ {
		src := make([]float64, n)
		for i := range src {
			src[i] = rng.NormFloat64() * math.Exp2(float64(rng.IntN(60)-30))
		}
		if n > 4 {
			src[1], src[2], src[3], src[4] = math.NaN(), math.Inf(-1), 1e300, 1+0x1p-24
		}
		if n > 6 {
			src[5], src[6] = math.Copysign(0, -1), 0
		}
		for _, p := range paths() {
			withPath(t, p, func() {
				d32 := make([]float32, n)
				ToFloat32(d32, src)
				d64 := make([]float64, n)
				ToFloat64(d64, d32)
				acc := append([]float64(nil), src...)
				AddFloat32(acc, d32)
				set := append([]float64(nil), src...)
				SetFloat32(set, d32)
				ref := make([]float64, n)
				AddFloat32(ref, d32) // clear, then add: what SetFloat32 does
				for i := range src {
					if math.Float64bits(set[i]) != math.Float64bits(ref[i]) && !(ref[i] != ref[i] && set[i] != set[i]) {
						t.Fatalf("%v: SetFloat32 gives %v for %v, clear and add %v", p, set[i], d32[i], ref[i])
					}
					if d32[i] == 0 && math.Signbit(set[i]) {
						t.Fatalf("%v: SetFloat32 keeps the sign of %v", p, d32[i])
					}
				}
				for i := range src {
					w32 := float32(src[i])
					if math.Float32bits(d32[i]) != math.Float32bits(w32) && !(w32 != w32 && d32[i] != d32[i]) {
						t.Fatalf("%v: float32(%v) = %v, want %v", p, src[i], d32[i], w32)
					}
					if w := float64(d32[i]); d64[i] != w && !(w != w && d64[i] != d64[i]) {
						t.Fatalf("%v: float64(%v) = %v", p, d32[i], d64[i])
					}
					if w := src[i] + float64(d32[i]); acc[i] != w && !(w != w && acc[i] != acc[i]) {
						t.Fatalf("%v: %v + %v = %v, want %v", p, src[i], d32[i], acc[i], w)
					}
				}
			})
		}
	}
}

// TestTailsStayInside checks that the masked tails neither read past the
// input in a way that changes the result nor write past dst.
func TestTailsStayInside(t *testing.T) {
	for _, p := range paths() {
		withPath(t, p, func() {
			for n := 0; n <= 40; n++ {
				buf := make([]float64, n+16)
				buf32 := make([]float32, n+32)
				for i := range buf {
					buf[i] = 7
				}
				for i := range buf32 {
					buf32[i] = 7
				}
				b := make([]float64, n)
				b32 := make([]float32, n)
				AddTanh64(buf[:n], buf[:n], b)
				AddTanh32(buf32[:n], buf32[:n], b32)
				for i := n; i < len(buf); i++ {
					if buf[i] != 7 {
						t.Fatalf("%v n=%d: float64 element %d past the end written", p, n, i)
					}
				}
				for i := n; i < len(buf32); i++ {
					if buf32[i] != 7 {
						t.Fatalf("%v n=%d: float32 element %d past the end written", p, n, i)
					}
				}
			}
		})
	}
}

// TestAdagradRound32 checks that Adagrad64Round32 updates params and sum
// bit for bit as Adagrad64 does and writes their float32 rounding, on every
// path, for every tail length, with and without weight decay.
func TestAdagradRound32(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for n := 0; n <= 21; n++ {
		for _, wd := range []float64{0, 0.01} {
			p0, g, s0 := make([]float64, n), make([]float64, n), make([]float64, n)
			for i := range p0 {
				p0[i], g[i], s0[i] = rng.NormFloat64(), rng.NormFloat64(), rng.Float64()
			}
			for _, p := range paths() {
				withPath(t, p, func() {
					pw, sw := append([]float64(nil), p0...), append([]float64(nil), s0...)
					Adagrad64(pw, g, sw, 0.25, 1e-10, wd)
					pr, sr := append([]float64(nil), p0...), append([]float64(nil), s0...)
					r32 := make([]float32, n+1)
					r32[n] = -7 // beyond the parameters: untouched
					Adagrad64Round32(pr, g, sr, r32[:n], 0.25, 1e-10, wd)
					for i := range n {
						if pr[i] != pw[i] || sr[i] != sw[i] || r32[i] != float32(pw[i]) {
							t.Fatalf("%v n=%d wd=%v: [%d] params %v sum %v r32 %v, want %v %v %v", p, n, wd, i, pr[i], sr[i], r32[i], pw[i], sw[i], float32(pw[i]))
						}
					}
					if r32[n] != -7 {
						t.Fatalf("%v n=%d: wrote past the parameters", p, n)
					}
				})
			}
		}
	}
}

// TestAddColumns32 checks AddColumns32 against AddFloat32 applied row by
// row (generic path), bit for bit, on every path, for column counts around
// the 16-column blocks, several row strides and row counts.
func TestAddColumns32(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, cols := range []int{1, 3, 15, 16, 17, 33, 65, 100} {
		for _, rows := range []int{0, 1, 2, 7, 9} {
			for _, pad := range []int{0, 5} {
				ld := cols + pad
				src := make([]float32, max(rows*ld, 1))
				for i := range src {
					src[i] = float32(rng.NormFloat64() * math.Exp2(float64(rng.IntN(40)-20)))
				}
				dst0 := make([]float64, cols)
				for j := range dst0 {
					dst0[j] = rng.NormFloat64()
				}
				want := append([]float64(nil), dst0...)
				withPath(t, Generic, func() {
					for i := range rows {
						AddFloat32(want, src[i*ld:i*ld+cols])
					}
				})
				for _, p := range paths() {
					withPath(t, p, func() {
						got := append([]float64(nil), dst0...)
						AddColumns32(got, src, rows, ld)
						for j := range got {
							if math.Float64bits(got[j]) != math.Float64bits(want[j]) {
								t.Fatalf("%v cols=%d rows=%d ld=%d: column %d = %v, row by row %v", p, cols, rows, ld, j, got[j], want[j])
							}
						}
					})
				}
			}
		}
	}
}
