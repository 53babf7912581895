package optimal

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/structure"
)

// The fast check's value (eigenvalues of RᵀR) against the SVD, at every
// scale.
func TestCertWorkValue(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, bs := range [][3]int{{11, 5, 3}, {32, 15, 7}, {9, 4, 0}, {2, 1, 0}, {64, 20, 10}} {
		in, out := structure.Band{N: bs[0], K: bs[1]}, structure.Band{N: bs[0], K: bs[2]}
		w, err := newCertWork(in, out, true)
		if err != nil {
			t.Fatal(err)
		}
		iw := w.sub.w
		for trial := 0; trial < 20; trial++ {
			x := make([]float64, in.Len())
			a := make([]float64, out.Len())
			scale := math.Pow(10, float64(rng.IntN(600)-300))
			for i := range x {
				x[i] = scale * rng.NormFloat64()
			}
			for i := range a {
				a[i] = scale * rng.NormFloat64()
			}
			if trial%5 == 0 {
				// Near-degenerate: the in-band part only.
				off := in.K - out.K
				copy(a, x[off:off+out.Len()])
				a[0] += scale * 1e-9
			}
			got, want := iw.value(x, a), denseNorm(in, x, a)
			if !(math.Abs(got-want) <= 1e-12*want) {
				t.Errorf("%v trial %d: value %g, SVD %g", in, trial, got, want)
			}
		}
		if v := iw.value(make([]float64, in.Len()), make([]float64, out.Len())); v != 0 {
			t.Errorf("%v: value of a zero residual %g", in, v)
		}
	}
}

// toeplitzGram's recurrence against the definition S_ij = Σ_l R_li R_lj,
// entry by entry, for bands from a single diagonal to a full matrix, with
// the entries beyond the band 2K exactly zero.
func TestToeplitzGram(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, bs := range [][2]int{{1, 0}, {2, 0}, {2, 1}, {3, 1}, {5, 4}, {7, 1}, {11, 5}, {12, 2}, {32, 15}, {33, 3}, {64, 31}, {64, 63}} {
		n, k := bs[0], bs[1]
		r := make([]float64, 2*k+1)
		for i := range r {
			r[i] = rng.NormFloat64()
		}
		s := make([]float64, n*n)
		toeplitzGram(s, r, n, k)
		rr := func(l, i int) float64 {
			if d := i - l; d >= -k && d <= k {
				return r[k+d]
			}
			return 0
		}
		for i := 0; i < n; i++ {
			for j := 0; j <= i; j++ {
				var want, mag float64
				for l := 0; l < n; l++ {
					want += rr(l, i) * rr(l, j)
					mag += math.Abs(rr(l, i) * rr(l, j))
				}
				got := s[i*n+j]
				if i-j > 2*k && got != 0 {
					t.Errorf("n=%d K=%d: S[%d][%d] = %g beyond the band", n, k, i, j, got)
				}
				if math.Abs(got-want) > 1e-13*(mag+1) {
					t.Errorf("n=%d K=%d: S[%d][%d] = %.17g, want %.17g", n, k, i, j, got, want)
				}
			}
		}
	}
}

