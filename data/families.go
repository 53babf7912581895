package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/matapprox/matapprox/structure"
)

// A Family is a distribution of inputs that a model may meet outside the
// distribution it was trained on: the training generator rescaled, negated,
// reversed or modulated, other generators, and inputs that already lie in
// the output band. Families are the out-of-distribution check of an
// evaluation (see Families).
// A Family is a Generator, so it plugs in wherever one does.
type Family struct {
	name, desc string
	inBand     bool
	fill       func(dst []float64, rng *rand.Rand)
}

var _ Generator = Family{}

// Fill implements Generator: it draws one input generator into dst.
func (f Family) Fill(dst []float64, rng *rand.Rand) { f.fill(dst, rng) }

// Name implements Generator: the family's name, e.g. "scale-1e3".
func (f Family) Name() string { return f.name }

// Describe says in a few words what the inputs are.
func (f Family) Describe() string { return f.desc }

// InBand reports that every input has zero out-of-band entries, so that the
// exact optimum is the input itself, with zero error.
func (f Family) InBand() bool { return f.inBand }

// Generate draws rows inputs of band b (2K+1 entries each).
func (f Family) Generate(b structure.Band, rows int, rng *rand.Rand) *Set {
	L := b.Len()
	s := &Set{X: make([]float64, rows*L), Rows: rows, Dim: L}
	for i := 0; i < rows; i++ {
		f.fill(s.X[i*L:(i+1)*L], rng)
	}
	return s
}

// Families returns the out-of-distribution families for a model trained on
// generator base for bands in → out, in a fixed order: base itself
// ("in-distribution"); base scaled by 1e-3, 1e-1, 10 and 1e3; negated;
// reversed (the transpose); modulated by (−1)^d; standard Gaussian entries;
// entries uniform in [−N, N); Gaussian entries decaying as 2^(−|d|);
// heavy-tailed (Cauchy) entries; sparse Gaussian entries (each non-zero with
// probability 1/3); symmetric matrices; inputs whose out-of-band entries are
// 1e-6 of base's; and inputs inside the output band ("in-band").
func Families(base Generator, in, out structure.Band) ([]Family, error) {
	if err := structure.CheckNested(in, out); err != nil {
		return nil, err
	}
	L, K, ko := in.Len(), in.K, out.K
	lo, hi := K-ko, K+ko+1 // the in-band entries are x[lo:hi]
	mapped := func(name, desc string, f func(x []float64)) Family {
		return Family{name: name, desc: desc, fill: func(dst []float64, rng *rand.Rand) {
			base.Fill(dst, rng)
			f(dst)
		}}
	}
	scaled := func(c float64, name string) Family {
		return mapped(name, fmt.Sprintf("%s × %g", base.Name(), c), func(x []float64) {
			for j := range x {
				x[j] *= c
			}
		})
	}
	gen := func(name, desc string, g Generator) Family {
		return Family{name: name, desc: desc, fill: g.Fill}
	}
	fams := []Family{
		gen("in-distribution", "the training generator, "+base.Name(), base),
		scaled(1e-3, "scale-1e-3"), scaled(1e-1, "scale-1e-1"), scaled(10, "scale-10"), scaled(1e3, "scale-1e3"),
		mapped("negated", "−"+base.Name(), func(x []float64) {
			for j := range x {
				x[j] = -x[j]
			}
		}),
		mapped("reversed", base.Name()+" reversed (the transpose)", func(x []float64) {
			for i, j := 0, len(x)-1; i < j; i, j = i+1, j-1 {
				x[i], x[j] = x[j], x[i]
			}
		}),
		mapped("modulated", base.Name()+" times (−1)^d", func(x []float64) {
			for j := range x {
				if (j-K)%2 != 0 {
					x[j] = -x[j]
				}
			}
		}),
		gen("gaussian", "standard normal entries", Gaussian{}),
		gen("uniform-signed", "entries uniform in [−N, N)", signedUniform{scale: float64(in.N)}),
		gen("decaying", "normal entries times 2^(−|d|)", decaying{k: K}),
		gen("cauchy", "standard Cauchy entries (heavy tails)", cauchy{}),
		gen("sparse", "normal entries, each non-zero with probability 1/3", sparse{}),
		gen("symmetric", "symmetric matrices, "+base.Name()+" mirrored", Symmetric{Base: base}),
		mapped("near-in-band", base.Name()+" with out-of-band entries × 1e-6", func(x []float64) {
			for j := range x {
				if j < lo || j >= hi {
					x[j] *= 1e-6
				}
			}
		}),
	}
	inband := mapped("in-band", base.Name()+" with zero out-of-band entries (exact answer: the input)", func(x []float64) {
		for j := range x[:L] {
			if j < lo || j >= hi {
				x[j] = 0
			}
		}
	})
	inband.inBand = true
	return append(fams, inband), nil
}

