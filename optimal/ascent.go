package optimal

import (
	"math"

	"gonum.org/v1/gonum/floats"
)

// Dual ascent from a remembered dual. A remembered dual's bound for an
// input x is tight where x's optimal dual is near it and loosens about
// quadratically with the distance (docs/BENCHMARKS.md, issue 13), while
// the optimal dual itself has low rank (two at the optimum on the rows
// studied). So the certifier keeps, with each remembered vector h, a
// rank-r factorisation Y ≈ A Bᵀ of the dual matrix it came from, and
// where h's bound misses the reuse target it improves the dual for x
// itself by alternating maximisation of the Burer–Monteiro form of the
// dual problem (Burer & Monteiro, Math. Program. 95, 2003),
//
//	max ⟨A Bᵀ, T(x_out)⟩  subject to  ⟨A Bᵀ, S_d⟩ = 0 (|d| <= K'),
//	(||A||_F² + ||B||_F²)/2 <= 1,
//
// whose value is at most opt(x), since ||A Bᵀ||_* <= ||A||_F ||B||_F. For
// B fixed the problem in A is a linear objective over a ball within the
// subspace orthogonal to the matrices S_d B, whose solution is the
// projection of G = T(x_out) B onto that subspace, scaled to ||B||_F: a
// least-squares problem in the 2K'+1 multipliers (a Gram system). For A
// fixed it is the same with the transpose. Each step costs O(N·r·K) plus
// the Gram system's O(K'³), far below a full check's eigensolver and
// model.
//
// The iterates only propose duals: after each step the factors are
// balanced through a thin QR of each and an SVD of the r×r core
// (ascentWork.align), the dense Y = A Bᵀ is formed, and its bound comes from
// dualVector with the nuclear norm bounded by Σ_j ||a_j|| ||b_j||, which
// is at least ||A Bᵀ||_* for every factorisation and equals it for the
// aligned one. So the bound is rigorous whatever the iteration did, with
// the same rounding analysis as the full check's remembered duals.

// ascentRank is the rank of the factorisation each remembered dual keeps
// for the ascent.
const ascentRank = 3

// ascentSteps is the default most alternating steps (an update of each
// factor) one ascent takes (CertifyOptions.AscentSteps).
const ascentSteps = 20

// ascentWork is the scratch of dual ascent and of factor alignment, for
// factors of up to kmax columns in and ascentRank out.
type ascentWork struct {
	n, k, kp, r, kmax int

	x       []float64 // T(x_out)'s generator: 2K+1, the output band zero, scaled
	xo      []float64 // x_out scaled, in the order of Certifier.outside
	ab      []float64 // the factors A then B (factorLen), as stored
	sr      []float64 // n×r: half's src by rows
	a, b, g []float64 // n×r: A and B within ab, and G
	p       []float64 // m×m: the Gram matrix F of the shifts (half)
	gam     []float64 // m×m, m = 2K'+1: the Gram system, then its factor
	mu      []float64 // m: its right-hand side, then its solution

	qa, qb []float64 // n×kmax: thin QR factors
	ra, rb []float64 // kmax×kmax
	c, v   []float64 // kmax×kmax: the core and its right rotations
	sig    []float64 // kmax
	ord    []int     // kmax
	y      []float64 // n×n: the dense dual
	h, e   []float64 // 2(K−K'): its vector and rounding bounds

	xs       []float64 // recover: x scaled, 2K+1
	cand     []float64 // recover: the candidate, 2K'+1
	tv       []float64 // recover: T(x) v_t (n)
	ata, atb []float64 // recover: the normal equations, (m+1)² and m+1
}

