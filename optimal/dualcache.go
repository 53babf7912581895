package optimal

import (
	"math"
	"sync"

	"github.com/matapprox/matapprox/structure"
)

// Dual certificates are reusable. The lower bound of weak duality,
// opt(x) >= |⟨Y, T(x)⟩| / ||Y||_*, holds for every dual matrix Y orthogonal
// to the output diagonals, and for such a Y, ⟨Y, T(x)⟩ = Σ_d x_d ⟨Y, S_d⟩
// over the out-of-band diagonals d alone. So a dual matrix found while
// certifying one input is summarised by the vector h_d = ⟨Y, S_d⟩/||Y||_*
// (K' < |d| <= K, 2(K−K') numbers), and
//
//	opt(x) >= |Σ_d h_d x_d|
//
// is a certified lower bound for every other input x, at the price of
// 2(K−K') multiplications. The optimum is a norm of x_out (δ* is odd and
// 1-homogeneous), so the bound is tight where the optimal dual of x is
// near h, that is for directions x_out/||x_out|| near the direction h was
// found at. dualCache keeps such vectors indexed, in up to
// dualGridMaxDim dimensions, by a grid on the unit sphere of x_out (the
// cube map: the facet is the coordinate of largest magnitude and its sign,
// the others are cut into bins), returning the best bound among the
// vectors found in the input's cell and its neighbours; in more dimensions
// by balls of vectors (dualIndex), returning the best bound among all of
// them. Where no remembered vector is close the bound
// is weak and the caller certifies the input the full way; the cache never
// affects validity, only cost.
//
// The rounding of each stored vector is bounded when it is stored
// (dualEntry): h_d is within err_d of the exact ⟨Y', S_d⟩/||Y'||_* of a
// dual matrix Y' exactly orthogonal to the output diagonals, so the bound
// subtracts Σ_d err_d |x_d| and the rounding of its own dot product.

// DefaultDualCache is the number of dual certificates a Certifier remembers
// when CertifyOptions.DualCache is zero and the cache is on.
const DefaultDualCache = 1 << 18

// DefaultReuseFraction is the least default CertifyOptions.ReuseTarget
// as a fraction of the certifier's target gap.
const DefaultReuseFraction = 0.25

// ReuseGapFactor is the default CertifyOptions.ReuseTarget as a multiple
// of the mean certified gap of the rows certified the full way (within
// [DefaultReuseFraction, 1] times the target): a remembered dual certifies
// a row only as well as the rows certified the full way are certified,
// up to that factor.
const ReuseGapFactor = 2.0

// ReuseTightFraction is the largest share of their remembered bound's gap
// that the full checks of rows above the adapted reuse target may recover
// on average, over the last such rows, for remembered duals to certify
// those rows as well, up to the certifier's target (CertifyOptions
// .ReuseTarget). Where full checks recover that little, the rows' gaps are
// their candidates' own, not the duals' looseness: the check would only
// confirm them.
const ReuseTightFraction = 0.1

// AscentTightFraction is ReuseTightFraction for a certifier whose
// remembered duals are improved by dual ascent (CertifyOptions
// .AscentSteps) before they certify a row above the reuse target. The
// ascent stops where it stops gaining, so what a full check recovers
// beyond it is the rest of the way to the row's optimal dual; at most a
// quarter keeps those rows' certified gaps within 4/3 of the full check's.
const AscentTightFraction = 0.25

// Parameters of the measure behind ReuseTightFraction: one row in
// tightSample of those it would let a remembered dual certify (chosen by a
// hash of the row's entries, so that the choice depends only on the row),
// and one in tightSampleFull once the window is full, is still certified
// the full way, so that the measure stays current; it is the ratio of the
// sums of the recovered bound and of the remembered gap over the last
// tightWindow such rows in row order, once there are at least tightMin.
// (tightSampleFull is a multiple of tightSample: its rows are among those.)
const (
	tightSample     = 8
	tightSampleFull = 128
	tightWindow     = 256
	tightMin        = 64
)

// AscentDualCache is the most dual certificates a Certifier remembers
// where it improves them by dual ascent (CertifyOptions.AscentSteps, in
// more than 4 out-of-band dimensions), whatever CertifyOptions.DualCache
// allows: the ascent starts about as well from a few thousand remembered
// duals as from 2^18, and a lookup among more costs more than it saves
// (docs/BENCHMARKS.md, issue 13).
const AscentDualCache = 1 << 12

