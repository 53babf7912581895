package structure

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/matapprox/matapprox/internal/gemm"
)

// ErrSingularOption reports an invalid TopSingularOptions field or count.
var ErrSingularOption = errors.New("invalid top-singular option")

// Defaults of TopSingularOptions.
const (
	// DefaultSingularTol is the default relative residual: a triplet is
	// accepted when ||T(g)ᵀu − σv|| <= Tol·σ_1.
	DefaultSingularTol = 1e-12
	// DefaultSingularMaxRestarts is the default limit on restart cycles.
	DefaultSingularMaxRestarts = 300
)

// TopSingularOptions configures a TopSingular. The zero value of every
// field selects its default.
type TopSingularOptions struct {
	// Tol is the relative residual at which a triplet is accepted:
	// ||T(g)ᵀu_i − σ_i v_i|| <= Tol·σ_1 (and T(g)v_i = σ_i u_i holds by
	// construction). Zero means DefaultSingularTol.
	Tol float64
	// Block is the block size of the Krylov iteration, the largest
	// multiplicity of a singular value that is resolved without relying on
	// rounding. Zero means max(k, 4), capped at N.
	Block int
	// Basis is the largest Krylov basis kept between restarts. Zero means
	// min(N, k + max(3·Block, 32)).
	Basis int
	// MaxRestarts limits the restart cycles. Zero means
	// DefaultSingularMaxRestarts.
	MaxRestarts int
	// Seed seeds the random start block (and the random vectors that
	// replace directions lost to deflation).
	Seed uint64
	// Converge is the number of leading triplets that must reach Tol; the
	// others are returned as the Ritz triplets of the final basis, at
	// whatever accuracy they have (their Residuals say). Zero means k.
	// An outer optimisation that needs σ_1 and a good approximation of
	// the top singular subspace, not every vector to full accuracy, sets
	// it low.
	Converge int
}

// Singular holds the top k singular triplets of T(g) found by
// TopSingular.Compute: T(g) V[:, i] = Values[i] U[:, i].
type Singular struct {
	// Values are the singular value estimates σ_1 >= σ_2 >= … >= σ_k. Each
	// is a Rayleigh–Ritz value ||T(g)v_i||, hence (up to rounding) at most
	// the true i-th singular value.
	Values []float64
	// U and V are N×k with orthonormal columns (to the accuracy of the
	// residuals): the left and right singular vectors.
	U, V *mat.Dense
	// Residuals[i] = ||T(g)ᵀU[:, i] − Values[i]·V[:, i]||: some singular
	// value of T(g) lies within Residuals[i] of Values[i].
	Residuals []float64
	// Upper is a certified upper bound on σ_1 (up to the backward error of
	// a banded Cholesky factorization, which is included as a margin), or
	// +Inf when none was computed (only when the basis spans the whole
	// space, where Values are exact to rounding). It is proved by the
	// factorization of μI − T(g)ᵀT(g) ≻ 0 with μ = Upper².
	Upper float64
	// Exp is the binary exponent by which g was scaled: the singular values
	// of T(g·2^−Exp) are Scaled, finite for every finite g even where
	// Values overflow to +Inf.
	Exp int
	// Scaled are the singular values of T(g·2^−Exp).
	Scaled []float64
	// Products counts the products with T(g)ᵀT(g) (each two banded
	// products, O(N·K)).
	Products int
	// Converged reports whether every residual reached the tolerance.
	Converged bool
}

