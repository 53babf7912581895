package data

import (
	"errors"
	"fmt"
	"math/rand/v2"
)

// Loader serves the rows of a Set in mini-batches, reshuffled every epoch,
// like PyTorch's DataLoader(shuffle=True). Serving a batch copies rows into
// a caller-provided buffer and allocates nothing.
//
// Reproducibility contract: Reset draws the epoch's permutation from rng
// (Fisher–Yates, exactly Rows−1 calls rng.IntN(i+1), i = Rows−1 … 1) at
// the start of the epoch, and Next never uses a random number generator.
// Hence a trainer that checkpoints the state of its random source (for
// example rand.PCG.MarshalBinary) at an epoch boundary, before calling
// Reset, and restores it on resume, reproduces every later epoch exactly.
// To resume in the middle of an epoch, checkpoint State and call Restore.
type Loader struct {
	set      *Set
	batch    int
	dropLast bool
	perm     []int
	pos      int // number of entries of perm served this epoch
	last     int // rows in the last batch served
	epoch    int
}

// NewLoader returns a Loader of batches of up to batch rows of s. If
// dropLast is true, a final batch of fewer rows is skipped (PyTorch's
// drop_last=True); otherwise it is served. The Loader starts with no epoch:
// call Reset before Next.
func NewLoader(s *Set, batch int, dropLast bool) (*Loader, error) {
	switch {
	case s == nil || s.Rows < 1:
		return nil, errors.New("data: loader needs a data set with at least one row")
	case len(s.X) != s.Rows*s.Dim:
		return nil, fmt.Errorf("data: loader: data set holds %d values, want Rows·Dim = %d·%d", len(s.X), s.Rows, s.Dim)
	case batch < 1:
		return nil, fmt.Errorf("data: batch size %d: must be at least 1", batch)
	case dropLast && batch > s.Rows:
		return nil, fmt.Errorf("data: batch size %d exceeds the %d rows: with drop-last no batch would be served", batch, s.Rows)
	}
	perm := make([]int, s.Rows)
	for i := range perm {
		perm[i] = i
	}
	return &Loader{set: s, batch: batch, dropLast: dropLast, perm: perm, pos: s.Rows}, nil
}

// Reset starts a new epoch: it draws a uniformly random order of the rows
// from rng, or keeps the rows in order if rng is nil.
func (l *Loader) Reset(rng *rand.Rand) {
	shuffle(l.perm, rng)
	l.pos, l.last = 0, 0
	l.epoch++
}

// Next copies the next batch of the epoch into dst, row-major, and returns
// the number n of rows copied (dst[:n·Dim] is written) and true; at the end
// of the epoch it returns 0, false. It panics if len(dst) < BatchSize·Dim.
func (l *Loader) Next(dst []float64) (n int, ok bool) {
	dim := l.set.Dim
	if len(dst) < l.batch*dim {
		panic(fmt.Sprintf("data: Loader.Next: buffer of length %d, want at least BatchSize·Dim = %d", len(dst), l.batch*dim))
	}
	n = min(l.batch, l.set.Rows-l.pos)
	if n == 0 || (l.dropLast && n < l.batch) {
		l.last = 0
		return 0, false
	}
	for i, r := range l.perm[l.pos : l.pos+n] {
		copy(dst[i*dim:(i+1)*dim], l.set.X[r*dim:(r+1)*dim])
	}
	l.pos += n
	l.last = n
	return n, true
}

// Indices returns the row indices in the Set of the batch last served by
// Next, in batch order. The slice is a view, valid until the next Reset or
// Restore.
func (l *Loader) Indices() []int { return l.perm[l.pos-l.last : l.pos] }

// BatchSize returns the number of rows of a full batch.
func (l *Loader) BatchSize() int { return l.batch }

// Batches returns the number of batches served per epoch.
func (l *Loader) Batches() int {
	if l.dropLast {
		return l.set.Rows / l.batch
	}
	return (l.set.Rows + l.batch - 1) / l.batch
}

// Epoch returns the number of epochs started (calls to Reset).
func (l *Loader) Epoch() int { return l.epoch }

// Pos returns the number of rows served in the current epoch.
func (l *Loader) Pos() int { return l.pos }

// LoaderState is the position of a Loader within its epochs, enough to
// resume mid-epoch exactly.
type LoaderState struct {
	Epoch int   // epochs started
	Pos   int   // rows served in the current epoch
	Perm  []int // the current epoch's order of the rows
}

// State returns a copy of the Loader's position.
func (l *Loader) State() LoaderState {
	return LoaderState{Epoch: l.epoch, Pos: l.pos, Perm: append([]int(nil), l.perm...)}
}

// Restore sets the Loader's position to st, typically read from a
// checkpoint. It returns an error, leaving the Loader unchanged, if st does
// not fit the Loader's data set: Perm must be a permutation of 0..Rows−1
// and Pos between 0 and Rows.
func (l *Loader) Restore(st LoaderState) error {
	n := l.set.Rows
	if len(st.Perm) != n {
		return fmt.Errorf("data: loader state has a permutation of %d rows, want %d", len(st.Perm), n)
	}
	if st.Pos < 0 || st.Pos > n || st.Epoch < 0 {
		return fmt.Errorf("data: loader state position %d (epoch %d) out of range for %d rows", st.Pos, st.Epoch, n)
	}
	seen := make([]bool, n)
	for _, r := range st.Perm {
		if r < 0 || r >= n || seen[r] {
			return fmt.Errorf("data: loader state order is not a permutation of 0..%d", n-1)
		}
		seen[r] = true
	}
	copy(l.perm, st.Perm)
	l.pos, l.last, l.epoch = st.Pos, 0, st.Epoch
	return nil
}
