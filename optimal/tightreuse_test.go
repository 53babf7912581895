package optimal

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/structure"
)

// tightStream returns rows repeating a few directions (x = 2^k·x_j
// exactly, so opt(x) = 2^k·opt_j) with candidates scaled from the exact
// optima: most near-optimal, one in five with a gap of a few tenths of a
// percent, so that the adapted reuse target falls between the two and the
// poor candidates' rows take the full check although their remembered
// bounds are tight.
func tightStream(t *testing.T, in, out structure.Band, bases, rows int, seed uint64) (x, a, opt []float64) {
	t.Helper()
	sdp := mustSpectral(t, in, out, nil)
	rng := rand.New(rand.NewPCG(seed, seed+1))
	L, Lo := in.Len(), out.Len()
	bx, ba, bo := make([]float64, bases*L), make([]float64, bases*Lo), make([]float64, bases)
	for j := 0; j < bases; j++ {
		copy(bx[j*L:], notebookInput(rng, in))
		r, err := sdp.Solve(bx[j*L : (j+1)*L])
		if err != nil {
			t.Fatal(err)
		}
		copy(ba[j*Lo:], r.A)
		bo[j] = r.Value
	}
	x, a, opt = make([]float64, rows*L), make([]float64, rows*Lo), make([]float64, rows)
	for i := 0; i < rows; i++ {
		j := rng.IntN(bases)
		s := math.Ldexp(1, rng.IntN(9)-4)
		for k := 0; k < L; k++ {
			x[i*L+k] = s * bx[j*L+k]
		}
		eta := 2e-5
		if rng.IntN(5) == 0 {
			eta = 6e-3
		}
		for k := 0; k < Lo; k++ {
			a[i*Lo+k] = s * (ba[j*Lo+k] + eta*bo[j]*rng.NormFloat64())
		}
		opt[i] = s * bo[j]
	}
	return x, a, opt
}

// Where the full checks of rows above the adapted reuse target recover
// almost nothing of their remembered gap (tight remembered bounds, poor
// candidates), remembered duals certify such rows too, up to MaxGap, once
// tightMin of them have been measured; one in tightSample is still
// certified the full way; every bound stays below the optimum and every gap
// within MaxGap; the output depends neither on the workers nor on how the
// rows are split into calls; and an explicit ReuseTarget is never exceeded
// by a remembered dual.
func TestCertifyTightReuse(t *testing.T) {
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	l, _ := loss.NewSpectral(in, out)
	const rows = 12 * dualBlock
	x, a, opt := tightStream(t, in, out, 24, rows, 7)
	L, Lo := in.Len(), out.Len()
	onAt := -1 // rows measured when the measure first turned on
	run := func(workers, split int, reuse float64) ([]float64, []Certificate, *Certifier, int) {
		c, err := NewCertifier(l, &CertifyOptions{MaxGap: 0.01, DualCache: 1 << 12, Workers: workers, ReuseTarget: reuse})
		if err != nil {
			t.Fatal(err)
		}
		dst := make([]float64, rows*Lo)
		res := make([]Certificate, rows)
		above := 0 // rows a remembered dual certified above the reuse target of their block
		for lo := 0; lo < rows; {
			hi := min(rows, lo+split)
			r := c.ReuseTarget()
			if err := c.CertifyBatch(dst[lo*Lo:hi*Lo], res[lo:hi], x[lo*L:hi*L], a[lo*Lo:hi*Lo], hi-lo); err != nil {
				t.Fatal(err)
			}
			for i := lo; i < hi; i++ {
				if res[i].Reused && res[i].Gap() > r && split >= dualBlock {
					above++
				}
			}
			if onAt < 0 && c.tight.Load() {
				onAt = c.tn
			}
			lo = hi
		}
		return dst, res, c, above
	}
	dst, res, c, above := run(1, dualBlock, 0)
	if !c.tight.Load() {
		t.Fatalf("remembered duals never certified rows above the reuse target (window of %d rows)", c.tn)
	}
	if above == 0 {
		t.Error("no row above its block's reuse target was certified by a remembered dual")
	}
	if c.tn <= onAt {
		t.Errorf("no row measured after the measure turned on (%d rows then, %d at the end)", onAt, c.tn)
	}
	full := 0
	for i, r := range res {
		if r.Gap() > 0.01 {
			t.Errorf("row %d: certified gap %g above MaxGap", i, r.Gap())
		}
		if r.Lower > opt[i]*(1+1e-9) {
			t.Errorf("row %d: bound %.17g above the optimum %.17g", i, r.Lower, opt[i])
		}
		if !r.Reused {
			full++
		}
	}
	t.Logf("%d rows: %d certified by a remembered dual above the reuse target (%.3g at the end), %d the full way", rows, above, c.ReuseTarget(), full)
	// The same output whatever the workers and the calls.
	for _, v := range [][2]int{{3, dualBlock}, {2, 37}} {
		d2, r2, _, _ := run(v[0], v[1], 0)
		if !slices.Equal(dst, d2) {
			t.Fatalf("workers %d, calls of %d rows: other generators", v[0], v[1])
		}
		for i := range res {
			if res[i].Lower != r2[i].Lower || res[i].Value != r2[i].Value || res[i].Reused != r2[i].Reused {
				t.Fatalf("workers %d, calls of %d rows: row %d certified otherwise", v[0], v[1], i)
			}
		}
	}
	// An explicit ReuseTarget is the most a remembered dual certifies.
	const fixed = 0.002
	_, r3, c3, _ := run(1, dualBlock, fixed)
	if c3.tight.Load() {
		t.Error("explicit ReuseTarget: the measure was on")
	}
	for i, r := range r3 {
		if r.Reused && r.Gap() > fixed {
			t.Fatalf("explicit ReuseTarget %g: row %d certified by a remembered dual at %g", fixed, i, r.Gap())
		}
	}
}