// TopSingular computes the largest singular values of banded Toeplitz
// matrices T(g) of one band and their singular vectors, using only banded
// operations: products with T(g) and T(g)ᵀ (O(N·K) each), and, for large N,
// a banded Cholesky factorization of μI − T(g)ᵀT(g) (O(N·K²), half-bandwidth
// 2K) and its solves (O(N·K)). Memory is O(N·(Basis + K)).
//
// The method is the block Lanczos (Krylov) iteration with full
// reorthogonalisation (classical Gram–Schmidt applied twice) and thick
// restart: the basis grows by blocks Op·Q_last orthogonalised against the
// basis until it holds Basis vectors; the Rayleigh–Ritz values and vectors
// of Op on it are computed (a dense symmetric eigenproblem of the basis
// size); the top Ritz vectors are kept and the iteration continues from
// their residuals (Golub & Underwood, "The block Lanczos method for
// computing eigenvalues", 1977; Wu & Simon, "Thick-restart Lanczos method
// for large symmetric eigenvalue problems", SIAM J. Matrix Anal. Appl.
// 22(2), 2000; Golub & Van Loan, Matrix Computations, §10.3).
//
// For N <= Basis the basis spans the space and Op = TᵀT gives the exact
// answer. For larger N the top of the spectrum of a Toeplitz matrix is a
// cluster with gaps O(1/N²), in which plain Lanczos needs O(N) steps; so a
// few cycles on TᵀT give an estimate σ̃ and the iteration continues with the
// shift-and-invert operator Op = (μI − TᵀT)⁻¹, μ slightly above σ_1², for
// which the top eigenvalues 1/(μ − σ_i²) are well separated (Ericsson &
// Ruhe, "The spectral transformation Lanczos method", Math. Comp. 35, 1980).
// μI − TᵀT is then positive definite, so its banded Cholesky factorization
// exists: a shift at which it fails is raised. A successful factorization at
// μ proves σ_1² <= μ; the final shift, just above the computed σ_1², gives
// Upper. The block size bounds the multiplicity resolved robustly; a
// cluster of nearly equal top singular values is found as a set.
//
// Overflow: g is scaled by a power of two (exactly) so that its largest
// entry lies in [1/2, 1); then σ_1 <= 2K+1 and no product can overflow for
// any finite g. Singular values are unscaled on return (Values overflow to
// +Inf only where σ_i > MaxFloat64; Scaled and Exp stay exact).
//
// Successive calls reuse the previous call's Ritz vectors as the start
// block, which speeds up nearby generators (as in an outer optimisation
// loop); Reset forgets them. A TopSingular is not safe for concurrent use.
type TopSingular struct {
	b               Band
	k, block, basis int
	nconv           int // leading triplets that must reach tol
	tol             float64
	maxRestarts     int
	rng             *rand.Rand
	src             *rand.PCG // rng's source, reseeded by Reset
	seed            uint64
	gs              []float64 // scaled generator
	q, aq           []float64 // basis and Op·basis, column j at [j*N, (j+1)*N)
	h               []float64 // Rayleigh–Ritz matrix, basis×basis
	tmp, tmp2       []float64 // length N
	warm            bool
	eig             mat.EigenSym
	evec            mat.Dense
	keepQ, keepAQ   []float64
	theta           []float64 // Ritz values of Op, decreasing
	cbuf, ebuf      []float64 // projections (basis), Ritz coefficients (basis²)
	order           []int

	// Shift-and-invert.
	invert bool
	mu     float64
	p      int       // half-bandwidth of TᵀT
	ata    []float64 // TᵀT, lower band, row i at [i*(p+1), (i+1)*(p+1)), entry (i, i-p+c) at column c
	chol   []float64 // Cholesky factor of μI − TᵀT, same layout
}

// NewTopSingular returns an oracle for the k largest singular triplets of
// T(g), g a generator of b. It checks b, 1 <= k <= N and the options; an
// invalid option or k gives an error wrapping ErrSingularOption, an
// invalid band ErrBand. opts may be nil.
func NewTopSingular(b Band, k int, opts *TopSingularOptions) (*TopSingular, error) {
	if err := b.Check(); err != nil {
		return nil, fmt.Errorf("structure: top singular triplets: %w", err)
	}
	if k < 1 || k > b.N {
		return nil, fmt.Errorf("structure: %d top singular triplets of an N = %d matrix: want 1..N: %w", k, b.N, ErrSingularOption)
	}
	var o TopSingularOptions
	if opts != nil {
		o = *opts
	}
	if !(o.Tol >= 0 && o.Tol < 1) {
		return nil, fmt.Errorf("structure: tolerance %v: must be in [0, 1): %w", o.Tol, ErrSingularOption)
	}
	if o.Block < 0 || o.Basis < 0 || o.MaxRestarts < 0 || o.Converge < 0 {
		return nil, fmt.Errorf("structure: Block %d, Basis %d, MaxRestarts %d, Converge %d: must not be negative: %w", o.Block, o.Basis, o.MaxRestarts, o.Converge, ErrSingularOption)
	}
	t := &TopSingular{b: b, k: k, tol: o.Tol, maxRestarts: o.MaxRestarts, nconv: min(k, o.Converge)}
	if t.nconv == 0 {
		t.nconv = k
	}
	if t.tol == 0 {
		t.tol = DefaultSingularTol
	}
	if t.maxRestarts == 0 {
		t.maxRestarts = DefaultSingularMaxRestarts
	}
	t.block = o.Block
	if t.block == 0 {
		t.block = max(k, 4)
	}
	t.block = min(t.block, b.N)
	t.basis = o.Basis
	if t.basis == 0 {
		t.basis = k + max(3*t.block, 32)
	}
	t.basis = min(b.N, t.basis)
	if t.basis < min(b.N, k+t.block) {
		return nil, fmt.Errorf("structure: basis %d smaller than k + block = %d: %w", t.basis, k+t.block, ErrSingularOption)
	}
	n, m := b.N, t.basis
	t.p = min(2*b.K, n-1)
	if float64(n)*float64(2*m+t.p+1) > 1<<31 {
		return nil, fmt.Errorf("structure: workspace of %d vectors of length %d is too large: %w", 2*m+t.p+1, n, ErrSingularOption)
	}
	t.src = rand.NewPCG(o.Seed, 0x5eed)
	t.seed = o.Seed
	t.rng = rand.New(t.src)
	t.gs = make([]float64, b.Len())
	t.q = make([]float64, n*m)
	t.aq = make([]float64, n*m)
	t.h = make([]float64, m*m)
	t.tmp = make([]float64, n)
	t.tmp2 = make([]float64, n)
	t.keepQ = make([]float64, n*m)
	t.keepAQ = make([]float64, n*m)
	t.theta = make([]float64, m)
	t.cbuf = make([]float64, m)
	t.ebuf = make([]float64, m*m)
	t.order = make([]int, m)
	return t, nil
}

