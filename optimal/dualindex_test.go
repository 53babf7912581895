package optimal

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/matapprox/matapprox/internal/vmath"
)

// lookupBench is the index of BenchmarkDualIndexLookup, filled once per
// process (about ten seconds).
var lookupBench struct {
	once sync.Once
	c    *dualCache
	xs   [][]float64
}

// clusteredIndex returns a cache of the default capacity in 16 dimensions
// (N = 32, K 15 → 7: all 4 096 balls) filled with 2¹⁶ unit vectors near
// eight planar patches of directions (a centre and two spanning directions
// each, coefficients of spread 0.4, noise 0.01 per entry), as the duals of
// a network's rows cluster, and 256 lookups near the same patches (noise
// 0.05), each scaled by 2^±20.
func clusteredIndex() (*dualCache, [][]float64) {
	const dim, patches, span = 16, 8, 2
	rng := rand.New(rand.NewPCG(7, 8))
	basis := make([][]float64, patches*(span+1))
	for i := range basis {
		basis[i] = make([]float64, dim)
		for j := range basis[i] {
			basis[i][j] = rng.NormFloat64() / 4
		}
	}
	draw := func(noise float64) []float64 {
		h := make([]float64, dim)
		k := rng.IntN(patches) * (span + 1)
		copy(h, basis[k])
		for s := 1; s <= span; s++ {
			a := 0.4 * rng.NormFloat64()
			for i := range h {
				h[i] += a * basis[k+s][i]
			}
		}
		var nh float64
		for i := range h {
			h[i] += noise * rng.NormFloat64()
			nh += h[i] * h[i]
		}
		for i := range h {
			h[i] /= math.Sqrt(nh)
		}
		return h
	}
	c := newDualCache(dim, DefaultDualCache)
	q := make([]int, dim)
	e := make([]float64, dim)
	for i := range e {
		e[i] = 1e-13
	}
	for c.len() < 1<<16 {
		h := draw(0.01)
		c.add(h, h, e, q)
	}
	xs := make([][]float64, 256)
	for i := range xs {
		xs[i] = draw(0.05)
		sc := math.Exp2(float64(rng.IntN(41) - 20))
		for j := range xs[i] {
			xs[i][j] *= sc
		}
	}
	return c, xs
}

// BenchmarkDualIndexLookup times one lookup (floor 0) of the clustered
// index of clusteredIndex.
func BenchmarkDualIndexLookup(b *testing.B) {
	lookupBench.once.Do(func() { lookupBench.c, lookupBench.xs = clusteredIndex() })
	c, xs := lookupBench.c, lookupBench.xs
	q := make([]int, c.dim)
	b.ReportMetric(float64(len(c.ix.radius)), "balls")
	i := 0
	for b.Loop() {
		c.lower(xs[i%len(xs)], q, 0)
		i++
	}
}

// BenchmarkDualIndexLeaders times the leader pass of a lookup alone, the
// products of 4 096 centres of 16 with x: the scalar loop of dotUnrolled
// and vmath.DotRows on its current path.
func BenchmarkDualIndexLeaders(b *testing.B) {
	const dim, nb = 16, 4096
	rng := rand.New(rand.NewPCG(9, 10))
	centre := make([]float64, nb*dim)
	for i := range centre {
		centre[i] = rng.NormFloat64()
	}
	x := make([]float64, dim)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	ub := make([]float64, nb)
	b.Run("dotUnrolled", func(b *testing.B) {
		for b.Loop() {
			for i := range ub {
				ub[i] = dotUnrolled(centre[i*dim:(i+1)*dim:(i+1)*dim], x)
			}
		}
	})
	b.Run(fmt.Sprintf("DotRows/%v", vmath.Current()), func(b *testing.B) {
		for b.Loop() {
			vmath.DotRows(ub, centre, dim, x)
		}
	})
}

// dotUnrolled returns h·x (len(h) >= len(x)) summed in four interleaved
// partial sums, so that the products pipeline (the scalar reference of
// the tests; a lookup's products are vmath.DotRows's).
func dotUnrolled(h, x []float64) float64 {
	var s0, s1, s2, s3 float64
	d, n := 0, len(x)
	h = h[:n]
	for ; d+4 <= n; d += 4 {
		s0 += h[d] * x[d]
		s1 += h[d+1] * x[d+1]
		s2 += h[d+2] * x[d+2]
		s3 += h[d+3] * x[d+3]
	}
	for ; d < n; d++ {
		s0 += h[d] * x[d]
	}
	return (s0 + s1) + (s2 + s3)
}

// A lookup returns the best bound even where balls' bounds tie in their
// heap keys. Ball 0 comes first and sets the best to 1; ball 1 then raises
// it to 1.00000004; balls 3 (bound 1.00000003, below that best) and 2
// (1.00000006, above it) share a float32 ceiling, and ball 3, the larger
// index, comes out first. Stopping at ball 3's own bound would miss ball
// 2's vector.
func TestDualIndexKeyTie(t *testing.T) {
	const dim = 5
	ix := newDualIndex(dim, 100)
	ball := func(c0, r float64, h0 float64) {
		c := make([]float64, dim)
		c[0] = c0
		ix.centre = append(ix.centre, c...)
		ix.radius = append(ix.radius, r)
		h := make([]float64, dim+1) // h, then its rounding bound s = 0
		h[0] = h0
		ix.mem = append(ix.mem, h)
		ix.n++
	}
	ball(1.0000005, 5e-7, 1)            // the top ball
	ball(1.0000002, 1.6e-7, 1.00000004) // the next, a float32 ulp above the tie
	ball(1.00000006, 0, 1.00000006)     // above the best
	ball(1.00000003, 0, 1.00000003)     // below the best, the same float32 ceiling
	x := []float64{1, 0, 0, 0, 0}
	if got := ix.lower(x, 1, 0); got != 1.00000006 {
		t.Errorf("lower = %.17g, want 1.00000006 (ball 2's vector)", got)
	}
}
