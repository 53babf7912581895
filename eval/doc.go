// Package eval compares approximations of banded Toeplitz matrices with the
// exact optimum of a loss, row by row, and summarises the comparison in one
// set of statistics shared by the command line, summary.json, TensorBoard and
// the HTML report.
//
// # What is compared
//
// An input is the generator x of X = T(x), an N×N Toeplitz matrix of
// half-bandwidth K; an approximation is the generator a of A = T(embed(a)), of
// half-bandwidth K' <= K (package structure). For every row an Evaluator
// computes three approximations, in the order of Methods:
//
//   - network: the trained model's output (left out when the Evaluator has
//     no model);
//   - truncation: the central 2K'+1 entries of x;
//   - optimal: the exact minimiser of the trained loss L, by optimal.Solver
//     (closed form for the probe and Frobenius losses, a certified
//     semidefinite solve for the spectral loss).
//
// and for each one the residual R = X − A measured four ways: the trained
// loss L(x, a) ("loss"), ‖R‖_F ("frobenius"), ‖R‖₂ ("spectral") and the
// probe loss (1/P) Σ_p ‖R y_p‖²/‖y_p‖² over a stated set of probes
// ("probe_loss", see Options.Probe; every output that shows it names the
// probes in Summary.Probes).
//
// # Gap statistics
//
// The optimality gap of a row is g = L(network)/L(optimal) − 1 (zero for a
// perfect network; for the optimal row it is 0 by definition). Rows whose
// optimum is zero to rounding cannot have a ratio: when X already lies in
// the narrow band (the notebook's test matrix does) L(optimal) is rounding
// noise, 1e-29, and the ratio 1e30. Such rows are "exact rows": a row is
// exact when the optimum is at most ExactTol times the loss of the zero
// approximation, in the loss's own degree, i.e.
//
//	sqrt(L(optimal)/L(0)) <= ExactTol   (probe, Frobenius: quadratic in R)
//	L(optimal)/L(0)       <= ExactTol   (spectral: a norm of R)
//
// with L(0) the loss of a = 0, a norm of x; an all-zero row (L(0) = 0) is
// exact too, never dropped. Exact rows are counted in Summary.ExactRows,
// kept out of every ratio statistic, and measured instead by the absolute
// statistics ExactLossMean and ExactLossMax (the trained loss itself, whose
// optimum there is 0).
//
// Over the other rows ("ratio rows", Summary.RatioRows) a MethodSummary
// holds
//
//	Gap       = mean L(method) / mean L(optimal) − 1   (ratio of means)
//	GapMean   = mean of the per-row gaps g
//	GapMedian, GapP95 = the median and 95th percentile of g
//	GapMax    = the largest g
//
// Means of loss, frobenius, spectral and probe_loss are over all rows,
// exact ones included; Summary.Rows says how many. Quantiles are read from
// a histogram with 1000 logarithmic bins per decade of |g| over 1e-16 to 1e8,
// one set for each sign (the log-bucketed histograms of HdrHistogram and
// DDSketch: Masson, Rim and Lee, "DDSketch", VLDB 2019), so that a summary
// takes memory independent of the number of rows: a quantile is the
// geometric centre of its bin, within a relative 0.12% of the exact order
// statistic, and clamped to the smallest and largest gap seen (|g| < 1e-16
// counts as 0, |g| >= 1e8 falls in the top bin). Everything else is exact,
// and Accumulators merge, so sharded evaluations add up to the evaluation of
// the whole set (up to the order of floating-point sums).
//
// Error per output diagonal: for each diagonal d = −K' … K' of the output
// band, MethodSummary.DiagonalRMS is the root mean square over all rows of
// a_method[d] − a_optimal[d].
//
// # Streaming
//
// Evaluator.Run reads rows from a Source in batches, calls a function with
// each Row as soon as it is computed and returns the Summary; memory does
// not grow with the number of rows. Sources wrap a data.Set (FromSet), a
// data.Reader streaming a file (FromReader) or a data.Generator drawing a
// family of inputs (FromGenerator), each naming what it yields (Origin and
// a description) so that every summary says which rows it covers.
package eval