// The window behind ReuseTightFraction: off until tightMin rows, then on
// exactly while the recovered bounds sum to at most ReuseTightFraction of
// the remembered gaps over the last tightWindow rows, the oldest replaced
// first.
func TestTightWindow(t *testing.T) {
	c := &Certifier{}
	feed := func(n int, gap, gain float64) {
		for range n {
			c.tpend = append(c.tpend, gap, gain)
		}
		c.tightDone()
	}
	feed(tightMin-1, 0.004, 0)
	if c.tight.Load() {
		t.Fatalf("on after %d rows", tightMin-1)
	}
	feed(1, 0.004, 0)
	if !c.tight.Load() {
		t.Fatalf("off after %d rows recovering nothing", tightMin)
	}
	// Fill the window with rows recovering 5 %, then replace half of it
	// by rows recovering 20 %: 12.5 % on average, off.
	if c.sample.Load() == tightSampleFull {
		t.Fatal("sampling at the full window's rate before the window is full")
	}
	feed(tightWindow, 0.004, 0.05*0.004)
	if !c.tight.Load() {
		t.Fatal("off at 5 %")
	}
	if c.sample.Load() != tightSampleFull {
		t.Fatalf("sampling one row in %d with a full window", c.sample.Load())
	}
	feed(tightWindow/2, 0.004, 0.2*0.004)
	if c.tight.Load() {
		t.Fatal("on at 12.5 %")
	}
	// The rest of the 5 % rows replaced too: all at 20 %.
	feed(tightWindow/2, 0.004, 0.2*0.004)
	if c.tn != tightWindow || c.tight.Load() {
		t.Fatalf("%d rows in the window, on %v at 20 %%", c.tn, c.tight.Load())
	}
	// Then 7/8 of the window at 0: 2.5 %, on.
	feed(7*tightWindow/8, 0.004, 0)
	if !c.tight.Load() {
		t.Fatal("off at 2.5 %")
	}
	// At exactly the fraction: on (at most).
	c2 := &Certifier{}
	for range tightMin {
		c2.tpend = append(c2.tpend, 0.5, 0.5*ReuseTightFraction)
	}
	c2.tightDone()
	if !c2.tight.Load() {
		t.Error("off at exactly ReuseTightFraction")
	}
}

// tightSampled picks about one row in tightSample, the same for equal rows
// whatever their position, and differently for rows one ulp apart; at the
// rate tightSampleFull, about one in that many, all among the former.
func TestTightSampled(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 16000
	x := make([]float64, 11)
	picked, moved, full := 0, 0, 0
	for range n {
		for i := range x {
			x[i] = rng.Float64() * 11
		}
		p := tightSampled(x, tightSample)
		if p {
			picked++
		}
		if tightSampled(x, tightSampleFull) {
			full++
			if !p {
				t.Fatal("a row picked at the full window's rate but not at the first")
			}
		}
		if tightSampled(slices.Clone(x), tightSample) != p {
			t.Fatal("the same row picked differently")
		}
		x[3] = math.Nextafter(x[3], 20)
		if tightSampled(x, tightSample) != p {
			moved++
		}
	}
	// Binomial(16000, 1/8): mean 2000, sd ≈ 42.
	if picked < 1800 || picked > 2200 {
		t.Errorf("%d of %d rows picked, want about %d", picked, n, n/tightSample)
	}
	// Binomial(16000, 1/tightSampleFull): within 5 sd of its mean.
	mean := float64(n) / tightSampleFull
	if sd := math.Sqrt(mean); math.Abs(float64(full)-mean) > 5*sd {
		t.Errorf("%d of %d rows picked at the full window's rate, want about %d", full, n, n/tightSampleFull)
	}
	if moved < 2*1800*7/8 {
		t.Errorf("one ulp changed the choice of only %d of %d rows", moved, n)
	}
}