// Band returns the band of the generators.
func (t *TopSingular) Band() Band { return t.b }

// K returns the number of triplets computed.
func (t *TopSingular) K() int { return t.k }

// Reset forgets the vectors of the previous call and reseeds the random
// start, so the next Compute starts from the same random block as the
// first one did: after Reset, Compute's result depends on its argument
// alone, not on the calls before it.
func (t *TopSingular) Reset() {
	t.warm = false
	t.src.Seed(t.seed, 0x5eed)
}

func (t *TopSingular) col(s []float64, j int) []float64 { return s[j*t.b.N : (j+1)*t.b.N] }

// apply sets dst = Op y: TᵀT y, or (μI − TᵀT)⁻¹ y in shift-invert mode.
func (t *TopSingular) apply(dst, y []float64) {
	if t.invert {
		t.solve(dst, y)
		return
	}
	t.b.MulVec(t.tmp, t.gs, y)
	t.b.MulTransVec(dst, t.gs, t.tmp)
}

// formATA fills t.ata with the band of TᵀT for the scaled generator:
// (TᵀT)[i][j] = Σ_l T[l][i] T[l][j], T[l][i] = g[K+i−l].
func (t *TopSingular) formATA() {
	n, K, p := t.b.N, t.b.K, t.p
	if t.ata == nil {
		t.ata = make([]float64, n*(p+1))
		t.chol = make([]float64, n*(p+1))
	}
	for i := 0; i < n; i++ {
		row := t.ata[i*(p+1) : (i+1)*(p+1)]
		for c := range row {
			row[c] = 0
		}
		for j := max(0, i-p); j <= i; j++ {
			var s float64
			for l := max(0, i-K); l <= min(n-1, j+K); l++ {
				s += t.gs[K+i-l] * t.gs[K+j-l]
			}
			row[j-i+p] = s
		}
	}
}

// factor computes the banded Cholesky factor of μI − TᵀT and reports
// whether it is positive definite.
func (t *TopSingular) factor(mu float64) bool {
	n, p := t.b.N, t.p
	w := p + 1
	for i := 0; i < n; i++ {
		for j := max(0, i-p); j <= i; j++ {
			s := -t.ata[i*w+j-i+p]
			if i == j {
				s += mu
			}
			for c := max(0, i-p); c < j; c++ {
				s -= t.chol[i*w+c-i+p] * t.chol[j*w+c-j+p]
			}
			if i == j {
				if !(s > 0) {
					return false
				}
				t.chol[i*w+p] = math.Sqrt(s)
			} else {
				t.chol[i*w+j-i+p] = s / t.chol[j*w+p]
			}
		}
	}
	return true
}

// solve sets dst = (μI − TᵀT)⁻¹ y from the Cholesky factor.
func (t *TopSingular) solve(dst, y []float64) {
	n, p := t.b.N, t.p
	w := p + 1
	for i := 0; i < n; i++ {
		lo := max(0, i-p)
		s := y[i] - floats.Dot(t.chol[i*w+lo-i+p:i*w+p], dst[lo:i])
		dst[i] = s / t.chol[i*w+p]
	}
	// Lᵀ x = z by columns of Lᵀ (rows of L), which are contiguous.
	for i := n - 1; i >= 0; i-- {
		xi := dst[i] / t.chol[i*w+p]
		dst[i] = xi
		lo := max(0, i-p)
		row := t.chol[i*w+lo-i+p : i*w+p]
		floats.AddScaled(dst[lo:i], -xi, row)
	}
}