// newAscentWork returns the scratch for N = n, bands K, K' and factors of
// up to kmax columns.
func newAscentWork(n, k, kp, kmax int) *ascentWork {
	r := ascentRank
	kmax = max(kmax, r)
	m := 2*kp + 1
	dim := 2 * (k - kp)
	aw := &ascentWork{n: n, k: k, kp: kp, r: r, kmax: kmax,
		x: make([]float64, 2*k+1), xo: make([]float64, dim),
		ab: make([]float64, 2*n*r), sr: make([]float64, n*r), g: make([]float64, max(n*r, (m+1)*n)),
		p: make([]float64, m*m), gam: make([]float64, m*m),
		mu: make([]float64, m),
		qa: make([]float64, n*kmax), qb: make([]float64, n*kmax),
		ra: make([]float64, kmax*kmax), rb: make([]float64, kmax*kmax),
		c: make([]float64, kmax*kmax), v: make([]float64, kmax*kmax),
		sig: make([]float64, kmax), ord: make([]int, kmax),
		y: make([]float64, n*n), h: make([]float64, dim), e: make([]float64, dim),
	}
	aw.a, aw.b = aw.ab[:n*r], aw.ab[n*r:]
	aw.xs, aw.tv, aw.cand = make([]float64, 2*k+1), make([]float64, n), make([]float64, m)
	aw.ata, aw.atb = make([]float64, (m+1)*(m+1)), make([]float64, m+1)
	return aw
}

// recover writes into a (2K'+1) a primal candidate for the input x (2K+1)
// from the dual in aw.a, aw.b as the last ascent left it (aligned): at an
// optimum a* the optimal dual lives on the top singular pairs of the
// residual, R(a*) v_t = σ u_t for its pairs (u_t, v_t), so a and τ are
// fitted by least squares to R(a) v_t = τ u_t over the dual's pairs,
// weighted by their singular values (weighted) or not, and, with a prior
// (2K'+1, nil for none), pulled towards it by the ridge lambda times the
// normal equations' mean diagonal. The fit is first-order in the dual's
// error, so the caller evaluates it. It reports false where the fit is not
// defined.
func (aw *ascentWork) recover(x, a []float64, weighted bool, prior []float64, lambda float64) bool {
	n, r, k, kp := aw.n, aw.r, aw.k, aw.kp
	m := 2*kp + 1
	var big float64
	for _, v := range x {
		big = math.Max(big, math.Abs(v))
	}
	if !(big > 0) || math.IsInf(big, 0) {
		return false
	}
	sc := pow2(big)
	for i, v := range x {
		aw.xs[i] = v / sc
	}
	// The normal equations of min Σ_t w_t² ||Σ_d a_d S_d v_t + τ u_t −
	// T(x) v_t||², unknowns (a_{−K'} … a_{K'}, τ).
	ata, atb := aw.ata, aw.atb
	clear(ata)
	clear(atb)
	var top float64
	for t := 0; t < r; t++ {
		top = math.Max(top, floats.Dot(aw.a[t*n:(t+1)*n], aw.a[t*n:(t+1)*n]))
	}
	if !(top > 0) {
		return false
	}
	cols := aw.g[:(m+1)*n] // the m+1 columns of one pair's equations
	for t := 0; t < r; t++ {
		at, bt := aw.a[t*n:(t+1)*n], aw.b[t*n:(t+1)*n]
		na, nb := math.Sqrt(floats.Dot(at, at)), math.Sqrt(floats.Dot(bt, bt))
		if !(na > 0) || !(nb > 0) {
			continue
		}
		w := 1.0
		if weighted {
			w = na * na / top // σ_t/σ_1
		}
		// u_t = a_t/||a_t||, v_t = b_t/||b_t||.
		tv := aw.tv[:n]
		clear(tv)
		for q, xv := range aw.xs {
			if xv == 0 {
				continue
			}
			o := q - k
			lo, hi := max(0, -o), min(n, n-o)
			floats.AddScaled(tv[lo:hi], xv/nb, bt[lo+o:hi+o])
		}
		for di := 0; di < m; di++ {
			o := di - kp
			c := cols[di*n : (di+1)*n]
			clear(c)
			lo, hi := max(0, -o), min(n, n-o)
			floats.AddScaled(c[lo:hi], 1/nb, bt[lo+o:hi+o])
		}
		floats.ScaleTo(cols[m*n:(m+1)*n], 1/na, at)
		w2 := w * w
		for i := 0; i <= m; i++ {
			ci := cols[i*n : (i+1)*n]
			atb[i] += w2 * floats.Dot(ci, tv)
			for j := i; j <= m; j++ {
				v := w2 * floats.Dot(ci, cols[j*n:(j+1)*n])
				ata[i*(m+1)+j] += v
				if j != i {
					ata[j*(m+1)+i] += v
				}
			}
		}
	}
	var tr float64
	for i := 0; i <= m; i++ {
		tr += ata[i*(m+1)+i]
	}
	if prior != nil {
		l := lambda * tr / float64(m+1)
		for i := 0; i < m; i++ {
			ata[i*(m+1)+i] += l
			atb[i] += l * prior[i] / sc
		}
	}
	if !(tr > 0) || math.IsInf(tr, 0) || !gramSolve(ata, atb, m+1, 1e-12*tr) {
		return false
	}
	for i := 0; i < m; i++ {
		a[i] = atb[i] * sc
		if math.IsNaN(a[i]) || math.IsInf(a[i], 0) {
			return false
		}
	}
	return true
}

