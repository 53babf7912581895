package optimal

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/matapprox/matapprox/structure"
)

// policyCases adds to certCases the adversarial inputs of the MaxGap
// policy: a huge dynamic range inside one row (entries from 1e-120 to
// 1e120), an outer part at the edge of underflow next to an O(1) band, a
// single non-zero outer entry, and network-like candidates (the optimum
// perturbed by 0.5 %, 2 % and 10 %, about the gaps that do and do not need
// a fallback).
func policyCases(t *testing.T, in, out structure.Band, sdp *SDP) []certCase {
	cs := certCases(t, in, out, sdp)
	rng := rand.New(rand.NewPCG(41, 42))
	off := in.K - out.K
	near := func(name string, x []float64, eps float64) {
		r, err := acceptShort(sdp.Solve(x))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		a := append([]float64(nil), r.A...)
		for i := range a {
			a[i] += eps * r.Value * rng.NormFloat64()
		}
		cs = append(cs, certCase{name, x, a})
	}
	for i := 0; i < 4; i++ {
		x := notebookInput(rng, in)
		for _, eps := range []float64{5e-3, 2e-2, 0.1} {
			near("network-like", x, eps)
		}
	}
	x := make([]float64, in.Len())
	for i := range x {
		x[i] = rng.NormFloat64() * math.Pow(10, 240*rng.Float64()-120)
	}
	near("dynamic range", x, 1e-2)
	cs = append(cs, certCase{"dynamic range, zero candidate", x, make([]float64, out.Len())})
	for _, sc := range []float64{1e-8, 1e-300} {
		x = notebookInput(rng, in)
		for i := range x {
			if i < off || i >= off+out.Len() {
				x[i] *= sc
			}
		}
		near("tiny outer part", x, 1e-2)
	}
	x = make([]float64, in.Len())
	x[0] = 3
	near("one outer entry", x, 1e-2)
	return cs
}

