package loss

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/matapprox/matapprox/structure"
)

// denseProbeLoss is the notebook's loss computed the slow way: dense
// matrices and a loop over probes.
func denseProbeLoss(in, out structure.Band, x, a, probes []float64, p int) float64 {
	n := in.N
	full := make([]float64, in.Len())
	structure.Embed(full, in, a, out)
	X, A := in.Dense(x), in.Dense(full)
	var D mat.Dense
	D.Sub(X, A)
	var s float64
	for i := 0; i < p; i++ {
		y := mat.NewVecDense(n, probes[i*n:(i+1)*n])
		var dy mat.VecDense
		dy.MulVec(&D, y)
		s += mat.Dot(&dy, &dy) / mat.Dot(y, y)
	}
	return s / float64(p)
}

func randVec(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

type bandCase struct{ n, k, ko int }

func bandCases(rng *rand.Rand) []bandCase {
	cs := []bandCase{{1, 0, 0}, {2, 1, 0}, {2, 1, 1}, {11, 5, 3}, {11, 5, 0}, {11, 5, 5}, {11, 10, 3}, {7, 0, 0}, {64, 63, 31}}
	for i := 0; i < 12; i++ {
		n := 1 + rng.IntN(64)
		k := rng.IntN(n)
		cs = append(cs, bandCase{n, k, rng.IntN(k + 1)})
	}
	return cs
}

func TestProbeMatchesDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range bandCases(rng) {
		t.Run(fmt.Sprintf("N=%d,K=%d,K'=%d", c.n, c.k, c.ko), func(t *testing.T) {
			in, out := structure.Band{N: c.n, K: c.k}, structure.Band{N: c.n, K: c.ko}
			for _, gen := range []string{"notebook", "gaussian", "rademacher"} {
				p := 1 + rng.IntN(20)
				var probes []float64
				switch gen {
				case "notebook":
					probes = NotebookProbes(rng, p, c.n)
				case "gaussian":
					probes = GaussianProbes(rng, p, c.n)
				default:
					probes = RademacherProbes(rng, p, c.n)
				}
				l, err := NewProbe(in, out, probes, p)
				if err != nil {
					t.Fatal(err)
				}
				const batch = 3
				x, a := randVec(rng, batch*in.Len()), randVec(rng, batch*out.Len())
				got := l.Eval(nil, x, a, batch)
				var want float64
				for b := 0; b < batch; b++ {
					want += denseProbeLoss(in, out, x[b*in.Len():(b+1)*in.Len()], a[b*out.Len():(b+1)*out.Len()], probes, p)
				}
				if !close(got, want, 1e-10) {
					t.Errorf("%s probes: quadratic form %v, dense loop %v", gen, got, want)
				}
			}
		})
	}
}

func close(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

func TestFrobeniusMatchesDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range bandCases(rng) {
		in, out := structure.Band{N: c.n, K: c.k}, structure.Band{N: c.n, K: c.ko}
		for _, norm := range []bool{false, true} {
			l, err := NewFrobenius(in, out, norm)
			if err != nil {
				t.Fatal(err)
			}
			x, a := randVec(rng, in.Len()), randVec(rng, out.Len())
			full := make([]float64, in.Len())
			structure.Embed(full, in, a, out)
			var D mat.Dense
			D.Sub(in.Dense(x), in.Dense(full))
			want := mat.Norm(&D, 2) * mat.Norm(&D, 2)
			if norm {
				want /= float64(c.n)
			}
			if got := l.Eval(nil, x, a, 1); !close(got, want, 1e-12) {
				t.Errorf("%v→%v normalized=%v: got %v, want %v", in, out, norm, got, want)
			}
		}
	}
}

func TestSpectralMatchesDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, c := range bandCases(rng) {
		in, out := structure.Band{N: c.n, K: c.k}, structure.Band{N: c.n, K: c.ko}
		l, err := NewSpectral(in, out)
		if err != nil {
			t.Fatal(err)
		}
		x, a := randVec(rng, in.Len()), randVec(rng, out.Len())
		full := make([]float64, in.Len())
		structure.Embed(full, in, a, out)
		var D mat.Dense
		D.Sub(in.Dense(x), in.Dense(full))
		var svd mat.SVD
		svd.Factorize(&D, mat.SVDNone)
		want := svd.Values(nil)[0]
		if got := l.Eval(nil, x, a, 1); !close(got, want, 1e-12) {
			t.Errorf("%v→%v: got %v, want %v", in, out, got, want)
		}
	}
}

// TestGradients checks every loss's gradient against central finite
// differences.
func TestGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, c := range []bandCase{{11, 5, 3}, {6, 3, 1}, {1, 0, 0}, {9, 8, 8}, {20, 7, 0}} {
		in, out := structure.Band{N: c.n, K: c.k}, structure.Band{N: c.n, K: c.ko}
		probe, _ := NewProbe(in, out, GaussianProbes(rng, 7, c.n), 7)
		frob, _ := NewFrobenius(in, out, true)
		spec, _ := NewSpectral(in, out)
		for _, l := range []Loss{probe, frob, spec} {
			for _, red := range []Reduction{Mean, Sum} {
				obj := Objective{Loss: l, Reduction: red, Scale: 2.5}
				const batch = 4
				x, a := randVec(rng, batch*in.Len()), randVec(rng, batch*out.Len())
				grad := make([]float64, len(a))
				obj.Eval(grad, x, a, batch)
				const h = 1e-6
				for i := range a {
					save := a[i]
					a[i] = save + h
					fp := obj.Eval(nil, x, a, batch)
					a[i] = save - h
					fm := obj.Eval(nil, x, a, batch)
					a[i] = save
					fd := (fp - fm) / (2 * h)
					if math.Abs(fd-grad[i]) > 1e-5*math.Max(1, math.Abs(fd)) {
						t.Errorf("%s %v %v→%v: ∂/∂a[%d] = %v, finite difference %v", l.Name(), red, in, out, i, grad[i], fd)
					}
				}
			}
		}
	}
}

// TestProbeEstimatesFrobenius checks that 10⁵ Gaussian probes estimate
// ||X−A||_F²/N within 1%.
func TestProbeEstimatesFrobenius(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	const p = 100000
	probe, err := NewProbe(in, out, GaussianProbes(rng, p, in.N), p)
	if err != nil {
		t.Fatal(err)
	}
	frob, _ := NewFrobenius(in, out, true)
	for trial := 0; trial < 20; trial++ {
		x, a := randVec(rng, in.Len()), randVec(rng, out.Len())
		pv, fv := probe.Eval(nil, x, a, 1), frob.Eval(nil, x, a, 1)
		if math.Abs(pv/fv-1) > 0.01 {
			t.Errorf("trial %d: probe loss %v, Frobenius²/N %v: ratio %v not within 1%%", trial, pv, fv, pv/fv)
		}
	}
}

// conditionNumber returns λ_max/λ_min of Q.
func conditionNumber(t testing.TB, l *Quadratic) float64 {
	var eig mat.EigenSym
	if !eig.Factorize(l.Matrix(), false) {
		t.Fatal("eigen decomposition failed")
	}
	v := eig.Values(nil)
	return v[len(v)-1] / v[0]
}

// TestNotebookProbesIllConditioned measures Q's condition number for the
// notebook's all-positive probes against Gaussian ones.
func TestNotebookProbesIllConditioned(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	nb, _ := NewProbe(in, out, NotebookProbes(rng, 100, 11), 100)
	ga, _ := NewProbe(in, out, GaussianProbes(rng, 100, 11), 100)
	cn, cg := conditionNumber(t, nb), conditionNumber(t, ga)
	t.Logf("cond(Q): notebook probes %.3g, Gaussian probes %.3g", cn, cg)
	if cn < 10*cg {
		t.Errorf("notebook probes cond %v not far above Gaussian %v", cn, cg)
	}
}

