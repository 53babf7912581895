package optimal

import (
	"math"
	"sync"

	"github.com/matapprox/matapprox/internal/vmath"
)

// dualIndex is the dual cache's index in more than dualGridMaxDim
// dimensions, where a grid on the sphere of x_out has too many cells for
// a lookup to find near directions. The remembered vectors h are grouped
// into balls (leader clustering, Hartigan, Clustering Algorithms, 1975,
// §3.2): a vector joins the ball whose centre (its first vector) is
// nearest, unless every centre is farther than dualJoinRadius·||h|| and
// fewer than the index's most balls exist (dualLeaders, one per
// dualBallSize vectors of the cache's capacity, at least dualMinLeaders),
// when it starts a ball of its own. Once every ball is taken, a vector
// farther than that from every centre is not kept: joining it to the
// nearest ball would widen the ball, and as the cache filled the lookups'
// pruning would weaken and their bounds (capped at dualScanCap vectors)
// loosen.
// Each ball keeps its radius r, so that for every member h and input x
//
//	|h·x| <= |c·x| + r ||x||_2,
//
// and a lookup scans the ball of the largest bound, then the others whose
// bound exceeds the best member bound found, in decreasing order of that
// bound, until it falls below the best or dualScanCap vectors
// (dualAscentScanCap where it keeps factors for dual ascent) have been
// evaluated. Up to that cap it returns exactly the best bound among all
// remembered vectors (the pruning is by a valid upper bound); every bound
// it returns is one vector's.
//
// A ball's members are stored together, each as its dim numbers h and one
// rounding bound s >= max_d (e_d + γ|h_d|) (scanBallDots), so that a lookup
// reads contiguous memory and evaluates a vector by one dot product.
//
// The dot products of a lookup, with the centres and with a ball's
// members, are vmath.DotRows's, summed in an order of its choosing and
// fused (FMA) on the assembly paths. Neither bound below relies on an
// order: every order of a dim-term dot product, fused or not, is within
// γ_dim Σ_d |h_d x_d| of the exact value (Higham, Accuracy and Stability
// of Numerical Algorithms, §3.1: each term passes through at most dim
// roundings), which is all that scanBallDots's s and the leaders' bounds
// assume. A lookup evaluates each vector in one way only, so that the
// bound it returns is the one scanBallDots gives for that vector
// (vmath.DotRows gives a row the same bits alone as within a batch).
type dualIndex struct {
	dim     int
	n       int         // vectors indexed
	dropped int         // vectors not kept: too far from every ball once all are taken
	balls   int         // the most balls (dualLeaders)
	centre  []float64   // balls × dim
	radius  []float64   // per ball
	mem     [][]float64 // per ball: members × (dim+1), h then s
	// Per ball, with facLen > 0: members × facLen, each member's dual
	// factors (ascent.go), float32, or a NaN first number where it has none.
	fac    [][]float32
	facLen int
	// scanCap is the most vectors a lookup evaluates (dualScanCap, or
	// dualAscentScanCap where factors are kept).
	scanCap int
	pool    sync.Pool // *indexScratch
}

// Parameters of dualIndex.
const (
	// dualGridMaxDim is the largest number of out-of-band entries indexed
	// by the cube-map grid; beyond it dualIndex indexes the cache.
	dualGridMaxDim = 4
	// dualMinLeaders, dualBallSize and dualMaxLeaders set the most balls
	// (dualLeaders): a lookup computes one product per ball, its fixed
	// cost, and once that many exist a vector far from all is dropped,
	// so more balls keep more of the directions the rows take.
	dualMinLeaders = 1024
	dualBallSize   = 32
	dualMaxLeaders = 4096
	// dualJoinRadius is the distance, relative to ||h||, within which a
	// vector joins an existing ball rather than start one.
	dualJoinRadius = 0.05
	// dualScanCap bounds the vectors one lookup evaluates, so that its
	// cost stays bounded as the cache fills and the balls fill: the
	// balls are visited in decreasing order of their bound, so the ones
	// skipped are those least likely to hold the best vector.
	dualScanCap = 2048
	// dualAscentScanCap is dualScanCap where the index keeps factors for
	// dual ascent: a lookup then needs a good start for the ascent more
	// than the best remembered vector.
	dualAscentScanCap = 256
)

// indexScratch is one lookup's workspace.
type indexScratch struct {
	x, ub []float64
	ord   []uint64
	dots  [scanChunk]float64 // scanBallDots's products
}

// dualLeaders returns the most balls of an index of at most entries
// vectors.
func dualLeaders(entries int) int {
	return min(max(dualMinLeaders, entries/dualBallSize), dualMaxLeaders)
}

// newDualIndex returns an empty index of at most entries vectors in dim
// dimensions.
func newDualIndex(dim, entries int) *dualIndex {
	ix := &dualIndex{dim: dim, balls: dualLeaders(entries), scanCap: dualScanCap}
	ix.pool.New = func() any {
		return &indexScratch{x: make([]float64, dim), ub: make([]float64, ix.balls), ord: make([]uint64, 0, ix.balls)}
	}
	return ix
}