// orth orthogonalises column j of t.q against columns 0..j-1 (twice) and
// normalises it. It reports false if nothing is left of it.
func (t *TopSingular) orth(j int) bool {
	v := t.col(t.q, j)
	before := floats.Norm(v, 2)
	if !(before > 0) || math.IsInf(before, 0) {
		return false
	}
	if j > 0 {
		// Classical Gram–Schmidt twice, as two matrix–vector products per
		// pass with the basis (rows of t.q).
		n := t.b.N
		q := blas64.General{Rows: j, Cols: n, Stride: n, Data: t.q[:j*n]}
		c := t.cbuf[:j]
		for pass := 0; pass < 2; pass++ {
			blas64.Gemv(blas.NoTrans, 1, q, blas64.Vector{N: n, Inc: 1, Data: v}, 0, blas64.Vector{N: j, Inc: 1, Data: c})
			blas64.Gemv(blas.Trans, -1, q, blas64.Vector{N: j, Inc: 1, Data: c}, 1, blas64.Vector{N: n, Inc: 1, Data: v})
		}
	}
	after := floats.Norm(v, 2)
	if !(after > 1e-10*before) {
		return false
	}
	floats.Scale(1/after, v)
	return true
}

// addColumn makes column j of t.q (already filled with a candidate)
// orthonormal to the basis, replacing it by random vectors if it is in the
// span, computes its product and the new row/column of H. It reports false
// if the basis already spans the space.
func (t *TopSingular) addColumn(j int) bool {
	n, m := t.b.N, t.basis
	if j >= n {
		return false
	}
	for try := 0; !t.orth(j); try++ {
		if try == 8 {
			return false
		}
		v := t.col(t.q, j)
		for i := range v {
			v[i] = t.rng.NormFloat64()
		}
	}
	a := t.col(t.aq, j)
	t.apply(a, t.col(t.q, j))
	c := t.cbuf[:j+1]
	blas64.Gemv(blas.NoTrans, 1, blas64.General{Rows: j + 1, Cols: n, Stride: n, Data: t.q[:(j+1)*n]},
		blas64.Vector{N: n, Inc: 1, Data: a}, 0, blas64.Vector{N: j + 1, Inc: 1, Data: c})
	for i, hij := range c {
		t.h[i*m+j], t.h[j*m+i] = hij, hij
	}
	return true
}

// triplet sets u = T v/||T v|| and returns σ = ||T v|| and the residual
// ||Tᵀu − σv|| (scaled units).
func (t *TopSingular) triplet(u, v []float64) (sigma, resid float64) {
	t.b.MulVec(u, t.gs, v)
	sigma = floats.Norm(u, 2)
	if sigma == 0 {
		return 0, 0
	}
	floats.Scale(1/sigma, u)
	t.b.MulTransVec(t.tmp2, t.gs, u)
	floats.AddScaled(t.tmp2, -sigma, v)
	return sigma, floats.Norm(t.tmp2, 2)
}

