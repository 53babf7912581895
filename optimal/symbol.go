package optimal

import (
	"fmt"
	"math"
	"math/cmplx"
	"sort"

	"gonum.org/v1/gonum/mat"

	"github.com/matapprox/matapprox/structure"
)

// Defaults of the symbol solver.
const (
	// DefaultSymbolTol is the default relative gap (Upper−Lower)/Upper of
	// SolveSymbol.
	DefaultSymbolTol = 1e-10
	symbolRounds     = 8    // barrier solves, each followed by a grid refinement
	symbolGridMin    = 256  // coarsest grid on [0, 2π)
	symbolGridPerTap = 24   // grid points per generator entry
	symbolMaxPoints  = 8192 // cap on grid points including refinements
)

// SymbolResult is the answer of SolveSymbol: the Chebyshev approximation of
// the symbol of x by a trigonometric polynomial of degree K', with a
// certified sandwich of the bi-infinite optimum opt_∞.
type SymbolResult struct {
	// A is the output-band generator a_∞ (length 2K'+1).
	A []float64
	// Upper is a rigorous upper bound (up to rounding) on
	// max_θ |x̂(θ) − â_∞(θ)|, hence on opt_∞ and, for every N, on
	// ||T_N(x) − T_N(embed(A))||_2 >= opt_N.
	Upper float64
	// Lower is a certified lower bound on opt_∞ from a dual measure.
	Lower float64
	// Iterations counts the Lawson iterations.
	Iterations int

	in, out structure.Band
	x       []float64
	theta   []float64    // support of the dual measure
	mu      []complex128 // its weights: Σ_j mu_j e^{idθ_j} = 0 for |d| <= K'
}

// Gap returns (Upper − Lower)/Upper, or 0 when Upper is 0.
func (r SymbolResult) Gap() float64 {
	if r.Upper == 0 {
		return 0
	}
	return (r.Upper - r.Lower) / r.Upper
}

// LowerN returns a certified lower bound on opt_N, the finite-N 2-norm
// optimum, for any N > K (see the package documentation): the dual measure
// μ of the symbol problem, placed on sine-windowed exponentials, is a
// complex matrix Y = Σ_j conj(μ_j) ψ_j ψ_jᴴ orthogonal to every shift S_d,
// |d| <= K', with ||Y||_* <= Σ|μ_j|. Its cost is O(K·|support|), independent
// of N. It is NaN for N <= K.
func (r SymbolResult) LowerN(n int) float64 {
	if n <= r.in.K {
		return math.NaN()
	}
	if r.Upper == 0 || len(r.mu) == 0 {
		return 0
	}
	alpha := math.Pi / float64(n+1)
	rho := func(d int) float64 {
		d = max(d, -d)
		if d >= n {
			return 0
		}
		return (float64(n-d)*math.Cos(float64(d)*alpha) + math.Sin(float64(d+1)*alpha)/math.Sin(alpha)) / float64(n+1)
	}
	return r.dualBound(rho)
}

// dualBound returns |Σ_j μ_j x̂_ρ(θ_j)| / Σ_j |μ_j| with the out-of-band
// coefficients of x tapered by rho.
func (r SymbolResult) dualBound(rho func(d int) float64) float64 {
	K, kp := r.in.K, r.out.K
	_, e := math.Frexp(maxOut(r.x, K, kp))
	var num complex128
	var den float64
	for j, th := range r.theta {
		var v complex128
		for d := -K; d <= K; d++ {
			if d >= -kp && d <= kp {
				continue
			}
			v += complex(math.Ldexp(r.x[K+d], -e)*rho(d), 0) * cmplx.Exp(complex(0, float64(d)*th))
		}
		num += r.mu[j] * v
		den += cmplx.Abs(r.mu[j])
	}
	lo := cmplx.Abs(num) / den
	if !(lo >= 0) || math.IsInf(lo, 0) {
		return 0
	}
	return math.Ldexp(lo, e)
}

func maxOut(x []float64, K, kp int) float64 {
	var m float64
	for i, v := range x {
		if d := i - K; d < -kp || d > kp {
			m = math.Max(m, math.Abs(v))
		}
	}
	return m
}

