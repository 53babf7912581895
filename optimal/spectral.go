package optimal

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/matapprox/matapprox/structure"
)

// Errors of the spectral-norm solver. Callers test them with errors.Is.
var (
	// ErrOption reports an invalid field of SDPOptions.
	ErrOption = errors.New("invalid solver option")
	// ErrNotConverged reports that the solver stopped (iteration limit or
	// numerical stall) before its relative gap reached the tolerance. The
	// result returned with it is still valid: A is feasible, Value is its
	// exact objective and Lower a rigorous lower bound on the optimum.
	ErrNotConverged = errors.New("solver did not reach the tolerance")
)

// Defaults of SDPOptions.
const (
	// DefaultSpectralTol is the default relative gap (Value-Lower)/Value.
	DefaultSpectralTol = 1e-8
	// DefaultSpectralMaxNewton is the default limit on Newton steps.
	DefaultSpectralMaxNewton = 1000
)

// Parameters of the barrier method (Boyd & Vandenberghe, §9.6 and §11.3).
const (
	muFactor     = 10    // μ is divided by this after each centering
	lsAlpha      = 0.1   // Armijo fraction of the predicted decrease
	lsBeta       = 0.5   // backtracking factor
	quadRegion   = 0.2   // Newton decrement below which the unit step is taken: (1-2α)/4
	centeringTol = 1e-10 // stop centering when λ²/2 <= centeringTol
	minStep      = 1e-14 // smaller line-search steps count as a numerical stall
	maxLineSteps = 80
	maxCentering = 60 // Newton steps per centering before declaring a stall
)

// SDPOptions configures a SDP solver. The zero value of every field
// selects its default.
type SDPOptions struct {
	// Tol is the relative gap (Value-Lower)/Value at which the solver stops.
	// Zero means DefaultSpectralTol. Gaps much below 1e-10 are usually out of
	// reach of double precision; the solver then returns ErrNotConverged
	// with the best certified result it found.
	Tol float64
	// MaxNewton limits the total number of Newton steps. Zero means
	// DefaultSpectralMaxNewton.
	MaxNewton int
}

// Result is the answer of SDP.Solve.
type Result struct {
	// A is the generator (length 2K'+1 of the output band) of the
	// approximation T(embed(A)).
	A []float64
	// Value is ||T(x) - T(embed(A))||_2, computed by an SVD of the residual:
	// an upper bound on the optimum attained by A.
	Value float64
	// Lower is a rigorous lower bound on the optimum, certified by a dual
	// feasible matrix (see the package documentation and docs/SPECTRAL.md).
	Lower float64
	// Iterations is the number of iterations taken (Newton steps for the
	// SDP); zero for closed-form solutions.
	Iterations int
	// Converged reports whether the relative gap reached the solver's
	// tolerance. A Solver returns results that stopped short of it with
	// Converged false: they are still certified, within Gap of the optimum.
	Converged bool
}

// Gap returns the relative gap (Value-Lower)/Value, or 0 when Value is 0
// (the optimum 0 is then attained and certified by Lower = 0).
func (r Result) Gap() float64 {
	if r.Value == 0 {
		return 0
	}
	return (r.Value - r.Lower) / r.Value
}

