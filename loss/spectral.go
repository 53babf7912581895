package loss

import (
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/matapprox/matapprox/structure"
)

// Spectral is the operator 2-norm loss ||T(r)||_2, the largest singular
// value of the residual matrix: by a dense SVD for N <= 160, and above by
// the banded oracle structure.TopSingular (O(N·K²) per evaluation, no N×N
// matrix). Residuals are scaled by a power of two first, so the norm and
// its subgradient neither overflow nor underflow where the norm is
// representable. It is not safe for concurrent use.
type Spectral struct {
	in, out structure.Band
	m       *mat.Dense // nil above the dense limit
	svd     mat.SVD
	u, v    mat.Dense
	r, g    []float64
	rs      []float64 // scaled residual
	top     *structure.TopSingular
}

// spectralDenseLimit is the size above which Spectral uses the banded
// oracle.
const spectralDenseLimit = 160

// NewSpectral returns the spectral-norm loss for the given bands.
func NewSpectral(in, out structure.Band) (*Spectral, error) {
	if err := checkBands(in, out); err != nil {
		return nil, err
	}
	l := &Spectral{in: in, out: out, r: make([]float64, in.Len()), g: make([]float64, in.Len()), rs: make([]float64, in.Len())}
	if in.N <= spectralDenseLimit {
		l.m = mat.NewDense(in.N, in.N, nil)
	} else {
		var err error
		if l.top, err = structure.NewTopSingular(in, 1, nil); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Name returns "spectral".
func (l *Spectral) Name() string { return "spectral" }

// Bands returns the input and output bands.
func (l *Spectral) Bands() (in, out structure.Band) { return l.in, l.out }

// Norm returns ||T(r)||_2 for a residual generator r of the input band and,
// if grad is not nil (length 2K+1), its (sub)gradient with respect to r:
// grad[K+d] = Σ_i u_1[i] v_1[i+d].
func (l *Spectral) Norm(grad, r []float64) float64 {
	n, K := l.in.N, l.in.K
	var rmax float64
	for _, v := range r {
		rmax = math.Max(rmax, math.Abs(v))
	}
	if !(rmax <= math.MaxFloat64) {
		for i := range grad {
			grad[i] = nanValue
		}
		return nanValue
	}
	if rmax == 0 {
		// Every unit vector pair is a subgradient; take u = v = e_1's.
		for i := range grad {
			grad[i] = 0
		}
		if grad != nil {
			grad[K] = 1
		}
		return 0
	}
	_, e := math.Frexp(rmax)
	for i, v := range r {
		l.rs[i] = math.Ldexp(v, -e)
	}
	if l.top != nil {
		s, err := l.top.Compute(l.rs)
		if err != nil {
			for i := range grad {
				grad[i] = nanValue
			}
			return nanValue
		}
		if grad != nil {
			u, v := s.U.RawMatrix(), s.V.RawMatrix()
			for d := -K; d <= K; d++ {
				var t float64
				for i := max(0, -d); i < min(n, n-d); i++ {
					t += u.Data[i*u.Stride] * v.Data[(i+d)*v.Stride]
				}
				grad[K+d] = t
			}
		}
		return unscale(s.Scaled[0], e)
	}
	l.m.Zero()
	for i := 0; i < n; i++ {
		for j := max(0, i-K); j <= min(n-1, i+K); j++ {
			l.m.Set(i, j, l.rs[K+j-i])
		}
	}
	kind := mat.SVDNone
	if grad != nil {
		kind = mat.SVDThin
	}
	if !l.svd.Factorize(l.m, kind) {
		for i := range grad {
			grad[i] = nanValue
		}
		return nanValue
	}
	s := l.svd.Values(nil)[0]
	if grad != nil {
		l.svd.UTo(&l.u)
		l.svd.VTo(&l.v)
		for d := -K; d <= K; d++ {
			var t float64
			for i := max(0, -d); i < min(n, n-d); i++ {
				t += l.u.At(i, 0) * l.v.At(i+d, 0)
			}
			grad[K+d] = t
		}
	}
	return unscale(s, e)
}

// unscale returns v·2^e, rounding a value that overflows only by rounding
// error down to MaxFloat64.
func unscale(v float64, e int) float64 {
	r := math.Ldexp(v, e)
	if math.IsInf(r, 1) && math.Ldexp(v, e-1) <= math.MaxFloat64/2*(1+1e-14) {
		return math.MaxFloat64
	}
	return r
}

// Eval returns Σ_b ||T(x_b − embed(a_b))||_2 and, if grad is not nil, the
// (sub)gradients with respect to a_b.
func (l *Spectral) Eval(grad, x, a []float64, n int) float64 {
	return evalResiduals(l.in, l.out, l.r, l.g, grad, x, a, n, l.Norm)
}