// SolveSymbol solves the bi-infinite (N → ∞) 2-norm problem: the complex
// Chebyshev approximation
//
//	opt_∞ = min_{a ∈ R^{2K'+1}} max_θ |x̂(θ) − â(θ)|,  x̂(θ) = Σ_d x_d e^{idθ},
//
// for x a generator of in and a of out (only the half-bandwidths matter).
// x must be finite (the error wraps structure.ErrNonFinite or ErrLength);
// tol is the relative gap to aim for (0 means DefaultSymbolTol). The answer
// is certified whether or not the gap reaches tol; see SymbolResult and
// docs/SPECTRAL.md.
//
// Method: Lawson's iteratively reweighted least squares (Lawson 1961; for
// the complex case see Tang, "A fast algorithm for linear complex Chebyshev
// approximations", Math. Comp. 51, 1988, and Karam & McClellan, "Complex
// Chebyshev approximation for FIR filter design", IEEE Trans. Circuits
// Syst. II 42(3), 1995) on a grid of [0, 2π) symmetric under θ → −θ, with
// the local maxima of |x̂ − â| refined by Newton's method added to the grid
// after each round (an exchange step), so that the discretisation error
// vanishes at the optimum. Upper bounds max|x̂ − â| on the whole circle by
// adaptive bisection with a bound on the second derivative of |x̂ − â|²;
// Lower is the weak-duality bound of the Lawson weights μ_j = w_j·conj(e_j),
// projected to annihilate e^{idθ}, |d| <= K', exactly. Only the entries of x
// outside the output band enter (in-band invariance), scaled by a power of
// two.
func SolveSymbol(in, out structure.Band, x []float64, tol float64) (SymbolResult, error) {
	if err := structure.CheckNested(in, out); err != nil {
		return SymbolResult{}, fmt.Errorf("optimal: symbol solve: %w", err)
	}
	if err := in.Validate(x); err != nil {
		return SymbolResult{}, fmt.Errorf("optimal: symbol solve: %w", err)
	}
	if !(tol >= 0 && tol < 1) {
		return SymbolResult{}, fmt.Errorf("optimal: symbol tolerance %v: must be in [0, 1): %w", tol, ErrOption)
	}
	if tol == 0 {
		tol = DefaultSymbolTol
	}
	K, kp := in.K, out.K
	off := K - kp
	res := SymbolResult{A: make([]float64, out.Len()), in: in, out: out, x: append([]float64(nil), x...)}
	copy(res.A, x[off:off+out.Len()])
	big := maxOut(x, K, kp)
	if big == 0 {
		return res, nil
	}
	_, e := math.Frexp(big)
	// Out-of-band coefficients, scaled; c[d+K].
	c := make([]float64, in.Len())
	for i, v := range x {
		if d := i - K; d < -kp || d > kp {
			c[i] = math.Ldexp(v, -e)
		}
	}
	nd := out.Len()
	delta := make([]float64, nd) // â = Σ δ_d e^{idθ}, |d| <= K'
	L := max(2*K, 4*kp)          // largest frequency in the tables
	var (
		theta  []float64
		cs, sn [][]float64 // cos(lθ_i), sin(lθ_i), l = 0..2K
		tgt    []complex128
		w      []float64
	)
	add := func(th float64) {
		cr, sr := make([]float64, L+1), make([]float64, L+1)
		for l := 0; l <= L; l++ {
			sr[l], cr[l] = math.Sincos(float64(l) * th)
		}
		var t complex128
		for d := -K; d <= K; d++ {
			if v := c[K+d]; v != 0 {
				ad := max(d, -d)
				sg := 1.0
				if d < 0 {
					sg = -1
				}
				t += complex(v*cr[ad], v*sg*sr[ad])
			}
		}
		theta, cs, sn, tgt = append(theta, th), append(cs, cr), append(sn, sr), append(tgt, t)
		w = append(w, 0)
	}
	G := max(symbolGridMin, symbolGridPerTap*in.Len())
	for i := 0; i < G; i++ {
		add(2 * math.Pi * float64(i) / float64(G))
	}
	for i := range w {
		w[i] = 1 / float64(len(w))
	}
	errI := func(i int) complex128 {
		v := tgt[i]
		for di, dv := range delta {
			d := di - kp
			ad := max(d, -d)
			sg := 1.0
			if d < 0 {
				sg = -1
			}
			v -= complex(dv*cs[i][ad], dv*sg*sn[i][ad])
		}
		return v
	}
	errAt := func(th float64) complex128 {
		return errAtCoef(residualCoef(c, delta, K, kp), K, th)
	}
	var best SymbolResult
	best.Upper = math.Inf(1)
	bestDelta := make([]float64, nd)
	// Rows of the linear map δ -> e_i: e_i = tgt_i − Σ_d δ_d (cr_i[|d|] + i·sgn(d)·sr_i[|d|]).
	are := func(i, di int) (float64, float64) {
		d := di - kp
		ad := max(d, -d)
		sg := 1.0
		if d < 0 {
			sg = -1
		}
		return cs[i][ad], sg * sn[i][ad]
	}
	nv := nd + 1
	grad := make([]float64, nv)
	hess := make([]float64, nv*nv)
	hl := make([]float64, nv*nv)
	step := make([]float64, nv)
	z := make([]float64, nv)
	zt := make([]float64, nv)
	gi := make([]float64, nv)
	// phi returns the barrier t/μ − Σ log(t² − |e_i|²) at z, +Inf outside.
	phi := func(z []float64, mu float64) float64 {
		copy(delta, z[:nd])
		t := z[nd]
		if !(t > 0) {
			return math.Inf(1)
		}
		// Σ log s_i as the log of a product kept in [1/2, 1) by exponents.
		prod, exp := 1.0, 0
		for i := range theta {
			e := errI(i)
			ae := math.Sqrt(real(e)*real(e) + imag(e)*imag(e))
			si := (t - ae) * (t + ae)
			if !(si > 0) {
				return math.Inf(1)
			}
			var ex int
			prod, ex = math.Frexp(prod * si)
			exp += ex
		}
		return t/mu - (math.Log(prod) + float64(exp)*math.Ln2)
	}
	lastMu := 0.0
	for round := 0; round < symbolRounds; round++ {
		// Strictly feasible start from the best point so far.
		copy(delta, bestDelta)
		var emax float64
		for i := range theta {
			emax = math.Max(emax, cmplx.Abs(errI(i)))
		}
		copy(z, delta)
		z[nd] = emax*1.05 + 1e-300
		mu := z[nd] / float64(4*len(theta))
		if round > 0 {
			// Warm start: just above the new grid's maximum, a few decades
			// of μ above the last round's.
			z[nd] = emax * (1 + 1e-6)
			mu = math.Max(lastMu*1e3, 1e-3*(z[nd]-best.Lower)/float64(len(theta)))
		}
		for outer := 0; outer < 60; outer++ {
			for it := 0; it < 50; it++ {
				res.Iterations++
				copy(delta, z[:nd])
				t := z[nd]
				for i := range grad {
					grad[i] = 0
				}
				for i := range hess {
					hess[i] = 0
				}
				grad[nd] = 1 / mu
				for i := range theta {
					e := errI(i)
					ur, ui := real(e), imag(e)
					si := t*t - ur*ur - ui*ui
					// ∇s_i: δ_d: 2(ur·Re A + ui·Im A); t: 2t.
					for di := 0; di < nd; di++ {
						ar, ai := are(i, di)
						gi[di] = 2 * (ur*ar + ui*ai)
					}
					gi[nd] = 2 * t
					for p := 0; p < nv; p++ {
						grad[p] -= gi[p] / si
						for q := p; q < nv; q++ {
							hess[p*nv+q] += gi[p] * gi[q] / (si * si)
						}
					}
					// −∇²s_i/s_i: δδ: +2 Aᵀ A/s_i; tt: −2/s_i.
					for p := 0; p < nd; p++ {
						pr, pi := are(i, p)
						for q := p; q < nd; q++ {
							qr, qi := are(i, q)
							hess[p*nv+q] += 2 * (pr*qr + pi*qi) / si
						}
					}
					hess[nd*nv+nd] -= 2 / si
				}
				for p := 0; p < nv; p++ {
					for q := 0; q < p; q++ {
						hess[p*nv+q] = hess[q*nv+p]
					}
				}
				ok := false
				var dmax float64
				for p := 0; p < nv; p++ {
					dmax = math.Max(dmax, hess[p*nv+p])
				}
				for shift := 0.0; dmax > 0 && dmax < math.Inf(1) && shift <= 1e-6*dmax; shift = math.Max(1e-14*dmax, 100*shift) {
					if cholSolve(hl, hess, step, grad, nv, shift) {
						ok = true
						break
					}
				}
				if !ok {
					break
				}
				var lam2 float64
				for p := range grad {
					lam2 -= grad[p] * step[p]
				}
				if !(lam2 > 1e-20) {
					break
				}
				f0 := phi(z, mu)
				st, accepted := 1.0, false
				for ls := 0; ls < 60; ls++ {
					for p := range z {
						zt[p] = z[p] + st*step[p]
					}
					if f := phi(zt, mu); f <= f0-0.1*st*lam2 || (math.Sqrt(lam2) < 0.2 && !math.IsInf(f, 1)) {
						accepted = true
						break
					}
					st *= 0.5
				}
				if !accepted {
					break
				}
				copy(z, zt)
				if lam2/2 < 1e-12 {
					break
				}
			}
			// Duality gap of the discrete problem <= 2·(points)·μ.
			if 2*float64(len(theta))*mu <= 1e-2*tol*z[nd] || 2*float64(len(theta))*mu <= 1e-13*z[nd] {
				break
			}
			mu /= 30
		}
		lastMu = mu
		copy(delta, z[:nd])
		// Barrier dual weights: w_i = 1/(t² − |e_i|²).
		w = w[:len(theta)]
		for i := range theta {
			e := errI(i)
			w[i] = 1 / ((z[nd] - cmplx.Abs(e)) * (z[nd] + cmplx.Abs(e)))
		}
		// Certify the current point on the continuum.
		up := supBound(c, delta, K, kp)
		lo, th, mu2 := lawsonDual(c, delta, K, kp, theta, w, errAt)
		if lo2, th2, mu3 := extremalDual(c, delta, K, kp, G, errAt); lo2 > lo {
			lo, th, mu2 = lo2, th2, mu3
		}
		if up < best.Upper {
			best.Upper = up
			copy(bestDelta, delta)
		}
		if lo > best.Lower {
			best.Lower, best.theta, best.mu = lo, th, mu2
		}
		if best.Upper-best.Lower <= tol*best.Upper {
			break
		}
		// Exchange: add the refined local maxima of |e| to the grid.
		if len(theta) >= symbolMaxPoints {
			break
		}
		// Each local maximum with a local grid of spacing down to h/64,
		// so the discretisation error there falls by 4096.
		h := 2 * math.Pi / float64(G)
		for _, t := range localMaxima(errAt, G) {
			for _, o := range []float64{0, h / 64, -h / 64, h / 16, -h / 16, h / 4, -h / 4} {
				if u := t + o; u > 0 && u < math.Pi {
					add(u)
					add(2*math.Pi - u)
				}
			}
		}
	}
	copy(res.A, bestDelta)
	// res.A holds the best δ (scaled); unscale and add x_I back.
	for i := range res.A {
		res.A[i] = x[off+i] + math.Ldexp(res.A[i], e)
	}
	res.Upper = math.Ldexp(best.Upper, e)
	res.theta, res.mu = best.theta, best.mu
	// Lower from the stored measure, in the units of x.
	res.Lower = res.dualBound(func(int) float64 { return 1 })
	if res.Lower > res.Upper {
		res.Lower = res.Upper
	}
	if math.IsInf(res.Upper, 0) || !finite(res.A) {
		return res, fmt.Errorf("optimal: symbol solve: optimum not representable: %w", structure.ErrNonFinite)
	}
	return res, nil
}

