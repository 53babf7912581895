package data

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/matapprox/matapprox/structure"
)

// ErrFormat is wrapped by every error reporting a malformed data file.
var ErrFormat = errors.New("malformed data file")

// Set is a data set of Rows generators of length Dim, stored row-major in X
// (len(X) = Rows·Dim; row i is X[i·Dim : (i+1)·Dim]).
type Set struct {
	Dim, Rows int
	X         []float64
}

// Row returns row i of s (a view into X).
func (s *Set) Row(i int) []float64 {
	return s.X[i*s.Dim : (i+1)*s.Dim : (i+1)*s.Dim]
}

// Generate returns rows generators of band b drawn by g from rng, one row
// after another. It panics if b is invalid or rows is negative.
func Generate(g Generator, b structure.Band, rows int, rng *rand.Rand) *Set {
	if err := b.Check(); err != nil {
		panic("data: Generate: " + err.Error())
	}
	if rows < 0 {
		panic(fmt.Sprintf("data: Generate: negative row count %d", rows))
	}
	s := &Set{Dim: b.Len(), Rows: rows, X: make([]float64, rows*b.Len())}
	for i := range rows {
		g.Fill(s.Row(i), rng)
	}
	return s
}

// Split shuffles the rows of s with rng (Fisher–Yates) and returns the first
// round(valFraction·Rows) of them, at least 1 and at most Rows−1, as val and
// the rest as train. Both are copies. It returns an error if s has fewer
// than 2 rows or valFraction is not strictly between 0 and 1.
func (s *Set) Split(valFraction float64, rng *rand.Rand) (train, val *Set, err error) {
	if !(valFraction > 0 && valFraction < 1) {
		return nil, nil, fmt.Errorf("validation fraction %v: must be strictly between 0 and 1", valFraction)
	}
	if s.Rows < 2 {
		return nil, nil, fmt.Errorf("cannot split %d rows into non-empty training and validation sets: need at least 2", s.Rows)
	}
	nv := int(math.Round(valFraction * float64(s.Rows)))
	nv = min(max(nv, 1), s.Rows-1)
	perm := make([]int, s.Rows)
	shuffle(perm, rng)
	pick := func(idx []int) *Set {
		out := &Set{Dim: s.Dim, Rows: len(idx), X: make([]float64, len(idx)*s.Dim)}
		for i, j := range idx {
			copy(out.Row(i), s.Row(j))
		}
		return out
	}
	return pick(perm[nv:]), pick(perm[:nv]), nil
}

// Validate checks that s holds generators of band b: Dim = 2K+1, at least
// one row, len(X) = Rows·Dim and finite values below structure.MaxEntry in
// magnitude. Errors wrap structure.ErrBand, structure.ErrLength,
// structure.ErrNonFinite or structure.ErrRange and name
// the offending row and column, counting from 1.
func (s *Set) Validate(b structure.Band) error {
	if err := b.Check(); err != nil {
		return err
	}
	if s.Dim != b.Len() {
		return fmt.Errorf("data has %d values per row but band %v needs 2K+1 = %d: %w", s.Dim, b, b.Len(), structure.ErrLength)
	}
	if s.Rows < 1 {
		return fmt.Errorf("data set has no rows: %w", structure.ErrLength)
	}
	if len(s.X) != s.Rows*s.Dim {
		return fmt.Errorf("data set holds %d values, want Rows·Dim = %d·%d: %w", len(s.X), s.Rows, s.Dim, structure.ErrLength)
	}
	for i, v := range s.X {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("row %d, column %d: value %v is not finite: %w", i/s.Dim+1, i%s.Dim+1, v, structure.ErrNonFinite)
		}
		if math.Abs(v) >= structure.MaxEntry {
			return fmt.Errorf("row %d, column %d: value %v is not below 2^1023 ≈ 8.99e307 in magnitude (rescale the data): %w", i/s.Dim+1, i%s.Dim+1, v, structure.ErrRange)
		}
	}
	return nil
}

// shuffle sets p to a uniformly random permutation of 0..len(p)-1 drawn
// from rng by the Fisher–Yates shuffle: for i = len(p)−1 down to 1 it calls
// rng.IntN(i+1) once and swaps. A nil rng leaves the identity.
func shuffle(p []int, rng *rand.Rand) {
	for i := range p {
		p[i] = i
	}
	if rng == nil {
		return
	}
	for i := len(p) - 1; i > 0; i-- {
		j := rng.IntN(i + 1)
		p[i], p[j] = p[j], p[i]
	}
}