// SDP computes the best approximation in the operator 2-norm: given x,
// a generator of the input band (N, K), it finds a, a generator of the
// output band (N, K') with K' <= K, minimising
//
//	f(a) = ||T(x) - T(embed(a))||_2,
//
// the largest singular value of the residual. The problem is convex but not
// smooth; SDP solves its semidefinite form
//
//	minimise t  subject to  F(a, t) = [[t I, R(a)], [R(a)ᵀ, t I]] ⪰ 0,
//	R(a) = T(x) - Σ_{|d|<=K'} a_d S_d,
//
// by the primal barrier method of Boyd & Vandenberghe, Convex Optimization
// (2004), §11.2-11.3 and §11.6 (see also Vandenberghe & Boyd, "Semidefinite
// programming", SIAM Review 38(1), 1996): Newton's method with backtracking
// line search on φ_μ(a, t) = t/μ - log det F(a, t) for geometrically
// decreasing μ. Every answer carries a dual certificate: Lower is a lower
// bound on the optimum proved by a matrix Y orthogonal to the output band,
// so the relative gap (Value-Lower)/Value bounds the error of Value.
//
// A SDP holds the workspace for one pair of bands and may be reused for
// many inputs. It is not safe for concurrent use.
type SDP struct {
	in, out structure.Band
	tol     float64
	maxNewt int

	n, kin, kout int
	nd           int // number of inner diagonals 2K'+1
	m            int // number of variables nd+1 (the a_d, then t)

	xs []float64 // scaled input generator

	z, zt, dz, g []float64 // variables (a_{-K'}..a_{K'}, t), trial point, Newton step, gradient
	hs, hl       []float64 // Hessian and its Cholesky factor, m×m row-major

	f    *mat.SymDense // F at a trial point, 2N×2N
	chol mat.Cholesky  // its factorization (feasibility test and log det)
	ld   float64       // log det F at the current point

	r      *mat.Dense // residual R at the current point, N×N
	svd    mat.SVD
	u, v   *mat.Dense // singular vectors of R
	sig    []float64  // singular values of R, decreasing
	d1, d2 []float64  // t/(t²-σ²) and -σ/(t²-σ²)
	d3     []float64  // -2tσ/(t²-σ²)²
	tmp    *mat.Dense // scratch: U diag(d) in sandwich, then W12ᵀ in gradHess
	w11    *mat.Dense // blocks of W = F⁻¹: W11, W12, W22
	w12    *mat.Dense
	w22    *mat.Dense
	y      *mat.Dense // certificate, N×N
	yval   []float64  // singular values of the certificate

	best []float64 // best generator found (scaled units)
}

// NewSDP returns a solver for inputs of band in and outputs of band
// out. The bands must be valid, of equal size N and with out.K <= in.K;
// otherwise the error wraps structure.ErrBand. opts may be nil for the
// defaults; invalid options give an error wrapping ErrOption.
func NewSDP(in, out structure.Band, opts *SDPOptions) (*SDP, error) {
	if err := structure.CheckNested(in, out); err != nil {
		return nil, fmt.Errorf("optimal: spectral solver for %v -> %v: %w", in, out, err)
	}
	tol, maxNewt := DefaultSpectralTol, DefaultSpectralMaxNewton
	if opts != nil {
		if !(opts.Tol >= 0 && opts.Tol < 1) {
			return nil, fmt.Errorf("optimal: tolerance %v: must be in [0, 1): %w", opts.Tol, ErrOption)
		}
		if opts.MaxNewton < 0 {
			return nil, fmt.Errorf("optimal: MaxNewton %d: must not be negative: %w", opts.MaxNewton, ErrOption)
		}
		if opts.Tol > 0 {
			tol = opts.Tol
		}
		if opts.MaxNewton > 0 {
			maxNewt = opts.MaxNewton
		}
	}
	n := in.N
	s := &SDP{
		in: in, out: out, tol: tol, maxNewt: maxNewt,
		n: n, kin: in.K, kout: out.K,
		nd: out.Len(), m: out.Len() + 1,
	}
	m := s.m
	s.xs = make([]float64, in.Len())
	s.z = make([]float64, m)
	s.zt = make([]float64, m)
	s.dz = make([]float64, m)
	s.g = make([]float64, m)
	s.hs = make([]float64, m*m)
	s.hl = make([]float64, m*m)
	s.f = mat.NewSymDense(2*n, nil)
	s.r = mat.NewDense(n, n, nil)
	s.u = mat.NewDense(n, n, nil)
	s.v = mat.NewDense(n, n, nil)
	s.sig = make([]float64, n)
	s.d1 = make([]float64, n)
	s.d2 = make([]float64, n)
	s.d3 = make([]float64, n)
	s.tmp = mat.NewDense(n, n, nil)
	s.w11 = mat.NewDense(n, n, nil)
	s.w12 = mat.NewDense(n, n, nil)
	s.w22 = mat.NewDense(n, n, nil)
	s.y = mat.NewDense(n, n, nil)
	s.yval = make([]float64, n)
	s.best = make([]float64, s.nd)
	return s, nil
}