// With a dual cache every bound stays below the optimum, the remembered
// duals certify most rows of a distribution once warmed, and the
// guarantee of MaxGap holds.
func TestCertifyDualCache(t *testing.T) {
	for _, bs := range [][3]int{{11, 5, 3}, {16, 4, 2}} {
		in, out := structure.Band{N: bs[0], K: bs[1]}, structure.Band{N: bs[0], K: bs[2]}
		l, _ := loss.NewSpectral(in, out)
		sdp := mustSpectral(t, in, out, nil)
		const rows = 160
		rng := rand.New(rand.NewPCG(11, uint64(bs[0])))
		L, Lo := in.Len(), out.Len()
		x := make([]float64, rows*L)
		a := make([]float64, rows*Lo)
		opt := make([]float64, rows)
		for i := 0; i < rows; i++ {
			xi := notebookInput(rng, in)
			if i == 0 {
				// Out-of-band entries of both signs, so that the cache
				// keeps the modulated images too (addImages).
				xi[0] = -1 - xi[0]
			}
			if i%2 == 1 {
				// Repeat a direction at another scale and in-band part:
				// the cache's bound is scale-free and ignores x_I.
				copy(xi, x[(i-1)*L:i*L])
				c := math.Pow(2, float64(rng.IntN(200)-100)) * (1 + rng.Float64())
				for j := range xi {
					xi[j] *= c
				}
				off := in.K - out.K
				for j := off; j < off+Lo; j++ {
					xi[j] = 1e6 * c * rng.NormFloat64()
				}
			}
			copy(x[i*L:], xi)
			r, err := sdp.Solve(xi)
			if err != nil {
				t.Fatal(err)
			}
			opt[i] = r.Value
			for j := range r.A {
				a[i*Lo+j] = r.A[j] + 2e-3*r.Value*rng.NormFloat64()
			}
		}
		for _, workers := range []int{1, 3} {
			c, err := NewCertifier(l, &CertifyOptions{MaxGap: 0.01, DualCache: 1000, Workers: workers})
			if err != nil {
				t.Fatal(err)
			}
			c.block = rows // the first pass's duals serve the second
			res := make([]Certificate, rows)
			dst := make([]float64, rows*Lo)
			// Two passes: the second one reuses the first one's duals.
			for pass := 0; pass < 2; pass++ {
				if err := c.CertifyBatch(dst, res, x, a, rows); err != nil {
					t.Fatal(err)
				}
				reused := 0
				for i, r := range res {
					if r.Lower > opt[i]*(1+1e-9) {
						t.Errorf("%v pass %d row %d: bound %g above the optimum %g", in, pass, i, r.Lower, opt[i])
					}
					if r.Gap() > 0.01 {
						t.Errorf("%v pass %d row %d: gap %g above MaxGap", in, pass, i, r.Gap())
					}
					if r.Reused {
						reused++
						if r.Polished || r.Fallback {
							t.Errorf("row %d: reused and polished/fallback", i)
						}
					}
				}
				if pass == 1 && reused < rows/2 {
					t.Errorf("%v: second pass reused %d of %d", in, reused, rows)
				}
				t.Logf("%v workers %d pass %d: %d of %d reused, cache %d", in, workers, pass, reused, rows, c.cache.len())
			}
			// Fresh inputs, near the remembered directions and far from
			// them: the cache's bound is never above the optimum.
			q := make([]int, 2*(in.K-out.K))
			xo := make([]float64, len(q))
			hits := 0
			for i := 0; i < 40; i++ {
				xi := append([]float64(nil), x[(i%rows)*L:(i%rows+1)*L]...)
				for j := range xi {
					xi[j] *= 1 + 0.02*float64(i%4)*rng.NormFloat64()
				}
				if i%4 == 3 {
					xi = gaussianInput(rng, in)
				}
				c.outside(xo, xi)
				lo := c.cache.lower(xo, q, 0)
				r, err := sdp.Solve(xi)
				if err != nil {
					t.Fatal(err)
				}
				if lo > r.Value*(1+1e-9) {
					t.Errorf("%v input %d: cache bound %g above the optimum %g", in, i, lo, r.Value)
				}
				if lo > 0.9*r.Value {
					hits++
				}
			}
			if hits < 10 {
				t.Errorf("%v: the cache bound is within 10 %% of the optimum on only %d of 40 nearby inputs", in, hits)
			}
			// The images of certified inputs under reversal and
			// modulation are certified by the images of their duals,
			// as tightly.
			for i := 0; i < 12; i++ {
				src := x[i*L : (i+1)*L]
				xi := make([]float64, L)
				for j := range xi {
					v := src[j]
					if i%3 != 1 {
						v = src[L-1-j] // reversal
					}
					if i%3 != 0 && (j-in.K)%2 != 0 {
						v = -v // modulation
					}
					xi[j] = v
				}
				c.outside(xo, xi)
				lo := c.cache.lower(xo, q, 0)
				r, err := sdp.Solve(xi)
				if err != nil {
					t.Fatal(err)
				}
				if lo > r.Value*(1+1e-9) || lo < (1-0.02)*r.Value {
					t.Errorf("%v image %d: cache bound %g, optimum %g", in, i, lo, r.Value)
				}
			}
		}
	}
}

// The cache keeps a dual's reversed image always and its modulated images
// only once some row's out-of-band entries have had both signs.
func TestCertifyImagesFollowSigns(t *testing.T) {
	in, out := structure.Band{N: 32, K: 15}, structure.Band{N: 32, K: 7}
	l, err := loss.NewSpectral(in, out)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCertifier(l, &CertifyOptions{MaxGap: 0.01, DualCache: 100})
	if err != nil {
		t.Fatal(err)
	}
	dim := c.cache.dim
	xo, h, e := make([]float64, dim), make([]float64, dim), make([]float64, dim)
	for i := range xo {
		xo[i], h[i] = float64(i+1), 1/float64(i+2)
	}
	for _, step := range []struct {
		mixed bool
		want  int
	}{{false, 2}, {true, 6}} {
		c.mixed = step.mixed
		c.addImages(xo, h, e, nil)
		if n := c.cache.len(); n != step.want {
			t.Errorf("mixed %v: %d vectors, want %d", step.mixed, n, step.want)
		}
	}
	if mixedSigns([]float64{1, 0, 2}) || !mixedSigns([]float64{1, 0, -2}) || mixedSigns([]float64{0, 0}) {
		t.Error("mixedSigns")
	}
}

