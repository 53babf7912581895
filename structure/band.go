// Package structure implements banded Toeplitz matrices given by their
// generator.
//
// An N×N Toeplitz matrix of half-bandwidth K (0 <= K <= N-1) is determined by
// a generator g of 2K+1 numbers:
//
//	M[i][j] = g[K + j - i]  if |j - i| <= K,
//	M[i][j] = 0             otherwise.
//
// Entry g[K+d] lies on diagonal d = j - i, so g[K] is the main diagonal,
// g[K+1] the first superdiagonal and g[K-1] the first subdiagonal. With
// N = 11 and K = 5 this is exactly the notebook's row_to_matrix.
//
// Writing S_d for the N×N shift with ones at (i, i+d), T(g) = Σ_d g[K+d] S_d,
// so T is linear in g. The Frobenius inner product of two shifts is
// ⟨S_d, S_e⟩ = (N-|d|) δ_de, hence ||T(g)||_F² = Σ_d (N-|d|) g[K+d]²
// (see Weights). A narrower band K' <= K embeds into K by zero padding
// (Embed), the operation the notebook performs with F.pad(logits, (2, 2)).
//
// Products never form the matrix: MulVec costs O(N·K).
package structure

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Sentinel errors returned (wrapped) by validation. Callers test them with
// errors.Is.
var (
	// ErrBand reports a size or half-bandwidth out of range.
	ErrBand = errors.New("invalid band")
	// ErrLength reports a vector of the wrong length.
	ErrLength = errors.New("wrong length")
	// ErrNonFinite reports a NaN or infinite entry.
	ErrNonFinite = errors.New("non-finite value")
	// ErrRange reports an entry too large in magnitude (|v| >= MaxEntry).
	ErrRange = errors.New("value out of range")
)

// MaxEntry bounds the magnitude of generator entries: Validate refuses
// |v| >= 2¹⁰²³, because sums and differences of two such entries overflow
// float64 (the exact solvers and the 2-norm form them).
const MaxEntry = 0x1p1023

// Band describes the N×N Toeplitz matrices of half-bandwidth K.
type Band struct {
	N int // matrix size
	K int // half-bandwidth: entries with |j-i| <= K may be non-zero
}

// NewBand returns the band of N×N matrices with half-bandwidth K, checking
// that N >= 1 and 0 <= K <= N-1.
func NewBand(n, k int) (Band, error) {
	b := Band{N: n, K: k}
	return b, b.Check()
}

// Check reports whether b is a valid band.
func (b Band) Check() error {
	if b.N < 1 {
		return fmt.Errorf("matrix size N = %d: must be at least 1: %w", b.N, ErrBand)
	}
	if b.K < 0 || b.K > b.N-1 {
		return fmt.Errorf("half-bandwidth K = %d for N = %d: must be between 0 and N-1 = %d: %w", b.K, b.N, b.N-1, ErrBand)
	}
	return nil
}

// Len returns the generator length 2K+1.
func (b Band) Len() int { return 2*b.K + 1 }

// String returns a short description such as "N=11,K=5".
func (b Band) String() string { return fmt.Sprintf("N=%d,K=%d", b.N, b.K) }

// Validate checks that g is a generator of b: length 2K+1 and finite
// entries of magnitude below MaxEntry.
func (b Band) Validate(g []float64) error {
	if err := b.Check(); err != nil {
		return err
	}
	if len(g) != b.Len() {
		return fmt.Errorf("generator has %d entries, want 2K+1 = %d for %v: %w", len(g), b.Len(), b, ErrLength)
	}
	for i, v := range g {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("generator entry %d is %v: %w", i, v, ErrNonFinite)
		}
		if math.Abs(v) >= MaxEntry {
			return fmt.Errorf("generator entry %d is %v: entries must be below 2^1023 ≈ 8.99e307 in magnitude (rescale the matrix): %w", i, v, ErrRange)
		}
	}
	return nil
}

func (b Band) mustLen(g []float64, what string) {
	if len(g) != b.Len() {
		panic(fmt.Sprintf("structure: %s has length %d, want %d for %v", what, len(g), b.Len(), b))
	}
}

// Dense returns T(g) as a dense N×N matrix. It panics if len(g) != 2K+1;
// use Validate first on user input.
func (b Band) Dense(g []float64) *mat.Dense {
	b.mustLen(g, "generator")
	m := mat.NewDense(b.N, b.N, nil)
	for i := 0; i < b.N; i++ {
		lo, hi := max(0, i-b.K), min(b.N-1, i+b.K)
		for j := lo; j <= hi; j++ {
			m.Set(i, j, g[b.K+j-i])
		}
	}
	return m
}

// MulVec computes dst = T(g) y in O(N·K) without forming T(g). dst and y must
// have length N and must not overlap.
func (b Band) MulVec(dst, g, y []float64) {
	b.mustLen(g, "generator")
	if len(dst) != b.N || len(y) != b.N {
		panic(fmt.Sprintf("structure: MulVec lengths dst %d, y %d, want N = %d", len(dst), len(y), b.N))
	}
	for i := 0; i < b.N; i++ {
		lo, hi := max(0, i-b.K), min(b.N-1, i+b.K)
		var s float64
		for j := lo; j <= hi; j++ {
			s += g[b.K+j-i] * y[j]
		}
		dst[i] = s
	}
}

