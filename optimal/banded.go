package optimal

import (
	"fmt"
	"math"

	"github.com/matapprox/matapprox/structure"
)

// Banded is the 2-norm solver for large N: it never forms an N×N matrix,
// costs O(N·K²) time per oracle call and O(N·K) memory, and returns a
// certified pair.
//
// The starting answer is the symbol's Chebyshev solution a_∞ (SolveSymbol),
// which is within O(K²/N²) of the finite-N optimum. When the symbol's own
// certified sandwich SymbolResult.LowerN(N) <= opt_N <= SymbolResult.Upper
// meets the tolerance (large N), that is the answer, with Value the symbol's
// Upper (a bound on the loss of a_∞, not its exact value), and no finite-N
// oracle runs. Otherwise Value is the smaller of two
// upper bounds on ||T_N(x) − T_N(embed(a_∞))||_2: the symbol's Upper, and
// the bound of structure.TopSingular (a banded Cholesky factorisation of
// μI − RᵀR, μ just above the computed σ_1²). Lower is the larger of two
// weak-duality bounds, each from a matrix Y orthogonal to the output
// diagonals:
//
//   - the symbol's dual measure on sine-windowed exponentials
//     (SymbolResult.LowerN), O(K²) independently of N;
//   - Y = U_k Z V_kᵀ from the top k singular pairs of the residual, Z the
//     projection of the identity onto the symmetric k×k matrices that make
//     the diagonal sums of Y vanish, the remaining diagonal sums c_d
//     removed by subtracting c_d S_d/(N−|d|), and ||Y||_* bounded by
//     ||Z||_*·||U_k||·||V_k|| + Σ_d |c_d| (since ||S_d||_* = N−|d|).
//
// Both bounds approach the optimum as N grows, but for a_∞ the gap is that
// of a_∞ itself, O(K²/N²). When it exceeds the tolerance, a_∞ is refined
// at finite N by the subspace method of subspaceWork (subspace.go; Kangal,
// Meerbergen, Mengi & Michiels, SIAM J. Matrix Anal. Appl. 39(1), 2018):
// each oracle call (structure.TopSingular) adds the top 2K'+1+BandedPairs
// singular pairs of the residual at the current point to orthonormal bases
// U, V; the compressed model ||Uᵀ R(δ) V||_2, a relaxation of the problem,
// is minimised over the 2K'+1 unknowns by a barrier method, its minimiser
// is the next point and its dual block, made exactly feasible by one
// primal–dual correction, certifies a lower bound through Y = U W Vᵀ. It
// converges superlinearly once the bases hold the optimum's active
// subspaces (two to four oracle calls from a_∞ in the benchmarks of
// docs/BENCHMARKS.md). The refinement stops at the tolerance or after
// BandedPolishSteps oracle calls; the result is the best certified pair
// over a_∞ and the iterates. Memory stays O(N·(2K'+1)).
// A Banded is not safe for concurrent use.
type Banded struct {
	in, out structure.Band
	tol     float64
	sub     *subspaceWork // finite-N refinement (subspace method)
}

// Limits of the finite-N refinement in Banded.
const (
	// BandedPairs is the number of top singular triplets each oracle call
	// of the refinement adds beyond the 2K'+1 unknowns (capped at N).
	BandedPairs = 5
	// BandedPolishSteps is the most oracle calls of the refinement.
	BandedPolishSteps = 40
)

// subspaceOracle returns the options of the subspace method's banded
// oracle for kn triplets per call: one block of kn, a basis of 2kn+8, and
// only the leading max(4, kn/2) triplets held to the tolerance (the
// others are Ritz vectors of the final basis: the model needs a good
// subspace, not every vector to full accuracy).
func subspaceOracle(n, kn int) *structure.TopSingularOptions {
	return &structure.TopSingularOptions{Block: kn, Basis: min(n, 2*kn+8), Tol: 1e-10, MaxRestarts: 20, Converge: max(4, kn/2)}
}

// subspaceSizes returns the triplets per oracle call and the largest
// basis of the subspace method for an output band of p = 2K'+1 diagonals.
func subspaceSizes(n, p int) (kNew, mMax int) {
	kNew = min(n, p+BandedPairs)
	return kNew, min(n, kNew+kNew/4)
}

// NewBanded returns a large-N solver for the bands (see NewSDP for the
// checks). tol is the relative gap at or below which a result counts as
// converged (0 means DefaultSpectralTol).
func NewBanded(in, out structure.Band, tol float64) (*Banded, error) {
	if err := structure.CheckNested(in, out); err != nil {
		return nil, fmt.Errorf("optimal: banded spectral solver for %v -> %v: %w", in, out, err)
	}
	if !(tol >= 0 && tol < 1) {
		return nil, fmt.Errorf("optimal: tolerance %v: must be in [0, 1): %w", tol, ErrOption)
	}
	if tol == 0 {
		tol = DefaultSpectralTol
	}
	// The refinement's workspace, O(N·K'), is made on first use: at large
	// N the symbol's sandwich often meets the tolerance alone.
	return &Banded{in: in, out: out, tol: tol}, nil
}