// Bands returns the input and output bands of the solver.
func (s *SDP) Bands() (in, out structure.Band) { return s.in, s.out }

// Solve returns the optimal output generator for the input generator x
// (length 2K+1 of the input band) together with its value and a certified
// lower bound. An invalid x gives an error wrapping structure.ErrLength or
// structure.ErrNonFinite. If the tolerance is not reached within MaxNewton
// Newton steps, or double precision runs out first, Solve returns the best
// certified result together with an error wrapping ErrNotConverged. If the
// optimum is not representable (inputs near the largest float64), the error
// wraps structure.ErrNonFinite.
//
// When x has no entries outside the output band (in particular when
// K' = K), the answer is the truncation of x, with Value = Lower = 0.
func (s *SDP) Solve(x []float64) (Result, error) {
	if err := s.in.Validate(x); err != nil {
		return Result{}, fmt.Errorf("optimal: spectral solve: %w", err)
	}
	off := s.kin - s.kout
	a := make([]float64, s.nd)
	copy(a, x[off:off+s.nd])

	// In-band invariance: T(x) − T(Ea) = T(x_out) − T(E(a − x_I)), so the
	// solver works on x_out alone (the in-band entries of s.xs are zero) and
	// finds δ = a − x_I; the size of x_I cannot affect it.
	outside := 0.0
	for i, v := range x {
		if i < off || i >= off+s.nd {
			outside = math.Max(outside, math.Abs(v))
		}
	}
	if outside == 0 {
		return Result{A: a, Converged: true}, nil
	}

	// Scale by powers of two (exactly, barring underflow of entries far
	// below the largest) so that the residual of the truncation has norm
	// in (1/2, 1]. Exponents, not factors, so that entries near the
	// largest float64 cannot overflow the scale.
	_, e := math.Frexp(outside)
	s.scaleOut(x, e)
	for i := range s.z {
		s.z[i] = 0
	}
	if !s.factorR(s.z) {
		return Result{A: a}, fmt.Errorf("optimal: spectral solve: SVD failed: %w", ErrNotConverged)
	}
	_, e2 := math.Frexp(s.sig[0])
	e += e2
	s.scaleOut(x, e)

	res, err := s.barrier()
	for i := range a {
		a[i] = x[off+i] + math.Ldexp(res.A[i], e)
	}
	res.A = a
	// Value is evaluated afresh in the units of x for the generator
	// returned, and the truncation is kept if rounding makes it no worse.
	res.Value = s.valueOf(x, a)
	trunc := x[off : off+s.nd]
	if vt := s.valueOf(x, trunc); vt <= res.Value || math.IsNaN(res.Value) {
		copy(a, trunc)
		res.Value = vt
	}
	// Lower and Value are computed differently; when the certificate is
	// exact they may cross by a few ulps.
	res.Lower = math.Ldexp(res.Lower, e)
	if res.Lower > res.Value && res.Lower <= res.Value*(1+1e-10) {
		res.Lower = res.Value
	}
	if math.IsInf(res.Value, 0) || math.IsNaN(res.Value) || !finite(a) || math.IsInf(res.Lower, 0) {
		return res, fmt.Errorf("optimal: spectral solve: optimum for a %v input not representable (2-norm of the residual above the largest float64): %w", s.in, structure.ErrNonFinite)
	}
	res.Converged = err == nil
	return res, err
}

// scaleOut sets s.xs to x_out·2^−e: the entries of x outside the output
// band, scaled, and zeros inside it.
func (s *SDP) scaleOut(x []float64, e int) {
	off := s.kin - s.kout
	for i, v := range x {
		if i >= off && i < off+s.nd {
			s.xs[i] = 0
		} else {
			s.xs[i] = math.Ldexp(v, -e)
		}
	}
}

// valueOf returns ||T(x) - T(embed(a))||_2 for an input generator x in its
// own units (+Inf if it exceeds the largest float64).
func (s *SDP) valueOf(x, a []float64) float64 {
	r := make([]float64, len(x))
	copy(r, x)
	off := s.kin - s.kout
	for i, v := range a {
		r[off+i] -= v
	}
	return SpectralNorm(s.in, r)
}

