package optimal

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/structure"
)

func mustCertifier(t testing.TB, l loss.Loss, opts *CertifyOptions) *Certifier {
	t.Helper()
	c, err := NewCertifier(l, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func spectralLoss(t testing.TB, in, out structure.Band) *loss.Spectral {
	t.Helper()
	l, err := loss.NewSpectral(in, out)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// certCase is one input and candidate for the validity tests.
type certCase struct {
	name string
	x, a []float64
}

// certCases returns random and adversarial inputs with candidates near and
// far from the optimum: notebook inputs, symmetric (clustered singular
// values), in-band inputs, zero residual, huge in-band entries, extreme
// scales.
func certCases(t *testing.T, in, out structure.Band, sdp *SDP) []certCase {
	rng := rand.New(rand.NewPCG(21, 22))
	var cs []certCase
	add := func(name string, x []float64, eps float64) {
		r, err := acceptShort(sdp.Solve(x))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		a := append([]float64(nil), r.A...)
		sc := math.Max(r.Value, 1e-300)
		for i := range a {
			a[i] += eps * sc * rng.NormFloat64()
		}
		cs = append(cs, certCase{name, x, a})
	}
	for i := 0; i < 6; i++ {
		x := notebookInput(rng, in)
		for _, eps := range []float64{0, 1e-4, 1e-2, 0.3} {
			add("notebook", x, eps)
		}
	}
	// Symmetric generators: the reversal symmetry makes singular values
	// cluster at the optimum.
	for i := 0; i < 3; i++ {
		x := notebookInput(rng, in)
		for d := 1; d <= in.K; d++ {
			x[in.K-d] = x[in.K+d]
		}
		add("symmetric", x, 0)
		add("symmetric", x, 1e-3)
	}
	// Alternating signs: the (−1)^d modulation of a symmetric input.
	x := notebookInput(rng, in)
	for d := 1; d <= in.K; d++ {
		x[in.K-d] = x[in.K+d]
		if d%2 == 1 {
			x[in.K-d], x[in.K+d] = -x[in.K-d], -x[in.K+d]
		}
	}
	add("alternating", x, 1e-3)
	// In-band input: optimum 0; a candidate off by a little.
	x = make([]float64, in.Len())
	off := in.K - out.K
	for i := 0; i < out.Len(); i++ {
		x[off+i] = rng.NormFloat64()
	}
	cs = append(cs, certCase{"in-band exact", x, truncation(in, out, x)})
	cs = append(cs, certCase{"in-band off", x, make([]float64, out.Len())})
	cs = append(cs, certCase{"zero", make([]float64, in.Len()), make([]float64, out.Len())})
	// Huge in-band entries over a small outer part.
	x = notebookInput(rng, in)
	for i := 0; i < out.Len(); i++ {
		x[off+i] *= 1e10
	}
	add("huge in-band", x, 1e-3)
	for _, c := range []float64{1e-300, 1e-150, 1e150, 1e300} {
		y := notebookInput(rng, in)
		for i := range y {
			y[i] *= c
		}
		add("scale", y, 1e-3)
	}
	// A candidate far off: zero.
	cs = append(cs, certCase{"zero candidate", notebookInput(rng, in), make([]float64, out.Len())})
	return cs
}

// The certified lower bound never exceeds the optimum (checked against the
// SDP's certified value), Value is the exact loss of A, and polishing never
// makes a candidate worse.
func TestCertifySpectralValid(t *testing.T) {
	for _, bs := range [][3]int{{11, 5, 3}, {9, 4, 1}, {16, 7, 3}} {
		in, out := structure.Band{N: bs[0], K: bs[1]}, structure.Band{N: bs[0], K: bs[2]}
		sdp := mustSpectral(t, in, out, nil)
		for _, steps := range []int{-1, 0} {
			c := mustCertifier(t, spectralLoss(t, in, out), &CertifyOptions{PolishSteps: steps})
			for _, cc := range certCases(t, in, out, sdp) {
				ref, err := acceptShort(sdp.Solve(cc.x))
				if err != nil {
					t.Fatal(err)
				}
				cert, err := c.Certify(cc.x, cc.a)
				if err != nil {
					t.Fatalf("%v %s: %v", in, cc.name, err)
				}
				if cert.Lower > ref.Value*(1+1e-12) {
					t.Errorf("%v %s: Lower %v above the optimum %v", in, cc.name, cert.Lower, ref.Value)
				}
				v := residualValue(in, out, cc.x, cert.A)
				if math.Abs(v-cert.Value) > 1e-12*math.Max(v, 1e-300) {
					t.Errorf("%v %s: Value %v, ||X−A||_2 = %v", in, cc.name, cert.Value, v)
				}
				if v0 := residualValue(in, out, cc.x, cc.a); cert.Value > v0*(1+1e-12) {
					t.Errorf("%v %s: polished value %v above the candidate's %v", in, cc.name, cert.Value, v0)
				}
				if g := cert.Gap(); !(g >= 0 && g <= 1) || !(cert.Lower >= 0) {
					t.Errorf("%v %s: gap %v, lower %v", in, cc.name, g, cert.Lower)
				}
				if steps < 0 && (cert.Polished || cert.Steps != 0) {
					t.Errorf("%v %s: polished with polishing off", in, cc.name)
				}
				// At the optimum the certificate is tight.
				if strings.HasPrefix(cc.name, "notebook") && cc.a[0] == ref.A[0] && cert.Gap() > 1e-4 {
					t.Errorf("%v %s: certified gap %.3g at the optimum", in, cc.name, cert.Gap())
				}
			}
		}
	}
}

// With MaxGap every answer is within MaxGap of the optimum, and rows that
// needed the exact solver say so.
func TestCertifyMaxGap(t *testing.T) {
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	sdp := mustSpectral(t, in, out, nil)
	// Without polishing, the candidates far from the optimum must fall back.
	c := mustCertifier(t, spectralLoss(t, in, out), &CertifyOptions{MaxGap: 0.01, PolishSteps: -1})
	fell := 0
	for _, cc := range certCases(t, in, out, sdp) {
		cert, err := c.Certify(cc.x, cc.a)
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := acceptShort(sdp.Solve(cc.x))
		if cert.Gap() > 0.01 {
			t.Errorf("%s: certified gap %v above MaxGap", cc.name, cert.Gap())
		}
		if cert.Value > ref.Value*1.01+1e-300 {
			t.Errorf("%s: value %v more than 1%% above the optimum %v", cc.name, cert.Value, ref.Value)
		}
		if cert.Fallback {
			fell++
		}
	}
	if fell == 0 {
		t.Error("no row fell back, although the cases include candidates far from the optimum")
	}
}

// For the quadratic losses the gap is exact: Lower is the optimum, and the
// fallback returns the projection.
func TestCertifyQuadraticExact(t *testing.T) {
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	fro, err := loss.NewFrobenius(in, out, false)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	probes := make([]float64, 20*in.N)
	for i := range probes {
		probes[i] = rng.NormFloat64()
	}
	probe, err := loss.NewProbe(in, out, probes, 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []*loss.Quadratic{fro, probe} {
		p, err := NewProjection(l)
		if err != nil {
			t.Fatal(err)
		}
		c := mustCertifier(t, l, &CertifyOptions{MaxGap: 0.05})
		for i := 0; i < 20; i++ {
			x := notebookInput(rng, in)
			opt, _ := p.Solve(x)
			a := append([]float64(nil), opt...)
			eps := []float64{0, 1e-3, 0.1, 1}[i%4]
			for j := range a {
				a[j] += eps * rng.NormFloat64()
			}
			val := func(g []float64) float64 {
				r := make([]float64, in.Len())
				structure.Embed(r, in, g, out)
				for j := range r {
					r[j] = x[j] - r[j]
				}
				return l.Eval(nil, r, make([]float64, out.Len()), 1)
			}
			cert, err := c.Certify(x, a)
			if err != nil {
				t.Fatal(err)
			}
			vOpt, vA := val(opt), val(a)
			if math.Abs(cert.Lower-vOpt) > 1e-9*vOpt {
				t.Errorf("%s: Lower %v, optimum %v", l.Name(), cert.Lower, vOpt)
			}
			wantGap := (vA - vOpt) / vA
			if !cert.Fallback && math.Abs(cert.Gap()-wantGap) > 1e-9 {
				t.Errorf("%s: gap %v, want %v", l.Name(), cert.Gap(), wantGap)
			}
			if cert.Fallback != (wantGap > 0.05) {
				t.Errorf("%s: fallback %v with exact gap %v", l.Name(), cert.Fallback, wantGap)
			}
			if cert.Gap() > 0.05 {
				t.Errorf("%s: gap %v above MaxGap", l.Name(), cert.Gap())
			}
		}
	}
}

// CertifyBatch equals row-by-row Certify for any number of workers and
// reports the lowest bad row.
func TestCertifyBatchWorkers(t *testing.T) {
	in, out := structure.Band{N: 9, K: 4}, structure.Band{N: 9, K: 2}
	l := spectralLoss(t, in, out)
	const rows = 17
	rng := rand.New(rand.NewPCG(9, 10))
	x := notebookRows(rng, in, rows)
	L, Lo := in.Len(), out.Len()
	a := make([]float64, rows*Lo)
	for i := 0; i < rows; i++ {
		copy(a[i*Lo:], truncation(in, out, x[i*L:(i+1)*L]))
	}
	c := mustCertifier(t, l, &CertifyOptions{MaxGap: 0.02, Workers: 1})
	want := make([]Certificate, rows)
	for i := range want {
		r, err := c.Certify(x[i*L:(i+1)*L], a[i*Lo:(i+1)*Lo])
		if err != nil {
			t.Fatal(err)
		}
		want[i] = r
	}
	for _, w := range []int{1, 2, 5} {
		c := mustCertifier(t, l, &CertifyOptions{MaxGap: 0.02, Workers: w})
		dst := append([]float64(nil), a...)
		res := make([]Certificate, rows)
		if err := c.CertifyBatch(dst, res, x, dst, rows); err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if r.Value != want[i].Value || r.Lower != want[i].Lower || r.Fallback != want[i].Fallback {
				t.Fatalf("%d workers, row %d: %+v, row by row %+v", w, i, r, want[i])
			}
			for j := range r.A {
				if r.A[j] != want[i].A[j] || &r.A[0] != &dst[i*Lo] {
					t.Fatalf("%d workers, row %d: A differs or does not alias dst", w, i)
				}
			}
		}
	}
	x[3*L] = math.Inf(1)
	err := c.CertifyBatch(make([]float64, rows*Lo), nil, x, a, rows)
	var re *RowError
	if !errors.As(err, &re) || re.Row != 3 || !errors.Is(err, structure.ErrNonFinite) {
		t.Errorf("Inf in row 4: got %v", err)
	}
}

func TestCertifyErrors(t *testing.T) {
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	l := spectralLoss(t, in, out)
	for _, o := range []CertifyOptions{{MaxGap: -1}, {MaxGap: 1}, {Target: math.NaN()}, {Solver: &Options{Tol: 2}}} {
		if _, err := NewCertifier(l, &o); !errors.Is(err, ErrOption) {
			t.Errorf("%+v: got %v, want ErrOption", o, err)
		}
	}
	big := structure.Band{N: MaxFallbackN + 1, K: 2}
	if _, err := NewCertifier(spectralLoss(t, big, structure.Band{N: big.N, K: 1}), &CertifyOptions{MaxGap: 0.01, Solver: &Options{Method: MethodSDP}}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("N = %d with MaxGap and the SDP: got %v, want ErrTooLarge", big.N, err)
	}
	// With the default method the fallback is Banded: every row within
	// MaxGap at a size the SDP cannot reach.
	bc, err := NewCertifier(spectralLoss(t, big, structure.Band{N: big.N, K: 1}), &CertifyOptions{MaxGap: 0.01, PolishSteps: -1})
	if err != nil {
		t.Fatalf("N = %d with MaxGap: %v", big.N, err)
	}
	bx := []float64{1, -2, 3, 2, 4}
	bcert, err := bc.Certify(bx, []float64{0, 0, 0})
	if err != nil || bcert.Gap() > 0.01 || !bcert.Fallback {
		t.Errorf("N = %d far candidate with MaxGap: %+v, %v", big.N, bcert, err)
	}
	if _, err := NewCertifier(spectralLoss(t, big, structure.Band{N: big.N, K: 1}), nil); err != nil {
		t.Errorf("N = %d without MaxGap: %v", big.N, err)
	}
	c := mustCertifier(t, l, nil)
	if _, err := c.Certify(make([]float64, 3), make([]float64, 7)); !errors.Is(err, structure.ErrLength) {
		t.Errorf("short x: %v", err)
	}
	a := make([]float64, 7)
	a[2] = math.NaN()
	if _, err := c.Certify(make([]float64, 11), a); !errors.Is(err, structure.ErrNonFinite) {
		t.Errorf("NaN candidate: %v", err)
	}
}

func BenchmarkCertify(b *testing.B) {
	for _, bs := range [][3]int{{11, 5, 3}, {32, 15, 7}} {
		in, out := structure.Band{N: bs[0], K: bs[1]}, structure.Band{N: bs[0], K: bs[2]}
		l, _ := loss.NewSpectral(in, out)
		sdp := mustSpectral(b, in, out, nil)
		rng := rand.New(rand.NewPCG(1, 1))
		x := notebookInput(rng, in)
		r, _ := sdp.Solve(x)
		a := append([]float64(nil), r.A...)
		for i := range a {
			a[i] += 1e-3 * r.Value * rng.NormFloat64()
		}
		c, _ := NewCertifier(l, &CertifyOptions{PolishSteps: -1})
		b.Run(in.String(), func(b *testing.B) {
			for b.Loop() {
				if _, err := c.Certify(x, a); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Beyond the dense oracle's sizes the banded Lanczos oracle certifies too:
// valid bounds against the SDP, exact values, and tight at the optimum.
func TestCertifyLanczosOracle(t *testing.T) {
	in, out := structure.Band{N: 80, K: 4}, structure.Band{N: 80, K: 2}
	sdp := mustSpectral(t, in, out, nil)
	c := mustCertifier(t, spectralLoss(t, in, out), nil)
	rng := rand.New(rand.NewPCG(31, 32))
	for i := 0; i < 2; i++ {
		x := notebookInput(rng, in)
		ref, err := acceptShort(sdp.Solve(x))
		if err != nil {
			t.Fatal(err)
		}
		for _, eps := range []float64{0, 1e-2} {
			a := append([]float64(nil), ref.A...)
			for j := range a {
				a[j] += eps * ref.Value * rng.NormFloat64()
			}
			cert, err := c.Certify(x, a)
			if err != nil {
				t.Fatal(err)
			}
			if cert.Lower > ref.Value*(1+1e-12) {
				t.Errorf("eps %g: Lower %v above the optimum %v", eps, cert.Lower, ref.Value)
			}
			if v := residualValue(in, out, x, cert.A); cert.Value < v*(1-1e-10) || cert.Value > v*(1+1e-10) {
				t.Errorf("eps %g: Value %v, ||X−A||_2 = %v", eps, cert.Value, v)
			}
			if eps == 0 && cert.Gap() > 1e-3 {
				t.Errorf("certified gap %v at the optimum", cert.Gap())
			}
			t.Logf("eps %g: certified gap %.3g%%, true %.3g%%", eps, 100*cert.Gap(), 100*(cert.Value-ref.Value)/cert.Value)
		}
	}
}
