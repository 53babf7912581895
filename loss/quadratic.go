package loss

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/mat"

	"github.com/matapprox/matapprox/internal/gemm"
	"github.com/matapprox/matapprox/internal/vmath"
	"github.com/matapprox/matapprox/structure"
)

// Quadratic is a loss rᵀ Q r of the residual r = x − embed(a), with Q a
// symmetric positive semi-definite (2K+1)×(2K+1) matrix: the probe loss and
// the Frobenius loss. A Quadratic keeps a workspace that grows to the largest
// batch seen, so Eval allocates only the first time; it is not safe for
// concurrent use (use Clone for each goroutine).
type Quadratic struct {
	in, out structure.Band
	name    string
	q       []float64 // L×L row-major; nil when diagonal
	diag    []float64 // diagonal of Q when Q is diagonal
	r, rq   []float64 // workspace: n×L each
	// Float32 evaluation (Float32): Q rounded, and the rounded residuals
	// and their products with it (workspace, n×L each).
	q32, r32, rq32 []float32
}

// NewProbe returns the probe loss (1/P) Σ_p ||T(r) y_p||²/||y_p||² for the P
// probe vectors of length N stored row-major in probes (P×N). It returns an
// error wrapping ErrProbes if the shape is wrong or a probe is zero or not
// finite.
func NewProbe(in, out structure.Band, probes []float64, p int) (*Quadratic, error) {
	if err := checkBands(in, out); err != nil {
		return nil, err
	}
	n := in.N
	if p < 1 || len(probes) != p*n {
		return nil, fmt.Errorf("probe set has %d values for %d probes of length N = %d, want P·N = %d: %w", len(probes), p, n, p*n, ErrProbes)
	}
	L, K := in.Len(), in.K
	q := make([]float64, L*L)
	pre := make([]float64, n+1)
	for pi := 0; pi < p; pi++ {
		y := probes[pi*n : (pi+1)*n]
		var nrm float64
		for i, v := range y {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("probe %d entry %d is %v: %w", pi+1, i+1, v, ErrProbes)
			}
			nrm += v * v
		}
		if nrm == 0 {
			return nil, fmt.Errorf("probe %d is the zero vector, which has no direction: %w", pi+1, ErrProbes)
		}
		w := 1 / (nrm * float64(p))
		// For each lag h = e−d >= 0, pre[m] = Σ_{j<m} y_j y_{j+h}; the
		// entry for (d, e) sums j = i+d over lo+d <= j < hi+d.
		for h := 0; h <= 2*K && h < n; h++ {
			pre[0] = 0
			for j := 0; j < n; j++ {
				t := 0.0
				if j+h < n {
					t = y[j] * y[j+h]
				}
				pre[j+1] = pre[j] + t
			}
			for d := -K; d+h <= K; d++ {
				e := d + h
				lo, hi := max(0, -d), min(n, n-e)
				if hi <= lo {
					continue
				}
				v := (pre[hi+d] - pre[lo+d]) * w
				q[(d+K)*L+e+K] += v
				if h != 0 {
					q[(e+K)*L+d+K] += v
				}
			}
		}
	}
	return &Quadratic{in: in, out: out, name: "probe", q: q}, nil
}

// NewFrobenius returns the loss ||T(r)||_F² = Σ_d (N−|d|) r_d², divided by N
// if normalized (the quantity the probe loss estimates with isotropic
// probes).
func NewFrobenius(in, out structure.Band, normalized bool) (*Quadratic, error) {
	if err := checkBands(in, out); err != nil {
		return nil, err
	}
	w := in.Weights()
	if normalized {
		for i := range w {
			w[i] /= float64(in.N)
		}
	}
	return &Quadratic{in: in, out: out, name: "frobenius", diag: w}, nil
}

// NewQuadratic returns the loss rᵀ Q r for a given symmetric positive
// semi-definite Q of size 2K+1 (in.Len()). It checks symmetry and finiteness
// but not definiteness.
func NewQuadratic(in, out structure.Band, q mat.Symmetric) (*Quadratic, error) {
	if err := checkBands(in, out); err != nil {
		return nil, err
	}
	L := in.Len()
	if q.SymmetricDim() != L {
		return nil, fmt.Errorf("Q is %d×%d, want %d×%d for %v: %w", q.SymmetricDim(), q.SymmetricDim(), L, L, in, structure.ErrLength)
	}
	d := make([]float64, L*L)
	for i := 0; i < L; i++ {
		for j := 0; j < L; j++ {
			v := q.At(i, j)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("Q[%d][%d] is %v: %w", i, j, v, structure.ErrNonFinite)
			}
			d[i*L+j] = v
		}
	}
	return &Quadratic{in: in, out: out, name: "quadratic", q: d}, nil
}

// Name returns "probe", "frobenius" or "quadratic".
func (l *Quadratic) Name() string { return l.name }

// Bands returns the input and output bands.
func (l *Quadratic) Bands() (in, out structure.Band) { return l.in, l.out }

// Matrix returns a copy of Q.
func (l *Quadratic) Matrix() *mat.SymDense {
	L := l.in.Len()
	s := mat.NewSymDense(L, nil)
	for i := 0; i < L; i++ {
		for j := i; j < L; j++ {
			if l.diag != nil {
				if i == j {
					s.SetSym(i, i, l.diag[i])
				}
				continue
			}
			s.SetSym(i, j, l.q[i*L+j])
		}
	}
	return s
}

// Clone returns a Quadratic sharing Q but with its own workspace.
func (l *Quadratic) Clone() *Quadratic {
	c := *l
	c.r, c.rq, c.r32, c.rq32 = nil, nil, nil, nil
	return &c
}

