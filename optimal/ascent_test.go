package optimal

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/structure"
)

// randFactors returns n×k factors by columns with Gaussian entries.
func randFactors(rng *rand.Rand, n, k int) []float64 {
	f := make([]float64, n*k)
	for i := range f {
		f[i] = rng.NormFloat64()
	}
	return f
}

// denseProduct returns A Bᵀ (n×n, row-major) for factors of k columns.
func denseProduct(a, b []float64, n, k int) *mat.Dense {
	y := mat.NewDense(n, n, nil)
	for t := 0; t < k; t++ {
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				y.Set(i, j, y.At(i, j)+a[t*n+i]*b[t*n+j])
			}
		}
	}
	return y
}

// align gives the balanced rank-r truncation of A Bᵀ: the product of the
// factors is U_r Σ_r V_rᵀ, and Σ_t ||a_t|| ||b_t|| is σ_1 + … + σ_r; for
// k = r in place, the product is unchanged.
func TestAlignFactors(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct{ n, k int }{{32, 7}, {32, 3}, {11, 18}, {16, 2}} {
		aw := newAscentWork(c.n, 5, 1, max(c.k, ascentRank))
		a, b := randFactors(rng, c.n, c.k), randFactors(rng, c.n, c.k)
		want := denseProduct(a, b, c.n, c.k)
		var svd mat.SVD
		if !svd.Factorize(want, mat.SVDThin) {
			t.Fatal("svd")
		}
		vals := svd.Values(nil)
		var u, v mat.Dense
		svd.UTo(&u)
		svd.VTo(&v)
		r := ascentRank
		trunc := mat.NewDense(c.n, c.n, nil)
		for i := 0; i < c.n; i++ {
			for j := 0; j < c.n; j++ {
				var s float64
				for l := 0; l < min(r, c.k); l++ {
					s += u.At(i, l) * vals[l] * v.At(j, l)
				}
				trunc.Set(i, j, s)
			}
		}
		da, db := make([]float64, c.n*r), make([]float64, c.n*r)
		if c.k == r {
			da, db = a, b
		}
		if !aw.align(a, b, c.k, da, db) {
			t.Fatalf("%+v: align failed", c)
		}
		got := denseProduct(da, db, c.n, r)
		var diff mat.Dense
		diff.Sub(got, trunc)
		if e := mat.Norm(&diff, 2) / vals[0]; e > 1e-12 {
			t.Errorf("%+v: product off the rank-%d truncation by %.3g", c, r, e)
		}
		var nuc, top float64
		for l := 0; l < min(r, c.k); l++ {
			top += vals[l]
		}
		for s := 0; s < r; s++ {
			var na, nb float64
			for i := 0; i < c.n; i++ {
				na += da[s*c.n+i] * da[s*c.n+i]
				nb += db[s*c.n+i] * db[s*c.n+i]
			}
			nuc += math.Sqrt(na * nb)
		}
		if math.Abs(nuc-top) > 1e-12*top {
			t.Errorf("%+v: Σ ||a_t|| ||b_t|| = %v, top singular values sum to %v", c, nuc, top)
		}
	}
	aw := newAscentWork(8, 3, 1, 3)
	if aw.align(make([]float64, 24), make([]float64, 24), 3, make([]float64, 24), make([]float64, 24)) {
		t.Error("zero factors aligned")
	}
	nan := make([]float64, 24)
	nan[5] = math.NaN()
	if aw.align(nan, randFactors(rng, 8, 3), 3, make([]float64, 24), make([]float64, 24)) {
		t.Error("NaN factors aligned")
	}
}

// bandSums returns the largest |⟨Y, S_d⟩| over the output diagonals.
func bandSums(y *mat.Dense, n, kp int) float64 {
	var worst float64
	for d := -kp; d <= kp; d++ {
		var s float64
		for i := max(0, -d); i < min(n, n-d); i++ {
			s += y.At(i, i+d)
		}
		worst = math.Max(worst, math.Abs(s))
	}
	return worst
}