// barrier runs the barrier method in scaled units from the truncation. The
// returned A aliases s.best.
func (s *SDP) barrier() (Result, error) {
	nd, off := s.nd, s.kin-s.kout
	copy(s.z, s.xs[off:off+nd])
	copy(s.best, s.z[:nd])
	res := Result{A: s.best, Value: math.Inf(1)}
	notConverged := func(why string) (Result, error) {
		return res, fmt.Errorf("optimal: spectral solve: relative gap %.3g after %d Newton steps (%s), want %.3g: %w",
			res.Gap(), res.Iterations, why, s.tol, ErrNotConverged)
	}
	if !s.factorR(s.z) {
		return notConverged("SVD failed")
	}
	res.Value = s.sig[0]

	// Strictly feasible start: t above the largest singular value.
	s.z[nd] = 1.1*s.sig[0] + 1e-3
	s.buildF(s.z)
	if !s.chol.Factorize(s.f) {
		return notConverged("infeasible start")
	}
	s.ld = s.chol.LogDet()
	if !s.point() {
		return notConverged("SVD failed")
	}
	// Initial μ: the value minimising the norm of the gradient at the
	// start, 1/tr(F⁻¹) (cf. Boyd & Vandenberghe §11.3.1).
	var trW float64
	for _, v := range s.d1 {
		trW += 2 * v
	}
	mu := 1 / trW

	bestGap, slow := math.Inf(1), 0
	for {
		stalled := s.center(mu, &res.Iterations)
		// The factorization of R and W = F⁻¹ are current: certify.
		if v := s.sig[0]; v < res.Value {
			res.Value = v
			copy(s.best, s.z[:nd])
		}
		if lo := s.lower(); lo > res.Lower {
			res.Lower = lo
		}
		gap := res.Value - res.Lower
		if gap <= s.tol*res.Value {
			return res, nil
		}
		switch {
		case stalled:
			return notConverged("numerical stall")
		case res.Iterations >= s.maxNewt:
			return notConverged("Newton step limit")
		}
		// Rounding limits the certificate once t-σ nears ε·σ: stop when
		// the gap no longer shrinks.
		if gap < bestGap/2 {
			bestGap, slow = gap, 0
		} else if slow++; slow >= 5 {
			return notConverged("precision exhausted")
		}
		mu /= muFactor
	}
}

// center minimises φ_μ by damped Newton from s.z, counting the steps in
// *count. On return the SVD of R and the blocks of F⁻¹ are those of the
// current point. It reports whether it stopped on a numerical stall.
func (s *SDP) center(mu float64, count *int) (stalled bool) {
	m := s.m
	for steps := 0; ; steps++ {
		s.gradHess(mu)
		if !s.newtonStep() {
			return true
		}
		var lam2 float64 // Newton decrement squared, -gᵀΔ
		for i := 0; i < m; i++ {
			lam2 -= s.g[i] * s.dz[i]
		}
		if !(lam2 >= 0) {
			return true
		}
		if lam2/2 <= centeringTol {
			return false
		}
		if *count >= s.maxNewt {
			return false
		}
		if steps >= maxCentering {
			return true
		}
		*count++
		step := 1.0
		accepted := false
		for ls := 0; ls < maxLineSteps && step >= minStep; ls++ {
			for i := 0; i < m; i++ {
				s.zt[i] = s.z[i] + step*s.dz[i]
			}
			s.buildF(s.zt)
			if !s.chol.Factorize(s.f) {
				step *= lsBeta
				continue
			}
			ld := s.chol.LogDet()
			if math.Sqrt(lam2) > quadRegion {
				// Armijo condition on φ_μ, computed as a difference.
				dphi := step*s.dz[m-1]/mu - (ld - s.ld)
				if dphi > -lsAlpha*step*lam2 {
					step *= lsBeta
					continue
				}
			}
			copy(s.z, s.zt)
			s.ld = ld
			accepted = true
			break
		}
		if !accepted || !s.point() {
			return true
		}
	}
}