// FamilyNames returns the names of fams joined by ", ".
func FamilyNames(fams []Family) string {
	names := make([]string, len(fams))
	for i, f := range fams {
		names[i] = f.Name()
	}
	return strings.Join(names, ", ")
}

type signedUniform struct{ scale float64 }

func (g signedUniform) Fill(dst []float64, rng *rand.Rand) {
	for i := range dst {
		dst[i] = (2*rng.Float64() - 1) * g.scale
	}
}
func (signedUniform) Name() string { return "uniform-signed" }

type decaying struct{ k int }

func (g decaying) Fill(dst []float64, rng *rand.Rand) {
	for i := range dst {
		dst[i] = rng.NormFloat64() * math.Exp2(-math.Abs(float64(i-g.k)))
	}
}
func (decaying) Name() string { return "decaying" }

type cauchy struct{}

func (cauchy) Fill(dst []float64, rng *rand.Rand) {
	for i := range dst {
		dst[i] = math.Tan(math.Pi * (rng.Float64() - 0.5))
	}
}
func (cauchy) Name() string { return "cauchy" }

type sparse struct{}

func (sparse) Fill(dst []float64, rng *rand.Rand) {
	for i := range dst {
		v := rng.NormFloat64()
		if rng.IntN(3) != 0 {
			v = 0
		}
		dst[i] = v
	}
}
func (sparse) Name() string { return "sparse" }

// CoverSphere returns a copy of s in which each row, independently with
// probability frac, has its out-of-band entries (those of in outside out)
// replaced by a random direction times the row's own out-of-band norm (1 for
// a row whose out-of-band entries are zero): with probability 1/2 a
// direction uniform on the unit sphere (a normalised standard normal vector;
// Muller, "A note on a method for generating points uniformly on
// n-dimensional spheres", CACM 2(4), 1959), otherwise one uniform on a random
// coordinate subsphere (each entry kept with probability 1/2, at least one),
// so that the sphere's lower-dimensional faces, where sparse inputs lie, are
// sampled too. The in-band entries are kept. Training a sphere approximator
// on the result covers every direction while keeping the data's own.
func CoverSphere(s *Set, in, out structure.Band, frac float64, rng *rand.Rand) *Set {
	L := in.Len()
	lo, hi := in.K-out.K, in.K+out.K+1
	c := &Set{X: append([]float64(nil), s.X...), Rows: s.Rows, Dim: s.Dim}
	for i := 0; i < c.Rows; i++ {
		if rng.Float64() >= frac {
			continue
		}
		row := c.X[i*L : (i+1)*L]
		var rho, g float64
		for j := range row {
			if j < lo || j >= hi {
				rho = math.Hypot(rho, row[j])
			}
		}
		if rho == 0 {
			rho = 1
		}
		sparse := rng.IntN(2) == 0
		for g == 0 {
			for j := range row {
				if j < lo || j >= hi {
					row[j] = rng.NormFloat64()
					if sparse && rng.IntN(2) == 0 {
						row[j] = 0
					}
					g = math.Hypot(g, row[j])
				}
			}
		}
		for j := range row {
			if (j < lo || j >= hi) && g > 0 {
				row[j] *= rho / g
			}
		}
	}
	return c
}