// The output of CertifyBatch with a dual cache does not depend on Workers.
func TestCertifyDualCacheWorkers(t *testing.T) {
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	l, _ := loss.NewSpectral(in, out)
	const rows = 256
	rng := rand.New(rand.NewPCG(5, 6))
	sdp := mustSpectral(t, in, out, nil)
	L, Lo := in.Len(), out.Len()
	x := make([]float64, rows*L)
	a := make([]float64, rows*Lo)
	for i := 0; i < rows; i++ {
		copy(x[i*L:], notebookInput(rng, in))
		if i >= rows/2 {
			// The directions of the first half again, scaled.
			for j := 0; j < L; j++ {
				x[i*L+j] = 3 * x[(i-rows/2)*L+j]
			}
		}
		if i < rows/2 {
			r, err := sdp.Solve(x[i*L : (i+1)*L])
			if err != nil {
				t.Fatal(err)
			}
			for j := 0; j < Lo; j++ {
				a[i*Lo+j] = r.A[j] + 1e-3*r.Value*rng.NormFloat64()
			}
		} else {
			for j := 0; j < Lo; j++ {
				a[i*Lo+j] = 3*a[(i-rows/2)*Lo+j] + 1e-3*rng.NormFloat64()
			}
		}
	}
	var ref []Certificate
	for _, workers := range []int{1, 2, 4} {
		c, _ := NewCertifier(l, &CertifyOptions{MaxGap: 0.01, DualCache: 1 << 12, Workers: workers})
		c.block = 32 // eight blocks: the cache grows during the batch
		res := make([]Certificate, rows)
		dst := make([]float64, rows*Lo)
		if err := c.CertifyBatch(dst, res, x, a, rows); err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = res
			reused := 0
			for _, r := range res {
				if r.Reused {
					reused++
				}
			}
			if reused < rows/4 {
				t.Fatalf("%d of %d rows reused a dual", reused, rows)
			}
			continue
		}
		for i := range res {
			if res[i].Value != ref[i].Value || res[i].Lower != ref[i].Lower || res[i].Reused != ref[i].Reused {
				t.Fatalf("workers %d row %d: %+v, one worker %+v", workers, i, res[i], ref[i])
			}
		}
	}
}

// gaussianInput draws a standard normal generator for b.
func gaussianInput(rng *rand.Rand, b structure.Band) []float64 {
	x := make([]float64, b.Len())
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return x
}

// The cache's cells: every direction and scale maps to a valid cell, the
// lookup of an empty or zero input is 0, and an entry is found from
// directions in its own and neighbouring cells.
func TestDualCacheCells(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, dim := range []int{1, 2, 4, 6, 16, 30} {
		c := newDualCache(dim, 10)
		q := make([]int, dim)
		zero := make([]float64, dim)
		if lo := c.lower(zero, q, 0); lo != 0 {
			t.Errorf("dim %d: zero input bound %g", dim, lo)
		}
		xo := make([]float64, dim)
		for i := range xo {
			xo[i] = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(600)-300))
		}
		if lo := c.lower(xo, q, 0); lo != 0 {
			t.Errorf("dim %d: empty cache bound %g", dim, lo)
		}
		// A vector h with h·xo = ||xo||_1 / 2 (a made-up entry: the
		// cache stores what it is given; validity is the caller's).
		h := make([]float64, dim)
		big := 0.0
		for _, v := range xo {
			big = math.Max(big, math.Abs(v))
		}
		for i, v := range xo {
			h[i] = math.Copysign(0.5/big, v)
		}
		c.add(xo, h, make([]float64, dim), q)
		if c.len() != 1 {
			t.Fatalf("dim %d: %d entries", dim, c.len())
		}
		dot := 0.0
		for i, v := range xo {
			dot += h[i] * v
		}
		if lo := c.lower(xo, q, 0); !(math.Abs(lo-dot) <= 1e-12*dot) {
			t.Errorf("dim %d: bound %g, want %g", dim, lo, dot)
		}
		for i := range q {
			q[i] = -1
		}
		// Full: further adds are dropped (a grid cell holds at most
		// dualCellCap, the balls the cache's maximum).
		for i := 0; i < 20; i++ {
			c.add(xo, h, make([]float64, dim), q)
		}
		want := 10
		if dim <= dualGridMaxDim {
			want = min(10, dualCellCap)
		}
		if c.len() != want {
			t.Errorf("dim %d: %d entries after filling one cell", dim, c.len())
		}
	}
}