// dualIndexBytes returns an upper bound on the memory of a dualIndex of
// entries vectors in dim dimensions, the vectors included: each takes
// dim+1 numbers, and a ball its centre, radius and slice (with up to a
// quarter of its members' room unused by append's growth, plus a block).
func dualIndexBytes(dim, entries, facLen int) float64 {
	per := 8*float64(dim+1) + 4*float64(facLen)
	return 1.25*float64(entries)*per + float64(dualLeaders(entries))*(8*float64(dim)+8+24+4*per)
}

// len returns the number of vectors indexed.
func (ix *dualIndex) len() int { return ix.n }

// add indexes the vector h whose entries are within e_d of the exact
// ones (scanBallDots), with the factors f of its dual (facLen numbers;
// nil for none).
func (ix *dualIndex) add(h, e, f []float64) {
	dim := ix.dim
	var nh float64
	for _, v := range h {
		nh += v * v
	}
	nh = math.Sqrt(nh)
	best, bd := -1, math.Inf(1)
	nb := len(ix.radius)
	for b := 0; b < nb; b++ {
		c := ix.centre[b*dim : (b+1)*dim]
		var d2 float64
		for i, v := range h {
			t := v - c[i]
			d2 += t * t
		}
		if d2 < bd {
			best, bd = b, d2
		}
	}
	bd = math.Sqrt(bd)
	if best >= 0 && bd > dualJoinRadius*nh {
		if nb >= ix.balls {
			// Every ball is taken and this vector is far from all.
			ix.dropped++
			return
		}
		best = -1
	}
	if best < 0 {
		ix.centre = append(ix.centre, h...)
		ix.radius = append(ix.radius, 0)
		ix.mem = append(ix.mem, nil)
		if ix.facLen > 0 {
			ix.fac = append(ix.fac, nil)
		}
		best, bd = nb, 0
	}
	// The radius is rounded up so that it bounds the exact distance.
	ix.radius[best] = math.Max(ix.radius[best], bd*(1+float64(2*dim+4)*epsilon))
	g := float64(dim+2) * epsilon
	s := 0.0
	for d, v := range h {
		s = math.Max(s, e[d]+g*math.Abs(v))
	}
	ix.mem[best] = append(append(ix.mem[best], h...), s)
	if ix.facLen > 0 {
		fb := ix.fac[best]
		if len(f) == ix.facLen {
			for _, v := range f {
				fb = append(fb, float32(v))
			}
		} else {
			fb = append(fb, float32(math.NaN()))
			for range ix.facLen - 1 {
				fb = append(fb, 0)
			}
		}
		ix.fac[best] = fb
	}
	ix.n++
}

// each calls f with every vector indexed and its rounding bound s.
func (ix *dualIndex) each(f func(h []float64, s float64)) {
	st := ix.dim + 1
	for _, m := range ix.mem {
		for p := 0; p+st <= len(m); p += st {
			f(m[p:p+ix.dim], m[p+ix.dim])
		}
	}
}

// lower returns the best bound among the vectors indexed for the input
// xo/sc, sc a power of two, if it exceeds floor (scaled alike); otherwise
// a smaller bound, one vector's or 0: the balls whose bound is at most
// floor are not scanned, since a caller that needs more than floor has no
// use for them.
func (ix *dualIndex) lower(xo []float64, sc, floor float64) float64 {
	lo, _ := ix.lowerFactors(xo, sc, floor, nil)
	return lo
}

