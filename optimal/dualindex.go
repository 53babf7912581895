package optimal

import (
	"cmp"
	"math"
	"slices"
	"sync"
)

// dualIndex is the dual cache's index in more than dualGridMaxDim
// dimensions, where a grid on the sphere of x_out has too many cells for
// a lookup to find near directions. The remembered vectors h are grouped
// into balls (leader clustering, Hartigan, Clustering Algorithms, 1975,
// §3.2): a vector joins the ball whose centre (its first vector) is
// nearest, unless every centre is farther than dualJoinRadius·||h|| and
// fewer than dualLeaders balls exist, when it starts a ball of its own.
// Each ball keeps its radius r, so that for every member h and input x
//
//	|h·x| <= |c·x| + r ||x||_2,
//
// and a lookup visits the balls in decreasing order of that bound until it
// falls below the best member bound found, or dualScanCap vectors have
// been evaluated. Up to that cap it returns exactly the best bound among
// all remembered vectors (the pruning is by a valid upper bound); every
// bound it returns is one vector's.
type dualIndex struct {
	dim    int
	centre []float64 // balls × dim
	radius []float64 // per ball
	head   []int32   // first member per ball (−1: none)
	next   []int32   // next member per entry (−1 ends)
	pool   sync.Pool // *indexScratch
}

// Parameters of dualIndex.
const (
	// dualGridMaxDim is the largest number of out-of-band entries indexed
	// by the cube-map grid; beyond it dualIndex indexes the cache.
	dualGridMaxDim = 4
	// dualLeaders is the most balls: a lookup computes one product per
	// ball, so it bounds the lookup's fixed cost.
	dualLeaders = 1024
	// dualJoinRadius is the distance, relative to ||h||, within which a
	// vector joins an existing ball rather than start one.
	dualJoinRadius = 0.05
	// dualScanCap bounds the vectors one lookup evaluates, so that its
	// cost stays bounded as the cache fills and the balls grow: the
	// balls are visited in decreasing order of their bound, so the ones
	// skipped are those least likely to hold the best vector.
	dualScanCap = 4096
)

// indexScratch is one lookup's workspace.
type indexScratch struct {
	x, ub []float64
	ord   []int32
}

func newDualIndex(dim int) *dualIndex {
	ix := &dualIndex{dim: dim}
	ix.pool.New = func() any {
		return &indexScratch{x: make([]float64, dim), ub: make([]float64, dualLeaders), ord: make([]int32, dualLeaders)}
	}
	return ix
}

// dualIndexBytes returns an upper bound on the memory of a dualIndex of
// entries vectors in dim dimensions (the vectors themselves excluded).
func dualIndexBytes(dim, entries int) float64 {
	return float64(entries)*4 + float64(dualLeaders)*(8*float64(dim)+12)
}

// add indexes the entry id, whose vector is h.
func (ix *dualIndex) add(id int32, h []float64) {
	var nh float64
	for _, v := range h {
		nh += v * v
	}
	nh = math.Sqrt(nh)
	best, bd := -1, math.Inf(1)
	nb := len(ix.radius)
	for b := 0; b < nb; b++ {
		c := ix.centre[b*ix.dim : (b+1)*ix.dim]
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
	if best < 0 || (bd > dualJoinRadius*nh && nb < dualLeaders) {
		ix.centre = append(ix.centre, h...)
		ix.radius = append(ix.radius, 0)
		ix.head = append(ix.head, -1)
		best, bd = nb, 0
	}
	// The radius is rounded up so that it bounds the exact distance.
	ix.radius[best] = math.Max(ix.radius[best], bd*(1+float64(2*ix.dim+4)*epsilon))
	ix.next = append(ix.next, ix.head[best])
	ix.head[best] = id
}

// lower returns the best bound entryBound among the entries (vectors h
// and rounding bounds e, dim each, as the cache stores them) for the input
// xo/sc, sc a power of two.
func (ix *dualIndex) lower(xo []float64, sc float64, h, e []float64) float64 {
	s := ix.pool.Get().(*indexScratch)
	defer ix.pool.Put(s)
	dim := ix.dim
	x := s.x[:dim]
	var xn float64
	for i, v := range xo {
		x[i] = v / sc
		xn += x[i] * x[i]
	}
	xn = math.Sqrt(xn)
	nb := len(ix.radius)
	ub, ord := s.ub[:nb], s.ord[:nb]
	for b := 0; b < nb; b++ {
		ord[b] = int32(b)
		c := ix.centre[b*dim : (b+1)*dim]
		var p float64
		for i, v := range x {
			p += c[i] * v
		}
		// Inflated beyond the rounding of both products: the bound
		// only orders and prunes the search.
		ub[b] = (math.Abs(p) + ix.radius[b]*xn) * (1 + 1e-9)
	}
	slices.SortFunc(ord, func(a, b int32) int { return cmp.Compare(ub[b], ub[a]) })
	best := 0.0
	scanned := 0
	for _, b := range ord {
		if ub[b] <= best || scanned >= dualScanCap {
			break
		}
		for id := ix.head[b]; id >= 0; id = ix.next[id] {
			scanned++
			hv := h[int(id)*dim : int(id+1)*dim]
			ev := e[int(id)*dim : int(id+1)*dim]
			if lo := entryBound(hv, ev, x); lo > best {
				best = lo
			}
		}
	}
	return best
}

// entryBound returns the certified bound |h·x| − Σ_d (e_d + rounding)|x_d|
// of one remembered vector h with rounding bounds e for the input x,
// scaled by a power of two so that the sums cannot overflow.
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
