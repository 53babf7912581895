package optimal

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/mat"

	"github.com/matapprox/matapprox/internal/gemm"
	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/structure"
)

// Truncate returns the central 2K'+1 entries of the generator x of band in:
// the optimum for the Frobenius loss. It validates x.
func Truncate(x []float64, in, out structure.Band) ([]float64, error) {
	if err := structure.CheckNested(in, out); err != nil {
		return nil, err
	}
	if err := in.Validate(x); err != nil {
		return nil, fmt.Errorf("truncate: %w", err)
	}
	a := make([]float64, out.Len())
	structure.Restrict(a, x, in, out)
	return a, nil
}

// Projection is the exact minimiser a* = M x of a quadratic loss (the probe
// loss or the Frobenius loss), a linear map from input generators to output
// generators. It is safe for concurrent use.
type Projection struct {
	in, out structure.Band
	m       []float64 // (2K'+1)×(2K+1) row-major
}

// NewProjection precomputes the optimal linear map for the quadratic loss l.
func NewProjection(l *loss.Quadratic) (*Projection, error) {
	in, out := l.Bands()
	L, Lo, off := in.Len(), out.Len(), in.K-out.K
	q := l.Matrix()
	// Q_II = V Λ Vᵀ; M = V Λ⁺ Vᵀ Q_I·.
	qii := mat.NewSymDense(Lo, nil)
	for i := 0; i < Lo; i++ {
		for j := i; j < Lo; j++ {
			qii.SetSym(i, j, q.At(off+i, off+j))
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(qii, true) {
		return nil, fmt.Errorf("projection: eigendecomposition of the %d×%d block of Q failed", Lo, Lo)
	}
	vals := eig.Values(nil)
	var v mat.Dense
	eig.VectorsTo(&v)
	tol := vals[Lo-1] * float64(Lo) * 1e-14
	qi := mat.NewDense(Lo, L, nil)
	for i := 0; i < Lo; i++ {
		for j := 0; j < L; j++ {
			qi.Set(i, j, q.At(off+i, j))
		}
	}
	var t mat.Dense
	t.Mul(v.T(), qi) // Vᵀ Q_I·
	for i, lam := range vals {
		s := 0.0
		if lam > tol {
			s = 1 / lam
		}
		row := t.RawRowView(i)
		for j := range row {
			row[j] *= s
		}
	}
	var m mat.Dense
	m.Mul(&v, &t)
	p := &Projection{in: in, out: out, m: make([]float64, Lo*L)}
	for i := 0; i < Lo; i++ {
		copy(p.m[i*L:(i+1)*L], m.RawRowView(i))
	}
	for _, x := range p.m {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("projection: map is not finite; the loss matrix Q has non-finite entries")
		}
	}
	return p, nil
}

// FrobeniusProjection returns the projection for the Frobenius loss, which
// is truncation written as a linear map.
func FrobeniusProjection(in, out structure.Band) (*Projection, error) {
	l, err := loss.NewFrobenius(in, out, false)
	if err != nil {
		return nil, err
	}
	return NewProjection(l)
}

// Bands returns the input and output bands.
func (p *Projection) Bands() (in, out structure.Band) { return p.in, p.out }

// Map returns a copy of M, of size (2K'+1)×(2K+1).
func (p *Projection) Map() *mat.Dense {
	return mat.NewDense(p.out.Len(), p.in.Len(), append([]float64(nil), p.m...))
}

// Apply writes into dst (n×(2K'+1)) the optimal generators for the n input
// generators in x (n×(2K+1), row-major): dst = X Mᵀ, one matrix product.
// It panics if the lengths do not match.
func (p *Projection) Apply(dst, x []float64, n int) {
	L, Lo := p.in.Len(), p.out.Len()
	if len(x) < n*L || len(dst) < n*Lo {
		panic(fmt.Sprintf("optimal: Apply with len(x)=%d, len(dst)=%d for %d rows of %d → %d", len(x), len(dst), n, L, Lo))
	}
	if n == 0 {
		return
	}
	gemm.Dgemm(blas.NoTrans, blas.Trans, n, Lo, L, 1, x, L, p.m, L, 0, dst, Lo)
}

// Solve returns the optimal generator for one input x, validating it.
func (p *Projection) Solve(x []float64) ([]float64, error) {
	if err := p.in.Validate(x); err != nil {
		return nil, fmt.Errorf("projection: %w", err)
	}
	a := make([]float64, p.out.Len())
	p.Apply(a, x, 1)
	return a, nil
}