// factorLen is the length of a stored factorisation: A then B, n×r each,
// by columns.
func factorLen(n int) int { return 2 * n * ascentRank }

// ascend improves the dual whose factors are aw.a, aw.b (n×r, the layout
// of factorLen) for the input with out-of-band entries xo (the order of
// Certifier.outside) and returns the best certified lower bound on its
// optimum that it found (0 if none), taking at most steps steps. It stops
// once a bound reaches need; where the last step's gain, repeated over the
// steps left, would not reach reach (at most need); and once a step gains
// less than ascentConverged of the gap left to v (the candidate's loss, or
// any value above the bound that sets the scale of convergence).
func (aw *ascentWork) ascend(xo []float64, v, need, reach float64, steps int) float64 {
	var big float64
	for _, x := range xo {
		big = math.Max(big, math.Abs(x))
	}
	if !(big > 0) || math.IsInf(big, 0) {
		return 0
	}
	sc := pow2(big)
	off := aw.k - aw.kp
	nd := 2*aw.kp + 1
	clear(aw.x)
	for i, x := range xo {
		aw.xo[i] = x / sc
		j := i
		if i >= off {
			j = i + nd
		}
		aw.x[j] = x / sc
	}
	need, reach, v = need/sc, reach/sc, v/sc
	best, prev := 0.0, 0.0
	for s := 1; s <= steps; s++ {
		if !aw.half(aw.a, aw.b, 1) || !aw.half(aw.b, aw.a, -1) {
			break
		}
		if !aw.align(aw.a, aw.b, aw.r, aw.a, aw.b) {
			break
		}
		lo := aw.bound()
		best = math.Max(best, lo)
		gain := lo - prev
		if best >= need || (s > 1 && (gain*float64(steps-s) < reach-lo || gain < ascentConverged*(v-lo))) {
			break
		}
		prev = lo
	}
	return best * sc
}

// ascentConverged is the least gain of a dual ascent step, relative to the
// candidate's gap left, for the ascent to go on.
const ascentConverged = 0.02