// buildF writes F(z) into s.f. Entries outside the band of the input are
// zero and never touched after construction.
func (s *SDP) buildF(z []float64) {
	n, k, kp := s.n, s.kin, s.kout
	t := z[s.nd]
	raw := s.f.RawSymmetric()
	for i := 0; i < n; i++ {
		raw.Data[i*raw.Stride+i] = t
		raw.Data[(n+i)*raw.Stride+n+i] = t
		for j := max(0, i-k); j <= min(n-1, i+k); j++ {
			d := j - i
			v := s.xs[k+d]
			if d >= -kp && d <= kp {
				v -= z[kp+d]
			}
			raw.Data[i*raw.Stride+n+j] = v
		}
	}
}

// factorR computes the SVD R = U Σ Vᵀ of R(a) = T(xs) - T(embed(a)),
// storing Σ in s.sig and U, V in s.u, s.v. It reports whether the SVD
// succeeded.
func (s *SDP) factorR(a []float64) bool {
	n, k, kp := s.n, s.kin, s.kout
	rr := s.r.RawMatrix()
	for i := 0; i < n; i++ {
		row := rr.Data[i*rr.Stride : i*rr.Stride+n]
		for j := max(0, i-k); j <= min(n-1, i+k); j++ {
			d := j - i
			v := s.xs[k+d]
			if d >= -kp && d <= kp {
				v -= a[kp+d]
			}
			row[j] = v
		}
	}
	if !s.svd.Factorize(s.r, mat.SVDFull) {
		return false
	}
	s.svd.Values(s.sig)
	s.svd.UTo(s.u)
	s.svd.VTo(s.v)
	return true
}

// point factorizes R at the current point and forms the blocks of
// W = F⁻¹ from its SVD. With R = U Σ Vᵀ the eigenvalues of F are t ± σ_i,
// and
//
//	W11 = U diag(t/(t²-σ²)) Uᵀ,  W22 = V diag(t/(t²-σ²)) Vᵀ,
//	W12 = -U diag(σ/(t²-σ²)) Vᵀ.
//
// This is F⁻¹ computed as a Cholesky inverse would, but with t²-σ² formed
// as (t-σ)(t+σ): near the optimum F has condition number about σ/(t-σ)
// (1e10 and more), and the closed form keeps W12 of the exact structure
// that the certificate needs. It reports false if the SVD fails or finds
// the point infeasible.
func (s *SDP) point() bool {
	if !s.factorR(s.z) {
		return false
	}
	t := s.z[s.nd]
	if !(t > s.sig[0]) {
		return false
	}
	for i, sg := range s.sig {
		den := (t - sg) * (t + sg)
		s.d1[i] = t / den
		s.d2[i] = -sg / den
		s.d3[i] = -2 * t * sg / (den * den)
	}
	s.sandwich(s.w11, s.u, s.d1, s.u)
	s.sandwich(s.w22, s.v, s.d1, s.v)
	s.sandwich(s.w12, s.u, s.d2, s.v)
	return true
}

// sandwich sets dst = P diag(d) Qᵀ.
func (s *SDP) sandwich(dst, p *mat.Dense, d []float64, q *mat.Dense) {
	n := s.n
	tr, pr := s.tmp.RawMatrix(), p.RawMatrix()
	for i := 0; i < n; i++ {
		for k := 0; k < n; k++ {
			tr.Data[i*tr.Stride+k] = pr.Data[i*pr.Stride+k] * d[k]
		}
	}
	dst.Mul(s.tmp, q.T())
}

