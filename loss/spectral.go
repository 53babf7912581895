package loss

import (
	"gonum.org/v1/gonum/mat"

	"github.com/matapprox/matapprox/structure"
)

// Spectral is the operator 2-norm loss ||T(r)||_2, the largest singular
// value of the residual matrix. It is not safe for concurrent use.
type Spectral struct {
	in, out structure.Band
	m       *mat.Dense
	svd     mat.SVD
	u, v    mat.Dense
	r, g    []float64
}

// NewSpectral returns the spectral-norm loss for the given bands.
func NewSpectral(in, out structure.Band) (*Spectral, error) {
	if err := checkBands(in, out); err != nil {
		return nil, err
	}
	return &Spectral{in: in, out: out, m: mat.NewDense(in.N, in.N, nil), r: make([]float64, in.Len()), g: make([]float64, in.Len())}, nil
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
		// Factorize fails only on non-finite input.
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
	return s
}

// Eval returns Σ_b ||T(x_b − embed(a_b))||_2 and, if grad is not nil, the
// (sub)gradients with respect to a_b.
func (l *Spectral) Eval(grad, x, a []float64, n int) float64 {
	checkBatch(l.in, l.out, grad, x, a, n)
	L, Lo := l.in.Len(), l.out.Len()
	off := l.in.K - l.out.K
	var gr []float64
	if grad != nil {
		gr = l.g
	}
	var s float64
	for b := 0; b < n; b++ {
		copy(l.r, x[b*L:(b+1)*L])
		for j, v := range a[b*Lo : (b+1)*Lo] {
			l.r[off+j] -= v
		}
		s += l.Norm(gr, l.r)
		if grad != nil {
			for j := range Lo {
				grad[b*Lo+j] = -gr[off+j]
			}
		}
	}
	return s
}