// half sets dst (n×r, by columns) to the best factor against src (by
// columns): the projection of G = T(x_out) src (dir 1; T(x_out)ᵀ src for
// dir −1) onto the complement of the span of the shifts S_{dir·d} src
// (|d| <= K'), scaled to ||src||_F. It reports false where that fails (a
// zero or non-finite G, a singular Gram system); dst is then unspecified.
// The work is done on src by rows (n×r row-major), where rows i … j of
// S_o src are rows i+o … j+o of src, contiguous: every product is then one
// vector operation over all r columns.
func (aw *ascentWork) half(dst, src []float64, dir int) bool {
	n, r, k, kp := aw.n, aw.r, aw.k, aw.kp
	sr, g := aw.sr[:n*r], aw.g[:n*r]
	for c := 0; c < r; c++ {
		for i, v := range src[c*n : (c+1)*n] {
			sr[i*r+c] = v
		}
	}
	clear(g)
	for t, xv := range aw.x {
		if xv == 0 {
			continue
		}
		o := dir * (t - k)
		lo, hi := max(0, -o), min(n, n-o)
		floats.AddScaled(g[lo*r:hi*r], xv, sr[(lo+o)*r:(hi+o)*r])
	}
	m := 2*kp + 1
	gam, mu := aw.gam, aw.mu
	tr := aw.gram(sr, dir)
	for di := 0; di < m; di++ {
		od := dir * (di - kp)
		// The right-hand side ⟨S_{dir d} src, G⟩.
		lo, hi := max(0, -od), min(n, n-od)
		mu[di] = floats.Dot(g[lo*r:hi*r], sr[(lo+od)*r:(hi+od)*r])
	}
	if !(tr > 0) || math.IsInf(tr, 0) {
		return false
	}
	// A little ridge keeps the Cholesky factorisation defined where the
	// shifts are dependent; it only makes the projection inexact, which
	// the bound accounts for.
	if !gramSolve(gam, mu, m, 1e-13*tr) {
		return false
	}
	for di := 0; di < m; di++ {
		od := dir * (di - kp)
		lo, hi := max(0, -od), min(n, n-od)
		floats.AddScaled(g[lo*r:hi*r], -mu[di], sr[(lo+od)*r:(hi+od)*r])
	}
	ng, ns := floats.Dot(g, g), floats.Dot(sr, sr)
	if !(ng > 0) || math.IsInf(ng, 0) || !(ns > 0) {
		return false
	}
	f := math.Sqrt(ns / ng)
	for c := 0; c < r; c++ {
		d := dst[c*n : (c+1)*n]
		for i := range d {
			d[i] = f * g[i*r+c]
		}
	}
	return true
}

// gram sets aw.gam to the Gram matrix of the shifts S_{dir·d} src
// (|d| <= K', src n×r by rows) and returns its trace.
func (aw *ascentWork) gram(src []float64, dir int) float64 {
	n, r, kp := aw.n, aw.r, aw.kp
	// Γ_de = ⟨S_{dir d} src, S_{dir e} src⟩ = F(dir·d, dir·e) with
	// F(p, q) = Σ_{j∈J} c_{q−p}(j), c_δ(j) = ⟨src row j, src row j+δ⟩ and
	// J = [max(0, p, p−q), min(n, n+p, n+p−q)): the first row F(−K', q) by
	// dot products, the rest along its diagonals, where a step p → p+1
	// drops the term j = p (if p >= max(0, p−q)) and adds j = n+p (if
	// n+p < min(n, n+p−q)), F symmetric.
	m := 2*kp + 1
	f := aw.p[:m*m]
	for qi := 0; qi < m; qi++ {
		p, q := -kp, qi-kp
		lo, hi := max(0, p, p-q), min(n, n+p, n+p-q)
		d := q - p
		v := floats.Dot(src[lo*r:hi*r], src[(lo+d)*r:(hi+d)*r])
		f[qi] = v
		f[qi*m] = v
	}
	cdot := func(j, delta int) float64 {
		a, b := src[j*r:(j+1)*r], src[(j+delta)*r:(j+delta+1)*r]
		var v float64
		for c, x := range a {
			v += x * b[c]
		}
		return v
	}
	for pi := 0; pi+1 < m; pi++ {
		p := pi - kp
		for qi := pi; qi+1 < m; qi++ {
			q := qi - kp
			delta := q - p
			v := f[pi*m+qi]
			if p >= max(0, -delta) {
				v -= cdot(p, delta)
			}
			if p < min(0, -delta) {
				v += cdot(n+p, delta)
			}
			f[(pi+1)*m+qi+1] = v
			f[(qi+1)*m+pi+1] = v
		}
	}
	gam := aw.gam
	var tr float64
	for di := 0; di < m; di++ {
		for ei := 0; ei < m; ei++ {
			gam[di*m+ei] = f[(dir*(di-kp)+kp)*m+dir*(ei-kp)+kp]
		}
		tr += gam[di*m+di]
	}
	return tr
}