// Each half step leaves A Bᵀ orthogonal to the output diagonals, and the
// Burer–Monteiro value ⟨A Bᵀ, T(x_out)⟩/(||A||_F ||B||_F) never falls.
func TestAscentHalfSteps(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, bs := range [][3]int{{32, 15, 7}, {16, 7, 3}, {11, 5, 3}} {
		n, k, kp := bs[0], bs[1], bs[2]
		in := structure.Band{N: n, K: k}
		aw := newAscentWork(n, k, kp, ascentRank)
		x := gaussianInput(rng, in)
		for d := -kp; d <= kp; d++ {
			x[d+k] = 0
		}
		copy(aw.x, x)
		copy(aw.a, randFactors(rng, n, ascentRank))
		copy(aw.b, randFactors(rng, n, ascentRank))
		tx := mat.NewDense(n, n, nil)
		for i := 0; i < n; i++ {
			for j := max(0, i-k); j < min(n, i+k+1); j++ {
				tx.Set(i, j, x[j-i+k])
			}
		}
		value := func() float64 {
			y := denseProduct(aw.a, aw.b, n, ascentRank)
			var na, nb float64
			for i := range aw.a {
				na += aw.a[i] * aw.a[i]
				nb += aw.b[i] * aw.b[i]
			}
			return mat.Sum(mulElem(y, tx)) / math.Sqrt(na*nb)
		}
		prev := math.Inf(-1)
		for step := 0; step < 8; step++ {
			for dir := 1; dir >= -1; dir -= 2 {
				dst, src := aw.a, aw.b
				if dir < 0 {
					dst, src = aw.b, aw.a
				}
				if !aw.half(dst, src, dir) {
					t.Fatalf("%v: half step failed", bs)
				}
				y := denseProduct(aw.a, aw.b, n, ascentRank)
				if s := bandSums(y, n, kp); s > 1e-10*mat.Norm(y, 2) {
					t.Errorf("%v: step %d dir %d: band sums %.3g", bs, step, dir, s)
				}
				if step > 0 || dir < 0 {
					// From the first half step on, the iterate is feasible.
					v := value()
					if v < prev*(1-1e-12) {
						t.Errorf("%v: step %d dir %d: value fell from %v to %v", bs, step, dir, prev, v)
					}
					prev = v
				} else {
					prev = value()
				}
			}
		}
	}
}

func mulElem(a, b *mat.Dense) *mat.Dense {
	var c mat.Dense
	c.MulElem(a, b)
	return &c
}

// neighbourDual certifies x2 (candidate its exact optimum) with a dual
// cache and returns the factors of the best remembered dual for x and
// their bound.
func neighbourDual(t *testing.T, l *loss.Spectral, in, out structure.Band, x, x2, a2 []float64) ([]float64, float64) {
	t.Helper()
	c := mustCertifier(t, l, &CertifyOptions{MaxGap: 0.01, DualCache: 64})
	dst := make([]float64, out.Len())
	if err := c.CertifyBatch(dst, nil, x2, a2, 1); err != nil {
		t.Fatal(err)
	}
	c.dmu.Lock()
	c.block = 1
	c.rowDone(0)
	c.dmu.Unlock()
	fac := make([]float64, factorLen(in.N))
	xo := make([]float64, c.cache.dim)
	c.outside(xo, x)
	lo, ok := c.cache.lowerFactors(xo, make([]int, c.cache.dim), 0, fac)
	if !ok {
		t.Fatal("no remembered factors")
	}
	return fac, lo
}