// The output with a dual cache depends only on the sequence of rows: not
// on how CertifyBatch calls split it, nor on single Certify calls.
func TestCertifyDualCacheSplits(t *testing.T) {
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	l, _ := loss.NewSpectral(in, out)
	sdp := mustSpectral(t, in, out, nil)
	const rows = 96
	rng := rand.New(rand.NewPCG(21, 22))
	L, Lo := in.Len(), out.Len()
	x := make([]float64, rows*L)
	a := make([]float64, rows*Lo)
	for i := 0; i < rows; i++ {
		if i < rows/3 {
			copy(x[i*L:], notebookInput(rng, in))
			r, _ := sdp.Solve(x[i*L : (i+1)*L])
			for j := range r.A {
				a[i*Lo+j] = r.A[j] + 1e-3*r.Value*rng.NormFloat64()
			}
			continue
		}
		for j := 0; j < L; j++ {
			x[i*L+j] = 2 * x[(i-rows/3)*L+j]
		}
		for j := 0; j < Lo; j++ {
			a[i*Lo+j] = 2 * a[(i-rows/3)*Lo+j]
		}
	}
	run := func(split int) []Certificate {
		c, _ := NewCertifier(l, &CertifyOptions{MaxGap: 0.01, DualCache: 100, Workers: 2})
		c.block = 20
		res := make([]Certificate, rows)
		for lo := 0; lo < rows; lo += split {
			hi := min(rows, lo+split)
			if split == 1 {
				r, err := c.Certify(x[lo*L:hi*L], a[lo*Lo:hi*Lo])
				if err != nil {
					t.Fatal(err)
				}
				res[lo] = r
				continue
			}
			dst := make([]float64, (hi-lo)*Lo)
			if err := c.CertifyBatch(dst, res[lo:hi], x[lo*L:hi*L], a[lo*Lo:hi*Lo], hi-lo); err != nil {
				t.Fatal(err)
			}
		}
		return res
	}
	ref := run(rows)
	reused := 0
	for _, r := range ref {
		if r.Reused {
			reused++
		}
	}
	if reused < rows/4 {
		t.Fatalf("%d of %d rows reused a dual", reused, rows)
	}
	for _, split := range []int{1, 7, 33} {
		res := run(split)
		for i := range res {
			if res[i].Value != ref[i].Value || res[i].Lower != ref[i].Lower || res[i].Reused != ref[i].Reused {
				t.Fatalf("split %d row %d: %+v, one call %+v", split, i, res[i], ref[i])
			}
		}
	}
}

// maxEigSym against gonum's symmetric eigensolver, on random matrices,
// matrices with a multiple or clustered top eigenvalue, diagonal and zero
// ones, random ones scaled by 2^∓40, and the cases that steer its Laguerre
// phase: a top pair split by 10⁻⁴ or 10⁻⁷ (a linear rate until resolved), a
// negative definite matrix, the all-ones matrix (Gershgorin's bound, where
// the iteration starts, is the eigenvalue) and a simple top eigenvalue
// over a tight cluster; n = 1…20 and 32.
func TestMaxEigSym(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for n := 1; n <= 33; n++ {
		if n > 20 && n != 32 {
			continue
		}
		for kind := 0; kind < 12; kind++ {
			sym := mat.NewSymDense(n, nil)
			sc := 1.0 // the scale of the matrix maxEigSym gets
			switch kind {
			case 0: // random
				for i := 0; i < n; i++ {
					for j := 0; j <= i; j++ {
						sym.SetSym(i, j, rng.NormFloat64())
					}
				}
			case 1, 2, 7, 8, 9, 11: // Q diag Qᵀ with a chosen spectrum
				q := randomOrthogonal(rng, n)
				vals := make([]float64, n)
				for i := range vals {
					vals[i] = rng.Float64()
				}
				switch kind {
				case 1, 2: // the top value repeated, or clustered within 1e-9
					for i := 0; i < min(3, n); i++ {
						vals[i] = 2
						if kind == 2 {
							vals[i] += 1e-9 * float64(i)
						}
					}
				case 7, 11: // a top pair split by 1e-4 or 1e-7
					split := 1e-4
					if kind == 11 {
						split = 1e-7
					}
					vals[0] = 2
					if n > 1 {
						vals[1] = 2 * (1 - split)
					}
				case 8: // negative definite
					for i := range vals {
						vals[i] = -1 - vals[i]
					}
				case 9: // a simple top over a tight cluster
					vals[0] = 2
					for i := 1; i < n; i++ {
						vals[i] = 1 + 1e-12*float64(i)
					}
				}
				var qd mat.Dense
				qd.Mul(q, mat.NewDiagDense(n, vals))
				var full mat.Dense
				full.Mul(&qd, q.T())
				for i := 0; i < n; i++ {
					for j := 0; j <= i; j++ {
						sym.SetSym(i, j, (full.At(i, j)+full.At(j, i))/2)
					}
				}
			case 10: // all ones
				for i := 0; i < n; i++ {
					for j := 0; j <= i; j++ {
						sym.SetSym(i, j, 1)
					}
				}
			case 3: // diagonal
				for i := 0; i < n; i++ {
					sym.SetSym(i, i, rng.NormFloat64())
				}
			case 4: // zero
			case 5, 6: // random, given to maxEigSym at 2^∓40
				sc = 0x1p-40
				if kind == 6 {
					sc = 0x1p40
				}
				for i := 0; i < n; i++ {
					for j := 0; j <= i; j++ {
						sym.SetSym(i, j, rng.NormFloat64())
					}
				}
			}
			var es mat.EigenSym
			if !es.Factorize(sym, false) {
				t.Fatal("EigenSym failed")
			}
			vals := es.Values(nil)
			want := vals[len(vals)-1]
			s := make([]float64, n*n)
			for i := 0; i < n; i++ {
				for j := 0; j <= i; j++ {
					s[i*n+j] = sc * sym.At(i, j)
				}
			}
			got, ok := maxEigSym(s, n, make([]float64, n), make([]float64, n), make([]float64, 2*n))
			got /= sc
			norm := math.Max(math.Abs(vals[0]), math.Abs(want))
			// Both are backward stable: within a few n·ε·norm of each other.
			if !ok || !(math.Abs(got-want) <= 1e-13*math.Max(norm, 1e-300)+1e-300) || got < want-4*float64(n)*epsilon*norm {
				t.Errorf("n=%d kind %d: maxEigSym %v (ok %v), EigenSym %v", n, kind, got, ok, want)
			}
		}
	}
	s := []float64{math.NaN()}
	if _, ok := maxEigSym(s, 1, make([]float64, 1), make([]float64, 1), make([]float64, 2)); ok {
		t.Error("NaN matrix accepted")
	}
}

