package optimal

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/matapprox/matapprox/structure"
)

// subspaceWork is the workspace of the subspace method for the 2-norm
// problem min_δ ||R(δ)||_2, R(δ) = T(x_out) − Σ_d δ_d S_d (|d| <= K'),
// started at a candidate generator (a network's answer, the symbol's
// Chebyshev solution).
//
// The method (Kangal, Meerbergen, Mengi & Michiels, "A subspace method for
// large-scale eigenvalue optimization", SIAM J. Matrix Anal. Appl. 39(1),
// 2018, here for σ_max through the symmetric embedding [[0, R], [Rᵀ, 0]])
// keeps orthonormal bases U, V (N×m) and minimises the compressed model
//
//	m(δ) = ||Uᵀ R(δ) V||_2 <= ||R(δ)||_2 for every δ,
//
// an m×m problem in the 2K'+1 unknowns (a barrier method, model.solveBase,
// within a trust region). Each iteration calls the oracle once, at the
// model's minimiser: its top singular triplets are added to the bases
// (newest first, the oldest dropped beyond mMax), so the model interpolates
// ||R||_2 and its derivative at every iterate, and the iteration converges
// superlinearly once the bases hold the optimum's active singular
// subspaces. Because the model is a relaxation, its dual block W gives a
// certified lower bound through Y = U W Vᵀ (certWork.bound) at every
// iteration, whatever the bases; the value is the oracle's σ_1 of the best
// iterate. A trial point whose σ_1 does not decrease is rejected (its
// triplets still enter the bases) and the trust radius shrinks.
type subspaceWork struct {
	w          *certWork // its blocks hold mMax pairs; its oracle kNew triplets
	kNew, mMax int
	m          int        // current basis size
	ua, va     *mat.Dense // the bases U, V (N×mMax, first m columns)
	cu, cv     []float64  // candidate columns (kNew + mMax), column c at [c*N, (c+1)*N)
	proj       []float64  // projections on the basis (mMax)
	du, dv     *mat.Dense // the dense oracle's singular vectors (N <= maxDenseOracleN)
	trial      []float64
}

// newSubspaceWork returns the workspace of the subspace method with kNew
// triplets per oracle call and bases of at most mMax vectors (both capped
// at N); opts configures the banded oracle.
func newSubspaceWork(in, out structure.Band, kNew, mMax int, opts *structure.TopSingularOptions) (*subspaceWork, error) {
	n := in.N
	mMax = min(n, mMax)
	kNew = min(kNew, mMax)
	w, err := newCertWorkOracle(in, out, true, mMax, kNew, opts)
	if err != nil {
		return nil, err
	}
	s := &subspaceWork{w: w, kNew: kNew, mMax: mMax,
		cu: make([]float64, n*(mMax+kNew)), cv: make([]float64, n*(mMax+kNew)),
		proj: make([]float64, mMax),
		ua:   mat.NewDense(n, mMax, nil), va: mat.NewDense(n, mMax, nil),
		trial: make([]float64, out.Len()),
	}
	if w.ts == nil {
		s.du, s.dv = w.u, w.v
	}
	return s, nil
}

// oracle computes the top triplets of T(w.r) and returns σ_1 (a certified
// upper bound for the banded oracle), leaving the top kNew pairs as
// candidate columns 0..kNew−1.
func (s *subspaceWork) oracle() (float64, bool) {
	w := s.w
	if w.ts == nil {
		w.u, w.v = s.du, s.dv
	}
	ok := w.factor()
	if ok {
		n := w.n
		ur, vr := w.u.RawMatrix(), w.v.RawMatrix()
		for c := 0; c < s.kNew; c++ {
			cu, cv := s.cu[c*n:(c+1)*n], s.cv[c*n:(c+1)*n]
			for i := 0; i < n; i++ {
				cu[i] = ur.Data[i*ur.Stride+c]
				cv[i] = vr.Data[i*vr.Stride+c]
			}
		}
	}
	w.u, w.v = s.ua, s.va
	return w.sig[0], ok && !math.IsNaN(w.sig[0])
}