// Dual ascent from the remembered dual of a neighbouring input: every bound
// it returns is below the optimum, and it recovers most of the remembered
// bound's error; from random factors, and at extreme scales, its bounds are
// still valid.
func TestAscentFromNeighbour(t *testing.T) {
	in, out := structure.Band{N: 32, K: 15}, structure.Band{N: 32, K: 7}
	l := spectralLoss(t, in, out)
	sdp := mustSpectral(t, in, out, nil)
	rng := rand.New(rand.NewPCG(7, 8))
	aw := newAscentWork(in.N, in.K, out.K, ascentRank)
	off := in.K - out.K
	var gains []float64
	for row := 0; row < 6; row++ {
		x := notebookInput(rng, in)
		// The neighbour: x_out moved by 20 % of its norm, orthogonally.
		x2 := slices.Clone(x)
		var nx, np float64
		p := make([]float64, len(x))
		for i := range x {
			if i >= off && i < off+out.Len() {
				continue
			}
			p[i] = rng.NormFloat64()
			nx += x[i] * x[i]
		}
		var dot float64
		for i := range p {
			dot += p[i] * x[i] * b2f(p[i] != 0)
		}
		for i := range p {
			if p[i] != 0 {
				p[i] -= dot / nx * x[i]
				np += p[i] * p[i]
			}
		}
		for i := range p {
			x2[i] += 0.2 * math.Sqrt(nx/np) * p[i]
		}
		r, err := sdp.Solve(x)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := sdp.Solve(x2)
		if err != nil {
			t.Fatal(err)
		}
		fac, lo0 := neighbourDual(t, l, in, out, x, x2, r2.A)
		if lo0 > r.Value*(1+1e-12) {
			t.Fatalf("row %d: remembered bound %v above the optimum %v", row, lo0, r.Value)
		}
		xo := make([]float64, 2*(in.K-out.K))
		copy(xo, x[:off])
		copy(xo[off:], x[off+out.Len():])
		copy(aw.ab, fac)
		lo := aw.ascend(xo, r.Value, math.Inf(1), 0, ascentSteps)
		if lo > r.Value*(1+1e-12) {
			t.Errorf("row %d: ascended bound %v above the optimum %v", row, lo, r.Value)
		}
		gains = append(gains, (r.Value-lo0)/math.Max(r.Value-lo, 1e-16*r.Value))
		t.Logf("row %d: remembered error %.3g, ascended %.3g", row, (r.Value-lo0)/r.Value, (r.Value-lo)/r.Value)
		// Scaled by 2^±600, the bound scales alike.
		for _, e := range []int{-600, 600} {
			xs := slices.Clone(xo)
			for i := range xs {
				xs[i] = math.Ldexp(xs[i], e)
			}
			copy(aw.ab, fac)
			if ls := aw.ascend(xs, math.Ldexp(r.Value, e), math.Inf(1), 0, ascentSteps); math.Abs(ls-math.Ldexp(lo, e)) > 1e-9*math.Ldexp(lo, e) {
				t.Errorf("row %d: scaled by 2^%d the bound is %v, want %v", row, e, ls, math.Ldexp(lo, e))
			}
		}
		// From random factors, however poor, the bound stays valid.
		for trial := 0; trial < 4; trial++ {
			f := randFactors(rng, in.N, 2*ascentRank)
			for i := range f {
				f[i] *= math.Pow(10, float64(rng.IntN(300)-150))
			}
			copy(aw.ab, f)
			if lr := aw.ascend(xo, r.Value, math.Inf(1), 0, 1+rng.IntN(ascentSteps)); lr > r.Value*(1+1e-12) || math.IsNaN(lr) {
				t.Errorf("row %d: bound %v from random factors, optimum %v", row, lr, r.Value)
			}
		}
	}
	slices.Sort(gains)
	if med := gains[len(gains)/2]; med < 3 {
		t.Errorf("ascent divides the remembered bound's error by a median %.3g, want at least 3 (%v)", med, gains)
	}
}

func b2f(v bool) float64 {
	if v {
		return 1
	}
	return 0
}

