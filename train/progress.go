package train

import (
	"math/rand/v2"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/structure"
)

// Progress is told how far a long phase of NewWithProgress has got: the
// phase ("training data", "validation data", "warm-start targets"), the
// units done and the total. It is called on New's goroutine, after each
// chunk of work.
type Progress func(phase string, done, total int)

// Chunk sizes of the phases that report progress. Results do not depend
// on them: rows are drawn in order from one random stream, and each exact
// optimum depends on its row only.
// (Variables, so that tests can make them small.)
var (
	generateChunk = 4096
	targetChunk   = 256
)

// generate draws rows matrices from g as data.Generate does, reporting
// progress after each chunk.
func generate(g data.Generator, b structure.Band, rows int, rng *rand.Rand, p Progress, phase string) *data.Set {
	if p == nil || rows <= generateChunk {
		return data.Generate(g, b, rows, rng)
	}
	s := &data.Set{Dim: b.Len(), Rows: rows, X: make([]float64, rows*b.Len())}
	for i := 0; i < rows; i += generateChunk {
		n := min(generateChunk, rows-i)
		c := data.Generate(g, b, n, rng)
		copy(s.X[i*s.Dim:], c.X)
		p(phase, i+n, rows)
	}
	return s
}

// chunkedTargets is targets in chunks of targetChunk rows, reporting
// progress after each.
func chunkedTargets(l loss.Loss, s *data.Set, p Progress) ([]float64, error) {
	_, out := l.Bands()
	dst := make([]float64, 0, s.Rows*out.Len())
	for i := 0; i < s.Rows; i += targetChunk {
		n := min(targetChunk, s.Rows-i)
		part, err := targets(l, &data.Set{Dim: s.Dim, Rows: n, X: s.X[i*s.Dim : (i+n)*s.Dim]})
		if err != nil {
			return nil, err
		}
		dst = append(dst, part...)
		if p != nil {
			p("warm-start targets", i+n, s.Rows)
		}
	}
	return dst, nil
}
