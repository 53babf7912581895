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
// but not smooth and has no closed form; SDP solves it as a
// semidefinite program with a certified lower bound (see its documentation
// and docs/SPECTRAL.md).
package optimal