// The images of a dual's factors are the factors of its images: the
// transpose, D Y D (D = diag((−1)^i)) and both; a missing factorisation
// stays missing.
func TestImageFactors(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	n := 13
	f := randFactors(rng, n, 2*ascentRank)
	h := n * ascentRank
	y := denseProduct(f[:h], f[h:], n, ascentRank)
	dst := make([]float64, len(f))
	for g := 0; g < 4; g++ {
		imageFactors(dst, f, n, g&1 != 0, g&2 != 0)
		got := denseProduct(dst[:h], dst[h:], n, ascentRank)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				w := y.At(i, j)
				if g&1 != 0 {
					w = y.At(j, i)
				}
				if g&2 != 0 && (i+j)%2 != 0 {
					w = -w
				}
				if math.Abs(got.At(i, j)-w) > 1e-14*math.Abs(w)+1e-300 {
					t.Fatalf("image %d: entry (%d,%d) %v, want %v", g, i, j, got.At(i, j), w)
				}
			}
		}
	}
	f[0] = math.NaN()
	imageFactors(dst, f, n, true, true)
	if !math.IsNaN(dst[0]) {
		t.Error("a missing factorisation lost its marker")
	}
}

// ascend allocates nothing.
func TestAscentNoAlloc(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	in, out := structure.Band{N: 32, K: 15}, structure.Band{N: 32, K: 7}
	aw := newAscentWork(in.N, in.K, out.K, ascentRank)
	xo := make([]float64, 2*(in.K-out.K))
	for i := range xo {
		xo[i] = rng.Float64()
	}
	f := randFactors(rng, in.N, 2*ascentRank)
	if n := testing.AllocsPerRun(20, func() {
		copy(aw.ab, f)
		aw.ascend(xo, 100, math.Inf(1), 0, 4)
	}); n != 0 {
		t.Errorf("%v allocations per ascent", n)
	}
}

// The certifier ascends remembered duals where they miss the reuse target,
// in more than four out-of-band dimensions: every bound stays below the
// optimum and every gap within MaxGap, rows certified after ascent take the
// place of full checks, some poor candidates are replaced by the primal of
// their ascended dual (with its exact loss), and the output depends neither
// on the workers nor on how the rows are split into calls. With
// AscentSteps negative no row ascends.
func TestCertifyAscent(t *testing.T) {
	in, out := structure.Band{N: 16, K: 7}, structure.Band{N: 16, K: 3}
	l := spectralLoss(t, in, out)
	sdp := mustSpectral(t, in, out, nil)
	rng := rand.New(rand.NewPCG(13, 14))
	L, Lo := in.Len(), out.Len()
	const bases, rows = 6, 4 * dualBlock
	bx := make([][]float64, bases)
	for j := range bx {
		bx[j] = notebookInput(rng, in)
	}
	x, a, opt := make([]float64, rows*L), make([]float64, rows*Lo), make([]float64, rows)
	off := in.K - out.K
	for i := 0; i < rows; i++ {
		xi := slices.Clone(bx[rng.IntN(bases)])
		// Out-of-band entries moved by up to 30 %, so that remembered
		// duals are near but not at each row's own.
		h := 0.3 * rng.Float64()
		for j := range xi {
			if j < off || j >= off+Lo {
				xi[j] *= 1 + h*rng.NormFloat64()
			}
		}
		r, err := sdp.Solve(xi)
		if err != nil {
			t.Fatal(err)
		}
		copy(x[i*L:], xi)
		eta := 1e-4
		if i%8 == 5 {
			// A poor candidate, which the certifier must improve.
			eta = 1e-2
		}
		for j := 0; j < Lo; j++ {
			a[i*Lo+j] = r.A[j] + eta*r.Value*rng.NormFloat64()
		}
		opt[i] = r.Value
	}
	recovered := 0
	run := func(steps, workers, split int) ([]Certificate, int, int) {
		c := mustCertifier(t, l, &CertifyOptions{MaxGap: 0.01, DualCache: 1 << 12, Workers: workers, AscentSteps: steps})
		dst := make([]float64, rows*Lo)
		res := make([]Certificate, rows)
		for lo := 0; lo < rows; lo += split {
			hi := min(rows, lo+split)
			if err := c.CertifyBatch(dst[lo*Lo:hi*Lo], res[lo:hi], x[lo*L:hi*L], a[lo*Lo:hi*Lo], hi-lo); err != nil {
				t.Fatal(err)
			}
		}
		asc, full := 0, 0
		for i, cert := range res {
			if cert.Recovered {
				// The primal fitted to the ascended dual: a new generator,
				// whose value is its exact loss.
				if !cert.Polished || cert.Reused {
					t.Fatalf("row %d: recovered, polished %v, reused %v", i, cert.Polished, cert.Reused)
				}
				if v := denseNorm(in, x[i*L:(i+1)*L], cert.A); math.Abs(v-cert.Value) > 1e-10*v {
					t.Fatalf("row %d: recovered value %v, its exact loss %v", i, cert.Value, v)
				}
				recovered++
			}
			if cert.Lower > opt[i]*(1+1e-9) {
				t.Fatalf("row %d: bound %v above the optimum %v", i, cert.Lower, opt[i])
			}
			if cert.Gap() > 0.01 {
				t.Fatalf("row %d: gap %v", i, cert.Gap())
			}
			if cert.Ascended {
				if !cert.Reused {
					t.Fatalf("row %d: ascended but not reused", i)
				}
				asc++
			}
			if !cert.Reused {
				full++
			}
		}
		return res, asc, full
	}
	res, asc, full := run(0, 1, rows)
	rec := recovered
	_, asc0, full0 := run(-1, 1, rows)
	if recovered != rec {
		t.Errorf("%d rows recovered with AscentSteps -1", recovered-rec)
	}
	if asc0 != 0 {
		t.Errorf("%d rows ascended with AscentSteps -1", asc0)
	}
	if asc < rows/20 || full >= full0 {
		t.Errorf("%d rows ascended, %d certified the full way (%d without ascent)", asc, full, full0)
	}
	for _, wc := range [][2]int{{3, rows}, {2, 77}} {
		got, _, _ := run(0, wc[0], wc[1])
		for i := range got {
			g, w := got[i], res[i]
			if g.Value != w.Value || g.Lower != w.Lower || g.Ascended != w.Ascended || g.Reused != w.Reused || g.Recovered != w.Recovered || !slices.Equal(g.A, w.A) {
				t.Fatalf("workers %d, calls of %d rows: row %d differs: %+v against %+v", wc[0], wc[1], i, g, w)
			}
		}
	}
	if rec == 0 {
		t.Error("no poor candidate was replaced by the primal of its ascended dual")
	}
	t.Logf("%d of %d rows ascended, %d recovered, %d certified the full way (%d without ascent)", asc, rows, rec, full, full0)
}