func randomOrthogonal(rng *rand.Rand, n int) *mat.Dense {
	a := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			a.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(a)
	var q mat.Dense
	qr.QTo(&q)
	return &q
}

func TestDualCacheBytes(t *testing.T) {
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	if b := DualCacheBytes(in, out, 0); b != 0 {
		t.Errorf("no cache: %g bytes", b)
	}
	if b := DualCacheBytes(structure.Band{N: 100, K: 5}, structure.Band{N: 100, K: 3}, 1000); b != 0 {
		t.Errorf("N = 100 keeps no cache: %g bytes", b)
	}
	small, big := DualCacheBytes(in, out, 1000), DualCacheBytes(in, out, MaxDualCache)
	if !(small > 0 && big > 100*small && big < 1<<30) {
		t.Errorf("bytes %g (1000 vectors), %g (MaxDualCache)", small, big)
	}
	// The estimate covers what a filled cache holds.
	c := newDualCache(4, 2000)
	rng := rand.New(rand.NewPCG(1, 2))
	q := make([]int, 4)
	for i := 0; i < 4000; i++ {
		xo := []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		c.add(xo, xo, xo, q)
	}
	held := float64(8*(len(c.h)+len(c.e)) + 4*(len(c.next)+len(c.flat)) + len(c.count))
	if est := DualCacheBytes(in, out, 2000); held > est {
		t.Errorf("cache holds %g bytes, estimate %g", held, est)
	}
	// In 16 dimensions, with dual ascent's factors: the estimate covers a
	// full index of AscentDualCache vectors and their factors, whatever
	// DualCache asks for.
	in32, out32 := structure.Band{N: 32, K: 15}, structure.Band{N: 32, K: 7}
	ci := newDualCache(16, AscentDualCache)
	fl := factorLen(in32.N)
	ci.keepFactors(fl)
	h, e, f := make([]float64, 16), make([]float64, 16), make([]float64, fl)
	for i := 0; i < 2*AscentDualCache; i++ {
		for d := range h {
			h[d] = rng.NormFloat64()
		}
		ci.addFactors(h, h, e, f, nil)
	}
	ix := ci.ix
	bytes := 8 * (cap(ix.centre) + cap(ix.radius))
	for b := range ix.mem {
		bytes += 8*cap(ix.mem[b]) + 4*cap(ix.fac[b]) + 48
	}
	if est := DualCacheBytes(in32, out32, DefaultDualCache); float64(bytes) > est {
		t.Errorf("index with factors holds %d bytes, estimate %g", bytes, est)
	}
	if ix.len() > AscentDualCache {
		t.Errorf("%d vectors in an index of at most %d", ix.len(), AscentDualCache)
	}
	// A certifier keeps at most AscentDualCache duals where it ascends, and
	// what DualCache asks for where it does not.
	l32 := spectralLoss(t, in32, out32)
	for _, c := range []struct{ steps, want int }{{0, AscentDualCache}, {-1, DefaultDualCache}} {
		cf := mustCertifier(t, l32, &CertifyOptions{MaxGap: 0.01, DualCache: DefaultDualCache, AscentSteps: c.steps})
		if cf.cache.max != c.want || (cf.fac > 0) != (c.steps >= 0) {
			t.Errorf("AscentSteps %d: a cache of %d, factors %d", c.steps, cf.cache.max, cf.fac)
		}
	}
}

// denseNorm returns ||T(x) − T(Ea)||_2 by the SVD of the dense matrix, the
// reference of certWork.value.
func denseNorm(in structure.Band, x, a []float64) float64 {
	n, k := in.N, in.K
	off := len(x)/2 - len(a)/2
	r := append([]float64(nil), x...)
	for i, v := range a {
		r[off+i] -= v
	}
	big := 0.0
	for _, v := range r {
		big = math.Max(big, math.Abs(v))
	}
	if big == 0 {
		return 0
	}
	sc := pow2(big)
	d := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		for j := max(0, i-k); j <= min(n-1, i+k); j++ {
			d.Set(i, j, r[k+j-i]/sc)
		}
	}
	var svd mat.SVD
	if !svd.Factorize(d, mat.SVDNone) {
		return math.NaN()
	}
	return svd.Values(nil)[0] * sc
}