// MulTransVec computes dst = T(g)ᵀ y in O(N·K).
func (b Band) MulTransVec(dst, g, y []float64) {
	b.mustLen(g, "generator")
	if len(dst) != b.N || len(y) != b.N {
		panic(fmt.Sprintf("structure: MulTransVec lengths dst %d, y %d, want N = %d", len(dst), len(y), b.N))
	}
	for j := 0; j < b.N; j++ {
		lo, hi := max(0, j-b.K), min(b.N-1, j+b.K)
		var s float64
		for i := lo; i <= hi; i++ {
			s += g[b.K+j-i] * y[i]
		}
		dst[j] = s
	}
}

// Weights returns w with w[K+d] = N-|d|, the number of entries on diagonal d,
// so that ||T(g)||_F² = Σ w[i] g[i]².
func (b Band) Weights() []float64 {
	w := make([]float64, b.Len())
	for i := range w {
		d := i - b.K
		if d < 0 {
			d = -d
		}
		w[i] = float64(b.N - d)
	}
	return w
}

// Frobenius returns ||T(g)||_F = sqrt(Σ_d (N−|d|) g[K+d]²) computed from
// the generator in O(K). Like LAPACK's dnrm2 it scales before squaring
// (by the largest |g[i]|), so the result neither overflows nor underflows
// when the norm itself is representable: entries of 1e160 or 1e-300 give
// the right answer, not +Inf or 0.
func (b Band) Frobenius(g []float64) float64 {
	b.mustLen(g, "generator")
	var m float64
	for _, v := range g {
		if a := math.Abs(v); a > m || math.IsNaN(a) {
			m = a
		}
	}
	if m == 0 || math.IsNaN(m) || math.IsInf(m, 0) {
		return m
	}
	var s float64
	for i, v := range g {
		d := i - b.K
		if d < 0 {
			d = -d
		}
		r := v / m
		s += float64(b.N-d) * r * r
	}
	return m * math.Sqrt(s)
}

// FromDense extracts the generator of half-bandwidth k from the square matrix
// m. It returns an error wrapping ErrBand if m is not square, or if m is not
// Toeplitz with that band to within tol (absolute).
func FromDense(m mat.Matrix, k int, tol float64) ([]float64, error) {
	r, c := m.Dims()
	if r != c {
		return nil, fmt.Errorf("matrix is %d×%d, want square: %w", r, c, ErrBand)
	}
	b := Band{N: r, K: k}
	if err := b.Check(); err != nil {
		return nil, err
	}
	g := make([]float64, b.Len())
	for d := -k; d <= k; d++ {
		i0, j0 := max(0, -d), max(0, d)
		g[k+d] = m.At(i0, j0)
	}
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			want := 0.0
			if d := j - i; d >= -k && d <= k {
				want = g[k+d]
			}
			if v := m.At(i, j); !(math.Abs(v-want) <= tol) {
				return nil, fmt.Errorf("entry (%d,%d) = %v, want %v for a Toeplitz matrix of half-bandwidth %d: %w", i, j, v, want, k, ErrBand)
			}
		}
	}
	return g, nil
}

// Embed writes into dst (length 2K+1 of outer) the generator a of the
// narrower band inner, zero-padded on both sides: T_outer(dst) = T_inner(a).
// It panics if the bands are incompatible (different N or inner.K > outer.K).
func Embed(dst []float64, outer Band, a []float64, inner Band) {
	off := checkNested(outer, inner)
	outer.mustLen(dst, "embed destination")
	inner.mustLen(a, "embedded generator")
	for i := range dst {
		dst[i] = 0
	}
	copy(dst[off:], a)
}

// Restrict writes into dst (length 2K'+1 of inner) the central entries of g
// (length 2K+1 of outer): the truncation of T(g) to the narrower band.
func Restrict(dst, g []float64, outer, inner Band) {
	off := checkNested(outer, inner)
	outer.mustLen(g, "restricted generator")
	inner.mustLen(dst, "restrict destination")
	copy(dst, g[off:off+inner.Len()])
}

// Offset returns the index in an outer generator of the first entry of an
// inner one: outer.K - inner.K.
func Offset(outer, inner Band) int { return checkNested(outer, inner) }

// CheckNested reports whether inner is a narrower band of the same size as
// outer, so that Embed and Restrict apply.
func CheckNested(outer, inner Band) error {
	if err := outer.Check(); err != nil {
		return err
	}
	if err := inner.Check(); err != nil {
		return err
	}
	if outer.N != inner.N {
		return fmt.Errorf("bands have sizes %d and %d, want equal: %w", outer.N, inner.N, ErrBand)
	}
	if inner.K > outer.K {
		return fmt.Errorf("inner half-bandwidth %d exceeds outer %d: %w", inner.K, outer.K, ErrBand)
	}
	return nil
}

func checkNested(outer, inner Band) int {
	if err := CheckNested(outer, inner); err != nil {
		panic("structure: " + err.Error())
	}
	return outer.K - inner.K
}

// RowToMatrix is the notebook's row_to_matrix: a row of odd length n gives
// the n×n Toeplitz matrix of half-bandwidth n/2.
func RowToMatrix(row []float64) (*mat.Dense, error) {
	n := len(row)
	if n%2 == 0 {
		return nil, fmt.Errorf("row has %d entries, want an odd number (2K+1): %w", n, ErrLength)
	}
	b := Band{N: n, K: n / 2}
	if err := b.Validate(row); err != nil {
		return nil, err
	}
	return b.Dense(row), nil
}