// run performs block Krylov cycles with the current operator, starting from
// the first `start` columns of t.keepQ (completed by random vectors), for at
// most maxCycles restarts. On return the first k columns of t.keepQ are the
// top Ritz vectors. It returns the number of operator applications and
// whether the top k triplets reached the tolerance (or the basis spans the
// space).
func (t *TopSingular) run(start, maxCycles int, sig []float64) (products int, conv bool) {
	n, m, k, bs := t.b.N, t.basis, t.k, t.block
	for j := 0; j < start; j++ {
		copy(t.col(t.q, j), t.col(t.keepQ, j))
	}
	for j := start; j < max(bs, start); j++ {
		v := t.col(t.q, j)
		for i := range v {
			v[i] = t.rng.NormFloat64()
		}
	}
	used := 0
	for j := 0; j < max(bs, start); j++ {
		if t.addColumn(used) {
			used++
		}
	}
	products = used
	last0, last1 := 0, used
	prev := make([]float64, k)
	u := t.tmp // not used by triplet's internals except via tmp2
	_ = u
	uvec := make([]float64, n)
	for cycle := 0; ; cycle++ {
		for used < m {
			added := 0
			for j := last0; j < last1 && used < m; j++ {
				copy(t.col(t.q, used), t.col(t.aq, j))
				if t.addColumn(used) {
					used++
					added++
					products++
				}
			}
			if added == 0 {
				break
			}
			last0, last1 = used-added, used
		}
		hs := mat.NewSymDense(used, nil)
		for i := 0; i < used; i++ {
			for j := i; j < used; j++ {
				hs.SetSym(i, j, t.h[i*m+j])
			}
		}
		if !t.eig.Factorize(hs, true) {
			return products, false
		}
		theta := t.eig.Values(nil)
		t.eig.VectorsTo(&t.evec)
		order := t.order[:used]
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool { return theta[order[a]] > theta[order[b]] })
		keep := min(used, m-bs, max(k+bs, k+(m-k)/2))
		keep = max(keep, min(used, k))
		// Ritz vectors: keepQ = E·Q and keepAQ = E·AQ (rows are vectors),
		// E[c][j] = evec[j][order[c]].
		e := t.ebuf[:keep*used]
		for c := 0; c < keep; c++ {
			oc := order[c]
			for j := 0; j < used; j++ {
				e[c*used+j] = t.evec.At(j, oc)
			}
			t.theta[c] = theta[oc]
		}
		gemm.Dgemm(blas.NoTrans, blas.NoTrans, keep, n, used, 1, e, used, t.q, n, 0, t.keepQ, n)
		gemm.Dgemm(blas.NoTrans, blas.NoTrans, keep, n, used, 1, e, used, t.aq, n, 0, t.keepAQ, n)
		complete := used == n
		conv = true
		stagnant := cycle > 0
		var s1 float64
		for c := 0; c < t.nconv; c++ {
			sg, r := t.triplet(uvec, t.col(t.keepQ, c))
			if c == 0 {
				s1 = sg
			}
			sig[c] = sg
			if !(r <= t.tol*s1) {
				conv = false
			}
			if !(math.Abs(sg-prev[c]) <= t.tol*s1) {
				stagnant = false
			}
			prev[c] = sg
		}
		if conv || stagnant || complete || cycle >= maxCycles || used < m {
			return products, conv || stagnant || complete
		}
		copy(t.q[:keep*n], t.keepQ[:keep*n])
		copy(t.aq[:keep*n], t.keepAQ[:keep*n])
		for i := 0; i < keep; i++ {
			for j := 0; j < keep; j++ {
				t.h[i*m+j] = 0
			}
			t.h[i*m+i] = t.theta[i]
		}
		used = keep
		last0, last1 = 0, min(bs, keep)
	}
}

