package optimal

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

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
	k       int
	top     *structure.TopSingular
	sub     *subspaceWork // finite-N refinement (subspace method)
}

// Limits of the finite-N refinement in Banded.
const (
	// BandedPairs is the number of top singular triplets each oracle call
	// of the refinement adds beyond the 2K'+1 unknowns (capped at N).
	BandedPairs = 3
	// BandedPolishSteps is the most oracle calls of the refinement.
	BandedPolishSteps = 40
)

// subspaceOracle returns the options of the subspace method's banded
// oracle for kn triplets per call: one block of kn, a basis of 2kn+8, and
// only the leading subspaceConverge triplets held to the tolerance (the
// others are Ritz vectors of the final basis: the model needs a good
// subspace, not every vector to full accuracy).
func subspaceOracle(n, kn int) *structure.TopSingularOptions {
	return &structure.TopSingularOptions{Block: kn, Basis: min(n, 2*kn+8), Tol: 1e-10, MaxRestarts: 20, Converge: max(4, kn/2)}
}

// subspaceSizes returns the triplets per oracle call and the largest
// basis of the subspace method for an output band of p = 2K'+1 diagonals.
func subspaceSizes(n, p int) (kNew, mMax int) {
	kNew = min(n, p+BandedPairs)
	return kNew, min(n, kNew+(kNew+1)/2)
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
	k := min(in.N, out.Len()+2, 24)
	top, err := structure.NewTopSingular(in, k, &structure.TopSingularOptions{Block: k, Basis: min(in.N, 2*k+8), Tol: 1e-10, MaxRestarts: 20})
	if err != nil {
		return nil, fmt.Errorf("optimal: banded spectral solver: %w", err)
	}
	kn, mm := subspaceSizes(in.N, out.Len())
	sub, err := newSubspaceWork(in, out, kn, mm, subspaceOracle(in.N, kn))
	if err != nil {
		return nil, fmt.Errorf("optimal: banded spectral solver: %w", err)
	}
	return &Banded{in: in, out: out, tol: tol, k: k, top: top, sub: sub}, nil
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
	off := K - kp
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
	if lo := sym.LowerN(n); sym.Upper-lo <= b.tol*sym.Upper && sym.Upper > 0 && !math.IsInf(sym.Upper, 0) {
		// The symbol's sandwich LowerN(N) <= opt_N <= Upper already meets
		// the tolerance: no finite-N oracle call is needed.
		res.Value, res.Lower = sym.Upper, math.Max(0, math.Min(lo, sym.Upper))
		res.Converged = true
		return res, nil
	}
	// Residual r = x − embed(a), scaled: out-of-band x, in-band x_I − a.
	_, e := math.Frexp(big)
	r := make([]float64, b.in.Len())
	xo := make([]float64, b.in.Len())
	for i, v := range x {
		if i >= off && i < off+b.out.Len() {
			r[i] = math.Ldexp(v-sym.A[i-off], -e)
		} else {
			r[i] = math.Ldexp(v, -e)
			xo[i] = r[i]
		}
	}
	b.top.Reset()
	s, err := b.top.Compute(r)
	if err != nil {
		return res, fmt.Errorf("optimal: banded spectral solve: %w", err)
	}
	up := s.Upper
	if math.IsInf(up, 1) {
		up = s.Values[0] * (1 + 1e-14) // the basis spans the space
	}
	res.Value = math.Min(math.Ldexp(up, e), sym.Upper)
	lo := math.Max(sym.LowerN(n), math.Ldexp(pairDual(b.in, b.out, xo, s), e))
	res.Lower = math.Min(lo, res.Value)
	if res.Gap() > b.tol && !math.IsInf(res.Value, 0) && !math.IsNaN(res.Value) {
		// Finite-N refinement from a_∞; every lower bound is a bound on
		// opt_N whatever the point, the Value is that of the returned A.
		c := b.sub.solve(x, sym.A, b.tol, BandedPolishSteps)
		if finite(c.A) && c.Value < res.Value && !math.IsNaN(c.Value) {
			res.A, res.Value = c.A, c.Value
		}
		res.Iterations += c.Steps
		res.Lower = math.Min(math.Max(lo, c.Lower), res.Value)
	}
	if math.IsInf(res.Value, 0) || math.IsNaN(res.Value) {
		return res, fmt.Errorf("optimal: banded spectral solve: optimum not representable: %w", structure.ErrNonFinite)
	}
	if res.Gap() > b.tol {
		return res, fmt.Errorf("optimal: banded spectral solve: certified relative gap %.3g, want %.3g: %w", res.Gap(), b.tol, ErrNotConverged)
	}
	res.Converged = true
	return res, nil
}