// gradHess fills s.g and s.hs with the gradient and Hessian of φ_μ at the
// current point, from the blocks W11, W12, W22 of W = F⁻¹:
//
//	g_i  = c_i/μ - tr(W F_i),  H_ij = tr(W F_i W F_j),
//
// with F_d = -[[0, S_d], [S_dᵀ, 0]] for the a_d and F_t = I. Expanding the
// blocks (S_d has ones at (i, i+d)):
//
//	tr(W F_d)       = -2 Σ_i W12[i, i+d]
//	tr(W F_d W F_e) = 2 Σ_{p,j} W12[p, j+d] W12[j, p+e] + 2 Σ_{p,i} W11[p, i] W22[i+d, p+e]
//	tr(W F_d W)     = -2 Σ_i (W²)12[i, i+d],  (W²)12 = U diag(-2tσ/(t²-σ²)²) Vᵀ
//	tr(W)           = Σ_i 2t/(t²-σ_i²),  tr(W²) = Σ_i 1/(t-σ_i)² + 1/(t+σ_i)²
//
// so no product with a dense F_i is formed; each entry costs O(N²).
func (s *SDP) gradHess(mu float64) {
	n, kp, nd, m := s.n, s.kout, s.nd, s.m
	w11 := s.w11.RawMatrix().Data
	w12 := s.w12.RawMatrix().Data
	w22 := s.w22.RawMatrix().Data
	w12t := s.tmp.RawMatrix().Data
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			w12t[j*n+i] = w12[i*n+j]
		}
	}
	ur, vr := s.u.RawMatrix().Data, s.v.RawMatrix().Data
	t := s.z[nd]

	var trW, trW2 float64
	for i, sg := range s.sig {
		trW += 2 * s.d1[i]
		a, b := 1/(t-sg), 1/(t+sg)
		trW2 += a*a + b*b
	}
	s.g[nd] = 1/mu - trW
	s.hs[nd*m+nd] = trW2

	for di := 0; di < nd; di++ {
		d := di - kp
		lo, hi := max(0, -d), min(n, n-d)
		var g, h float64
		for i := lo; i < hi; i++ {
			g += w12[i*n+i+d]
			urow, vrow := ur[i*n:(i+1)*n], vr[(i+d)*n:(i+d+1)*n]
			for k, dk := range s.d3 {
				h += urow[k] * dk * vrow[k]
			}
		}
		s.g[di] = 2 * g
		s.hs[di*m+nd] = -2 * h
		s.hs[nd*m+di] = -2 * h
		for ei := di; ei < nd; ei++ {
			e := ei - kp
			plo, phi := max(0, -e), min(n, n-e)
			var s1, s2 float64
			for p := plo; p < phi; p++ {
				// Σ_j W12[p, j+d] W12ᵀ[p+e, j]
				s1 += floats.Dot(w12[p*n+lo+d:p*n+hi+d], w12t[(p+e)*n+lo:(p+e)*n+hi])
				// Σ_i W11[p, i] W22[p+e, i+d] (W22 is symmetric)
				s2 += floats.Dot(w11[p*n+lo:p*n+hi], w22[(p+e)*n+lo+d:(p+e)*n+hi+d])
			}
			h := 2 * (s1 + s2)
			s.hs[di*m+ei] = h
			s.hs[ei*m+di] = h
		}
	}
}

// newtonStep solves H Δ = -g by Cholesky, with a small diagonal shift if H
// is numerically singular. It reports false if that fails.
func (s *SDP) newtonStep() bool {
	m := s.m
	var dmax float64
	for i := 0; i < m; i++ {
		dmax = math.Max(dmax, s.hs[i*m+i])
	}
	if !(dmax > 0) || math.IsInf(dmax, 0) {
		return false
	}
	for shift := 0.0; shift <= 1e-6*dmax; shift = math.Max(1e-14*dmax, 100*shift) {
		if cholSolve(s.hl, s.hs, s.dz, s.g, m, shift) {
			return true
		}
	}
	return false
}

// cholSolve factorizes h + shift·I (m×m, row-major, read in its lower
// triangle) into l and solves (h + shift·I) x = -b. It reports false if the
// matrix is not numerically positive definite.
func cholSolve(l, h, x, b []float64, m int, shift float64) bool {
	copy(l[:m*m], h[:m*m])
	for i := range m {
		x[i] = -b[i]
	}
	return gramSolve(l, x[:m], m, shift)
}