// errAtCoef returns ĉ(θ) for the full coefficient vector c (index K+d).
func errAtCoef(c []float64, K int, th float64) complex128 {
	var v complex128
	for d := -K; d <= K; d++ {
		if c[K+d] != 0 {
			v += complex(c[K+d], 0) * cmplx.Exp(complex(0, float64(d)*th))
		}
	}
	return v
}

// residualCoef returns the coefficients r_d (index K+d) of x̂_out − δ̂.
func residualCoef(c, delta []float64, K, kp int) []float64 {
	r := append([]float64(nil), c...)
	for di, v := range delta {
		r[K-kp+di] -= v
	}
	return r
}

// supBound returns a rigorous upper bound (up to rounding) on
// max_θ |r̂(θ)| for r = c − embed(δ): f = |r̂|² on [0, π] (f(−θ) = f(θ))
// is bounded on each interval [θ0, θ1] of length h by
// max(f(θ0), f(θ1)) + M2·h²/8, M2 >= max|f”| = 2(Σ|d r_d|)² + 2(Σ|r_d|)(Σ d²|r_d|),
// and intervals whose bound exceeds the best value found by a relative
// 1e-13 are bisected.
func supBound(c, delta []float64, K, kp int) float64 {
	r := residualCoef(c, delta, K, kp)
	var s0, s1, s2 float64
	for i, v := range r {
		d := float64(i - K)
		s0 += math.Abs(v)
		s1 += math.Abs(d * v)
		s2 += d * d * math.Abs(v)
	}
	m2 := 2*s1*s1 + 2*s0*s2
	f := func(th float64) float64 {
		v := errAtCoef(r, K, th)
		return real(v)*real(v) + imag(v)*imag(v)
	}
	type iv struct{ a, b, fa, fb float64 }
	G := max(64, 8*len(r))
	stack := make([]iv, 0, 4*G)
	best := 0.0
	prevT, prevF := 0.0, f(0)
	best = prevF
	for i := 1; i <= G; i++ {
		t := math.Pi * float64(i) / float64(G)
		ft := f(t)
		best = math.Max(best, ft)
		stack = append(stack, iv{prevT, t, prevF, ft})
		prevT, prevF = t, ft
	}
	bound := 0.0
	for steps := 0; len(stack) > 0 && steps < 2_000_000; steps++ {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		h := x.b - x.a
		ub := math.Max(x.fa, x.fb) + m2*h*h/8
		if ub <= best*(1+2e-13) || h < 1e-12 {
			bound = math.Max(bound, ub)
			continue
		}
		mid := (x.a + x.b) / 2
		fm := f(mid)
		best = math.Max(best, fm)
		stack = append(stack, iv{x.a, mid, x.fa, fm}, iv{mid, x.b, fm, x.fb})
	}
	for _, x := range stack { // only if the step cap was hit
		h := x.b - x.a
		bound = math.Max(bound, math.Max(x.fa, x.fb)+m2*h*h/8)
	}
	return math.Sqrt(math.Max(bound, best)) * (1 + 1e-15*float64(len(r)))
}