// pairDual returns the weak-duality bound of Y = U_k Z V_kᵀ built from the
// singular triplets s of the residual (scaled units; xo the scaled
// out-of-band input), the best over the leading k' = 1..k pairs.
func pairDual(in, out structure.Band, xo []float64, s *structure.Singular) float64 {
	n, kp := in.N, out.K
	nd := out.Len()
	k := len(s.Values)
	u, v := s.U.RawMatrix(), s.V.RawMatrix()
	// C_d[a][b] = Σ_i U[i,a] V[i+d,b] = u_aᵀ S_d v_b for |d| <= K'.
	c := make([][]float64, nd)
	for di := range c {
		d := di - kp
		cd := make([]float64, k*k)
		for i := max(0, -d); i < min(n, n-d); i++ {
			ur := u.Data[i*u.Stride : i*u.Stride+k]
			vr := v.Data[(i+d)*v.Stride : (i+d)*v.Stride+k]
			for a, ua := range ur {
				row := cd[a*k : (a+1)*k]
				for bb, vb := range vr {
					row[bb] += ua * vb
				}
			}
		}
		c[di] = cd
	}
	// G[a][b] = u_aᵀ T(x_out) v_b.
	tv := make([]float64, n)
	g := make([]float64, k*k)
	col := make([]float64, n)
	for bb := 0; bb < k; bb++ {
		mat.Col(col, bb, s.V)
		in.MulVec(tv, xo, col)
		for a := 0; a < k; a++ {
			var t float64
			for i := 0; i < n; i++ {
				t += u.Data[i*u.Stride+a] * tv[i]
			}
			g[a*k+bb] = t
		}
	}
	// ||U_k||_2, ||V_k||_2 (1 up to the orthogonality of the vectors).
	opNorm := func(m *mat.Dense) float64 {
		var gm mat.SymDense
		gm.SymOuterK(1, m.T())
		var ev mat.EigenSym
		if !ev.Factorize(&gm, false) {
			return math.Inf(1)
		}
		vals := ev.Values(nil)
		return math.Sqrt(vals[len(vals)-1])
	}
	nu, nv := opNorm(s.U), opNorm(s.V)
	best := 0.0
	for kk := 1; kk <= k; kk++ {
		p := kk * (kk + 1) / 2
		m := mat.NewDense(nd, p, nil)
		z0 := make([]float64, p)
		ci := 0
		for a := 0; a < kk; a++ {
			for bb := a; bb < kk; bb++ {
				if a == bb {
					z0[ci] = 1
				}
				for di := 0; di < nd; di++ {
					val := c[di][a*k+bb]
					if a != bb {
						val += c[di][bb*k+a]
					}
					m.Set(di, ci, val)
				}
				ci++
			}
		}
		// z = z0 minus its component in the row space of M: the nearest
		// symmetric Z with vanishing diagonal sums.
		var svd mat.SVD
		if !svd.Factorize(m, mat.SVDFullV) {
			continue
		}
		var q mat.Dense
		svd.VTo(&q)
		sv := svd.Values(nil)
		z := append([]float64(nil), z0...)
		for j := 0; j < len(sv); j++ {
			if !(sv[j] > 1e-13*sv[0]) {
				continue
			}
			var dot float64
			for r := 0; r < p; r++ {
				dot += q.At(r, j) * z0[r]
			}
			for r := 0; r < p; r++ {
				z[r] -= dot * q.At(r, j)
			}
		}
		zm := mat.NewSymDense(kk, nil)
		ci = 0
		for a := 0; a < kk; a++ {
			for bb := a; bb < kk; bb++ {
				zm.SetSym(a, bb, z[ci])
				ci++
			}
		}
		var ev mat.EigenSym
		if !ev.Factorize(zm, false) {
			continue
		}
		var nuc float64
		for _, l := range ev.Values(nil) {
			nuc += math.Abs(l)
		}
		nuc *= nu * nv
		var num float64
		for a := 0; a < kk; a++ {
			for bb := 0; bb < kk; bb++ {
				num += zm.At(a, bb) * g[a*k+bb]
			}
		}
		// Remaining diagonal sums, removed by shifts of nuclear norm |c_d|.
		for di := 0; di < nd; di++ {
			var sum float64
			for a := 0; a < kk; a++ {
				for bb := 0; bb < kk; bb++ {
					sum += zm.At(a, bb) * c[di][a*k+bb]
				}
			}
			nuc += math.Abs(sum)
		}
		if lo := math.Abs(num) / nuc; lo > best && !math.IsInf(lo, 0) {
			best = lo
		}
	}
	return best
}