// lower returns the best certified lower bound available at the current
// point; see certify. The first candidate is the block W12 of F⁻¹ itself,
// W12 = -U diag(σ/(t²-σ²)) Vᵀ, whose weight concentrates on the top
// singular pairs as t approaches σ_1. Its diagonal sums vanish only to the
// accuracy of the centering, and near the optimum the weights 1/(t-σ_i)
// of the top cluster are known only to relative accuracy ε·σ_1/(t-σ_i), so
// the correction that certify applies grows as μ shrinks. The other
// candidates restrict Y to the k top singular pairs, Y = U_k Z V_kᵀ, and
// choose the symmetric k×k matrix Z near diag(σ_i/(t²-σ_i²)) that makes the
// sums over the diagonals |d| <= K' (nearly) vanish, from the smallest right
// singular vectors of the linear map Z -> (Σ_i (U_k Z V_kᵀ)[i, i+d])_d.
// At the optimum the top singular value has some multiplicity k and the
// optimal dual matrix has exactly this form, so for the right k the bound
// is tight to the accuracy of the primal point. Every candidate gives a
// valid bound; lower returns the largest.
func (s *SDP) lower() float64 {
	s.y.Copy(s.w12)
	best := s.certify()
	n, kp, nd := s.n, s.kout, s.nd
	kmax := 1
	for kmax*(kmax+1)/2 < nd+1 {
		kmax++
	}
	kmax = min(n, kmax+2)
	// A degenerate top cluster (e.g. a residual close to a multiple of one
	// shift, whose singular values are 1 with multiplicity N−|d|) needs
	// its whole span: also try k = the cluster's size.
	cluster := 1
	for cluster < n && s.sig[cluster] >= s.sig[0]*(1-1e-3) {
		cluster++
	}
	ks := make([]int, 0, kmax+2)
	for k := 1; k <= kmax; k++ {
		ks = append(ks, k)
	}
	if cluster > kmax {
		ks = append(ks, cluster, min(n, cluster+1))
	}
	ur, vr := s.u.RawMatrix().Data, s.v.RawMatrix().Data
	for _, k := range ks {
		p := k * (k + 1) / 2
		mm := mat.NewDense(nd, p, nil)
		z0 := make([]float64, p)
		col := 0
		for a := 0; a < k; a++ {
			for b := a; b < k; b++ {
				if a == b {
					z0[col] = -s.d2[a]
				}
				for di := 0; di < nd; di++ {
					d := di - kp
					var v float64
					for i := max(0, -d); i < min(n, n-d); i++ {
						v += ur[i*n+a] * vr[(i+d)*n+b]
						if a != b {
							v += ur[i*n+b] * vr[(i+d)*n+a]
						}
					}
					mm.Set(di, col, v)
				}
				col++
			}
		}
		var svd mat.SVD
		if !svd.Factorize(mm, mat.SVDFullV) {
			continue
		}
		var q mat.Dense
		svd.VTo(&q)
		sv := svd.Values(nil)
		// Keep the right singular vectors whose singular value is at the
		// level of the residual of z0 (or below): the exact null space
		// (p-nd vectors when p > nd), the smallest one, and any other
		// near-null direction. Project z0 onto their span.
		var rz, nz float64
		for di := 0; di < nd; di++ {
			var v float64
			for c := 0; c < p; c++ {
				v += mm.At(di, c) * z0[c]
			}
			rz += v * v
		}
		for _, v := range z0 {
			nz += v * v
		}
		thresh := 10 * math.Sqrt(rz/nz)
		z := make([]float64, p)
		for c := 0; c < p; c++ {
			if c < len(sv) && c != p-1 && sv[c] > thresh {
				continue
			}
			var dot float64
			for r := 0; r < p; r++ {
				dot += q.At(r, c) * z0[r]
			}
			for r := 0; r < p; r++ {
				z[r] += dot * q.At(r, c)
			}
		}
		// Y = U_k Z V_kᵀ.
		zm := make([]float64, k*k)
		col = 0
		for a := 0; a < k; a++ {
			for b := a; b < k; b++ {
				zm[a*k+b], zm[b*k+a] = z[col], z[col]
				col++
			}
		}
		yr := s.y.RawMatrix()
		uz := make([]float64, k)
		for i := 0; i < n; i++ {
			for b := 0; b < k; b++ {
				var v float64
				for a := 0; a < k; a++ {
					v += ur[i*n+a] * zm[a*k+b]
				}
				uz[b] = v
			}
			for j := 0; j < n; j++ {
				var v float64
				for b := 0; b < k; b++ {
					v += uz[b] * vr[j*n+b]
				}
				yr.Data[i*yr.Stride+j] = v
			}
		}
		lo := s.certify()
		if lo > best {
			best = lo
		}
	}
	return best
}