func TestReductions(t *testing.T) {
	in, out := structure.Band{N: 5, K: 2}, structure.Band{N: 5, K: 1}
	l, _ := NewFrobenius(in, out, false)
	x := []float64{1, 0, 0, 0, 1, 0, 0, 0, 0, 2} // two samples
	a := make([]float64, 6)
	per := []float64{3 + 3, 4 * 3}
	for _, c := range []struct {
		red   Reduction
		scale float64
		want  float64
	}{
		{Sum, 0, per[0] + per[1]},
		{Mean, 0, (per[0] + per[1]) / 2},
		{Sum, 3000, 3000 * (per[0] + per[1])},
		{Mean, 0.5, 0.25 * (per[0] + per[1])},
	} {
		got := Objective{Loss: l, Reduction: c.red, Scale: c.scale}.Eval(nil, x, a, 2)
		if !close(got, c.want, 1e-14) {
			t.Errorf("%v scale %v: got %v, want %v", c.red, c.scale, got, c.want)
		}
	}
	if r, err := ParseReduction("sum"); err != nil || r != Sum {
		t.Errorf("ParseReduction(sum) = %v, %v", r, err)
	}
	if _, err := ParseReduction("avg"); err == nil {
		t.Error("ParseReduction(avg) accepted")
	}
}

func TestProbeErrors(t *testing.T) {
	in, out := structure.Band{N: 3, K: 1}, structure.Band{N: 3, K: 0}
	for _, c := range []struct {
		name   string
		probes []float64
		p      int
		want   error
	}{
		{"short", []float64{1, 2}, 1, ErrProbes},
		{"zero", []float64{0, 0, 0}, 1, ErrProbes},
		{"nan", []float64{1, math.NaN(), 0}, 1, ErrProbes},
		{"inf", []float64{1, math.Inf(-1), 0}, 1, ErrProbes},
		{"none", nil, 0, ErrProbes},
	} {
		if _, err := NewProbe(in, out, c.probes, c.p); !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := NewProbe(in, structure.Band{N: 3, K: 2}, []float64{1, 1, 1}, 1); !errors.Is(err, structure.ErrBand) {
		t.Errorf("wider output band: error %v, want ErrBand", err)
	}
}

func TestQuadraticNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	l, _ := NewProbe(in, out, NotebookProbes(rng, 100, 11), 100)
	x, a := randVec(rng, 100*11), randVec(rng, 100*7)
	g := make([]float64, len(a))
	obj := Objective{Loss: l, Reduction: Sum, Scale: 3000}
	obj.Eval(g, x, a, 100)
	if n := testing.AllocsPerRun(20, func() { obj.Eval(g, x, a, 100) }); n != 0 {
		t.Errorf("Eval allocates %v times per batch, want 0", n)
	}
}

// TestQuadraticValueScaled: rᵀQr of residuals near overflow and underflow
// is the scaled value, +Inf only where the true value exceeds the float64
// range (never NaN), and ordinary residuals give the unscaled sum exactly.
func TestQuadraticValueScaled(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	probe, _ := NewProbe(in, out, GaussianProbes(rng, 50, 11), 50)
	frob, _ := NewFrobenius(in, out, false)
	for _, l := range []*Quadratic{probe, frob} {
		r := randVec(rng, in.Len())
		base := l.Value(r)
		for _, c := range []struct {
			scale, want float64
		}{
			{0x1p450, math.Ldexp(base, 900)},
			{0x1p-450, math.Ldexp(base, -900)},
			{0x1p-530, math.Ldexp(base, -1060)}, // subnormal
			{1e200, math.Inf(1)},
			{1e-200, 0},
		} {
			rs := make([]float64, len(r))
			for i, v := range r {
				rs[i] = v * c.scale
			}
			got := l.Value(rs)
			switch {
			case math.IsInf(c.want, 1) || c.want == 0:
				if got != c.want {
					t.Errorf("%s: scale %g: %v, want %v", l.Name(), c.scale, got, c.want)
				}
			case math.Abs(got-c.want) > 1e-12*c.want && !(c.want < 0x1p-1000 && math.Abs(got-c.want) < 1e-6*c.want):
				t.Errorf("%s: scale %g: %v, want %v", l.Name(), c.scale, got, c.want)
			}
		}
	}
}