// gramSolve solves (g + shift·I) z = b for the symmetric positive definite
// m×m matrix g (row-major, read in its lower triangle and overwritten there
// by its Cholesky factor) and b (overwritten by z), reporting false where a
// pivot is not positive.
func gramSolve(g, b []float64, m int, shift float64) bool {
	for j := 0; j < m; j++ {
		rj := g[j*m : j*m+j]
		d := g[j*m+j] + shift
		for _, v := range rj {
			d -= v * v
		}
		if !(d > 0) {
			return false
		}
		d = math.Sqrt(d)
		g[j*m+j] = d
		for i := j + 1; i < m; i++ {
			ri := g[i*m : i*m+j]
			ri = ri[:len(rj)]
			t := g[i*m+j]
			for k, v := range rj {
				t -= ri[k] * v
			}
			g[i*m+j] = t / d
		}
	}
	for i := 0; i < m; i++ {
		ri := g[i*m : i*m+i]
		t := b[i]
		for k, v := range ri {
			t -= v * b[k]
		}
		b[i] = t / g[i*m+i]
	}
	for i := m - 1; i >= 0; i-- {
		t := b[i]
		for k := i + 1; k < m; k++ {
			t -= g[k*m+i] * b[k]
		}
		b[i] = t / g[i*m+i]
	}
	return true
}

// align writes into da, db (n×r each, r = aw.r, by columns) the rank-r
// truncation of A Bᵀ, for A and B n×kk (kk <= aw.kmax, by columns), in
// balanced form: A Bᵀ = Q_A R_A R_Bᵀ Q_Bᵀ by thin QRs, R_A R_Bᵀ = U Σ Vᵀ
// by one-sided Jacobi, and da = Q_A U_r Σ_r^½, db = Q_B V_r Σ_r^½, so that
// Σ_j ||da_j|| ||db_j|| is the nuclear norm of their product (up to
// rounding). da, db may be A, B when kk = r. It reports false for a zero
// or non-finite product.
func (aw *ascentWork) align(A, B []float64, kk int, da, db []float64) bool {
	n, r := aw.n, aw.r
	if !thinQR(A, n, kk, aw.qa, aw.ra) || !thinQR(B, n, kk, aw.qb, aw.rb) {
		return false
	}
	// C = R_A R_Bᵀ (kk×kk, row-major), V = I.
	c, v := aw.c[:kk*kk], aw.v[:kk*kk]
	for i := 0; i < kk; i++ {
		for j := 0; j < kk; j++ {
			var s float64
			for l := max(i, j); l < kk; l++ {
				s += aw.ra[i*kk+l] * aw.rb[j*kk+l]
			}
			c[i*kk+j] = s
			v[i*kk+j] = 0
		}
		v[i*kk+i] = 1
	}
	jacobiSVD(c, v, kk)
	sig, ord := aw.sig[:kk], aw.ord[:kk]
	for j := 0; j < kk; j++ {
		var s float64
		for i := 0; i < kk; i++ {
			s += c[i*kk+j] * c[i*kk+j]
		}
		sig[j] = math.Sqrt(s)
		ord[j] = j
	}
	// The r largest, in decreasing order (kk is small).
	for i := 0; i < min(r, kk); i++ {
		for j := i + 1; j < kk; j++ {
			if sig[ord[j]] > sig[ord[i]] {
				ord[i], ord[j] = ord[j], ord[i]
			}
		}
	}
	if !(sig[ord[0]] > 0) || math.IsInf(sig[ord[0]], 0) || math.IsNaN(sig[ord[0]]) {
		return false
	}
	for t := 0; t < r; t++ {
		ca, cb := da[t*n:(t+1)*n], db[t*n:(t+1)*n]
		clear(ca)
		clear(cb)
		if t >= kk || !(sig[ord[t]] > 0) {
			continue
		}
		j := ord[t]
		s := sig[j]
		fa, fb := 1/math.Sqrt(s), math.Sqrt(s)
		// U's column j is C V's column j over σ_j.
		for l := 0; l < kk; l++ {
			floats.AddScaled(ca, fa*c[l*kk+j], aw.qa[l*n:(l+1)*n])
			floats.AddScaled(cb, fb*v[l*kk+j], aw.qb[l*n:(l+1)*n])
		}
	}
	return true
}