// lawsonDual returns the dual bound of the Lawson weights at δ: the measure
// μ_j = w_j conj(e(θ_j)) on the points of largest weight, projected so that
// Σ_j μ_j e^{idθ_j} = 0 for |d| <= K' (by a correction w_j Σ_l β_l e^{−ilθ_j}
// with the least-squares matrix of the weights), and the bound
// |Σ μ_j x̂_out(θ_j)| / Σ|μ_j| (scaled units).
func lawsonDual(c, delta []float64, K, kp int, theta, w []float64, errAt func(float64) complex128) (float64, []float64, []complex128) {
	nd := 2*kp + 1
	// Support: points with non-negligible weight.
	idx := make([]int, len(theta))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return math.Abs(w[idx[a]]) > math.Abs(w[idx[b]]) })
	var wmax float64
	if len(idx) > 0 {
		wmax = math.Abs(w[idx[0]])
	}
	th := []float64{}
	ws := []float64{}
	mu := []complex128{}
	for _, i := range idx {
		if math.Abs(w[i]) < 1e-14*wmax || len(th) >= 512 {
			break
		}
		th = append(th, theta[i])
		ws = append(ws, math.Abs(w[i]))
		mu = append(mu, complex(w[i], 0)*cmplx.Conj(errAt(theta[i])))
	}
	if len(th) == 0 {
		return 0, nil, nil
	}
	// Projection: M β = s, M_de = Σ w_j e^{i(d−e)θ_j} (Hermitian), solved
	// in real arithmetic for the 2nd-order system [Re M, −Im M; Im M, Re M].
	for pass := 0; pass < 2; pass++ {
		mm := mat.NewDense(2*nd, 2*nd, nil)
		rhs := mat.NewVecDense(2*nd, nil)
		for di := 0; di < nd; di++ {
			d := float64(di - kp)
			var s complex128
			for j, t := range th {
				s += mu[j] * cmplx.Exp(complex(0, d*t))
			}
			rhs.SetVec(di, real(s))
			rhs.SetVec(nd+di, imag(s))
			for ei := 0; ei < nd; ei++ {
				ee := float64(ei - kp)
				var m complex128
				for j, t := range th {
					m += complex(ws[j], 0) * cmplx.Exp(complex(0, (d-ee)*t))
				}
				mm.Set(di, ei, real(m))
				mm.Set(di, nd+ei, -imag(m))
				mm.Set(nd+di, ei, imag(m))
				mm.Set(nd+di, nd+ei, real(m))
			}
		}
		var beta mat.VecDense
		if err := beta.SolveVec(mm, rhs); err != nil {
			return 0, nil, nil
		}
		for j, t := range th {
			var corr complex128
			for ei := 0; ei < nd; ei++ {
				ee := float64(ei - kp)
				corr += complex(beta.AtVec(ei), beta.AtVec(nd+ei)) * cmplx.Exp(complex(0, -ee*t))
			}
			mu[j] -= complex(ws[j], 0) * corr
		}
	}
	var num complex128
	var den float64
	for j, t := range th {
		num += mu[j] * errAtCoef(c, K, t)
		den += cmplx.Abs(mu[j])
	}
	if !(den > 0) {
		return 0, nil, nil
	}
	return cmplx.Abs(num) / den, th, mu
}