// Beyond dualGridMaxDim the balls' lookup returns exactly the best bound
// of a brute-force scan over every remembered vector (fewer than
// dualScanCap here), for inputs near and far from the stored directions,
// at every scale, and its memory is within DualCacheBytes.
func TestDualIndexBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, tc := range []struct {
		dim  int
		full bool // at most dualMinLeaders balls, fewer than the vectors: once all are taken the far ones are dropped
	}{{5, false}, {16, false}, {30, false}, {16, true}} {
		dim := tc.dim
		const entries = 3000
		c := newDualCache(dim, entries)
		if !tc.full {
			c.ix.balls = entries + 100 // no vector joins a ball beyond dualJoinRadius
		}
		q := make([]int, dim)
		// The rounding bounds each vector was stored with, by its bits.
		stored := map[string][]float64{}
		key := func(h []float64) string { return fmt.Sprint(h) }
		// Clustered directions, as a network's inputs are: a few centres
		// with spread, so that balls form and pruning matters.
		centres := make([][]float64, 6)
		for k := range centres {
			centres[k] = make([]float64, dim)
			for i := range centres[k] {
				centres[k][i] = rng.NormFloat64()
			}
		}
		draw := func(spread float64) []float64 {
			x := make([]float64, dim)
			cc := centres[rng.IntN(len(centres))]
			for i := range x {
				x[i] = cc[i] + spread*rng.NormFloat64()
			}
			return x
		}
		for n := 0; n < entries+100; n++ {
			h := draw(0.3)
			var nh float64
			for _, v := range h {
				nh += v * v
			}
			for i := range h {
				h[i] /= math.Sqrt(nh)
			}
			e := make([]float64, dim)
			for i := range e {
				e[i] = 1e-12 * rng.Float64()
			}
			if c.len() < entries {
				stored[key(h)] = e
			}
			c.add(h, h, e, q)
		}
		if n := c.len(); n > entries || (!tc.full && n != entries) || (tc.full && c.ix.dropped == 0) {
			t.Fatalf("dim %d (full %v): %d entries (%d dropped), want %d", dim, tc.full, n, c.ix.dropped, entries)
		}
		// Each vector keeps s = max_d (e_d + (dim+2)ε|h_d|).
		c.ix.each(func(h []float64, s float64) {
			e, ok := stored[key(h)]
			if !ok {
				t.Fatalf("dim %d: a vector indexed that was not stored", dim)
			}
			var sMax float64
			for d, v := range h {
				sMax = math.Max(sMax, e[d]+float64(dim+2)*epsilon*math.Abs(v))
			}
			if s != sMax {
				t.Fatalf("dim %d: stored rounding bound %g, want %g", dim, s, sMax)
			}
		})
		for trial := 0; trial < 200; trial++ {
			spread := []float64{0.05, 0.3, 3}[trial%3]
			x := draw(spread)
			sc := math.Pow(10, float64(rng.IntN(600)-300))
			for i := range x {
				x[i] *= sc
			}
			var big float64
			for _, v := range x {
				big = math.Max(big, math.Abs(v))
			}
			p := pow2(big)
			xs := make([]float64, dim)
			for i, v := range x {
				xs[i] = v / p
			}
			// Brute force: every vector's bound by the definition,
			// |h·x| − s·||x||_1 with s the largest of e_d + (dim+2)ε|h_d|.
			var x1 float64
			for _, v := range xs {
				x1 += math.Abs(v)
			}
			x1 = l1Bound(x1, dim)
			want, seen := 0.0, 0
			c.ix.each(func(h []float64, s float64) {
				seen++
				var dot, mag float64
				for d, v := range h {
					dot += v * xs[d]
					mag += math.Abs(v * xs[d])
				}
				// The scan's dot product sums in another order: allow
				// for it, then compare exactly against its own sum.
				if lo, _ := scanBallDots(make([]float64, 1), append(append([]float64(nil), h...), s), xs, x1, math.Inf(-1)); math.Abs(lo-(math.Abs(dot)-s*x1)) > 1e-13*mag {
					t.Fatalf("dim %d: entry bound %g, definition %g", dim, lo, math.Abs(dot)-s*x1)
				} else {
					want = math.Max(want, lo)
				}
			})
			if seen != c.len() {
				t.Fatalf("dim %d: %d vectors indexed, want %d", dim, seen, c.len())
			}
			want *= p
			if got := c.lower(x, q, 0); got != want {
				t.Errorf("dim %d (full %v) trial %d: index %g, brute force %g", dim, tc.full, trial, got, want)
			}
			// With a floor: the best where it exceeds the floor, else
			// no more than the best.
			for _, f := range []float64{0.99, 1.01} {
				floor := f * want
				got := c.lower(x, q, floor)
				if got > want || (want > floor && got != want) {
					t.Errorf("dim %d trial %d: floor %g: index %g, brute force %g", dim, trial, floor, got, want)
				}
			}
		}
		ix := c.ix
		held := float64(8*(len(ix.centre)+len(ix.radius)) + 24*len(ix.mem))
		for _, m := range ix.mem {
			held += 8 * float64(cap(m))
		}
		if est := DualCacheBytes(structure.Band{N: 64, K: dim/2 + 3}, structure.Band{N: 64, K: 3}, entries); held > est {
			t.Errorf("dim %d: index holds %g bytes, estimate %g", dim, held, est)
		}
		for b, r := range ix.radius {
			if r > dualJoinRadius*math.Sqrt(dotUnrolled(ix.centre[b*dim:], ix.centre[b*dim:(b+1)*dim]))*(1+1e-9) {
				t.Errorf("dim %d: ball %d of radius %g", dim, b, r)
			}
		}
		t.Logf("dim %d (full %v): %d balls, %d vectors, %d dropped", dim, tc.full, len(ix.radius), c.len(), ix.dropped)
	}
}