// benchAscent returns an ascent workspace at N = 32, K = 15 → 7 with
// random factors and a notebook input's out-of-band entries.
func benchAscent() (*ascentWork, []float64, []float64) {
	rng := rand.New(rand.NewPCG(15, 16))
	in, out := structure.Band{N: 32, K: 15}, structure.Band{N: 32, K: 7}
	aw := newAscentWork(in.N, in.K, out.K, ascentRank)
	xo := make([]float64, 2*(in.K-out.K))
	for i := range xo {
		xo[i] = rng.Float64() * 32
	}
	return aw, xo, randFactors(rng, in.N, 2*ascentRank)
}

func BenchmarkAscend(b *testing.B) {
	aw, xo, f := benchAscent()
	for _, steps := range []int{1, 3} {
		b.Run("steps="+string(rune('0'+steps)), func(b *testing.B) {
			for b.Loop() {
				copy(aw.ab, f)
				aw.ascend(xo, 0, math.Inf(1), math.Inf(-1), steps)
			}
		})
	}
	aw.ascend(xo, 0, math.Inf(1), math.Inf(-1), 1)
	b.Run("half", func(b *testing.B) {
		for b.Loop() {
			aw.half(aw.a, aw.b, 1)
		}
	})
	b.Run("align", func(b *testing.B) {
		for b.Loop() {
			aw.align(aw.a, aw.b, aw.r, aw.a, aw.b)
		}
	})
	b.Run("bound", func(b *testing.B) {
		for b.Loop() {
			aw.bound()
		}
	})
}