// Float32 returns a Quadratic with l's Q and its own workspace whose Eval
// computes in float32, as the training loss of a float32 model does in
// PyTorch: the residuals (formed in float64) are rounded to float32, Q r
// is a float32 product (internal/gemm.Sgemm, Q rounded once), the value
// Σ rᵀ(Qr) is summed in float64 from those float32 factors, and the
// gradient is −2·Qr widened. Value, Matrix and the other methods are
// l's; a diagonal Q (the Frobenius loss, no product) is evaluated as by
// l. The float64 Quadratic stays the one for evaluation and exact optima.
func (l *Quadratic) Float32() *Quadratic {
	c := l.Clone()
	if l.q != nil {
		c.q32 = make([]float32, len(l.q))
		for i, v := range l.q {
			c.q32[i] = float32(v)
		}
	}
	return c
}

// eval32 is Eval with a dense Q in float32 (Float32) for n > 0 rows: it
// forms the rounded residuals float32(x − embed(a)) in one pass, and
// returns the value and the rows of −2·Q r (a workspace; the product's
// alpha of −2 and the value's factor −1/2 are exact).
func (l *Quadratic) eval32(x, a []float64, n, L, Lo, off int) (float64, []float32) {
	if cap(l.r32) < n*L {
		l.r32 = make([]float32, n*L)
		l.rq32 = make([]float32, n*L)
	}
	r32, rq := l.r32[:n*L], l.rq32[:n*L]
	vmath.ToFloat32(r32, x[:n*L])
	for b := 0; b < n; b++ {
		xb, rb := x[b*L+off:b*L+off+Lo], r32[b*L+off:b*L+off+Lo]
		for j, v := range a[b*Lo : (b+1)*Lo] {
			rb[j] = float32(xb[j] - v)
		}
	}
	gemm.Sgemm(blas.NoTrans, blas.NoTrans, n, L, L, -2, r32, L, l.q32, L, 0, rq, L)
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(r32); i += 4 {
		s0 += float64(r32[i]) * float64(rq[i])
		s1 += float64(r32[i+1]) * float64(rq[i+1])
		s2 += float64(r32[i+2]) * float64(rq[i+2])
		s3 += float64(r32[i+3]) * float64(rq[i+3])
	}
	for ; i < len(r32); i++ {
		s0 += float64(r32[i]) * float64(rq[i])
	}
	return -0.5 * ((s0 + s1) + (s2 + s3)), rq
}

// Value returns rᵀ Q r for a single residual generator r (length 2K+1).
// Residuals with entries beyond 2^±400 are scaled by a power of two
// first, so the result overflows to +Inf or underflows to 0 only where the
// true value does, never becoming NaN from Inf − Inf.
func (l *Quadratic) Value(r []float64) float64 {
	L := l.in.Len()
	if len(r) != L {
		panic(fmt.Sprintf("loss: residual of length %d, want %d", len(r), L))
	}
	var big float64
	for _, v := range r {
		big = math.Max(big, math.Abs(v))
	}
	sc, e := 1.0, 0 // multiplying by 1 is exact: ordinary residuals are unchanged
	if big > 0x1p400 || (big > 0 && big < 0x1p-400) {
		_, e = math.Frexp(big)
		sc = math.Ldexp(1, -e)
	}
	var s float64
	if l.diag != nil {
		for i, v := range r {
			v *= sc
			s += l.diag[i] * v * v
		}
		return math.Ldexp(s, 2*e)
	}
	for i, ri := range r {
		row := l.q[i*L : (i+1)*L]
		var t float64
		for j, v := range row {
			t += v * (r[j] * sc)
		}
		s += ri * sc * t
	}
	return math.Ldexp(s, 2*e)
}

// Eval returns Σ_b r_bᵀ Q r_b and, if grad is not nil, ∂/∂a_b = −2 (Q r_b)
// restricted to the output band.
func (l *Quadratic) Eval(grad, x, a []float64, n int) float64 {
	checkBatch(l.in, l.out, grad, x, a, n)
	L, Lo := l.in.Len(), l.out.Len()
	off := l.in.K - l.out.K
	if l.q32 != nil {
		if n == 0 {
			return 0
		}
		s, rq32 := l.eval32(x, a, n, L, Lo, off)
		if grad != nil {
			for b := 0; b < n; b++ {
				vmath.ToFloat64(grad[b*Lo:(b+1)*Lo], rq32[b*L+off:b*L+off+Lo])
			}
		}
		return s
	}
	if cap(l.r) < n*L {
		l.r = make([]float64, n*L)
		l.rq = make([]float64, n*L)
	}
	r, rq := l.r[:n*L], l.rq[:n*L]
	copy(r, x[:n*L])
	for b := 0; b < n; b++ {
		rb := r[b*L+off : b*L+off+Lo]
		for j, v := range a[b*Lo : (b+1)*Lo] {
			rb[j] -= v
		}
	}
	if l.diag != nil {
		for b := 0; b < n; b++ {
			for j := 0; j < L; j++ {
				rq[b*L+j] = l.diag[j] * r[b*L+j]
			}
		}
	} else if n > 0 {
		gemm.Dgemm(blas.NoTrans, blas.NoTrans, n, L, L, 1, r, L, l.q, L, 0, rq, L)
	}
	var s float64
	for i, v := range r {
		s += v * rq[i]
	}
	if grad != nil {
		for b := 0; b < n; b++ {
			g := grad[b*Lo : (b+1)*Lo]
			for j, v := range rq[b*L+off : b*L+off+Lo] {
				g[j] = -2 * v
			}
		}
	}
	return s
}