// With ReuseTarget zero the fast check's target follows the rows: after
// each block it is ReuseGapFactor times the mean certified gap of the rows certified
// the full way, within [DefaultReuseFraction, 1] times the target; an
// explicit ReuseTarget stays as given. The index of more than
// dualGridMaxDim out-of-band entries serves the fast check.
func TestCertifyReuseAdapts(t *testing.T) {
	in, out := structure.Band{N: 16, K: 6}, structure.Band{N: 16, K: 2}
	l, _ := loss.NewSpectral(in, out)
	rng := rand.New(rand.NewPCG(21, 22))
	const rows = 2 * dualBlock
	x := make([]float64, rows*in.Len())
	a := make([]float64, rows*out.Len())
	for i := 0; i < rows; i++ {
		xi := x[i*in.Len() : (i+1)*in.Len()]
		for j := range xi {
			xi[j] = rng.Float64()
		}
		// A candidate near the truncation, so that gaps are small but
		// not zero.
		off := in.K - out.K
		for j := range out.Len() {
			a[i*out.Len()+j] = xi[off+j] * (1 + 0.01*rng.NormFloat64())
		}
	}
	if c, err := NewCertifier(l, &CertifyOptions{MaxGap: 0.01}); err != nil {
		t.Fatal(err)
	} else if r := c.ReuseTarget(); r != 0 {
		t.Errorf("without a cache: ReuseTarget %v, want 0", r)
	}
	for _, fixed := range []float64{0, 0.004} {
		c, err := NewCertifier(l, &CertifyOptions{MaxGap: 0.01, DualCache: 1000, ReuseTarget: fixed, Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		if start := c.ReuseTarget(); (fixed == 0 && start != DefaultReuseFraction*0.01) || (fixed != 0 && start != fixed) {
			t.Errorf("ReuseTarget %g: %g before any row", fixed, start)
		}
		if c.cache.ix == nil {
			t.Fatalf("%d out-of-band entries: no index", c.cache.dim)
		}
		res := make([]Certificate, rows)
		dst := make([]float64, len(a))
		// Twice, the second time with the first pass's answers, so that
		// it meets the duals remembered for them.
		if err := c.CertifyBatch(dst, res, x, a, rows); err != nil {
			t.Fatal(err)
		}
		second := append([]float64(nil), dst...)
		if err := c.CertifyBatch(dst, res, x, second, rows); err != nil {
			t.Fatal(err)
		}
		got := c.ReuseTarget()
		want := fixed
		if fixed == 0 {
			if c.gapN == 0 {
				t.Fatal("no row was certified the full way with a dual")
			}
			want = math.Min(0.01, math.Max(DefaultReuseFraction*0.01, ReuseGapFactor*c.gapSum/float64(c.gapN)))
		}
		if got != want {
			t.Errorf("ReuseTarget %g: fast check's target %g, want %g", fixed, got, want)
		}
		reused := 0
		for _, r := range res {
			if r.Reused {
				reused++
			}
			if r.Gap() > 0.01 {
				t.Errorf("gap %g above MaxGap", r.Gap())
			}
		}
		t.Logf("ReuseTarget %g: target %.4g, %d of %d reused in the second pass", fixed, got, reused, rows)
		if reused == 0 {
			t.Errorf("ReuseTarget %g: nothing reused in the second pass", fixed)
		}
	}
}

// A lookup of the balls allocates nothing.
func TestDualIndexNoAlloc(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const dim = 16
	c := newDualCache(dim, 500)
	q := make([]int, dim)
	for i := 0; i < 500; i++ {
		h := make([]float64, dim)
		for j := range h {
			h[j] = rng.NormFloat64()
		}
		c.add(h, h, make([]float64, dim), q)
	}
	x := make([]float64, dim)
	for j := range x {
		x[j] = rng.NormFloat64()
	}
	c.lower(x, q, 0)
	if n := testing.AllocsPerRun(50, func() { c.lower(x, q, 0) }); n != 0 {
		t.Errorf("%v allocations per lookup", n)
	}
}

// BenchmarkCertWorkValue times the fast check's exact loss, ||T(x − Ea)||_2
// (the reduction of RᵀR and the Sturm counts), at N = 11 (K 5 → 3) and
// N = 32 (15 → 7).
func BenchmarkCertWorkValue(b *testing.B) {
	for _, bs := range [][3]int{{11, 5, 3}, {32, 15, 7}} {
		b.Run(fmt.Sprintf("N=%d", bs[0]), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(5, 6))
			in, out := structure.Band{N: bs[0], K: bs[1]}, structure.Band{N: bs[0], K: bs[2]}
			w, err := newCertWork(in, out, true)
			if err != nil {
				b.Fatal(err)
			}
			iw := w.sub.w
			x := make([]float64, in.Len())
			a := make([]float64, out.Len())
			for i := range x {
				x[i] = rng.NormFloat64()
			}
			for i := range a {
				a[i] = rng.NormFloat64()
			}
			b.ReportAllocs()
			for b.Loop() {
				iw.value(x, a)
			}
		})
	}
}