// localMaxima returns the local maxima in (0, π) of |e(θ)|, found on a grid
// of g points and refined by Newton's method on the derivative of |e|²
// (finite differences).
func localMaxima(e func(float64) complex128, g int) []float64 {
	g = max(g, 64)
	f := func(t float64) float64 { v := e(t); return real(v)*real(v) + imag(v)*imag(v) }
	h := math.Pi / float64(g)
	var out []float64
	prev, cur := f(0), f(h)
	var fmax float64
	for i := 0; i <= g; i++ {
		fmax = math.Max(fmax, f(float64(i)*h))
	}
	for i := 1; i < g; i++ {
		next := f(float64(i+1) * h)
		if cur >= prev && cur >= next && cur >= 0.25*fmax {
			t := float64(i) * h
			// Newton on f' with central differences.
			for it := 0; it < 20; it++ {
				eps := 1e-6
				fp, fm, f0 := f(t+eps), f(t-eps), f(t)
				d1 := (fp - fm) / (2 * eps)
				d2 := (fp - 2*f0 + fm) / (eps * eps)
				if !(d2 < 0) {
					break
				}
				step := -d1 / d2
				if math.Abs(step) > h {
					step = math.Copysign(h, step)
				}
				t += step
				if math.Abs(step) < 1e-13 {
					break
				}
			}
			if t > 0 && t < math.Pi {
				out = append(out, t)
			}
		}
		prev, cur = cur, next
	}
	return out
}