// merge makes the new bases from the oracle's pairs (candidate columns
// 0..kNew−1) followed by the current bases, orthonormalised pair by pair
// (classical Gram–Schmidt twice); a pair either of whose vectors is
// numerically in the span of the vectors already kept is dropped.
func (s *subspaceWork) merge() {
	n := s.w.n
	ur, vr := s.ua.RawMatrix(), s.va.RawMatrix()
	cnt := s.kNew
	for c := 0; c < s.m; c++ {
		cu, cv := s.cu[(cnt+c)*n:(cnt+c+1)*n], s.cv[(cnt+c)*n:(cnt+c+1)*n]
		for i := 0; i < n; i++ {
			cu[i], cv[i] = ur.Data[i*ur.Stride+c], vr.Data[i*vr.Stride+c]
		}
	}
	cnt += s.m
	m := 0
	for c := 0; c < cnt && m < s.mMax; c++ {
		u, v := s.cu[c*n:(c+1)*n], s.cv[c*n:(c+1)*n]
		if !orthAgainst(ur, m, u, s.proj) || !orthAgainst(vr, m, v, s.proj) {
			continue
		}
		for i := 0; i < n; i++ {
			ur.Data[i*ur.Stride+m], vr.Data[i*vr.Stride+m] = u[i], v[i]
		}
		m++
	}
	s.m = m
}

// orthAgainst orthogonalises y against the first m columns of the
// row-major basis q twice (classical Gram–Schmidt, as matrix–vector
// products; proj holds m numbers) and normalises it; it reports false when
// less than 1e-6 of its norm remains.
func orthAgainst(q blas64.General, m int, y, proj []float64) bool {
	n0 := math.Sqrt(dot(y, y))
	if !(n0 > 0) || math.IsInf(n0, 0) {
		return false
	}
	if m > 0 {
		b := blas64.General{Rows: q.Rows, Cols: m, Stride: q.Stride, Data: q.Data}
		yv := blas64.Vector{N: len(y), Inc: 1, Data: y}
		pv := blas64.Vector{N: m, Inc: 1, Data: proj[:m]}
		for pass := 0; pass < 2; pass++ {
			blas64.Gemv(blas.Trans, 1, b, yv, 0, pv)
			blas64.Gemv(blas.NoTrans, -1, b, pv, 1, yv)
		}
	}
	nr := math.Sqrt(dot(y, y))
	if !(nr > 1e-6*n0) {
		return false
	}
	for i := range y {
		y[i] /= nr
	}
	return true
}