// The dense oracle's triplets, from the symmetric eigensolver of H = R J,
// against the definition and gonum's SVD: σ descending and equal to the
// SVD's, R v_i = σ_i u_i, U and V orthonormal, on random residuals, in-band
// only and single-diagonal ones (one value, N−|d| times), symmetric and
// antisymmetric generators (whose singular values pair up) and zero.
func TestDenseOracleTriplets(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, bs := range [][3]int{{11, 5, 3}, {32, 15, 7}, {2, 1, 0}, {7, 6, 0}, {64, 31, 15}} {
		in, out := structure.Band{N: bs[0], K: bs[1]}, structure.Band{N: bs[0], K: bs[2]}
		w, err := newCertWork(in, out, true)
		if err != nil {
			t.Fatal(err)
		}
		iw := w.sub.w
		if iw.ts != nil {
			t.Fatalf("%v: not the dense oracle", in)
		}
		n, k := in.N, in.K
		for kind := 0; kind < 6; kind++ {
			r := iw.r
			for i := range r {
				r[i] = rng.NormFloat64()
			}
			switch kind {
			case 1: // one diagonal
				clear(r)
				r[rng.IntN(2*k+1)] = 1
			case 2, 3: // symmetric, antisymmetric generator
				for d := 1; d <= k; d++ {
					r[k-d] = r[k+d]
					if kind == 3 {
						r[k-d] = -r[k+d]
					}
				}
				if kind == 3 {
					r[k] = 0
				}
			case 4:
				clear(r)
			case 5: // a wide dynamic range
				for i := range r {
					r[i] *= math.Exp2(float64(rng.IntN(60) - 30))
				}
			}
			if !iw.factor() {
				t.Fatalf("%v kind %d: factor failed", in, kind)
			}
			rm := mat.NewDense(n, n, nil)
			for i := 0; i < n; i++ {
				for j := max(0, i-k); j <= min(n-1, i+k); j++ {
					rm.Set(i, j, r[k+j-i])
				}
			}
			var svd mat.SVD
			if !svd.Factorize(rm, mat.SVDNone) {
				t.Fatal("SVD failed")
			}
			want := svd.Values(nil)
			scale := math.Max(want[0], 1e-300)
			for c := 0; c < n; c++ {
				if c > 0 && iw.sig[c] > iw.sig[c-1] {
					t.Fatalf("%v kind %d: σ not descending at %d", in, kind, c)
				}
				if math.Abs(iw.sig[c]-want[c]) > 1e-13*float64(n)*scale {
					t.Errorf("%v kind %d: σ_%d %g, SVD %g", in, kind, c, iw.sig[c], want[c])
				}
				// R v_c − σ_c u_c.
				var res float64
				for i := 0; i < n; i++ {
					var s float64
					for j := 0; j < n; j++ {
						s += rm.At(i, j) * iw.v.At(j, c)
					}
					res = math.Max(res, math.Abs(s-iw.sig[c]*iw.u.At(i, c)))
				}
				if res > 1e-13*float64(n)*scale {
					t.Errorf("%v kind %d: ||R v_%d − σ u|| = %g", in, kind, c, res)
				}
			}
			for _, q := range []*mat.Dense{iw.u, iw.v} {
				var qq mat.Dense
				qq.Mul(q.T(), q)
				for i := 0; i < n; i++ {
					for j := 0; j < n; j++ {
						want := 0.0
						if i == j {
							want = 1
						}
						if d := math.Abs(qq.At(i, j) - want); d > 1e-13*float64(n) {
							t.Fatalf("%v kind %d: (QᵀQ)_%d%d off by %g", in, kind, i, j, d)
						}
					}
				}
			}
		}
	}
}

// BenchmarkMaxEigSymNearOptimal times the fast check's exact loss on what
// it meets in use: near-optimal residuals (exact optima plus 1e-4 relative
// noise, dualFileRows), whose top eigenvalues of RᵀR form a close pair or
// cluster, at N = 11 (K 5 → 3) and N = 32 (15 → 7).
func BenchmarkMaxEigSymNearOptimal(b *testing.B) {
	for _, bs := range [][3]int{{11, 5, 3}, {32, 15, 7}} {
		in, out := structure.Band{N: bs[0], K: bs[1]}, structure.Band{N: bs[0], K: bs[2]}
		const rows = 16
		x, a, _ := dualFileRows(b, in, out, rows, 41)
		w, err := newCertWork(in, out, true)
		if err != nil {
			b.Fatal(err)
		}
		iw := w.sub.w
		L, Lo := in.Len(), out.Len()
		b.Run(fmt.Sprintf("N=%d", bs[0]), func(b *testing.B) {
			i := 0
			for b.Loop() {
				iw.value(x[(i%rows)*L:(i%rows+1)*L], a[(i%rows)*Lo:(i%rows+1)*Lo])
				i++
			}
		})
	}
}