// extremalDual returns the dual bound of a measure on the extremal points
// of |e| (the refined local maxima within 1e-6 of the largest, with their
// mirror images −θ): real weights λ on the symmetric pairs, Σλ = 1,
// minimising the violation of the annihilation conditions
// Σ_j λ_j Re(conj(e_j)/|e_j| e^{idθ_j}) = 0 by least squares; lawsonDual
// then projects the measure exactly and evaluates the bound. At an optimum
// with a nondegenerate extremal set this is the optimal dual measure.
func extremalDual(c, delta []float64, K, kp, g int, errAt func(float64) complex128) (float64, []float64, []complex128) {
	nd := 2*kp + 1
	cand := append([]float64{0, math.Pi}, localMaxima(errAt, g)...)
	var emax float64
	for _, t := range cand {
		emax = math.Max(emax, cmplx.Abs(errAt(t)))
	}
	var pts []float64
	for _, t := range cand {
		if cmplx.Abs(errAt(t)) >= emax*(1-1e-6) {
			pts = append(pts, t)
		}
	}
	m := len(pts)
	if m == 0 {
		return 0, nil, nil
	}
	// KKT system [[AᵀA, 1], [1ᵀ, 0]] [λ; ν] = [0; 1].
	a := mat.NewDense(nd, m, nil)
	for j, t := range pts {
		e := errAt(t)
		u := cmplx.Conj(e) / complex(cmplx.Abs(e), 0)
		for di := 0; di < nd; di++ {
			d := float64(di - kp)
			a.Set(di, j, real(u*cmplx.Exp(complex(0, d*t))))
		}
	}
	var ata mat.Dense
	ata.Mul(a.T(), a)
	kkt := mat.NewDense(m+1, m+1, nil)
	for i := 0; i < m; i++ {
		for j := 0; j < m; j++ {
			kkt.Set(i, j, ata.At(i, j))
		}
		kkt.Set(i, m, 1)
		kkt.Set(m, i, 1)
	}
	rhs := mat.NewVecDense(m+1, nil)
	rhs.SetVec(m, 1)
	var sol mat.VecDense
	if err := sol.SolveVec(kkt, rhs); err != nil {
		return 0, nil, nil
	}
	th := make([]float64, 0, 2*m)
	w := make([]float64, 0, 2*m)
	for j, t := range pts {
		lam := sol.AtVec(j) / cmplx.Abs(errAt(t))
		if t == 0 || t == math.Pi {
			th, w = append(th, t), append(w, lam)
		} else {
			th, w = append(th, t, 2*math.Pi-t), append(w, lam/2, lam/2)
		}
	}
	// lawsonDual uses |w| as the projection's weights.
	return lawsonDual(c, delta, K, kp, th, w, errAt)
}
