package loss

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/matapprox/matapprox/structure"
)

// SmoothSpectral is a smooth upper bound of the operator 2-norm, for
// training: with the singular values σ_1 >= σ_2 >= … of T(r) and the
// temperature τ = Rel·σ_1,
//
//	S(r) = σ_1 + τ·log Σ_i exp((σ_i − σ_1)/τ),   σ_1 <= S(r) <= σ_1 + τ·log m,
//
// m the number of singular values within a few τ of σ_1 (the log-sum-exp
// smoothing of a maximum; Nesterov, "Smooth minimization of non-smooth
// functions", Math. Program. 103, 2005). Its gradient is the softmax-weighted
// sum of the singular-vector gradients, Σ_i w_i u_iᵀ S_d v_i with
// w_i ∝ exp((σ_i − σ_1)/τ) (plus the term of τ's dependence on σ_1). Where the optimum of the 2-norm
// has a multiple top singular value (as minimax optima do), the subgradient
// of σ_1 alone jumps between the tied singular vectors and descends slowly;
// the weighted sum moves them together. Because τ is relative, S is
// 1-homogeneous like the 2-norm, and its minimiser's 2-norm is within
// Rel·log m of the optimum. It is not safe for concurrent use.
type SmoothSpectral struct {
	in, out structure.Band
	rel     float64
	m       *mat.Dense
	svd     mat.SVD
	u, v    mat.Dense
	r, g, w []float64
	s       []float64
}

// NewSmoothSpectral returns the smoothed 2-norm loss with relative
// temperature rel (0 < rel < 1).
func NewSmoothSpectral(in, out structure.Band, rel float64) (*SmoothSpectral, error) {
	if err := checkBands(in, out); err != nil {
		return nil, err
	}
	if !(rel > 0 && rel < 1) {
		return nil, fmt.Errorf("smooth spectral loss: relative temperature %v: must be in (0, 1)", rel)
	}
	return &SmoothSpectral{in: in, out: out, rel: rel, m: mat.NewDense(in.N, in.N, nil),
		r: make([]float64, in.Len()), g: make([]float64, in.Len()), w: make([]float64, in.N), s: make([]float64, in.N)}, nil
}

// SetRelative sets the relative temperature (0 < rel < 1; other values
// are ignored), for a schedule that sharpens the bound during training.
func (l *SmoothSpectral) SetRelative(rel float64) {
	if rel > 0 && rel < 1 {
		l.rel = rel
	}
}

// Name returns "smooth-spectral".
func (l *SmoothSpectral) Name() string { return "smooth-spectral" }

// Bands returns the input and output bands.
func (l *SmoothSpectral) Bands() (in, out structure.Band) { return l.in, l.out }

// Value returns S(r) and, if grad is not nil (length 2K+1), its gradient
// with respect to r.
func (l *SmoothSpectral) Value(grad, r []float64) float64 {
	n, K := l.in.N, l.in.K
	l.m.Zero()
	for i := 0; i < n; i++ {
		for j := max(0, i-K); j <= min(n-1, i+K); j++ {
			l.m.Set(i, j, r[K+j-i])
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
	l.svd.Values(l.s)
	s1 := l.s[0]
	if s1 == 0 {
		clear(grad)
		return 0
	}
	tau := l.rel * s1
	var z float64
	k := 0 // singular values that carry weight
	for i, s := range l.s {
		e := math.Exp((s - s1) / tau)
		if e < 1e-12 {
			break
		}
		l.w[i] = e
		z += e
		k = i + 1
	}
	val := s1 + tau*math.Log(z)
	if grad != nil {
		// ∂S/∂σ_i = w_i at fixed τ; τ = Rel·σ_1 adds Rel·∂S/∂τ to σ_1's,
		// ∂S/∂τ = log Z + Σ_i w_i (σ_1 − σ_i)/τ.
		var dtau float64
		for c := 0; c < k; c++ {
			l.w[c] /= z
			dtau += l.w[c] * (s1 - l.s[c]) / tau
		}
		l.w[0] += l.rel * (math.Log(z) + dtau)
		l.svd.UTo(&l.u)
		l.svd.VTo(&l.v)
		clear(grad)
		for c := 0; c < k; c++ {
			w := l.w[c]
			for d := -K; d <= K; d++ {
				var t float64
				for i := max(0, -d); i < min(n, n-d); i++ {
					t += l.u.At(i, c) * l.v.At(i+d, c)
				}
				grad[K+d] += w * t
			}
		}
	}
	return val
}

// Eval returns Σ_b S(x_b − embed(a_b)) and, if grad is not nil, the
// gradients with respect to a_b.
func (l *SmoothSpectral) Eval(grad, x, a []float64, n int) float64 {
	return evalResiduals(l.in, l.out, l.r, l.g, grad, x, a, n, l.Value)
}

var _ Loss = (*SmoothSpectral)(nil)
