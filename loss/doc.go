// Package loss implements the losses of an approximation A = T(embed(a)) of a
// banded Toeplitz matrix X = T(x), each as a function of the residual
// generator r = x − embed(a), with its value and its gradient with respect to
// a, for one sample or a batch.
//
// # Probe loss
//
// The notebook's "Spectral_Loss" is the mean over a fixed set of P probe
// vectors y_p of ||(X − A) y_p||² / ||y_p||². Since T(r) = Σ_d r_d S_d, with
// S_d the shift with ones at (i, i+d),
//
//	||T(r) y||² = Σ_{d,e} r_d r_e ⟨S_d y, S_e y⟩,
//
// so the loss is the quadratic form rᵀ Q r with the (2K+1)×(2K+1) Gram matrix
//
//	Q[d][e] = (1/P) Σ_p ⟨S_d y_p, S_e y_p⟩ / ||y_p||²,
//	⟨S_d y, S_e y⟩ = Σ_{i : 0 <= i+d, i+e < N} y_{i+d} y_{i+e}.
//
// NewProbe builds Q once, in O(P·N·K + P·K²) with lagged prefix sums; after
// that a batch costs one (B×L)·(L×L) product and no n×n matrix or probe loop
// appears on the hot path. The gradient is ∂/∂a = −2 (Q r) restricted to the
// output band. For isotropic probes (E[y yᵀ/||y||²] = I/N) the expectation of
// Q is diag(N−|d|)/N, so the probe loss estimates ||X − A||_F² / N.
//
// The notebook draws every probe as rand(N)·rand()·N: all entries positive.
// Such vectors lean towards the all-ones vector (three quarters of their
// energy, E[y_i]² / E[y_i²] = 3/4, lies along it), so the shifted copies
// S_d y_p look alike and Q is dominated by one direction: at N = 11 with 100
// probes its condition number is about 29, against about 2 for Gaussian
// probes (TestNotebookProbesIllConditioned logs both). Residuals along the
// weak eigenvectors of Q cost up to 29 times less than along the strong one,
// so the notebook's loss hardly constrains them; the network it trains
// reaches a small probe loss while its Frobenius error stays large.
//
// # Frobenius loss
//
// ||T(r)||_F² = Σ_d (N−|d|) r_d², a diagonal quadratic form (NewFrobenius),
// optionally divided by N, the quantity the probe loss estimates.
//
// # Spectral loss
//
// The operator 2-norm ||T(r)||_2 = σ_1, the largest singular value, computed
// by a dense SVD of the N×N matrix. Where σ_1 is simple, its gradient with
// respect to r_d is u_1ᵀ S_d v_1 = Σ_i u_1[i] v_1[i+d] (Golub & Van Loan,
// Matrix Computations, §8.6: the derivative of a simple singular value); where
// it is not, the same formula gives a subgradient.
//
// # Reductions
//
// Every Loss returns the sum over the batch of the per-sample losses; an
// Objective applies the reduction (Mean or Sum) and a scale factor, so the
// notebook's batch loss, summed and multiplied by 3000, is
// Objective{Loss: probe, Reduction: Sum, Scale: 3000}.
package loss
