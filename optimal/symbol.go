package optimal

import (
	"fmt"
	"math"
	"sort"

	"github.com/matapprox/matapprox/structure"
)

// Defaults of the symbol solver.
const (
	// DefaultSymbolTol is the default relative gap (Upper−Lower)/Upper of
	// SolveSymbol.
	DefaultSymbolTol = 1e-10
	symbolRounds     = 40  // exchange rounds at most
	symbolSweepPer   = 8   // sweep grid points on [0, π] per unit of K
	symbolInitPer    = 2   // initial active-set points on [0, π] per unit of K
	symbolMaxSupport = 512 // cap on the support of the stored dual measure
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
	// Iterations counts the Newton steps of the discrete (active-set)
	// solves, summed over the exchange rounds.
	Iterations int

	in, out structure.Band
	x       []float64
	theta   []float64    // support of the dual measure, in [0, 2π)
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
// coefficients of x tapered by rho. e^{idθ_j} comes from powers of e^{iθ_j}
// (one Sincos per support point).
func (r SymbolResult) dualBound(rho func(d int) float64) float64 {
	K, kp := r.in.K, r.out.K
	_, e := math.Frexp(maxOut(r.x, K, kp))
	// Tapered, scaled coefficients of d and −d, d > K'.
	cp, cm := make([]float64, K+1), make([]float64, K+1)
	for d := kp + 1; d <= K; d++ {
		w := rho(d)
		cp[d] = math.Ldexp(r.x[K+d], -e) * w
		cm[d] = math.Ldexp(r.x[K-d], -e) * w
	}
	var numR, numI, den float64
	for j, th := range r.theta {
		s, c := math.Sincos(th)
		zr, zi := 1.0, 0.0
		var vr, vi float64
		for d := 1; d <= K; d++ {
			zr, zi = zr*c-zi*s, zr*s+zi*c
			if d > kp {
				// c_d z^d + c_{−d} conj(z)^d
				vr += (cp[d] + cm[d]) * zr
				vi += (cp[d] - cm[d]) * zi
			}
		}
		mr, mi := real(r.mu[j]), imag(r.mu[j])
		numR += mr*vr - mi*vi
		numI += mr*vi + mi*vr
		den += math.Hypot(mr, mi)
	}
	lo := math.Hypot(numR, numI) / den
	if !(lo >= 0) || math.IsInf(lo, 0) {
		return 0
	}
	return math.Ldexp(lo, e)
}

// maxOut returns the largest magnitude of the entries of x outside the
// output band.
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
// Method: the three phases of semi-infinite programming (Hettich &
// Kortanek, "Semi-infinite programming: theory, methods, and
// applications", SIAM Review 35(3), 1993, §6–7) for min t s.t.
// |e(θ)| <= t, θ ∈ [0, π] (real coefficients make |e(−θ)| = |e(θ)|),
// e = x̂ − â. (1) Discretisation: the problem on a small active set, a
// second-order cone program in 2K'+2 unknowns, by the barrier method (Boyd
// & Vandenberghe, Convex Optimization, 2004, §11; barrier
// −Σ log(t² − |e_i|²)) to a moderate gap. (2) Sweep: |e|² and its
// derivative on a uniform grid of [0, π] (e^{idθ} by rotation), local
// maxima refined by safeguarded Newton. (3) Local reduction: Newton's
// method on the optimality system of the extremal set the discrete
// solution shows (the extremal points and the multipliers are unknowns;
// see polish), which converges quadratically where plain exchange, for
// complex approximation (no strong uniqueness), converges only linearly;
// points whose multiplier turns negative leave, peaks above the level
// join, as in the Remez-type complex Chebyshev methods of Tang ("A fast
// algorithm for linear complex Chebyshev approximations", Math. Comp. 51,
// 1988). Where (3) fails the refined maxima join the active set and (1)
// repeats (an exchange step), eventually to the tolerance.
//
// Upper bounds max|e| on the whole circle rigorously: f = |e|² is a real
// trigonometric polynomial of degree 2K, so Bernstein's inequality gives
// |f⁗| <= (2K)⁴ max f, and the cubic Hermite interpolant H of f on an
// interval of length h errs by at most (2K)⁴ max f · h⁴/384; hence
// max f <= max_I max H_I/(1 − (2K h_I)⁴/384), with intervals bisected
// until their bound is within the target of the largest value found,
// plus a floating-point error term (see sweep). Lower is weak duality for
// a dual measure, from the multipliers of (3), μ_j = λ_j conj(e_j)/|e_j|,
// or from the barrier's dual weights, μ_j ∝ conj(e_j)/(t² − |e_j|²),
// projected to annihilate e^{idθ}, |d| <= K', exactly. Only the entries of
// x outside the output band enter (in-band invariance), scaled by a power
// of two.
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
	pb := newSymbolProblem(x, K, kp, e)
	sol := pb.solve(tol)
	res.Iterations = sol.iterations
	// δ from the real basis: p_d = δ_d + δ_{−d}, q_d = δ_d − δ_{−d}.
	delta := make([]float64, out.Len())
	delta[kp] = sol.v[0]
	for d := 1; d <= kp; d++ {
		p, q := sol.v[d], sol.v[kp+d]
		delta[kp+d], delta[kp-d] = (p+q)/2, (p-q)/2
	}
	for i := range res.A {
		res.A[i] = x[off+i] + math.Ldexp(delta[i], e)
	}
	res.Upper = math.Ldexp(sol.upper, e)
	res.theta, res.mu = sol.theta, sol.mu
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

// symbolProblem is the scaled out-of-band symbol in the real basis on
// [0, π]: ĉ(θ) = Σ_{d=0..K} a_d cos dθ + i Σ_{d=1..K} b_d sin dθ, with
// a_d = c_d + c_{−d}, b_d = c_d − c_{−d} (zero for d <= K'). The unknowns
// are v = (p_0..p_K', q_1..q_K'), â(θ) − x̂_I(θ) = Σ p_d cos dθ + i Σ q_d sin dθ.
type symbolProblem struct {
	K, kp int
	a, b  []float64
	// active set: θ_i, ĉ(θ_i), cos dθ_i (d = 0..K'), sin dθ_i (d = 1..K'),
	// the last two row-major with K'+1 columns (sn[i][0] = 0).
	theta, cr, ci []float64
	cs, sn        []float64
	steps         int // Newton steps, barrier and polish
}

// newSymbolProblem returns the problem of x's out-of-band entries scaled
// by 2^−e, with an empty active set.
func newSymbolProblem(x []float64, K, kp, e int) *symbolProblem {
	pb := &symbolProblem{K: K, kp: kp, a: make([]float64, K+1), b: make([]float64, K+1)}
	for d := kp + 1; d <= K; d++ {
		cp, cm := math.Ldexp(x[K+d], -e), math.Ldexp(x[K-d], -e)
		pb.a[d], pb.b[d] = cp+cm, cp-cm
	}
	return pb
}

// m returns the size of the active set.
func (pb *symbolProblem) m() int { return len(pb.theta) }

// add appends θ to the active set unless it is already there.
func (pb *symbolProblem) add(th float64) bool {
	for _, t := range pb.theta {
		if math.Abs(t-th) <= 1e-15 {
			return false
		}
	}
	np := pb.kp + 1
	s, c := math.Sincos(th)
	zr, zi := 1.0, 0.0
	var vr, vi float64
	pb.theta = append(pb.theta, th)
	for d := 0; d <= pb.K; d++ {
		if d < np {
			pb.cs = append(pb.cs, zr)
			pb.sn = append(pb.sn, zi)
		}
		vr += pb.a[d] * zr
		vi += pb.b[d] * zi
		zr, zi = zr*c-zi*s, zr*s+zi*c
	}
	if th == 0 || th == math.Pi {
		vi = 0 // exactly real there
		for d := 0; d < np; d++ {
			pb.sn[len(pb.sn)-np+d] = 0
		}
	}
	pb.cr, pb.ci = append(pb.cr, vr), append(pb.ci, vi)
	return true
}

// err returns e(θ_i) = ĉ(θ_i) − (â − x̂_I)(θ_i) at v.
func (pb *symbolProblem) err(i int, v []float64) (float64, float64) {
	np := pb.kp + 1
	er, ei := pb.cr[i], pb.ci[i]
	cs, sn := pb.cs[i*np:(i+1)*np], pb.sn[i*np:(i+1)*np]
	er -= v[0] * cs[0]
	for d := 1; d < np; d++ {
		er -= v[d] * cs[d]
		ei -= v[pb.kp+d] * sn[d]
	}
	return er, ei
}

// residual returns the coefficients (ra, rb) of e = ĉ − (â − x̂_I) at v.
func (pb *symbolProblem) residual(v []float64) ([]float64, []float64) {
	ra, rb := append([]float64(nil), pb.a...), append([]float64(nil), pb.b...)
	ra[0] -= v[0]
	for d := 1; d <= pb.kp; d++ {
		ra[d] -= v[d]
		rb[d] -= v[pb.kp+d]
	}
	return ra, rb
}

// symbolSolution is the outcome of symbolProblem.solve (scaled units).
type symbolSolution struct {
	v            []float64
	upper, lower float64
	theta        []float64
	mu           []complex128
	iterations   int
}

// solve runs the exchange rounds until the certified gap reaches tol or
// stops improving.
func (pb *symbolProblem) solve(tol float64) symbolSolution {
	K, kp := pb.K, pb.kp
	nd := 2*kp + 1
	nv := nd + 1
	m0 := max(2*nd+2, symbolInitPer*(K+1))
	for i := 0; i <= m0; i++ {
		th := math.Pi * float64(i) / float64(m0)
		if i == m0 {
			th = math.Pi
		}
		pb.add(th)
	}
	g := symbolSweepPer * (K + 1)
	sweepEps := math.Max(tol/64, 1e-14)
	best := symbolSolution{v: make([]float64, nd), upper: math.Inf(1)}
	z := make([]float64, nv) // (v, t)
	bw := newBarrierWork(nv)
	var lastMu, lastT float64
	lastWidth, stall := math.Inf(1), 0
	// The discrete solves need only identify the extremal set: polish
	// takes the answer to full accuracy. Where it fails, later rounds
	// solve the discrete problem to the tolerance.
	gapTarget := 1e-4
	for round := 0; round < symbolRounds; round++ {
		// Strictly feasible start: t just above the largest error on the set.
		m := pb.m()
		var emax float64
		for i := 0; i < m; i++ {
			er, ei := pb.err(i, z)
			emax = math.Max(emax, math.Hypot(er, ei))
		}
		var mu float64
		if round == 0 {
			z[nd] = emax*1.05 + 1e-300
			mu = 0.05 * z[nd] / float64(m)
		} else {
			z[nd] = emax*(1+1e-9) + 1e-300
			mu = math.Max(lastMu, (z[nd]-lastT)/float64(2*m))
		}
		finalTarget := math.Max(1e-2*tol, 1e-14)
		final := gapTarget <= finalTarget
		muEnd := pb.barrier(z, mu, gapTarget, bw)
		lastMu, lastT = muEnd, z[nd]
		v := z[:nd]
		ra, rb := pb.residual(v)
		up2, peaks := sweep(ra, rb, g, sweepEps)
		up := math.Sqrt(up2)
		if up < best.upper {
			best.upper = up
			copy(best.v, v)
		}
		lo, th, mus := pb.dual(z)
		if lo > best.lower {
			best.lower, best.theta, best.mu = lo, th, mus
		}
		if best.upper-best.lower <= tol*best.upper {
			break
		}
		t2 := z[nd] * z[nd]
		added, settled := pb.polishStage(z, peaks, g, sweepEps, tol, &best)
		if settled {
			break // a converged optimality system, no peak above its level
		}
		if best.upper-best.lower <= tol*best.upper {
			break
		}
		if (up-z[nd])/up < 1e-4 {
			// The discrete problem is close to the continuum and polish
			// still failed: solve it more accurately, down to the
			// tolerance (where phase 3 never succeeds, the barrier's
			// dual weights must certify).
			gapTarget = math.Max(finalTarget, gapTarget*1e-2)
		}
		// Exchange: the refined local maxima above the discrete optimum.
		for _, p := range peaks {
			if p.f > t2*(1-1e-3) && pb.add(p.theta) {
				added++
			}
		}
		if added == 0 {
			if final {
				break
			}
			gapTarget = math.Max(finalTarget, gapTarget*1e-2)
		}
		// Stop where rounds no longer narrow the sandwich (rounding).
		if w := best.upper - best.lower; w < 0.99*lastWidth {
			lastWidth, stall = w, 0
		} else if stall++; stall >= 4 {
			break
		}
	}
	best.iterations = pb.steps
	return best
}

// polishStage runs polish from the extremal set of the discrete solution
// z, with a Remez-like exchange inside (a multiplier turning negative
// drops its point, the highest peak above the level joins, a singular
// system drops the point of least weight), certifies each answer into
// best, and adds the points it finds to the active set; it returns how
// many it added, and whether it settled: converged with no peak above
// the level, so that the gap left is rounding.
func (pb *symbolProblem) polishStage(z []float64, peaks []symbolPeak, g int, sweepEps, tol float64, best *symbolSolution) (int, bool) {
	nd := 2*pb.kp + 1
	v := z[:nd]
	t2 := z[nd] * z[nd]
	added := 0
	pts, lam := pb.extremal(z, peaks)
	if len(pts) > 0 {
		pv, ps := v, t2
		drops, fresh := 0, -1 // fresh: the point that joined last
		for attempt := 0; attempt < 10 && len(pts) > 0; attempt++ {
			v2, s2, pts2, lam2, status := pb.polish(pv, ps, pts, lam)
			if status == polishFailed {
				// Usually a point that is not extremal at the optimum,
				// forced to the level: drop the point of least weight
				// (not the one that just joined: it enters, another
				// leaves, as in Remez's exchange).
				if drops++; drops > 3 || len(pts) < 2 {
					break
				}
				j := -1
				for i := range lam {
					if i != fresh && (j < 0 || lam[i] < lam[j]) {
						j = i
					}
				}
				pts = append(append([]float64(nil), pts[:j]...), pts[j+1:]...)
				lam = append(append([]float64(nil), lam[:j]...), lam[j+1:]...)
				fresh = -1
				continue
			}
			if status == polishNegative {
				// Restart from the same point without those points.
				var p3, l3 []float64
				for j, l := range lam2 {
					if l > 0 {
						p3, l3 = append(p3, pts[j]), append(l3, lam[j])
					}
				}
				pts, lam, fresh = p3, l3, -1
				continue
			}
			pv, ps = v2, s2
			ra, rb := pb.residual(v2)
			up2, peaks2 := sweep(ra, rb, g, sweepEps)
			up := math.Sqrt(up2)
			lo, th, mus := pb.polishDual(v2, pts2, lam2)
			if up < best.upper {
				best.upper = up
				copy(best.v, v2)
			}
			if lo > best.lower {
				best.lower, best.theta, best.mu = lo, th, mus
			}
			for _, t := range pts2 {
				if pb.add(t) {
					added++
				}
			}
			if best.upper-best.lower <= tol*best.upper {
				break
			}
			// The highest peak above the level joins (multiplier 0).
			var top symbolPeak
			for _, p := range peaks2 {
				near := false
				for _, t := range pts2 {
					near = near || math.Abs(t-p.theta) < 1e-6
				}
				if !near && p.f > s2*(1+1e-12) && p.f > top.f {
					top = p
				}
				if p.f > t2*(1-1e-3) && pb.add(p.theta) {
					added++
				}
			}
			if top.f == 0 {
				// Settled where the certificate agrees to rounding.
				return added, best.upper-best.lower <= 1e-11*best.upper
			}
			if len(pts2) > nd {
				break
			}
			pts, lam, fresh = append(pts2, top.theta), append(lam2, 0), len(pts2)
		}
	}
	return added, false
}

// barrierWork holds the Newton system of the barrier solves.
type barrierWork struct {
	grad, hess, hl, step, zt []float64
}

// newBarrierWork returns the workspace for nv unknowns.
func newBarrierWork(nv int) *barrierWork {
	return &barrierWork{
		grad: make([]float64, nv), hess: make([]float64, nv*nv), hl: make([]float64, nv*nv),
		step: make([]float64, nv), zt: make([]float64, nv),
	}
}

// phi returns the barrier t/μ − Σ log(t² − |e_i|²) at z = (v, t), +Inf
// outside the domain.
func (pb *symbolProblem) phi(z []float64, mu float64) float64 {
	nd := 2*pb.kp + 1
	t := z[nd]
	if !(t > 0) {
		return math.Inf(1)
	}
	// Σ log s_i as the log of a product kept in [1/2, 1) by exponents.
	prod, exp := 1.0, 0
	for i := 0; i < pb.m(); i++ {
		er, ei := pb.err(i, z)
		ae := math.Sqrt(er*er + ei*ei)
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

// barrier runs the barrier method on the active set from the strictly
// feasible z with initial μ, dividing μ by 20 after each centering until
// the duality gap bound 2·m·μ is at most gapTarget·t. It returns the final
// μ.
func (pb *symbolProblem) barrier(z []float64, mu, gapTarget float64, w *barrierWork) float64 {
	kp := pb.kp
	np := kp + 1
	nd := 2*kp + 1
	nv := nd + 1
	m := pb.m()
	for outer := 0; outer < 80; outer++ {
		for it := 0; it < 50; it++ {
			pb.steps++
			t := z[nd]
			clear(w.grad)
			clear(w.hess)
			w.grad[nd] = 1 / mu
			// Per point, with s_i = t² − |e_i|² and ∇s_i = 2(er·cos, ei·sin, t):
			// ∇²(−log s_i) = ∇s∇sᵀ/s² + 2(cos cosᵀ ⊕ sin sinᵀ)/s − 2 e_t e_tᵀ/s,
			// assembled blockwise (upper triangle).
			for i := 0; i < m; i++ {
				er, ei := pb.err(i, z)
				ae := math.Sqrt(er*er + ei*ei)
				si := (t - ae) * (t + ae)
				cs, sn := pb.cs[i*np:(i+1)*np], pb.sn[i*np:(i+1)*np]
				inv := 1 / si
				i4 := 4 * inv * inv
				wpp := i4*er*er + 2*inv
				wqq := i4*ei*ei + 2*inv
				wpq := i4 * er * ei
				wpt, wqt := i4*er*t, i4*ei*t
				for p := 0; p < np; p++ {
					w.grad[p] -= 2 * er * cs[p] * inv
					row := w.hess[p*nv:]
					a, b := wpp*cs[p], wpq*cs[p]
					for q := p; q < np; q++ {
						row[q] += a * cs[q]
					}
					for q := 1; q < np; q++ {
						row[kp+q] += b * sn[q]
					}
					row[nd] += wpt * cs[p]
				}
				for p := 1; p < np; p++ {
					w.grad[kp+p] -= 2 * ei * sn[p] * inv
					row := w.hess[(kp+p)*nv:]
					a := wqq * sn[p]
					for q := p; q < np; q++ {
						row[kp+q] += a * sn[q]
					}
					row[nd] += wqt * sn[p]
				}
				w.grad[nd] -= 2 * t * inv
				w.hess[nd*nv+nd] += i4*t*t - 2*inv
			}
			for p := 0; p < nv; p++ {
				for q := 0; q < p; q++ {
					w.hess[p*nv+q] = w.hess[q*nv+p]
				}
			}
			ok := false
			var dmax float64
			for p := 0; p < nv; p++ {
				dmax = math.Max(dmax, w.hess[p*nv+p])
			}
			for shift := 0.0; dmax > 0 && dmax < math.Inf(1) && shift <= 1e-6*dmax; shift = math.Max(1e-14*dmax, 100*shift) {
				if cholSolve(w.hl, w.hess, w.step, w.grad, nv, shift) {
					ok = true
					break
				}
			}
			if !ok {
				break
			}
			var lam2 float64
			for p := range w.grad {
				lam2 -= w.grad[p] * w.step[p]
			}
			if !(lam2 > 1e-20) {
				break
			}
			f0 := pb.phi(z, mu)
			st, accepted := 1.0, false
			for ls := 0; ls < 60; ls++ {
				for p := range z {
					w.zt[p] = z[p] + st*w.step[p]
				}
				if f := pb.phi(w.zt, mu); f <= f0-0.1*st*lam2 || (math.Sqrt(lam2) < 0.2 && !math.IsInf(f, 1)) {
					accepted = true
					break
				}
				st *= 0.5
			}
			if !accepted {
				break
			}
			copy(z, w.zt)
			if lam2/2 < 1e-10 {
				break
			}
		}
		if 2*float64(m)*mu <= gapTarget*z[nd] {
			break
		}
		mu /= 20
	}
	return mu
}

// dual returns the weak-duality bound of the barrier's dual weights at z:
// μ_i = conj(e_i)/(t² − |e_i|²) on the active points of largest weight,
// projected and evaluated by dualMeasure.
func (pb *symbolProblem) dual(z []float64) (float64, []float64, []complex128) {
	kp := pb.kp
	np := kp + 1
	nd := 2*kp + 1
	m := pb.m()
	t := z[nd]
	dm := &dualMeasure{np: np}
	for i := 0; i < m; i++ {
		er, ei := pb.err(i, z)
		ae := math.Hypot(er, ei)
		wi := 1 / ((t - ae) * (t + ae))
		if !(wi > 0) || math.IsInf(wi, 0) {
			continue
		}
		dm.add(pb.theta[i], pb.cr[i], pb.ci[i], pb.cs[i*np:(i+1)*np], pb.sn[i*np:(i+1)*np], wi*er, -wi*ei, wi*ae)
	}
	return dm.bound()
}

// dualMeasure is a candidate dual measure on points θ_i ∈ [0, π]:
// μ_i = α_i + iβ_i with projection weights w_i, and the tables ĉ(θ_i),
// cos dθ_i, sin dθ_i (d = 0..K').
type dualMeasure struct {
	np                       int
	theta, cr, ci, al, be, w []float64
	cs, sn                   []float64
}

// add appends a point with its tables, weight α + iβ and projection
// weight w.
func (dm *dualMeasure) add(th, cr, ci float64, cs, sn []float64, al, be, w float64) {
	dm.theta, dm.cr, dm.ci = append(dm.theta, th), append(dm.cr, cr), append(dm.ci, ci)
	dm.al, dm.be, dm.w = append(dm.al, al), append(dm.be, be), append(dm.w, w)
	dm.cs, dm.sn = append(dm.cs, cs...), append(dm.sn, sn...)
}

// bound keeps the points of largest weight, projects the measure so that
// Σ_i Re(μ_i e^{idθ_i}) = 0 for |d| <= K' (that is Σ α_i cos dθ_i = 0,
// d = 0..K', and Σ β_i sin dθ_i = 0, d = 1..K'; the correction is
// w_i·(row_i · γ), γ from the weighted Gram system, three passes for
// accuracy), and returns the bound |Re Σ_i μ_i ĉ(θ_i)| / Σ|μ_i| (scaled
// units), with the measure made symmetric under θ → −θ (weight conj(μ)/2
// at −θ) so that the full condition Σ μ_j e^{idθ_j} = 0 holds on the
// circle.
func (dm *dualMeasure) bound() (float64, []float64, []complex128) {
	np := dm.np
	idx := make([]int, len(dm.theta))
	var wmax float64
	for i := range idx {
		idx[i] = i
		wmax = math.Max(wmax, dm.w[i])
	}
	sort.Slice(idx, func(a, b int) bool { return dm.w[idx[a]] > dm.w[idx[b]] })
	n := 0
	for n < len(idx) && n < symbolMaxSupport && dm.w[idx[n]] >= 1e-14*wmax && dm.w[idx[n]] > 0 {
		n++
	}
	idx = idx[:n]
	if n == 0 {
		return 0, nil, nil
	}
	gram := make([]float64, np*np)
	gl := make([]float64, np*np)
	rhs := make([]float64, np)
	gam := make([]float64, np)
	project := func(tab, val []float64, lo int) bool {
		k := np - lo
		if k == 0 {
			return true
		}
		clear(gram[:k*k])
		var gmax float64
		for _, i := range idx {
			r := tab[i*np+lo : (i+1)*np]
			for p := 0; p < k; p++ {
				for q := p; q < k; q++ {
					gram[p*k+q] += dm.w[i] * r[p] * r[q]
				}
			}
		}
		for p := 0; p < k; p++ {
			gmax = math.Max(gmax, gram[p*k+p])
			for q := 0; q < p; q++ {
				gram[p*k+q] = gram[q*k+p]
			}
		}
		for pass := 0; pass < 3; pass++ {
			clear(rhs[:k])
			var scale float64
			for _, i := range idx {
				r := tab[i*np+lo : (i+1)*np]
				scale += math.Abs(val[i])
				for p := 0; p < k; p++ {
					rhs[p] -= val[i] * r[p] // cholSolve solves G γ = −rhs
				}
			}
			var rmax float64
			for p := 0; p < k; p++ {
				rmax = math.Max(rmax, math.Abs(rhs[p]))
			}
			if rmax <= 1e-17*scale {
				return true
			}
			ok := false
			for shift := 0.0; gmax > 0 && shift <= 1e-8*gmax; shift = math.Max(1e-15*gmax, 100*shift) {
				if cholSolve(gl, gram[:k*k], gam[:k], rhs[:k], k, shift) {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
			for _, i := range idx {
				r := tab[i*np+lo : (i+1)*np]
				var corr float64
				for p := 0; p < k; p++ {
					corr += r[p] * gam[p]
				}
				val[i] -= dm.w[i] * corr
			}
		}
		return true
	}
	if !project(dm.cs, dm.al, 0) || !project(dm.sn, dm.be, 1) {
		return 0, nil, nil
	}
	var num, den float64
	th := make([]float64, 0, 2*n)
	mus := make([]complex128, 0, 2*n)
	for _, i := range idx {
		al, be := dm.al[i], dm.be[i]
		num += al*dm.cr[i] - be*dm.ci[i]
		if t := dm.theta[i]; t == 0 || t == math.Pi {
			den += math.Abs(al)
			th, mus = append(th, t), append(mus, complex(al, 0))
		} else {
			den += math.Hypot(al, be)
			th = append(th, t, 2*math.Pi-t)
			mus = append(mus, complex(al/2, be/2), complex(al/2, -be/2))
		}
	}
	if !(den > 0) {
		return 0, nil, nil
	}
	return math.Abs(num) / den, th, mus
}

// symbolPeak is a refined local maximum of f = |e|² on [0, π].
type symbolPeak struct{ theta, f float64 }

// evalF returns f = |e|², f' and f” at θ for the trigonometric polynomial
// e(θ) = Σ_d ra_d cos dθ + i Σ_d rb_d sin dθ, with e^{idθ} by rotation.
func evalF(ra, rb []float64, th float64) (f, f1, f2 float64) {
	s, c := math.Sincos(th)
	zr, zi := 1.0, 0.0
	var er, ei, dr, di, sr, si float64 // e, e', e''
	for d := range ra {
		fd := float64(d)
		a, b := ra[d], rb[d]
		er += a * zr
		ei += b * zi
		dr -= fd * a * zi
		di += fd * b * zr
		sr -= fd * fd * a * zr
		si -= fd * fd * b * zi
		zr, zi = zr*c-zi*s, zr*s+zi*c
	}
	f = er*er + ei*ei
	f1 = 2 * (er*dr + ei*di)
	f2 = 2 * (dr*dr + di*di + er*sr + ei*si)
	return f, f1, f2
}

// refinePeak returns the local maximum of f in the bracket [lo, hi] with
// f'(lo) > 0 >= f'(hi), by Newton's method on f' safeguarded by bisection.
func refinePeak(ra, rb []float64, lo, hi, flo, fhi float64) symbolPeak {
	best := symbolPeak{lo, flo}
	if fhi > flo {
		best = symbolPeak{hi, fhi}
	}
	t := (lo + hi) / 2
	for it := 0; it < 60; it++ {
		f, f1, f2 := evalF(ra, rb, t)
		if f > best.f {
			best = symbolPeak{t, f}
		}
		if f1 > 0 {
			lo = t
		} else {
			hi = t
		}
		next := (lo + hi) / 2
		if f2 < 0 {
			if n := t - f1/f2; n > lo && n < hi {
				next = n
			}
		}
		if math.Abs(next-t) <= 2e-16*math.Max(1, t) || hi-lo <= 4e-16*math.Max(1, hi) {
			break
		}
		t = next
	}
	return best
}

// sweep returns a rigorous upper bound (up to rounding) on max_θ f(θ),
// f = |e|² for e(θ) = Σ_{d=0..K} ra_d cos dθ + i rb_d sin dθ (a
// trigonometric polynomial of degree K = len(ra)−1, so f has degree 2K),
// and the refined local maxima of f on [0, π]. f and f' are evaluated on
// a uniform grid of g intervals; on each interval I of length h the cubic
// Hermite interpolant H of (f, f') at its ends satisfies
// |f − H| <= max|f⁗|·h⁴/384 <= (2K)⁴·F·h⁴/384 (Bernstein's inequality,
// F = max f), so F <= max_I max_I H/(1 − κ_I), κ_I = (2K h_I)⁴/384 < 1.
// Intervals whose bound exceeds (1+eps) times the largest value found are
// bisected; the result adds a bound on the rounding error of evaluating f.
func sweep(ra, rb []float64, g int, eps float64) (float64, []symbolPeak) {
	K := len(ra) - 1
	var s1 float64
	for d := range ra {
		s1 += math.Abs(ra[d]) + math.Abs(rb[d])
	}
	type node struct{ a, b, fa, fb, ga, gb float64 }
	h := math.Pi / float64(g)
	th := make([]float64, g+1)
	fv := make([]float64, g+1)
	gv := make([]float64, g+1)
	fbest := 0.0
	for i := 0; i <= g; i++ {
		th[i] = h * float64(i)
		if i == g {
			th[i] = math.Pi
		}
		fv[i], gv[i], _ = evalF(ra, rb, th[i])
		fbest = math.Max(fbest, fv[i])
	}
	gv[0], gv[g] = 0, 0 // f is even about 0 and π
	var peaks []symbolPeak
	// The ends are local extrema; keep them as candidates when maxima.
	if fv[0] >= fv[1] {
		peaks = append(peaks, symbolPeak{0, fv[0]})
	}
	if fv[g] >= fv[g-1] {
		peaks = append(peaks, symbolPeak{math.Pi, fv[g]})
	}
	stack := make([]node, 0, 2*g)
	for i := 0; i < g; i++ {
		if gv[i] > 0 && gv[i+1] <= 0 {
			p := refinePeak(ra, rb, th[i], th[i+1], fv[i], fv[i+1])
			peaks = append(peaks, p)
			fbest = math.Max(fbest, p.f)
		}
		stack = append(stack, node{th[i], th[i+1], fv[i], fv[i+1], gv[i], gv[i+1]})
	}
	k4 := math.Pow(2*float64(K), 4) / 384
	capped := 0.0
	for steps := 0; len(stack) > 0; steps++ {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		hl := n.b - n.a
		kappa := k4 * hl * hl * hl * hl
		bnd := math.Inf(1)
		if kappa < 0.5 {
			bnd = hermiteMax(n.fa, n.fb, n.ga*hl, n.gb*hl) / (1 - kappa)
		}
		if bnd <= fbest*(1+eps) {
			continue
		}
		if hl <= 1e-10 || steps > 1_000_000 {
			capped = math.Max(capped, bnd)
			continue
		}
		mid := (n.a + n.b) / 2
		fm, gm, _ := evalF(ra, rb, mid)
		fbest = math.Max(fbest, fm)
		// A maximum bracket that the parent did not show.
		if !(n.ga > 0 && n.gb <= 0) {
			if n.ga > 0 && gm <= 0 {
				p := refinePeak(ra, rb, n.a, mid, n.fa, fm)
				peaks, fbest = append(peaks, p), math.Max(fbest, p.f)
			} else if gm > 0 && n.gb <= 0 {
				p := refinePeak(ra, rb, mid, n.b, fm, n.fb)
				peaks, fbest = append(peaks, p), math.Max(fbest, p.f)
			}
		}
		stack = append(stack, node{n.a, mid, n.fa, fm, n.ga, gm}, node{mid, n.b, fm, n.fb, gm, n.gb})
	}
	peaks = mergePeaks(peaks)
	// Rounding (u = 2⁻⁵² here, twice the unit roundoff): Sincos and the d
	// rotations leave e^{idθ} within about (3d+1)u/2 of the truth, the sums
	// add K·u/2·Σ|r|, and the Hermite bound reads f' as well as f; 8(K+2)u·Σ|r|
	// on e covers both with a margin. f = |e|² then errs by <= 2|e|·err + err².
	const u = 0x1p-52
	errE := 8 * float64(K+2) * u * s1
	fb := math.Max(fbest*(1+eps), capped)
	return fb + 2*math.Sqrt(fb)*errE + errE*errE, peaks
}

// hermiteMax returns the maximum on [0, 1] of the cubic Hermite
// interpolant with values f0, f1 and derivatives (scaled by the interval
// length) g0, g1 at 0 and 1.
func hermiteMax(f0, f1, g0, g1 float64) float64 {
	c1 := g0
	c2 := 3*(f1-f0) - 2*g0 - g1
	c3 := 2*(f0-f1) + g0 + g1
	p := func(t float64) float64 { return f0 + t*(c1+t*(c2+t*c3)) }
	m := math.Max(f0, f1)
	// p'(t) = c1 + 2 c2 t + 3 c3 t².
	qa, qb, qc := 3*c3, 2*c2, c1
	if qa == 0 {
		if qb != 0 {
			if t := -qc / qb; t > 0 && t < 1 {
				m = math.Max(m, p(t))
			}
		}
		return m
	}
	disc := qb*qb - 4*qa*qc
	if disc < 0 {
		return m
	}
	// The roots without cancellation, each polished by a Newton step.
	q := -(qb + math.Copysign(math.Sqrt(disc), qb)) / 2
	for _, t := range []float64{q / qa, qc / q} {
		if d2 := qb + 2*qa*t; d2 != 0 {
			t -= (qc + t*(qb+t*qa)) / d2
		}
		if t > 0 && t < 1 {
			m = math.Max(m, p(t))
		}
	}
	return m
}

// symbolAt holds e = ĉ − (â − x̂_I) and its θ-derivatives at one point,
// with ĉ(θ) and the basis cos dθ, sin dθ (d = 0..K') there.
type symbolAt struct {
	er, ei, dr, di, sr, si float64 // e, e', e''
	cr, ci                 float64 // ĉ
	cs, sn                 []float64
}

// at evaluates symbolAt at θ for v, with e^{idθ} by rotation.
func (pb *symbolProblem) at(v []float64, th float64, p *symbolAt) {
	kp := pb.kp
	np := kp + 1
	if cap(p.cs) < np {
		p.cs, p.sn = make([]float64, np), make([]float64, np)
	}
	p.cs, p.sn = p.cs[:np], p.sn[:np]
	s, c := math.Sincos(th)
	if th == 0 || th == math.Pi {
		s = 0
	}
	zr, zi := 1.0, 0.0
	var cr, ci, er, ei, dr, di, sr, si float64
	for d := 0; d <= pb.K; d++ {
		fd := float64(d)
		a, b := pb.a[d], pb.b[d]
		cr += a * zr
		ci += b * zi
		if d < np {
			p.cs[d], p.sn[d] = zr, zi
			a -= v[d]
			if d > 0 {
				b -= v[kp+d]
			}
		}
		er += a * zr
		ei += b * zi
		dr -= fd * a * zi
		di += fd * b * zr
		sr -= fd * fd * a * zr
		si -= fd * fd * b * zi
		zr, zi = zr*c-zi*s, zr*s+zi*c
	}
	p.er, p.ei, p.dr, p.di, p.sr, p.si, p.cr, p.ci = er, ei, dr, di, sr, si, cr, ci
}

// relocate moves each interior point θ_j to the local maximum of
// f = |e|² at v next to it (Newton's method on f_θ, steps bounded by a
// quarter of the sweep's spacing), so that the optimality system's
// equations f_θ(θ_j) = 0 hold and Newton works on the reduced problem
// in (v, s, λ) (local reduction, Hettich & Kortanek 1993, §6).
func (pb *symbolProblem) relocate(v, pts []float64, inner []bool) {
	ra, rb := pb.residual(v)
	lim := math.Pi / float64(32*(pb.K+1))
	for j, t := range pts {
		if !inner[j] {
			continue
		}
		for it := 0; it < 8; it++ {
			_, f1, f2 := evalF(ra, rb, t)
			if !(f2 < 0) {
				break
			}
			d := math.Max(-lim, math.Min(lim, -f1/f2))
			t = math.Min(math.Max(t+d, 1e-300), math.Pi*(1-1e-16))
			if math.Abs(d) <= 1e-15*math.Max(1, t) {
				break
			}
		}
		pts[j] = t
	}
}

// polishStatus is the outcome of polish.
type polishStatus int

const (
	polishOK       polishStatus = iota // converged, multipliers >= 0
	polishNegative                     // converged with a negative multiplier
	polishFailed                       // singular or not converged
)

// polish refines a solution by Newton's method on the optimality system
// of the locally reduced problem (Hettich & Kortanek 1993, §6: the
// extremal points θ_j become unknowns with f_θ(θ_j) = 0): with f = |e|²
// and s = t²,
//
//	Σ_j λ_j ∇_v f(θ_j) = 0,  Σ_j λ_j = 1,  f(θ_j) = s,  f_θ(θ_j) = 0 (θ_j ∉ {0, π}),
//
// square in (v, s, λ, θ), with the θ_j eliminated from each linear system
// and moved back to their local maxima (relocate) after each step, so that
// Newton works on the reduced problem in (v, s, λ); steps are damped by a
// backtracking search on the residual. It converges quadratically where
// the extremal set is right and nondegenerate. The status says
// polishNegative (with the converged point) where a multiplier turned
// negative, polishFailed where the system is singular or Newton gives up.
func (pb *symbolProblem) polish(v []float64, s float64, pts, lam []float64) ([]float64, float64, []float64, []float64, polishStatus) {
	kp := pb.kp
	np := kp + 1
	nd := 2*kp + 1
	m := len(pts)
	v = append([]float64(nil), v...)
	pts = append([]float64(nil), pts...)
	lam = append([]float64(nil), lam...)
	inner := make([]bool, m) // θ_j is an unknown (not 0 or π)
	for j, t := range pts {
		inner[j] = t != 0 && t != math.Pi
	}
	// The Newton system in (v, s, λ, θ), with θ eliminated: row R4_j,
	// f_θ(θ_j) = 0, involves only v and θ_j, so Δθ_j = (R4_j − ∇_v f_θ·Δv)/f_θθ
	// and the rest is a system of order 2K'+2+m.
	n := nd + 1 + m
	jac, lu := make([]float64, n*n), make([]float64, n*n)
	rhs, step := make([]float64, n), make([]float64, n)
	piv := make([]int, n)
	r4, ftt := make([]float64, m), make([]float64, m)
	gvt := make([]float64, m*nd) // ∇_v f_θ at θ_j
	gv := make([]float64, nd)    // ∇_v f
	var p symbolAt
	var res float64 // max-norm of the full residual (R4 included)
	build := func() {
		clear(jac)
		clear(rhs)
		res = 0
		var lsum float64
		r1 := rhs[:nd] // accumulates R1 = Σ λ_j ∇_v f_j first
		for j, t := range pts {
			pb.at(v, t, &p)
			l := lam[j]
			lsum += l
			f := p.er*p.er + p.ei*p.ei
			ft := 2 * (p.er*p.dr + p.ei*p.di)
			ftt[j] = 2 * (p.dr*p.dr + p.di*p.di + p.er*p.sr + p.ei*p.si)
			g := gvt[j*nd : (j+1)*nd]
			for d := 0; d < np; d++ {
				fd := float64(d)
				gv[d] = -2 * p.er * p.cs[d]
				g[d] = -2 * (p.cs[d]*p.dr - fd*p.er*p.sn[d])
				if d > 0 {
					gv[kp+d] = -2 * p.ei * p.sn[d]
					g[kp+d] = -2 * (p.sn[d]*p.di + fd*p.ei*p.cs[d])
				}
			}
			for a := 0; a < nd; a++ {
				r1[a] += l * gv[a]
				jac[a*n+nd+1+j] = gv[a]
			}
			for a := 0; a < np; a++ {
				for b := 0; b < np; b++ {
					jac[a*n+b] += 2 * l * p.cs[a] * p.cs[b]
					if a > 0 && b > 0 {
						jac[(kp+a)*n+kp+b] += 2 * l * p.sn[a] * p.sn[b]
					}
				}
			}
			// R3_j = f_j − s, reduced by the elimination of θ_j.
			r3 := nd + 1 + j
			rhs[r3] = f - s
			res = math.Max(res, math.Abs(f-s))
			for a := 0; a < nd; a++ {
				jac[r3*n+a] = gv[a]
			}
			jac[r3*n+nd] = -1
			jac[nd*n+nd+1+j] = 1
			r4[j] = 0
			if inner[j] {
				r4[j] = ft
				res = math.Max(res, math.Abs(ft))
				c := ft / ftt[j]
				rhs[r3] -= c * ft
				for a := 0; a < nd; a++ {
					jac[r3*n+a] -= c * g[a]
				}
			}
		}
		for a := 0; a < nd; a++ {
			res = math.Max(res, math.Abs(r1[a]))
		}
		rhs[nd] = lsum - 1
		res = math.Max(res, math.Abs(lsum-1))
		// R1 and its block, reduced.
		for j := range pts {
			if !inner[j] {
				continue
			}
			g := gvt[j*nd : (j+1)*nd]
			w := lam[j] / ftt[j]
			for a := 0; a < nd; a++ {
				r1[a] -= w * g[a] * r4[j]
				row := jac[a*n : a*n+nd]
				for b := 0; b < nd; b++ {
					row[b] -= w * g[a] * g[b]
				}
			}
		}
	}
	resid := func() float64 { return res }
	dtheta := make([]float64, m)
	pb.relocate(v, pts, inner)
	build()
	converged := false
	v0, pts0, lam0 := make([]float64, nd), make([]float64, m), make([]float64, m)
	damped := 0
	for it := 0; it < 30; it++ {
		pb.steps++
		if !luSolve(lu, jac, piv, step, rhs, n) {
			return nil, 0, nil, nil, polishFailed
		}
		var dmax float64
		for j := range pts {
			dtheta[j] = 0
			if inner[j] {
				g := gvt[j*nd : (j+1)*nd]
				d := r4[j]
				for a := 0; a < nd; a++ {
					d -= g[a] * step[a]
				}
				dtheta[j] = d / ftt[j]
				dmax = math.Max(dmax, math.Abs(dtheta[j]))
			}
		}
		if !(dmax < math.Inf(1)) {
			return nil, 0, nil, nil, polishFailed
		}
		var vmax, vstep float64
		for a := 0; a < nd; a++ {
			vmax = math.Max(vmax, math.Abs(v[a]))
			vstep = math.Max(vstep, math.Abs(step[a]))
		}
		if dmax <= 1e-14 && vstep <= 1e-14*(1+vmax) {
			converged = true // the Newton step is at rounding
			break
		}
		// Damp steps that move a point by more than the sweep's spacing,
		// then backtrack until the residual's norm falls.
		st := 1.0
		if lim := math.Pi / float64(4*(pb.K+1)); dmax > lim {
			st = lim / dmax
		}
		copy(v0, v)
		copy(pts0, pts)
		copy(lam0, lam)
		s0, r0 := s, resid()
		var r float64
		for ls := 0; ; ls++ {
			for a := 0; a < nd; a++ {
				v[a] = v0[a] - st*step[a]
			}
			s = s0 - st*step[nd]
			for j := range pts {
				lam[j] = lam0[j] - st*step[nd+1+j]
				if inner[j] {
					pts[j] = math.Min(math.Max(pts0[j]-st*dtheta[j], 1e-300), math.Pi*(1-1e-16))
				}
			}
			pb.relocate(v, pts, inner)
			build()
			r = resid()
			if r <= (1-1e-4*st)*r0 || r <= 1e-14*(1+math.Abs(s)) || ls >= 20 {
				break
			}
			st /= 2
		}
		if (st == 1 && dmax <= 1e-14) || r <= 2e-13*(1+math.Abs(s)) {
			converged = true
			break
		}
		if r > r0 && r > 1e-12*(1+math.Abs(s)) {
			break // no descent: not in Newton's basin
		}
		// Damped steps three times running: far from Newton's basin.
		if st < 1.0/16 {
			if damped++; damped >= 3 {
				break
			}
		} else {
			damped = 0
		}
	}
	if !converged {
		return nil, 0, nil, nil, polishFailed
	}
	for _, l := range lam {
		if !(l >= 0) {
			return v, s, pts, lam, polishNegative
		}
	}
	return v, s, pts, lam, polishOK
}

// extremal returns the candidate extremal set of the discrete solution z:
// the refined peaks of |e| to which the barrier's dual weights
// λ_i ∝ 1/(t² − |e_i|²) of the active set aggregate (each point's weight
// to its nearest peak), with the aggregated weights, summing to 1.
func (pb *symbolProblem) extremal(z []float64, peaks []symbolPeak) ([]float64, []float64) {
	nd := 2*pb.kp + 1
	t := z[nd]
	if len(peaks) == 0 {
		return nil, nil
	}
	agg := make([]float64, len(peaks))
	var sum float64
	for i := 0; i < pb.m(); i++ {
		er, ei := pb.err(i, z)
		ae := math.Hypot(er, ei)
		w := 1 / ((t - ae) * (t + ae))
		if !(w > 0) || math.IsInf(w, 0) {
			continue
		}
		near, dist := 0, math.Inf(1)
		for j, p := range peaks {
			if d := math.Abs(p.theta - pb.theta[i]); d < dist {
				near, dist = j, d
			}
		}
		agg[near] += w
		sum += w
	}
	// Peaks at the level of the discrete optimum with a share of the
	// weight, at most 2K'+2 of them (more make the system singular).
	var idx []int
	for j, p := range peaks {
		if agg[j] >= 1e-7*sum && p.f >= t*t*(1-2e-2) {
			idx = append(idx, j)
		}
	}
	sort.Slice(idx, func(a, b int) bool { return agg[idx[a]] > agg[idx[b]] })
	idx = idx[:min(len(idx), nd+1)]
	var pts, lam []float64
	for _, j := range idx {
		pts, lam = append(pts, peaks[j].theta), append(lam, agg[j])
	}
	var ls float64
	for _, l := range lam {
		ls += l
	}
	for j := range lam {
		lam[j] /= ls
	}
	return pts, lam
}

// polishDual returns the weak-duality bound of the measure of the
// optimality system: μ_j = λ_j conj(e_j)/|e_j| on the points θ_j,
// projected and evaluated by dualMeasure.
func (pb *symbolProblem) polishDual(v, pts, lam []float64) (float64, []float64, []complex128) {
	dm := &dualMeasure{np: pb.kp + 1}
	var p symbolAt
	for j, t := range pts {
		pb.at(v, t, &p)
		ae := math.Hypot(p.er, p.ei)
		if !(ae > 0) || !(lam[j] > 0) {
			continue
		}
		ci := p.ci
		if t == 0 || t == math.Pi {
			ci = 0
			p.ei = 0
		}
		dm.add(t, p.cr, ci, p.cs, p.sn, lam[j]*p.er/ae, -lam[j]*p.ei/ae, lam[j])
	}
	return dm.bound()
}

// mergePeaks sorts the peaks by θ and merges those closer than 1e-6 (a
// bracket next to 0 or π refines towards the end, where f' = 0 by
// symmetry): the highest stays, an end point where the values agree to
// 1e-9.
func mergePeaks(peaks []symbolPeak) []symbolPeak {
	sort.Slice(peaks, func(a, b int) bool { return peaks[a].theta < peaks[b].theta })
	isEnd := func(t float64) bool { return t == 0 || t == math.Pi }
	out := peaks[:0]
	for _, p := range peaks {
		if n := len(out); n > 0 && p.theta-out[n-1].theta < 1e-6 {
			q := &out[n-1]
			switch {
			case isEnd(p.theta) && p.f >= q.f*(1-1e-9):
				*q = p
			case isEnd(q.theta) && q.f >= p.f*(1-1e-9):
			case p.f > q.f:
				*q = p
			}
			continue
		}
		out = append(out, p)
	}
	return out
}

// luSolve solves a x = b (a n×n row-major, copied into lu) by Gaussian
// elimination with partial pivoting; false where a pivot vanishes against
// the largest entry of a (numerically singular).
func luSolve(lu, a []float64, piv []int, x, b []float64, n int) bool {
	copy(lu, a)
	copy(x, b)
	var amax float64
	for _, v := range a {
		amax = math.Max(amax, math.Abs(v))
	}
	if !(amax > 0) || math.IsInf(amax, 0) {
		return false
	}
	for k := 0; k < n; k++ {
		p := k
		for i := k + 1; i < n; i++ {
			if math.Abs(lu[i*n+k]) > math.Abs(lu[p*n+k]) {
				p = i
			}
		}
		piv[k] = p
		if !(math.Abs(lu[p*n+k]) > 1e-15*amax) {
			return false
		}
		if p != k {
			for j := 0; j < n; j++ {
				lu[k*n+j], lu[p*n+j] = lu[p*n+j], lu[k*n+j]
			}
			x[k], x[p] = x[p], x[k]
		}
		inv := 1 / lu[k*n+k]
		for i := k + 1; i < n; i++ {
			f := lu[i*n+k] * inv
			if f == 0 {
				continue
			}
			row, rk := lu[i*n:(i+1)*n], lu[k*n:(k+1)*n]
			for j := k + 1; j < n; j++ {
				row[j] -= f * rk[j]
			}
			x[i] -= f * x[k]
		}
	}
	for i := n - 1; i >= 0; i-- {
		v := x[i]
		for j := i + 1; j < n; j++ {
			v -= lu[i*n+j] * x[j]
		}
		x[i] = v / lu[i*n+i]
	}
	return true
}
