// Package optimal computes the best approximations of a banded Toeplitz
// matrix X = T(x) (band N, K) by one of a narrower band K' <= K, the
// baselines every trained network is measured against.
//
// # Truncation
//
// Truncate keeps the central 2K'+1 entries of x. Because the Frobenius norm
// of a Toeplitz matrix is the weighted sum of squares
// ||T(r)||_F² = Σ_d (N−|d|) r_d², with no cross terms, truncation is the
// exact optimum for the Frobenius loss.
//
// # Projection (probe and Frobenius losses)
//
// A quadratic loss (x − Ea)ᵀ Q (x − Ea), E the zero-padding embedding, is
// minimised where its gradient −2 Eᵀ Q (x − Ea) vanishes: the normal
// equations Q_II a = Q_I· x, with I the indices of the output band. Hence
// the optimum is the linear map
//
//	a* = M x,  M = Q_II⁺ Q_I·,
//
// computed once (Projection), so a batch of inputs is one matrix product.
// For positive semi-definite Q, range(Q_I·) ⊆ range(Q_II), so the
// pseudo-inverse gives an exact minimiser even when Q_II is singular (fewer
// probes than unknowns); it is the minimiser closest to truncation in the
// Euclidean norm of a − x_I. See Golub & Van Loan, Matrix Computations, §6.1
// (weighted and constrained least squares).
//
// # Spectral norm
//
// Under the operator 2-norm the problem min_a ||T(x) − T(Ea)||_2 is convex
// but not smooth and has no closed form. Every solver uses the in-band
// invariance T(x) − T(Ea) = T(x_out) − T(E(a − x_I)) (x_I the central
// 2K'+1 entries of x): it solves for δ = a − x_I on x_out scaled by a
// power of two, so neither the in-band entries nor the scale of x affect
// it. Every answer carries a certified lower bound from weak duality: for a
// (possibly complex) matrix Y with ⟨Y, S_d⟩ = 0 for |d| <= K',
// |⟨Y, T(x)⟩| / ||Y||_* <= min_a ||T(x) − T(Ea)||_2.
//
//   - SDP solves the semidefinite form by the barrier method (Boyd &
//     Vandenberghe, Convex Optimization, 2004, §11), certified to 1e-8, at
//     O(K'²N²) per Hessian entry: the method for small N.
//   - SolveSymbol solves the N → ∞ problem, the complex Chebyshev
//     approximation of the symbol x̂(θ) by a trigonometric polynomial of
//     degree K' (Tang, Math. Comp. 51, 1988; Karam & McClellan, IEEE Trans.
//     Circuits Syst. II 42(3), 1995), by the three phases of semi-infinite
//     programming (Hettich & Kortanek, SIAM Review 35(3), 1993), with a
//     rigorous Upper and a dual Lower, in about a millisecond; since T_N is
//     a compression of the Laurent operator, opt_N <= opt_∞ and opt_N is
//     nondecreasing in N, and SymbolResult.LowerN turns the dual measure
//     into a finite-N bound at a cost independent of N.
//   - Banded starts at the symbol's solution and refines it at finite N by
//     the subspace method for eigenvalue optimisation (Kangal, Meerbergen,
//     Mengi & Michiels, SIAM J. Matrix Anal. Appl. 39(1), 2018): compressed
//     models ||Uᵀ R(δ) V||_2 over bases accumulated from the top singular
//     pairs of the residuals (the banded oracle structure.TopSingular), whose
//     minima are lower bounds and whose minimisers converge superlinearly;
//     O(N·K) memory, certified to 1e-8 in two to four oracle calls.
//   - Certifier attaches to a given answer (a network's) its exact loss and
//     a certified lower bound, by the same subspace method started there.
//     A dual certificate bounds every input, so it remembers the duals it
//     finds and checks later rows against them first. In more than four
//     out-of-band dimensions it improves the nearest remembered dual for
//     the row at hand by dual ascent: alternating maximisation of the
//     Burer–Monteiro form of the dual problem (Burer & Monteiro, Math.
//     Program. 95, 2003) on a rank-3 factorisation, each step a projection
//     onto the complement of the output diagonals' shifts. It replaces a poor
//     answer by the primal fitted to the ascended dual's optimality
//     conditions. Every bound is recomputed rigorously from the dual it
//     comes from, whatever the iteration did.
//
// Solver picks SDP or Banded by size and output band (MethodAuto). See
// docs/SPECTRAL.md for the mathematics and docs/BENCHMARKS.md for the cost
// against N.
package optimal
