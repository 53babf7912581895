package optim

import (
	"math"
	"math/rand/v2"
	"testing"
)

func configs32(t *testing.T) []Config {
	t.Helper()
	var cs []Config
	for _, alg := range []Algorithm{AlgAdagrad, AlgAdam, AlgAdamW} {
		c, err := Defaults(alg)
		if err != nil {
			t.Fatal(err)
		}
		c.LR = 0.05
		cs = append(cs, c)
		c.WeightDecay = 0.02
		if alg == AlgAdagrad {
			c.LRDecay, c.InitialAccumulatorValue = 0.01, 0.1
		}
		cs = append(cs, c)
	}
	return cs
}

// TestStep32MatchesStep checks that Step32 on padded float32 runs gives
// Step's parameters and state bit for bit, step after step, and that both
// follow the float64 optimizer to float32 accuracy.
func TestStep32MatchesStep(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	lens := []int{7, 1, 16, 0, 1030, 9} // runs, one longer than a scratch chunk
	n := 0
	for _, l := range lens {
		n += l
	}
	for _, c := range configs32(t) {
		a, err := New32(c, n)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := New32(c, n)
		ref, _ := New(c, n)
		s32 := b.(Stepper32)
		p0 := make([]float64, n)
		for i := range p0 {
			p0[i] = float64(float32(rng.NormFloat64()))
		}
		pa, pb, pr := append([]float64(nil), p0...), append([]float64(nil), p0...), append([]float64(nil), p0...)
		var off []int
		var dst [][]float32
		pos := 0
		for _, l := range lens {
			off = append(off, pos)
			buf := make([]float32, l+3) // padded rows: the tail stays untouched
			for i := range l {
				buf[i] = float32(p0[pos+i])
			}
			buf[l] = -9
			dst = append(dst, buf[:l])
			pos += l
		}
		g32 := make([]float32, n)
		g64 := make([]float64, n)
		for step := 0; step < 5; step++ {
			for i := range g32 {
				g32[i] = float32(rng.NormFloat64())
				g64[i] = float64(g32[i])
			}
			a.Step(pa, g64)
			s32.Step32(pb, g32, off, dst)
			ref.Step(pr, g64)
			for i := range pa {
				if math.Float64bits(pa[i]) != math.Float64bits(pb[i]) {
					t.Fatalf("%+v step %d: Step32 parameter %d = %v, Step %v", c, step, i, pb[i], pa[i])
				}
				if d := math.Abs(pa[i] - pr[i]); d > 1e-5*(1+math.Abs(pr[i])) {
					t.Fatalf("%+v step %d: float32 parameter %d = %v, float64 optimizer %v", c, step, i, pa[i], pr[i])
				}
			}
			for r, l := range lens {
				for i := range l {
					if float64(dst[r][i]) != pb[off[r]+i] {
						t.Fatalf("%+v: run %d[%d] = %v, parameter %v", c, r, i, dst[r][i], pb[off[r]+i])
					}
				}
				if dst[r][:l+1][l] != -9 {
					t.Fatalf("%+v: run %d written past its end", c, r)
				}
			}
		}
		sa, sb := a.State(), b.State()
		for name, v := range sa.Buffers {
			for i, x := range v {
				if math.Float64bits(x) != math.Float64bits(sb.Buffers[name][i]) {
					t.Fatalf("%+v: state %s[%d] differs", c, name, i)
				}
			}
		}
		if got := len(sa.Buffers); got != len(ref.State().Buffers) {
			t.Fatalf("%+v: %d buffers, the float64 optimizer has %d", c, got, len(ref.State().Buffers))
		}
	}
}

// TestState32Resume checks that a float32 optimizer restored from another's
// State (also through MarshalBinary) continues bit for bit.
func TestState32Resume(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	const n = 45
	for _, c := range configs32(t) {
		a, _ := New32(c, n)
		p := make([]float64, n)
		g := make([]float64, n)
		fill := func() {
			for i := range g {
				g[i] = rng.NormFloat64()
			}
		}
		for i := range p {
			p[i] = rng.NormFloat64()
		}
		for range 3 {
			fill()
			a.Step(p, g)
		}
		raw, err := a.State().MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var st State
		if err := st.UnmarshalBinary(raw); err != nil {
			t.Fatal(err)
		}
		b, _ := New32(c, n)
		if err := b.SetState(st); err != nil {
			t.Fatal(err)
		}
		q := append([]float64(nil), p...)
		fill()
		a.Step(p, g)
		b.Step(q, g)
		for i := range p {
			if math.Float64bits(p[i]) != math.Float64bits(q[i]) {
				t.Fatalf("%+v: resumed parameter %d = %v, uninterrupted %v", c, i, q[i], p[i])
			}
		}
		bad := st
		bad.Buffers = map[string][]float64{}
		if err := b.SetState(bad); err == nil {
			t.Errorf("%+v: SetState without buffers accepted", c)
		}
	}
}

