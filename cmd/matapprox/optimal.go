package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/matapprox/matapprox/optimal"
	"github.com/matapprox/matapprox/structure"
	"github.com/matapprox/matapprox/train"
)

func runOptimal(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("optimal", "optimal -loss probe|frobenius|spectral -matrix \"x1,x2,…\" -out-band K [-n N] [-tol T] [-method sdp|banded] [-symbol] [-probes FILE|DIST] [-json]", stderr)
	lossName := fs.String("loss", "probe", "loss to minimise: probe, frobenius or spectral")
	matrix := fs.String("matrix", "", "the input generator, comma-separated 2K+1 numbers (required)")
	outBand := fs.Int("out-band", -1, "half-bandwidth K' of the approximation (required)")
	n := fs.Int("n", 0, "matrix size N (default 2K+1, as in the notebook)")
	tol := fs.Float64("tol", 0, "spectral loss: certified relative gap at which the solver stops (default 1e-8)")
	method := fs.String("method", "", "spectral loss: sdp or banded (default: sdp up to N = 64, banded above)")
	symbol := fs.Bool("symbol", false, "spectral loss: solve the N → ∞ problem (Chebyshev approximation of the symbol) and print its certified bounds and the finite-N sandwich")
	probes := fs.String("probes", "notebook", "probe distribution (notebook, gaussian, rademacher) or a CSV/.npy probe file")
	numProbes := fs.Int("num-probes", 100, "probes drawn from a distribution")
	seed := fs.Uint64("seed", 1, "seed for drawn probes (the seed preset's probes with the default)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *matrix == "" || *outBand < 0 {
		return usagef("-matrix and -out-band are required")
	}
	// The band comes from the number of entries, split as parseMatrix does.
	fields := strings.FieldsFunc(*matrix, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '[' || r == ']' })
	if len(fields)%2 == 0 {
		return usagef("-matrix has %d entries, want an odd number 2K+1 (diagonal −K first)", len(fields))
	}
	k := len(fields) / 2
	size := *n
	if size == 0 {
		size = 2*k + 1
	}
	if !(*tol >= 0 && *tol < 1) {
		return usagef("-tol %v: must be in [0, 1)", *tol)
	}
	if *symbol {
		// The symbol problem does not depend on N, which only enters the
		// finite-N sandwich: no matrix is formed, so any N > K is fine.
		if *lossName != "spectral" {
			return usagef("-symbol applies to -loss spectral")
		}
		in, err := structure.NewBand(size, k)
		if err != nil {
			return usagef("%v", err)
		}
		out := structure.Band{N: size, K: *outBand}
		if err := structure.CheckNested(in, out); err != nil {
			return usagef("-out-band: %v", err)
		}
		x, err := parseMatrix(*matrix, in)
		if err != nil {
			return err
		}
		return printSymbol(stdout, in, out, x, *tol, *asJSON)
	}
	cfg, _ := train.Preset("seed")
	cfg.N, cfg.InBand, cfg.OutBand = size, k, *outBand
	cfg.Loss, cfg.Probes, cfg.NumProbes, cfg.Seed = *lossName, *probes, *numProbes, *seed
	if err := cfg.Validate(); err != nil {
		return usagef("%v", err)
	}
	in, _ := cfg.Bands()
	x, err := parseMatrix(*matrix, in)
	if err != nil {
		return err
	}
	ev, err := newEvaluator(nil, &cfg)
	if err != nil {
		return err
	}
	// One solve: the exact solver for the loss, then the metrics of its answer.
	sol, err := optimal.NewSolver(ev.trained, &optimal.Options{Tol: *tol, Method: *method})
	if err != nil {
		if errors.Is(err, optimal.ErrOption) {
			return usagef("%v", err)
		}
		return err
	}
	r, err := sol.Solve(x)
	if err != nil {
		return err
	}
	best := ev.measure(x, r.A)
	obj := map[string]any{"loss": *lossName, "n": size, "in_band": k, "out_band": *outBand,
		"generator": best.Generator, "probe_loss": best.ProbeLoss, "frobenius": best.Frobenius, "spectral": best.Spectral}
	if sol.Iterative() {
		obj["value"], obj["lower_bound"], obj["relative_gap"], obj["converged"] = r.Value, r.Lower, r.Gap(), r.Converged
		obj["iterations"], obj["method"] = r.Iterations, sol.Method()
		if !r.Converged {
			fmt.Fprintf(stderr, "warning: the solver stopped at a certified relative gap of %.3g, short of the tolerance; the answer is within that gap of the optimum\n", r.Gap())
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sanitize(obj))
	}
	fmt.Fprintf(stdout, "optimal %s approximation, %d×%d, half-bandwidth %d → %d\n", *lossName, size, size, k, *outBand)
	fmt.Fprintf(stdout, "generator   %s\n", fmtVec(best.Generator))
	fmt.Fprintf(stdout, "probe_loss  %.6g\nfrobenius   %.6g\nspectral    %.6g\n", best.ProbeLoss, best.Frobenius, best.Spectral)
	if sol.Iterative() {
		fmt.Fprintf(stdout, "certified lower bound on the spectral optimum %.9g (relative gap %.2g)\n", r.Lower, r.Gap())
	}
	return nil
}

// printSymbol solves the symbol problem and prints its certified bounds on
// opt_∞ and the sandwich LowerN(N) <= opt_N <= Upper.
func printSymbol(w io.Writer, in, out structure.Band, x []float64, tol float64, asJSON bool) error {
	r, err := optimal.SolveSymbol(in, out, x, tol)
	if err != nil {
		return err
	}
	lowN := r.LowerN(in.N)
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(sanitize(map[string]any{"loss": "spectral", "symbol": true, "n": in.N, "in_band": in.K, "out_band": out.K,
			"generator": r.A, "upper_inf": r.Upper, "lower_inf": r.Lower, "relative_gap_inf": r.Gap(),
			"lower_n": lowN, "upper_n": r.Upper, "relative_gap_n": (r.Upper - lowN) / r.Upper}))
	}
	fmt.Fprintf(w, "Chebyshev approximation of the symbol, half-bandwidth %d → %d\n", in.K, out.K)
	fmt.Fprintf(w, "generator   %s\n", fmtVec(r.A))
	fmt.Fprintf(w, "opt_∞ in [%.12g, %.12g] (certified relative gap %.2g)\n", r.Lower, r.Upper, r.Gap())
	fmt.Fprintf(w, "N = %d: opt_N in [%.12g, %.12g] (relative gap %.2g); the generator above attains at most %.12g\n",
		in.N, lowN, r.Upper, (r.Upper-lowN)/r.Upper, r.Upper)
	return nil
}