// MaxDualCache is the largest CertifyOptions.DualCache accepted.
const MaxDualCache = 1 << 22

// maxDualCacheN is the largest N whose certifications feed the cache: the
// stored vector's rounding bound uses the dense dual matrix (at most
// maxExactNuclearN).
const maxDualCacheN = maxExactNuclearN

// DualCacheBytes returns an upper bound on the memory of a spectral
// Certifier's dual cache of at most entries vectors for the bands in → out
// (CertifyOptions.DualCache): 0 where no cache is kept (entries 0, or N
// beyond the cache's sizes). Other losses keep no cache.
func DualCacheBytes(in, out structure.Band, entries int) float64 {
	if entries <= 0 || in.N > maxDualCacheN || out.K >= in.K {
		return 0
	}
	dim := 2 * (in.K - out.K)
	// A block's pending vectors; per vector on the grid h and its error
	// bounds and the cell link, and the flat table; or the balls.
	b := float64(dualBlock) * (24*float64(dim) + 8)
	if dim > dualGridMaxDim {
		// With dual ascent (the default) at most AscentDualCache vectors
		// and their factors; without, entries vectors alone.
		fl := factorLen(in.N)
		asc := float64(dualBlock)*8*float64(fl) + dualIndexBytes(dim, min(entries, AscentDualCache), fl)
		return b + math.Max(asc, dualIndexBytes(dim, entries, 0))
	}
	b += float64(entries) * (16*float64(dim) + 4)
	_, cells := dualGrid(dim)
	return b + 5*float64(cells)
}

// dualCellCap is the most vectors one grid cell keeps.
const dualCellCap = 8

// dualCache is a concurrency-safe store of certified dual vectors.
type dualCache struct {
	dim  int // 2(K−K'), the number of out-of-band diagonals
	bins int // bins per coordinate on a facet of the cube map
	max  int

	mu sync.RWMutex
	// On the grid, entries × dim: the vectors and their rounding bounds,
	// and the cells: a list of entries each, linked through next (−1 ends
	// it), headed by flat[key]; beyond dualGridMaxDim, the balls instead.
	h, e  []float64
	next  []int32
	flat  []int32
	count []uint8
	ix    *dualIndex
}

// newDualCache returns an empty cache of at most max vectors for inputs
// with dim out-of-band diagonals.
func newDualCache(dim, max int) *dualCache {
	c := &dualCache{dim: dim, max: max}
	if dim > dualGridMaxDim {
		c.ix = newDualIndex(dim, max)
		return c
	}
	var cells int
	c.bins, cells = dualGrid(dim)
	c.flat, c.count = make([]int32, cells), make([]uint8, cells)
	for i := range c.flat {
		c.flat[i] = -1
	}
	return c
}

// dualGrid returns the grid of a cache for dim <= dualGridMaxDim
// out-of-band diagonals: the bins per coordinate on a facet and the number
// of cells (a flat table). Cells are small enough that the 3^(dim−1)
// cells around a direction hold the near ones.
func dualGrid(dim int) (bins, cells int) {
	return 32, 2 * dim * ipow(32, dim-1)
}

// ipow returns b^e for small e >= 0.
func ipow(b, e int) int {
	p := 1
	for ; e > 0; e-- {
		p *= b
	}
	return p
}

// head returns the first entry of the cell with key k (−1 if none) and
// the cell's number of entries. c.mu is held.
func (c *dualCache) head(k uint64) (int32, int) {
	return c.flat[k], int(c.count[k])
}

// len returns the number of vectors stored.
func (c *dualCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.ix != nil {
		return c.ix.len()
	}
	return len(c.h) / max(c.dim, 1)
}

// cell returns the facet and bin coordinates of the direction of xo
// (dim numbers, not all zero) in q (dim entries; q[facet] is unused).
func (c *dualCache) cell(xo []float64, q []int) (facet int, ok bool) {
	big := 0.0
	for i, v := range xo {
		if a := math.Abs(v); a > big {
			big, facet = a, i
		}
	}
	if !(big > 0) || math.IsInf(big, 0) {
		return 0, false
	}
	for i, v := range xo {
		b := int((v/big + 1) / 2 * float64(c.bins))
		q[i] = min(max(b, 0), c.bins-1)
	}
	f := 2 * facet
	if xo[facet] < 0 {
		f++
	}
	return f, true
}

// key packs a facet and bin coordinates (q[skip] ignored).
func (c *dualCache) key(facet int, q []int, skip int) uint64 {
	k := uint64(facet)
	for i, b := range q {
		if i != skip {
			k = k*uint64(c.bins) + uint64(b)
		}
	}
	return k
}