func TestNew32Kinds(t *testing.T) {
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{Algorithm: AlgAdagrad, LR: 0.1}, "*optim.Adagrad32"},
		{Config{Algorithm: AlgAdam, LR: 0.1, Beta1: 0.9, Beta2: 0.99}, "*optim.Adam32"},
		{Config{Algorithm: AlgAdamW, LR: 0.1, Beta1: 0.9, Beta2: 0.99}, "*optim.Adam32"},
		{Config{Algorithm: AlgAdam, LR: 0.1, Beta1: 0.9, Beta2: 0.99, AMSGrad: true}, "*optim.Adam"},
		{Config{Algorithm: AlgSGD, LR: 0.1}, "*optim.SGD"},
	} {
		o, err := New32(tc.c, 3)
		if err != nil {
			t.Fatal(err)
		}
		if got := typeName(o); got != tc.want {
			t.Errorf("New32(%v): %s, want %s", tc.c.Algorithm, got, tc.want)
		}
	}
	if _, err := New32(Config{Algorithm: "x"}, 3); err == nil {
		t.Error("New32 accepted an unknown algorithm")
	}
	if _, err := New32(Config{Algorithm: AlgAdagrad, LR: 1}, -1); err == nil {
		t.Error("New32 accepted -1 parameters")
	}
}

func typeName(o Optimizer) string {
	switch o.(type) {
	case *Adagrad32:
		return "*optim.Adagrad32"
	case *Adam32:
		return "*optim.Adam32"
	case *Adam:
		return "*optim.Adam"
	case *SGD:
		return "*optim.SGD"
	}
	return "other"
}

func TestStep32Panics(t *testing.T) {
	o, _ := New32(Config{Algorithm: AlgAdagrad, LR: 1}, 4)
	s := o.(Stepper32)
	p, g := make([]float64, 4), make([]float32, 4)
	for name, f := range map[string]func(){
		"gap":      func() { s.Step32(p, g, []int{0, 3}, [][]float32{make([]float32, 2), make([]float32, 1)}) },
		"short":    func() { s.Step32(p, g, []int{0}, [][]float32{make([]float32, 3)}) },
		"grads":    func() { s.Step32(p, g[:3], []int{0}, [][]float32{make([]float32, 4)}) },
		"overlap":  func() { s.Step32(p, g, []int{0, 1}, [][]float32{make([]float32, 2), make([]float32, 3)}) },
		"mismatch": func() { s.Step32(p, g, []int{0}, nil) },
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

func TestStep32Allocs(t *testing.T) {
	const n = 1500
	for _, c := range configs32(t) {
		o, _ := New32(c, n)
		s := o.(Stepper32)
		p, g64 := make([]float64, n), make([]float64, n)
		g := make([]float32, n)
		dst := [][]float32{make([]float32, 1000), make([]float32, 500)}
		off := []int{0, 1000}
		if a := testing.AllocsPerRun(10, func() { s.Step32(p, g, off, dst) }); a != 0 {
			t.Errorf("%v Step32: %v allocations", c.Algorithm, a)
		}
		if a := testing.AllocsPerRun(10, func() { o.Step(p, g64) }); a != 0 {
			t.Errorf("%v Step: %v allocations", c.Algorithm, a)
		}
	}
}

func TestClipGlobalNorm32(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	for _, scale := range []float64{1e-3, 1, 1e3} {
		g32 := make([]float32, 100)
		g64 := make([]float64, 100)
		for i := range g32 {
			g32[i] = float32(rng.NormFloat64() * scale)
			g64[i] = float64(g32[i])
		}
		n32 := ClipGlobalNorm32(g32, 1)
		n64 := ClipGlobalNorm(g64, 1)
		if math.Abs(n32-n64) > 1e-12*n64 {
			t.Errorf("scale %v: norm %v, float64 %v", scale, n32, n64)
		}
		for i := range g32 {
			if d := math.Abs(float64(g32[i]) - g64[i]); d > 1e-6*math.Abs(g64[i])+1e-30 {
				t.Fatalf("scale %v: clipped %d = %v, float64 %v", scale, i, g32[i], g64[i])
			}
		}
	}
	g := []float32{float32(math.Inf(1)), 1}
	if n := ClipGlobalNorm32(g, 1); !math.IsInf(n, 1) || !math.IsNaN(float64(g[0])) || g[1] != 0 {
		t.Errorf("infinite entry: norm %v, grads %v", n, g)
	}
	g = []float32{float32(math.NaN()), 1}
	if n := ClipGlobalNorm32(g, 1); !math.IsNaN(n) || !math.IsNaN(float64(g[1])) {
		t.Errorf("NaN entry: norm %v, grads %v", n, g)
	}
}
