// Package data provides the training inputs of matapprox: random generators
// of banded Toeplitz matrices, in-memory sets of them, CSV and NumPy .npy
// files, streaming readers and writers for large files, and a shuffling
// mini-batch loader.
//
// An input is the generator g ∈ ℝ^(2K+1) of an N×N Toeplitz matrix of
// half-bandwidth K (see package structure): M[i][j] = g[K+j−i]. The
// notebook this project reproduces draws each entry uniformly,
//
//	g = np.random.rand(2K+1) * N,   g_i ~ U[0, N) independently
//
// (Notebook), and Gaussian draws g_i ~ N(0, 1). Their symmetric variants draw
// g[K..2K] the same way and mirror it, g[K−d] = g[K+d], giving symmetric
// Toeplitz matrices (real spectra).
//
// A Set holds Rows generators of length Dim row-major. Files hold one
// generator per row: CSV (one line per generator, comma-separated) or
// NumPy .npy (format versions 1.0–3.0 of the NumPy format specification,
// numpy.lib.format / NEP 1, https://numpy.org/neps/nep-0001-npy-format.html),
// read whole (ReadFile) or row by row in bounded memory (Reader, Writer).
//
// Loader serves mini-batches like PyTorch's DataLoader with shuffle=True:
// at the start of every epoch it draws a fresh uniformly random permutation
// of the rows by the Fisher–Yates shuffle (Knuth, The Art of Computer
// Programming, Vol. 2, §3.4.2, Algorithm P) and then hands out consecutive
// slices of it.
package data

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/matapprox/matapprox/structure"
)

// Generator draws random generators of banded Toeplitz matrices.
type Generator interface {
	// Fill overwrites every entry of dst with a random draw from rng. The
	// sequence of calls on rng depends only on len(dst), so results are
	// reproducible from the rng's seed.
	Fill(dst []float64, rng *rand.Rand)
	// Name returns the name GeneratorByName knows the generator by.
	Name() string
}

// Notebook draws each entry uniformly from [0, Scale), the notebook's
// np.random.rand(n) * n with Scale = N. It calls rng.Float64 once per entry.
type Notebook struct {
	Scale float64
}

// Fill implements Generator.
func (g Notebook) Fill(dst []float64, rng *rand.Rand) {
	// rng.Float64() ≤ 1−2⁻⁵³, and for Scale in [2ᵉ, 2ᵉ⁺¹) (not tiny) the
	// product (1−2⁻⁵³)·Scale lies at least half an ulp below Scale, so it
	// rounds below Scale (or is exact, when Scale = 2ᵉ): entries are < Scale.
	for i := range dst {
		dst[i] = rng.Float64() * g.Scale
	}
}

// Name implements Generator.
func (Notebook) Name() string { return "notebook" }

// Gaussian draws each entry from the standard normal distribution. It calls
// rng.NormFloat64 once per entry.
type Gaussian struct{}

// Fill implements Generator.
func (Gaussian) Fill(dst []float64, rng *rand.Rand) {
	for i := range dst {
		dst[i] = rng.NormFloat64()
	}
}

// Name implements Generator.
func (Gaussian) Name() string { return "gaussian" }

// Symmetric makes generators of symmetric Toeplitz matrices: it fills the
// central entry and the superdiagonals g[K..2K] with Base and mirrors them,
// g[K−d] = g[K+d]. Fill panics if len(dst) is even (not 2K+1).
type Symmetric struct {
	Base Generator
}

// Fill implements Generator.
func (s Symmetric) Fill(dst []float64, rng *rand.Rand) {
	if len(dst)%2 == 0 {
		panic(fmt.Sprintf("data: symmetric generator of even length %d", len(dst)))
	}
	k := len(dst) / 2
	s.Base.Fill(dst[k:], rng)
	for d := 1; d <= k; d++ {
		dst[k-d] = dst[k+d]
	}
}

// Name implements Generator: the base name followed by "-symmetric".
func (s Symmetric) Name() string { return s.Base.Name() + "-symmetric" }

// GeneratorNames lists the names GeneratorByName accepts.
var GeneratorNames = []string{"notebook", "gaussian", "notebook-symmetric", "gaussian-symmetric"}

// GeneratorByName returns the named generator for band b: "notebook"
// (uniform on [0, N)), "gaussian", "notebook-symmetric" or
// "gaussian-symmetric".
func GeneratorByName(name string, b structure.Band) (Generator, error) {
	if err := b.Check(); err != nil {
		return nil, err
	}
	switch name {
	case "notebook":
		return Notebook{Scale: float64(b.N)}, nil
	case "gaussian":
		return Gaussian{}, nil
	case "notebook-symmetric":
		return Symmetric{Notebook{Scale: float64(b.N)}}, nil
	case "gaussian-symmetric":
		return Symmetric{Gaussian{}}, nil
	}
	return nil, fmt.Errorf("unknown generator %q: valid names are %s", name, strings.Join(GeneratorNames, ", "))
}