// Compute returns the top k singular triplets of T(g). g must be a finite
// generator of the band (the error wraps ErrLength or ErrNonFinite). If
// the residuals do not reach the tolerance within MaxRestarts cycles the
// best estimates are returned with Converged false and no error. The
// returned matrices are newly allocated.
func (t *TopSingular) Compute(g []float64) (*Singular, error) {
	if err := t.b.Validate(g); err != nil {
		return nil, fmt.Errorf("structure: top singular triplets: %w", err)
	}
	n, m, k := t.b.N, t.basis, t.k
	var gmax float64
	for _, v := range g {
		gmax = math.Max(gmax, math.Abs(v))
	}
	res := &Singular{Values: make([]float64, k), Scaled: make([]float64, k), U: mat.NewDense(n, k, nil), V: mat.NewDense(n, k, nil),
		Residuals: make([]float64, k), Upper: math.Inf(1)}
	if gmax == 0 {
		// T = 0: every vector is singular; return the first unit vectors.
		for i := 0; i < k; i++ {
			res.U.Set(i, i, 1)
			res.V.Set(i, i, 1)
		}
		res.Converged, res.Upper = true, 0
		return res, nil
	}
	_, e := math.Frexp(gmax)
	res.Exp = e
	for i, v := range g {
		t.gs[i] = math.Ldexp(v, -e)
	}
	start := 0
	if t.warm {
		start = k
	}
	sig := make([]float64, k)
	t.invert = false
	if m >= n {
		p, conv := t.run(start, t.maxRestarts, sig)
		res.Products, res.Converged = p, conv
	} else {
		// Shift-and-invert from just above the symbol's maximum, which
		// bounds σ_1 for every N (T_N(g) is a compression of the Laurent
		// operator) and exceeds it by O(1/N²).
		t.formATA()
		var anorm float64 // ||TᵀT||_1 bound: (Σ|g|)²
		for _, v := range t.gs {
			anorm += math.Abs(v)
		}
		anorm *= anorm
		// Backward error of the banded Cholesky: (p+1)·ε·||A||, doubled.
		margin := 2 * float64(t.p+2) * 0x1p-52 * anorm
		sm := SymbolMax(t.gs)
		s2 := sm * sm
		delta := math.Max(1e-13*s2, 4*margin)
		ok := false
		for try := 0; try < 60; try++ {
			t.mu = s2 + delta
			if t.factor(t.mu) {
				ok = true
				break
			}
			delta *= 4
		}
		if !ok {
			return nil, fmt.Errorf("structure: top singular triplets: no positive definite shift found")
		}
		t.invert = true
		p, conv := t.run(start, t.maxRestarts, sig)
		res.Products += p
		res.Converged = conv
		// Certify σ_1² <= μ at a shift just above the computed σ_1².
		s2 = sig[0] * sig[0]
		for _, rel := range []float64{1e-13, 1e-11, 1e-9, 1e-7, 1e-5, 1e-3} {
			mu := s2*(1+rel) + margin
			if t.factor(mu) {
				res.Upper = math.Ldexp(math.Sqrt(mu+margin), e)
				break
			}
		}
		t.invert = false
	}
	uvec := make([]float64, n)
	for c := 0; c < k; c++ {
		v := t.col(t.keepQ, c)
		floats.Scale(1/floats.Norm(v, 2), v)
		sg, r := t.triplet(uvec, v)
		if sg == 0 {
			// A null vector: any unit u orthogonal to the previous ones.
			copy(uvec, v)
			for p := 0; p < c; p++ {
				up := mat.Col(nil, p, res.U)
				floats.AddScaled(uvec, -floats.Dot(up, uvec), up)
			}
			if nu := floats.Norm(uvec, 2); nu > 0 {
				floats.Scale(1/nu, uvec)
			}
		}
		res.Scaled[c] = sg
		res.Values[c] = math.Ldexp(sg, e)
		res.Residuals[c] = math.Ldexp(r, e)
		res.U.SetCol(c, uvec)
		res.V.SetCol(c, v)
	}
	t.warm = true
	return res, nil
}

// SymbolMax returns max_θ |ĝ(θ)|, ĝ(θ) = Σ_d g[K+d] e^{idθ}, the 2-norm of
// the bi-infinite (Laurent) Toeplitz operator of g, an upper bound on
// ||T_N(g)||_2 for every N. It is computed on a grid of 32(2K+1)+64 points
// of [0, π] (|ĝ(−θ)| = |ĝ(θ)| for real g) refined by Newton's method at the
// best grid points, so it is accurate to rounding for smooth maxima but is
// not a rigorous bound between grid points. The generator's entries must be
// at most about 1e150 in magnitude (squares are formed).
func SymbolMax(g []float64) float64 {
	K := (len(g) - 1) / 2
	f := func(th float64) (v, d1, d2 float64) {
		var re, im, re1, im1, re2, im2 float64
		for i, c := range g {
			d := float64(i - K)
			sn, cs := math.Sincos(d * th)
			re += c * cs
			im += c * sn
			re1 -= c * d * sn
			im1 += c * d * cs
			re2 -= c * d * d * cs
			im2 -= c * d * d * sn
		}
		return re*re + im*im, 2 * (re*re1 + im*im1), 2 * (re1*re1 + im1*im1 + re*re2 + im*im2)
	}
	grid := 32*len(g) + 64
	type pt struct{ th, v float64 }
	best := make([]pt, 0, 4)
	for i := 0; i <= grid; i++ {
		th := math.Pi * float64(i) / float64(grid)
		v, _, _ := f(th)
		best = append(best, pt{th, v})
		sort.Slice(best, func(a, b int) bool { return best[a].v > best[b].v })
		if len(best) > 4 {
			best = best[:4]
		}
	}
	h := math.Pi / float64(grid)
	out := best[0].v
	for _, p := range best {
		th := p.th
		for it := 0; it < 30; it++ {
			v, d1, d2 := f(th)
			out = math.Max(out, v)
			if !(d2 < 0) {
				break
			}
			step := -d1 / d2
			if math.Abs(step) > h {
				step = math.Copysign(h, step)
			}
			th += step
			if math.Abs(step) < 1e-15 {
				break
			}
		}
		if v, _, _ := f(th); v > out {
			out = v
		}
	}
	return math.Sqrt(out)
}