// With MaxGap every output row's certified gap is at most MaxGap, Lower
// never exceeds the optimum (a 1e-10 SDP solve), Value is the exact loss
// of A, the value is within MaxGap of the optimum, a fallback never makes
// the answer worse than the polished candidate, and rows certified without
// the exact solver say so. Checked with and without polishing, with the
// default loose fallback and with a user's tolerance.
func TestCertifyPolicyGuarantee(t *testing.T) {
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	sdp := mustSpectral(t, in, out, &SDPOptions{Tol: 1e-10})
	l := spectralLoss(t, in, out)
	cases := policyCases(t, in, out, sdp)
	for _, tc := range []struct {
		name string
		opts CertifyOptions
	}{
		{"1 %, default", CertifyOptions{MaxGap: 0.01}},
		{"1 %, 4 steps", CertifyOptions{MaxGap: 0.01, PolishSteps: 4}},
		{"1 %, no polish", CertifyOptions{MaxGap: 0.01, PolishSteps: -1}},
		{"0.1 %, 2 steps", CertifyOptions{MaxGap: 1e-3, PolishSteps: 2}},
		{"1e-5, no polish", CertifyOptions{MaxGap: 1e-5, PolishSteps: -1}},
		{"1 %, user tolerance", CertifyOptions{MaxGap: 0.01, PolishSteps: -1, Solver: &Options{Tol: 1e-9}}},
	} {
		c := mustCertifier(t, l, &tc.opts)
		steps := tc.opts.PolishSteps
		if steps == 0 {
			steps = DefaultRefineSteps
		}
		if steps == 0 {
			steps = -1
		}
		polishOnly := mustCertifier(t, l, &CertifyOptions{PolishSteps: steps, Target: tc.opts.MaxGap})
		fell := 0
		for _, cc := range cases {
			ref, err := acceptShort(sdp.Solve(cc.x))
			if err != nil {
				t.Fatal(err)
			}
			cert, err := c.Certify(cc.x, cc.a)
			if err != nil {
				t.Fatalf("%s, %s: %v", tc.name, cc.name, err)
			}
			// The guarantee holds unless no float64 generator meets it:
			// next to in-band entries 1e300 times larger, x_I + δ* rounds
			// to x_I and even the exact solver's answer is ~10 % off. Such
			// a row falls back and keeps its honest gap.
			g := cert.Gap()
			if !(g <= tc.opts.MaxGap) && !(cert.Fallback && ref.Gap() > tc.opts.MaxGap) {
				t.Errorf("%s, %s: certified gap %v above MaxGap (the exact solver's %v)", tc.name, cc.name, g, ref.Gap())
			}
			if cert.Lower > ref.Value*(1+1e-12) || !(cert.Lower >= 0) {
				t.Errorf("%s, %s: Lower %v, optimum %v", tc.name, cc.name, cert.Lower, ref.Value)
			}
			v := residualValue(in, out, cc.x, cert.A)
			if math.Abs(v-cert.Value) > 1e-9*v {
				t.Errorf("%s, %s: Value %v, ||X−A||_2 = %v", tc.name, cc.name, cert.Value, v)
			}
			if cert.Value > ref.Value*(1+2*tc.opts.MaxGap)+1e-300 {
				t.Errorf("%s, %s: value %v, optimum %v", tc.name, cc.name, cert.Value, ref.Value)
			}
			p, err := polishOnly.Certify(cc.x, cc.a)
			if err != nil {
				t.Fatal(err)
			}
			// The policy is: polish as polishOnly does, fall back only
			// where that leaves the gap above MaxGap.
			if want := !(p.Gap() <= tc.opts.MaxGap); cert.Fallback != want {
				t.Errorf("%s, %s: Fallback %v, polished gap %v", tc.name, cc.name, cert.Fallback, p.Gap())
			}
			if cert.Value > p.Value*(1+1e-12) {
				t.Errorf("%s, %s: value %v above the polished candidate's %v", tc.name, cc.name, cert.Value, p.Value)
			}
			if cert.Fallback {
				fell++
			}
		}
		if fell == 0 {
			t.Errorf("%s: no row fell back, although the cases include candidates 10 %% off", tc.name)
		}
	}
}

// A fallback that cannot reach MaxGap (the exact solver limited to a few
// Newton steps) reports the certified gap it has, with a valid bound: the
// certificate never claims more than it proves.
func TestCertifyPolicyShortFallback(t *testing.T) {
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	sdp := mustSpectral(t, in, out, &SDPOptions{Tol: 1e-10})
	c := mustCertifier(t, spectralLoss(t, in, out), &CertifyOptions{MaxGap: 1e-6, PolishSteps: -1, Solver: &Options{MaxIter: 3, Method: MethodSDP}})
	rng := rand.New(rand.NewPCG(51, 52))
	short := 0
	for i := 0; i < 5; i++ {
		x := notebookInput(rng, in)
		ref, err := acceptShort(sdp.Solve(x))
		if err != nil {
			t.Fatal(err)
		}
		cert, err := c.Certify(x, truncation(in, out, x))
		if err != nil {
			t.Fatal(err)
		}
		if !cert.Fallback {
			t.Errorf("row %d: the truncation was not sent to the exact solver", i)
		}
		if cert.Gap() > 1e-6 {
			short++
		}
		if cert.Lower > ref.Value*(1+1e-12) || cert.Value < ref.Value*(1-1e-12) {
			t.Errorf("row %d: [%v, %v] does not contain the optimum %v", i, cert.Lower, cert.Value, ref.Value)
		}
		if v := residualValue(in, out, x, cert.A); math.Abs(v-cert.Value) > 1e-9*v {
			t.Errorf("row %d: Value %v, ||X−A||_2 = %v", i, cert.Value, v)
		}
	}
	if short == 0 {
		t.Error("3 Newton steps reached a 1e-6 gap on every row: the test does not exercise a short fallback")
	}
}