// lowerFactors is lower that also copies into fac, when it is not nil and
// the returned bound is one vector's that has factors (facLen numbers),
// those factors, reporting whether it did.
func (ix *dualIndex) lowerFactors(xo []float64, sc, floor float64, fac []float64) (float64, bool) {
	nb := len(ix.radius)
	if nb == 0 {
		return 0, false
	}
	s := ix.pool.Get().(*indexScratch)
	defer ix.pool.Put(s)
	dim := ix.dim
	x := s.x[:dim]
	var xn, x1 float64
	for i, v := range xo {
		x[i] = v / sc
		xn += x[i] * x[i]
		x1 += math.Abs(x[i])
	}
	xn = math.Sqrt(xn)
	x1 = l1Bound(x1, dim)
	ub := s.ub[:nb]
	// The products c_b·x first (into ub), then the bounds in place.
	vmath.DotRows(ub, ix.centre, dim, x)
	top, tb := 0, -1.0
	for b, p := range ub {
		// Inflated beyond the rounding of both products: the bound
		// only orders and prunes the search. In whatever order DotRows
		// sums, p is within γ_dim Σ_d |c_d x_d| <= γ_dim (Σ_d |h_d x_d|
		// + r ||x||_2) of c·x for each member h (dualIndex); the first
		// term is below what scanBallDots's s takes off h's bound and the
		// second below the inflation, so no ball is pruned that holds
		// a bound above the best.
		u := (math.Abs(p) + ix.radius[b]*xn) * (1 + 1e-9)
		ub[b] = u
		if u > tb {
			top, tb = b, u
		}
	}
	if tb <= floor {
		return 0, false
	}
	best, at := scanBallDots(s.dots[:], ix.mem[top], x, x1, 0)
	atBall := top
	scanned := len(ix.mem[top]) / (dim + 1)
	cut := math.Max(best, floor)
	// The other balls that may hold a better vector, in decreasing order
	// of their bound, from a max-heap of ballKey keys; only the balls
	// visited are popped. The keys are written for every ball and kept
	// (branch-free) for those above cut.
	ord := s.ord[:nb]
	n := 0
	for b, u := range ub {
		ord[n] = ballKey(u, b)
		n += b2i(u > cut && b != top)
	}
	ord = ord[:n]
	for i := len(ord)/2 - 1; i >= 0; i-- {
		siftDown(ord, i)
	}
	for len(ord) > 0 && scanned < ix.scanCap {
		// Every ball left has a bound at most its key's, which is at
		// most the top key's: once that is at most the best, none can
		// improve it.
		k := ord[0]
		if keyBound(k) <= math.Max(best, floor) {
			break
		}
		b := int(k & ballKeyMask)
		ord[0] = ord[len(ord)-1]
		ord = ord[:len(ord)-1]
		siftDown(ord, 0)
		if ub[b] > math.Max(best, floor) {
			var p int
			if best, p = scanBallDots(s.dots[:], ix.mem[b], x, x1, best); p >= 0 {
				at, atBall = p, b
			}
			scanned += len(ix.mem[b]) / (dim + 1)
		}
	}
	s.ord = ord
	if fac == nil || ix.facLen == 0 || at < 0 || !(best > 0) {
		return best, false
	}
	f := ix.fac[atBall][at*ix.facLen : (at+1)*ix.facLen]
	if math.IsNaN(float64(f[0])) {
		return best, false
	}
	for i, v := range f {
		fac[i] = float64(v)
	}
	return best, true
}

// ballKeyBits is the number of low bits of a ballKey that hold the ball.
const ballKeyBits = 12

// ballKeyMask selects the ball of a ballKey.
const ballKeyMask = 1<<ballKeyBits - 1

// Every ball fits in a ballKey.
var _ [1<<ballKeyBits - dualMaxLeaders]struct{}

// ballKey packs the ball b (below 1<<ballKeyBits) under the bound u >= 0
// rounded up to a multiple of 2^ballKeyBits in its bits, which order like
// the values for nonnegative floats: keys order like their bounds (ties
// by ball), and keyBound(ballKey(u, b)) >= u.
func ballKey(u float64, b int) uint64 {
	return (math.Float64bits(u)+ballKeyMask)&^ballKeyMask | uint64(b)
}

// keyBound returns the bound a ballKey holds (at least the ball's own).
func keyBound(k uint64) float64 {
	return math.Float64frombits(k &^ ballKeyMask)
}

// b2i returns 1 for true and 0 for false (a flag, not a branch).
func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}

// siftDown restores the max-heap order of h below position i.
func siftDown(h []uint64, i int) {
	for {
		c := 2*i + 1
		if c >= len(h) {
			return
		}
		if c+1 < len(h) && h[c+1] > h[c] {
			c++
		}
		if h[i] >= h[c] {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

// l1Bound returns an upper bound on the exact 1-norm whose computed sum of
// dim terms is x1.
func l1Bound(x1 float64, dim int) float64 {
	return x1 * (1 + float64(dim+2)*epsilon)
}

// scanChunk is the most vectors whose products scanBallDots computes at
// once.
const scanChunk = 256

// scanBallDots returns the larger of best and the best certified bound
// |h·x| − s·||x||_1 of the members m (dim+1 numbers each: h, s) for x,
// whose 1-norm is at most x1. The exact products h_d x_d are within e_d |x_d|
// of the exact ⟨Y', S_d⟩ x_d of a dual matrix (dualVector), and the
// computed dot product within (dim+2)ε Σ |h_d x_d| of the exact one
// (Higham, Accuracy and Stability of Numerical Algorithms, §3.1, with room
// for the subtraction), so s >= max_d (e_d + (dim+2)ε|h_d|) covers both.
// That rounding bound, γ_dim Σ|h_d x_d| < (dim+2)ε Σ|h_d x_d|, holds for
// every order of the sum, fused or not, so the products come from
// vmath.DotRows in its order, len(dots) vectors at a time (dots: at least
// one element, at most scanChunk used). It also returns the member whose
// bound it returns (its position in m), or −1 where best stood.
func scanBallDots(dots, m, x []float64, x1, best float64) (float64, int) {
	at := -1
	dim := len(x)
	st := dim + 1
	dots = dots[:min(len(dots), scanChunk)]
	for p := 0; p+st <= len(m); {
		k := min(len(dots), (len(m)-p)/st)
		vmath.DotRows(dots[:k], m[p:p+k*st], st, x)
		for _, v := range dots[:k] {
			if a := math.Abs(v); a > best {
				if lo := a - m[p+dim]*x1; lo > best {
					best, at = lo, p/st
				}
			}
			p += st
		}
	}
	return best, at
}
