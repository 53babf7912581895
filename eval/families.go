package eval

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/matapprox/matapprox/data"
)

// FamilyResult is the evaluation of a model on one out-of-distribution
// family of inputs (data.Families), or at another matrix size.
type FamilyResult struct {
	// Family names the family and Description says what its inputs are.
	Family, Description string
	// N is the matrix size the family was evaluated at.
	N int
	// Summary holds the gap statistics; its exact rows are those inside
	// the output band.
	Summary Summary
	// FrobeniusRelMax is the largest ||X − A||_F / ||X||_F of the network
	// on the exact rows (0 when there are none): 0 for an approximator
	// exact by construction.
	FrobeniusRelMax float64
}

// Families evaluates e's model on count inputs drawn from every family,
// each from its own stream of seed, in the order given.
func (e *Evaluator) Families(fams []data.Family, count int, seed uint64) ([]FamilyResult, error) {
	if e.model == nil {
		return nil, fmt.Errorf("eval: families need a model")
	}
	out := make([]FamilyResult, 0, len(fams))
	for i, f := range fams {
		src := FromGenerator(f, e.in, count, rand.New(rand.NewPCG(seed, 0xfa1+uint64(i))),
			fmt.Sprintf("%d matrices of family %s: %s (seed %d)", count, f.Name(), f.Describe(), seed))
		fr, err := e.Family(src)
		if err != nil {
			return nil, fmt.Errorf("family %s: %w", f.Name(), err)
		}
		fr.Family, fr.Description = f.Name(), f.Describe()
		out = append(out, fr)
	}
	return out, nil
}

// Family evaluates e's model on the rows of src as one family.
func (e *Evaluator) Family(src Source) (FamilyResult, error) {
	fr := FamilyResult{N: e.in.N}
	var err error
	fr.Summary, err = e.Run(src, func(r *Row) error {
		if !r.Exact {
			return nil
		}
		a := r.Method(Network)
		if a == nil {
			return fmt.Errorf("no network")
		}
		if xf := e.in.Frobenius(r.X); xf > 0 {
			fr.FrobeniusRelMax = math.Max(fr.FrobeniusRelMax, a.Frobenius/xf)
		} else if a.Frobenius > 0 {
			fr.FrobeniusRelMax = math.Inf(1)
		}
		return nil
	})
	return fr, err
}