// certify turns s.y into a dual certificate and returns its bound. Y_f is
// Y minus, on each diagonal |d| <= K', the mean of that diagonal (the
// Frobenius projection onto the matrices orthogonal to every S_d), so that
// ⟨Y_f, S_d⟩ = 0. Then for every a, ⟨Y_f, T(x)⟩ = ⟨Y_f, R(a)⟩, and by the
// duality of the spectral and nuclear norms
//
//	|⟨Y_f, T(x)⟩| <= ||Y_f||_* ||R(a)||_2,
//
// so |⟨Y_f, T(x)⟩| / ||Y_f||_* is a lower bound on the optimum.
func (s *SDP) certify() float64 {
	n, kp, k := s.n, s.kout, s.kin
	yr := s.y.RawMatrix()
	for d := -kp; d <= kp; d++ {
		lo, hi := max(0, -d), min(n, n-d)
		var sum float64
		for i := lo; i < hi; i++ {
			sum += yr.Data[i*yr.Stride+i+d]
		}
		mean := sum / float64(hi-lo)
		for i := lo; i < hi; i++ {
			yr.Data[i*yr.Stride+i+d] -= mean
		}
	}
	var inner float64
	for i := 0; i < n; i++ {
		for j := max(0, i-k); j <= min(n-1, i+k); j++ {
			inner += yr.Data[i*yr.Stride+j] * s.xs[k+j-i]
		}
	}
	if !s.svd.Factorize(s.y, mat.SVDNone) {
		return 0
	}
	var nuc float64
	for _, v := range s.svd.Values(s.yval) {
		nuc += v
	}
	lo := math.Abs(inner) / nuc
	if !(lo >= 0) || math.IsInf(lo, 0) {
		return 0
	}
	return lo
}

// denseNormLimit is the size above which SpectralNorm uses the banded
// Lanczos oracle instead of a dense SVD.
const denseNormLimit = 160

// SpectralNorm returns ||T(g)||_2, the largest singular value of the
// banded Toeplitz matrix with generator g: by a dense SVD for N <= 160, by
// structure.TopSingular (block Lanczos with banded shift-and-invert,
// O(N·K²)) above. g is scaled by a power of two first, so no intermediate
// overflows; the result is +Inf only if ||T(g)||_2 exceeds the largest
// float64, and NaN if g has a non-finite entry. It panics if
// len(g) != b.Len() or b is invalid.
func SpectralNorm(b structure.Band, g []float64) float64 {
	if len(g) != b.Len() {
		panic(fmt.Sprintf("optimal: SpectralNorm: generator of length %d for %v", len(g), b))
	}
	var gmax float64
	for _, v := range g {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return math.NaN()
		}
		gmax = math.Max(gmax, math.Abs(v))
	}
	if gmax == 0 {
		return 0
	}
	_, e := math.Frexp(gmax)
	gs := make([]float64, len(g))
	for i, v := range g {
		gs[i] = math.Ldexp(v, -e)
	}
	if b.N > denseNormLimit {
		ts, err := structure.NewTopSingular(b, 1, nil)
		if err != nil {
			panic("optimal: SpectralNorm: " + err.Error())
		}
		r, err := ts.Compute(gs)
		if err != nil {
			return math.NaN()
		}
		return unscale(r.Scaled[0], e)
	}
	var svd mat.SVD
	if !svd.Factorize(b.Dense(gs), mat.SVDNone) {
		return math.NaN()
	}
	return unscale(svd.Values(nil)[0], e)
}

// unscale returns v·2^e, rounding a value that overflows only by rounding
// error (v·2^e below MaxFloat64·(1+1e-14)) down to MaxFloat64.
func unscale(v float64, e int) float64 {
	r := math.Ldexp(v, e)
	if math.IsInf(r, 1) && math.Ldexp(v, e-1) <= math.MaxFloat64/2*(1+1e-14) {
		return math.MaxFloat64
	}
	return r
}

func finite(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