// solve runs the subspace method from the candidate a for x until the
// certified relative gap is at most target or steps oracle calls after the
// first have been made. hint is a known lower bound on the optimum (0 if
// none): it enters the stopping test and sets the first trust radius, since
// a start whose value is within v − hint of the optimum is within about
// that distance of a minimiser. The certificate's A is the best iterate,
// Value its σ_1 and Lower the best bound of all iterations and hint.
// start is a lower bound too (0 if none) that sets only where the model's
// barrier starts, not the stopping test or the trust radius.
func (s *subspaceWork) solve(x, a []float64, target float64, steps int, hint, start float64) Certificate {
	w := s.w
	off, nd := w.in.K-w.out.K, w.m
	outside := 0.0
	for i, v := range x {
		w.xo[i] = 0
		if i < off || i >= off+nd {
			w.xo[i] = v
			outside = math.Max(outside, math.Abs(v))
		}
	}
	if outside == 0 {
		// x lies in the output band: its truncation is exact (value 0),
		// which one step reaches; without steps the candidate is kept with
		// its exact value (the residual is in-band only) and the bound 0.
		if steps <= 0 {
			return s.inBandValue(x, a)
		}
		cert := Certificate{A: append([]float64(nil), x[off:off+nd]...)}
		for i, v := range a {
			if v != cert.A[i] {
				cert.Polished, cert.Steps = true, 1
			}
		}
		return cert
	}
	scale := pow2(outside)
	for i := range w.xo {
		w.xo[i] /= scale
	}
	copy(w.a, a)
	s.m = 0
	if w.ts != nil {
		w.ts.Reset()
	}
	w.residual(x, w.a, scale)
	value, ok := s.oracle()
	if !ok {
		return Certificate{A: append([]float64(nil), a...), Value: math.NaN()}
	}
	if value > 4 {
		// A candidate far off: scale by its own residual (exactly, by a
		// power of two, so the singular vectors stay those computed).
		s2 := pow2(value)
		scale *= s2
		for i := range w.xo {
			w.xo[i] /= s2
		}
		w.residual(x, w.a, scale)
		value /= s2
	}
	s.merge()
	cert := Certificate{}
	rhoBig := 1e3 * value
	rho := rhoBig
	// The largest out-of-band entry is a lower bound: Y = ±S_d/(N−|d|) for
	// that diagonal d is orthogonal to every output diagonal and has
	// ⟨Y, T(x)⟩ = |x_d|, ||Y||_* = 1. It is the optimum when x_out is a
	// single diagonal (whose singular values are all equal, a cluster no
	// subspace of pairs can resolve).
	lower := math.Min(outside/scale, value)
	if h := hint / scale; h > lower && h < value {
		lower = h
		rho = 0.5 * (value - h)
	}
	md := &w.md
	for {
		j, km := s.m, w.kmax
		w.pairsJ(j)
		// Base matrix Uᵀ R(a) V = Uᵀ T(x_out) V − Σ_d (a − x_I)_d G_d.
		for d := 0; d < nd; d++ {
			w.dl[d] = (w.a[d] - x[off+d]) / scale
		}
		for p := 0; p < j; p++ {
			for q := 0; q < j; q++ {
				v := w.bm[p*km+q]
				for d := 0; d < nd; d++ {
					v -= w.dl[d] * w.g[d*km*km+p*km+q]
				}
				md.b0[p*j+q] = v
			}
		}
		for d := 0; d < nd; d++ {
			g := w.g[d*km*km:]
			for p := 0; p < j; p++ {
				for q := 0; q < j; q++ {
					md.g[d*j*j+p*j+q] = g[p*km+q]
				}
			}
		}
		gap := 1.0
		if lower > 0 {
			gap = (value - lower) / value
		}
		// The barrier's start may use start, a lower bound known to be
		// valid but not to be tight, as well.
		startGap := gap
		if st := start / scale; st > lower && st < value {
			startGap = (value - st) / value
		}
		mt := math.Max(0.5*target, 0.01*gap)
		lo, _, ok := md.solveBase(w, j, value, rho, mt, startGap)
		if !ok {
			break
		}
		lower = math.Max(lower, lo)
		var dn float64
		for i := range s.trial {
			s.trial[i] = w.a[i] + md.delta[i]*scale
			dn += md.delta[i] * md.delta[i]
		}
		dn = math.Sqrt(dn)
		if dn > 0.9*rho && value-lower > target*value && cert.Steps+1 >= steps {
			// The trust region is active, so the dual block carries its
			// multiplier: on the last step, bound from the unconstrained
			// model instead. (Before it, a step limited by the radius
			// means the point is still moving, and the next iteration's
			// model, with the new pairs, bounds better.)
			if lo, _, ok := md.solveBase(w, j, value, rhoBig, mt, startGap); ok {
				lower = math.Max(lower, lo)
			}
		}
		if value-lower <= target*value || cert.Steps >= steps {
			break
		}
		w.residual(x, s.trial, scale)
		cert.Steps++
		tv, ok := s.oracle()
		if !ok {
			break
		}
		s.merge()
		if tv < value {
			copy(w.a, s.trial)
			value = tv
			cert.Polished = true
			if dn > 0.5*rho {
				rho = math.Min(2*rho, rhoBig)
			}
			if value-lower <= target*value {
				// The bound already certifies the improved point: no
				// model solve is needed to prove it.
				break
			}
		} else {
			rho = math.Max(dn/8, 1e-12*value)
		}
	}
	cert.A = append([]float64(nil), w.a...)
	cert.Value = value * scale
	cert.Lower = math.Min(lower, value) * scale
	return cert
}

// inBandValue certifies the candidate a as given when x lies in the output
// band: Value is ||T(x − Ea)||_2 by the oracle (scaled by a power of two),
// Lower 0, the optimum.
func (s *subspaceWork) inBandValue(x, a []float64) Certificate {
	w := s.w
	cert := Certificate{A: append([]float64(nil), a...)}
	sc := w.scaledResidual(x, a)
	if sc == 0 {
		return cert
	}
	if math.IsNaN(sc) {
		cert.Value = math.NaN()
		return cert
	}
	if w.ts != nil {
		w.ts.Reset()
	}
	v, ok := s.oracle()
	if !ok {
		cert.Value = math.NaN()
		return cert
	}
	cert.Value = v * sc
	return cert
}