// thinQR writes the thin QR factorisation of the n×k matrix a (by columns)
// into q (n×k, by columns) and r (k×k, upper triangular, row-major) by
// modified Gram–Schmidt with one reorthogonalisation; a column that
// vanishes against the earlier ones gets a zero column of q and a zero row
// of r. It reports false for a non-finite a.
func thinQR(a []float64, n, k int, q, r []float64) bool {
	copy(q[:n*k], a[:n*k])
	clear(r[:k*k])
	for j := 0; j < k; j++ {
		qj := q[j*n : (j+1)*n]
		n0 := floats.Dot(qj, qj)
		if math.IsNaN(n0) || math.IsInf(n0, 0) {
			return false
		}
		for pass := 0; pass < 2; pass++ {
			for l := 0; l < j; l++ {
				ql := q[l*n : (l+1)*n]
				s := floats.Dot(ql, qj)
				r[l*k+j] += s
				floats.AddScaled(qj, -s, ql)
			}
		}
		nn := math.Sqrt(floats.Dot(qj, qj))
		if !(nn > 1e-14*math.Sqrt(n0)) {
			clear(qj)
			continue
		}
		r[j*k+j] = nn
		floats.Scale(1/nn, qj)
	}
	return true
}

// jacobiSVD orthogonalises the columns of the k×k matrix c (row-major) by
// one-sided Jacobi rotations (Hestenes), applying them to v as well, so
// that on return c holds U Σ and v the right singular vectors.
func jacobiSVD(c, v []float64, k int) {
	for sweep := 0; sweep < 30; sweep++ {
		rotated := false
		for p := 0; p < k-1; p++ {
			for q := p + 1; q < k; q++ {
				var al, be, ga float64
				for i := 0; i < k; i++ {
					cp, cq := c[i*k+p], c[i*k+q]
					al += cp * cp
					be += cq * cq
					ga += cp * cq
				}
				if ga == 0 || math.Abs(ga) <= 1e-15*math.Sqrt(al*be) {
					continue
				}
				rotated = true
				zeta := (be - al) / (2 * ga)
				t := math.Copysign(1, zeta) / (math.Abs(zeta) + math.Sqrt(1+zeta*zeta))
				cs := 1 / math.Sqrt(1+t*t)
				sn := cs * t
				for i := 0; i < k; i++ {
					cp, cq := c[i*k+p], c[i*k+q]
					c[i*k+p], c[i*k+q] = cs*cp-sn*cq, sn*cp+cs*cq
					vp, vq := v[i*k+p], v[i*k+q]
					v[i*k+p], v[i*k+q] = cs*vp-sn*vq, sn*vp+cs*vq
				}
			}
		}
		if !rotated {
			return
		}
	}
}

// bound returns the certified lower bound, in the scaled units of aw.xo,
// of the dual A Bᵀ for aw.a, aw.b as aligned: the dense Y = A Bᵀ is
// formed, its nuclear norm bounded from the factors (see ascentWork), and
// the bound is dualVector's vector evaluated like a remembered one.
func (aw *ascentWork) bound() float64 {
	n, r := aw.n, aw.r
	y := aw.y
	var nuc float64
	for t := 0; t < r; t++ {
		ca, cb := aw.a[t*n:(t+1)*n], aw.b[t*n:(t+1)*n]
		nuc += math.Sqrt(floats.Dot(ca, ca)) * math.Sqrt(floats.Dot(cb, cb))
	}
	// Y = Σ_t a_t b_tᵀ, row by row.
	clear(y)
	for t := 0; t < r; t++ {
		ca, cb := aw.a[t*n:(t+1)*n], aw.b[t*n:(t+1)*n]
		for i, v := range ca {
			floats.AddScaled(y[i*n:(i+1)*n], v, cb)
		}
	}
	// The computed Y is within γ_r Σ_t |a_t||b_t|ᵀ of A Bᵀ entrywise, so its
	// nuclear norm exceeds that of A Bᵀ by at most √n γ_r Σ_t ||a_t|| ||b_t||;
	// the norms and their sum carry (n + r + 8)ε more.
	nuc *= 1 + (math.Sqrt(float64(n))*float64(r+1)+float64(n+r+16))*2*epsilon
	if !(nuc > 0) || math.IsInf(nuc, 0) {
		return 0
	}
	if !dualVector(y, n, n, aw.k, aw.kp, nuc, aw.h, aw.e) {
		return 0
	}
	return math.Max(0, entryBound(aw.h, aw.e, aw.xo))
}