// lower returns the best certified lower bound on the optimum for the
// out-of-band entries xo among the vectors near its direction (0 if
// none). Beyond dualGridMaxDim it may return any smaller bound (or 0) where
// the best is at most floor (the balls' lookup then stops early). q is
// scratch of length dim.
func (c *dualCache) lower(xo []float64, q []int, floor float64) float64 {
	lo, _ := c.lowerFactors(xo, q, floor, nil)
	return lo
}

// lowerFactors is lower that also copies into fac, where it is not nil,
// the cache keeps factors and the bound is one vector's with factors, that
// vector's factors, reporting whether it did.
func (c *dualCache) lowerFactors(xo []float64, q []int, floor float64, fac []float64) (float64, bool) {
	// Scale by a power of two so that the sums cannot overflow.
	var big float64
	for _, v := range xo {
		big = math.Max(big, math.Abs(v))
	}
	if !(big > 0) || math.IsInf(big, 0) {
		return 0, false
	}
	sc := pow2(big)
	if c.ix != nil {
		c.mu.RLock()
		defer c.mu.RUnlock()
		lo, ok := c.ix.lowerFactors(xo, sc, floor/sc, fac)
		return lo * sc, ok
	}
	facet, ok := c.cell(xo, q)
	if !ok {
		return 0, false
	}
	var xs [dualGridMaxDim]float64
	x := xs[:len(xo)]
	for i, v := range xo {
		x[i] = v / sc
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	best := 0.0
	eval := func(k uint64) {
		id, _ := c.head(k)
		for ; id >= 0; id = c.next[id] {
			h := c.h[int(id)*c.dim : int(id+1)*c.dim]
			e := c.e[int(id)*c.dim : int(id+1)*c.dim]
			if lo := entryBound(h, e, x); lo > best {
				best = lo
			}
		}
	}
	skip := facet / 2
	// The 3^(dim−1) cells around (same facet).
	var walk func(i int)
	walk = func(i int) {
		if i == len(q) {
			eval(c.key(facet, q, skip))
			return
		}
		if i == skip {
			walk(i + 1)
			return
		}
		b := q[i]
		for o := -1; o <= 1; o++ {
			if nb := b + o; nb >= 0 && nb < c.bins {
				q[i] = nb
				walk(i + 1)
			}
		}
		q[i] = b
	}
	walk(0)
	return best * sc, false
}

// add stores the vector h with rounding bounds e, found for the
// out-of-band entries xo, unless the cache or (on the grid) the cell is
// full.
func (c *dualCache) add(xo, h, e []float64, q []int) {
	c.addFactors(xo, h, e, nil, q)
}

// keepFactors makes the balls keep, with each vector, the factors of its
// dual (facLen numbers, ascent.go) for lowerFactors; the grid keeps none.
// It is called before any vector is added.
func (c *dualCache) keepFactors(facLen int) {
	if c.ix != nil {
		c.ix.facLen, c.ix.scanCap = facLen, dualAscentScanCap
	}
}

// addFactors is add with the factors f of the vector's dual (nil for none),
// kept where the cache keeps factors.
func (c *dualCache) addFactors(xo, h, e, f []float64, q []int) {
	if c.ix != nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.ix.len() < c.max {
			c.ix.add(h, e, f)
		}
		return
	}
	facet, ok := c.cell(xo, q)
	if !ok {
		return
	}
	k := c.key(facet, q, facet/2)
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.h) / c.dim
	first, cnt := c.head(k)
	if n >= c.max || cnt >= dualCellCap {
		return
	}
	c.h = append(c.h, h...)
	c.e = append(c.e, e...)
	c.next = append(c.next, first)
	c.flat[k], c.count[k] = int32(n), uint8(cnt+1)
}

// entryBound returns the certified bound |h·x| − Σ_d (e_d + rounding)|x_d|
// of one remembered vector h with rounding bounds e for the input x,
// scaled by a power of two so that the sums cannot overflow (the grid's
// evaluation; the balls fold the errors into one number, scanBallDots).
func entryBound(h, e, x []float64) float64 {
	var s, slack float64
	g := float64(len(x)+2) * epsilon
	e, h = e[:len(x)], h[:len(x)]
	for d, v := range x {
		s += h[d] * v
		slack += (e[d] + g*math.Abs(h[d])) * math.Abs(v)
	}
	return math.Abs(s) - slack
}
