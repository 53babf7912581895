package eval

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/optimal"
	"github.com/matapprox/matapprox/structure"
)

// Origin names the kind of rows an evaluation covers; it is written to
// summary.json as "evaluated_on".
type Origin string

// The origins of evaluated rows.
const (
	// Validation rows were held out of training.
	Validation Origin = "validation"
	// Training rows were seen in training: an evaluation on them says how
	// well the network fits, not how well it generalises.
	Training Origin = "training"
	// Generated rows were drawn afresh from a generator.
	Generated Origin = "generated"
	// File rows were read from a file given by the user.
	File Origin = "file"
)

// Source yields the input generators of an evaluation, in batches.
type Source interface {
	// Next writes up to len(dst)/(2K+1) rows into dst and returns how many
	// it wrote; io.EOF (possibly with n > 0) after the last row. Any other
	// error stops the evaluation.
	Next(dst []float64) (n int, err error)
	// Origin says what kind of rows these are.
	Origin() Origin
	// Describe says in words which rows these are, for example "1000
	// validation matrices of runs/x" or "12 matrices from in.csv".
	Describe() string
}

type setSource struct {
	s      *data.Set
	pos    int
	origin Origin
	desc   string
}

// FromSet returns a Source of the rows of s. desc describes them; "" gives
// "R <origin> matrices".
func FromSet(s *data.Set, origin Origin, desc string) Source {
	if desc == "" {
		desc = fmt.Sprintf("%d %s matrices", s.Rows, origin)
	}
	return &setSource{s: s, origin: origin, desc: desc}
}

func (s *setSource) Next(dst []float64) (int, error) {
	d := s.s.Dim
	if d == 0 {
		return 0, io.EOF
	}
	n := min(len(dst)/d, s.s.Rows-s.pos)
	copy(dst, s.s.X[s.pos*d:(s.pos+n)*d])
	s.pos += n
	if s.pos >= s.s.Rows {
		return n, io.EOF
	}
	return n, nil
}

func (s *setSource) Origin() Origin   { return s.origin }
func (s *setSource) Describe() string { return s.desc }

// Optima are the exact optima of a trained loss for the rows of a set,
// computed before (by the trainer, for its validation gap), so that an
// evaluation of the set need not solve them again: A holds the optimal
// generators (2K'+1 per row, row-major) and Results each row's
// optimal.Result, as optimal.Solver.SolveBatch writes them.
type Optima struct {
	A       []float64
	Results []optimal.Result
}

// solvedSource is a Source that knows the optima of its rows.
type solvedSource interface {
	Source
	// nextSolved is Next that also writes each row's optimal generator
	// into opt and its Result into res.
	nextSolved(x, opt []float64, res []optimal.Result) (int, error)
}

type solvedSetSource struct {
	setSource
	known Optima
}

// FromSolvedSet is FromSet for rows whose optima under the trained loss are
// known: Evaluator.Run uses known instead of solving the rows. The caller
// guarantees that known are the optima of the Evaluator's trained loss as
// its solver computes them (the same loss, solver options and rows); Run
// checks only their sizes, and stops with an error if they do not fit.
func FromSolvedSet(s *data.Set, known Optima, origin Origin, desc string) Source {
	src := FromSet(s, origin, desc).(*setSource)
	return &solvedSetSource{setSource: *src, known: known}
}

func (s *solvedSetSource) nextSolved(x, opt []float64, res []optimal.Result) (int, error) {
	rows, d := s.s.Rows, s.s.Dim
	if d == 0 || len(x) < d {
		return 0, io.EOF
	}
	lo := len(opt) / (len(x) / d)
	if len(s.known.A) != rows*lo || len(s.known.Results) != rows {
		return 0, fmt.Errorf("eval: known optima: %d generator entries and %d results for %d rows of %d-entry optima",
			len(s.known.A), len(s.known.Results), rows, lo)
	}
	first := s.pos
	n, err := s.Next(x)
	copy(opt, s.known.A[first*lo:(first+n)*lo])
	copy(res, s.known.Results[first:first+n])
	return n, err
}

type readerSource struct {
	r     *data.Reader
	b     structure.Band
	name  string
	count int
	err   error
}

// FromReader returns a Source of the rows of a data file read one row at a
// time (Origin File); name is the file's name. Rows must be generators of
// band b: a row of another length or with non-finite values is an error
// naming the row.
func FromReader(r *data.Reader, b structure.Band, name string) Source {
	return &readerSource{r: r, b: b, name: name}
}

func (s *readerSource) Next(dst []float64) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	L := s.b.Len()
	if s.r.Dim() != L && s.r.Dim() != 0 {
		s.err = fmt.Errorf("%s: rows have %d entries, want 2K+1 = %d for half-bandwidth K = %d: %w", s.name, s.r.Dim(), L, s.b.K, structure.ErrLength)
		return 0, s.err
	}
	n := 0
	for ; n+1 <= len(dst)/L; n++ {
		err := s.r.Next(dst[n*L : (n+1)*L])
		if errors.Is(err, io.EOF) {
			s.err = io.EOF
			return n, io.EOF
		}
		if err != nil {
			s.err = err
			return n, err
		}
		s.count++
	}
	return n, nil
}

func (s *readerSource) Origin() Origin { return File }
func (s *readerSource) Describe() string {
	if s.err == io.EOF {
		return fmt.Sprintf("%d matrices from %s", s.count, s.name)
	}
	return "matrices from " + s.name
}

type genSource struct {
	g      data.Generator
	rng    *rand.Rand
	b      structure.Band
	left   int
	total  int
	origin Origin
	desc   string
}

// FromGenerator returns a Source of count rows of band b drawn by g from
// rng (Origin Generated): a family of inputs, in or out of the training
// distribution. desc describes them; "" gives "C matrices drawn from the
// <name> generator".
func FromGenerator(g data.Generator, b structure.Band, count int, rng *rand.Rand, desc string) Source {
	if desc == "" {
		desc = fmt.Sprintf("%d matrices drawn from the %s generator", count, g.Name())
	}
	return &genSource{g: g, rng: rng, b: b, left: max(count, 0), total: count, origin: Generated, desc: desc}
}

func (s *genSource) Next(dst []float64) (int, error) {
	L := s.b.Len()
	n := min(len(dst)/L, s.left)
	for i := 0; i < n; i++ {
		s.g.Fill(dst[i*L:(i+1)*L], s.rng)
	}
	s.left -= n
	if s.left == 0 {
		return n, io.EOF
	}
	return n, nil
}

func (s *genSource) Origin() Origin   { return s.origin }
func (s *genSource) Describe() string { return s.desc }