// gram's displacement recurrence gives the Gram matrix of the shifts
// S_{±d} src entry for entry, against the dense definition.
func TestAscentGram(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, bs := range [][3]int{{32, 15, 7}, {16, 7, 3}, {11, 5, 3}, {9, 8, 4}, {6, 5, 0}} {
		n, k, kp := bs[0], bs[1], bs[2]
		aw := newAscentWork(n, k, kp, ascentRank)
		src := randFactors(rng, n, ascentRank)
		rows := make([]float64, len(src))
		for c := 0; c < ascentRank; c++ {
			for i := 0; i < n; i++ {
				rows[i*ascentRank+c] = src[c*n+i]
			}
		}
		m := 2*kp + 1
		for _, dir := range []int{1, -1} {
			tr := aw.gram(rows, dir)
			var want float64
			for di := 0; di < m; di++ {
				for ei := 0; ei < m; ei++ {
					od, oe := dir*(di-kp), dir*(ei-kp)
					var s float64
					for c := 0; c < ascentRank; c++ {
						for i := 0; i < n; i++ {
							if i+od >= 0 && i+od < n && i+oe >= 0 && i+oe < n {
								s += src[c*n+i+od] * src[c*n+i+oe]
							}
						}
					}
					if got := aw.gam[di*m+ei]; math.Abs(got-s) > 1e-12*(1+math.Abs(s)) {
						t.Errorf("%v dir %d: Γ[%d][%d] = %v, want %v", bs, dir, di, ei, got, s)
					}
					if di == ei {
						want += s
					}
				}
			}
			if math.Abs(tr-want) > 1e-12*want {
				t.Errorf("%v dir %d: trace %v, want %v", bs, dir, tr, want)
			}
		}
	}
}

// From a near-optimal dual, the primal fitted to its optimality conditions
// is often near-optimal (the fit is first-order in the dual's error), and
// never below the optimum; zero factors or a zero input give no fit.
func TestAscentRecover(t *testing.T) {
	in, out := structure.Band{N: 32, K: 15}, structure.Band{N: 32, K: 7}
	l := spectralLoss(t, in, out)
	sdp := mustSpectral(t, in, out, nil)
	rng := rand.New(rand.NewPCG(19, 20))
	aw := newAscentWork(in.N, in.K, out.K, ascentRank)
	off := in.K - out.K
	cand := make([]float64, out.Len())
	var gaps []float64
	for row := 0; row < 8; row++ {
		x := notebookInput(rng, in)
		r, err := sdp.Solve(x)
		if err != nil {
			t.Fatal(err)
		}
		fac, _ := neighbourDual(t, l, in, out, x, x, r.A)
		xo := make([]float64, 2*(in.K-out.K))
		copy(xo, x[:off])
		copy(xo[off:], x[off+out.Len():])
		copy(aw.ab, fac)
		lo := aw.ascend(xo, r.Value*(1+1e-3), math.Inf(1), math.Inf(-1), ascentSteps)
		best := math.Inf(1)
		for _, weighted := range []bool{false, true} {
			if !aw.recover(x, cand, weighted, nil, 0) {
				t.Fatalf("row %d: no fit", row)
			}
			best = math.Min(best, denseNorm(in, x, cand))
		}
		if best < r.Value*(1-1e-9) || best < lo {
			t.Fatalf("row %d: fitted primal's loss %v below the optimum %v or the bound %v", row, best, r.Value, lo)
		}
		gaps = append(gaps, (best-r.Value)/best)
	}
	// First-order in the dual's error, and that error is amplified by the
	// fit: on these rows (dual errors 1e-5 to 2e-4) the gaps spread from
	// 0.1 % to 20 %, a third of them within 1 %.
	slices.Sort(gaps)
	if med := gaps[len(gaps)/2]; med > 0.05 || gaps[1] > 0.01 {
		t.Errorf("fitted primals' gaps %.3g: want a median within 5 %% and two within 1 %%", gaps)
	}
	clear(aw.ab)
	if aw.recover(notebookInput(rng, in), cand, false, nil, 0) {
		t.Error("a fit from zero factors")
	}
	copy(aw.ab, randFactors(rng, in.N, 2*ascentRank))
	if aw.recover(make([]float64, in.Len()), cand, true, nil, 0) {
		t.Error("a fit for a zero input")
	}
}