// Solve returns a certified answer for the input generator x. Invalid or
// non-representable inputs give the errors of SDP.Solve; a result whose
// gap exceeds the tolerance is returned, certified, together with an error
// wrapping ErrNotConverged (which Solver turns into Converged false).
func (b *Banded) Solve(x []float64) (Result, error) {
	if err := b.in.Validate(x); err != nil {
		return Result{}, fmt.Errorf("optimal: banded spectral solve: %w", err)
	}
	K, kp, n := b.in.K, b.out.K, b.in.N
	sym, err := SolveSymbol(b.in, b.out, x, 0)
	if err != nil {
		return Result{}, err
	}
	res := Result{A: sym.A, Iterations: sym.Iterations}
	big := maxOut(x, K, kp)
	if big == 0 {
		res.Converged = true
		return res, nil
	}
	if d, single := singleOut(x, K, kp); single {
		// One out-of-band diagonal: T(x_out) = x_d S_d has every singular
		// value |x_d|, which bounds the optimum from below (Y = ±S_d/(N−|d|)),
		// so the truncation x_I is optimal, exactly.
		res.A = append(res.A[:0], x[K-kp:K+kp+1]...)
		res.Value, res.Lower, res.Converged = math.Abs(x[d]), math.Abs(x[d]), true
		return res, nil
	}
	if lo := sym.LowerN(n); sym.Upper-lo <= b.tol*sym.Upper && sym.Upper > 0 && !math.IsInf(sym.Upper, 0) {
		// The symbol's sandwich LowerN(N) <= opt_N <= Upper already meets
		// the tolerance: no finite-N oracle call is needed.
		res.Value, res.Lower = sym.Upper, math.Max(0, math.Min(lo, sym.Upper))
		res.Converged = true
		return res, nil
	}
	// Finite-N: the subspace method from a_∞, whose first oracle call
	// certifies a_∞ itself (and stops there if that meets the tolerance);
	// every lower bound holds for opt_N whatever the point, and the Value
	// is that of the returned A.
	lo := sym.LowerN(n)
	if b.sub == nil {
		kn, mm := subspaceSizes(n, b.out.Len())
		sub, err := newSubspaceWork(b.in, b.out, kn, mm, subspaceOracle(n, kn))
		if err != nil {
			return res, fmt.Errorf("optimal: banded spectral solver: %w", err)
		}
		b.sub = sub
	}
	c := b.sub.solve(x, sym.A, b.tol, BandedPolishSteps, lo, 0)
	res.Value = sym.Upper
	if finite(c.A) && !math.IsNaN(c.Value) && c.Value <= res.Value {
		res.A, res.Value = c.A, c.Value
	}
	res.Iterations += c.Steps
	res.Lower = math.Min(math.Max(lo, c.Lower), res.Value)
	if math.IsInf(res.Value, 0) || math.IsNaN(res.Value) {
		return res, fmt.Errorf("optimal: banded spectral solve: optimum not representable: %w", structure.ErrNonFinite)
	}
	if res.Gap() > b.tol {
		return res, fmt.Errorf("optimal: banded spectral solve: certified relative gap %.3g, want %.3g: %w", res.Gap(), b.tol, ErrNotConverged)
	}
	res.Converged = true
	return res, nil
}

// singleOut reports whether exactly one out-of-band entry of x (bands K,
// K') is nonzero, and its index.
func singleOut(x []float64, K, kp int) (int, bool) {
	d, cnt := -1, 0
	for i, v := range x {
		if (i < K-kp || i > K+kp) && v != 0 {
			d, cnt = i, cnt+1
		}
	}
	return d, cnt == 1
}

// BandedMemory returns an estimate, in bytes, of the peak memory of a
// Banded solver for the bands (its workspace and that of its oracle), from
// the sizes alone and without allocating: O(N·(K + K')). Callers compare
// it with their memory limit before NewBanded.
func BandedMemory(in, out structure.Band) float64 {
	n := float64(in.N)
	kn, mm := subspaceSizes(in.N, out.Len())
	basis := float64(min(in.N, 2*kn+8))
	k, m := float64(kn), float64(mm)
	vectors := 2*m + 2*(m+k) + m + // bases, candidates, T(x_out)V
		4*basis + 2*k + 4 + // the oracle's Krylov basis, kept vectors, triplets, temporaries
		2*float64(2*in.K+1) // TᵀT and its banded Cholesky factor
	small := float64(out.Len())*m*m*12 + 64*m*m // compressed blocks and the model
	return 8 * (n*vectors + small)
}
