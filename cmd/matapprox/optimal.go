package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/matapprox/matapprox/eval"
	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/optimal"
	"github.com/matapprox/matapprox/structure"
	"github.com/matapprox/matapprox/train"
)

func runOptimal(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("optimal", "optimal -loss probe|frobenius|spectral -matrix \"x1,x2,…\" -out-band K [-n N] [-tol T] [-method sdp|banded] [-symbol] [-probes FILE|DIST] [-json]", stderr)
	lossName := fs.String("loss", "probe", "loss to minimise: probe, frobenius or spectral")
	matrix := fs.String("matrix", "", "the input generator, comma-separated 2K+1 numbers (required)")
	outBand := fs.Int("out-band", -1, "half-bandwidth K' of the approximation (required)")
	n := fs.Int("n", 0, "matrix size N (default 2K+1, as in the notebook; above 4096 only -loss spectral, by the banded solver in O(N·K) memory)")
	tol := fs.Float64("tol", 0, "spectral loss: certified relative gap at which the solver stops (default 1e-8)")
	method := fs.String("method", "", "spectral loss: sdp or banded (default: banded above N = 128, wherever its subspace of 2K'+6 pairs is at most N/2, and up to N = 48 wherever K - K' >= 2, finished by sdp where it stops short; sdp otherwise)")
	symbol := fs.Bool("symbol", false, "spectral loss: solve the N → ∞ problem (Chebyshev approximation of the symbol) and print its certified bounds and the finite-N sandwich")
	probes := fs.String("probes", "notebook", "probe distribution (notebook, gaussian, rademacher) or a CSV/.npy probe file")
	numProbes := fs.Int("num-probes", 100, "probes drawn from a distribution")
	maxMem := memoryFlag(fs)
	seed := fs.Uint64("seed", 1, "seed for drawn probes (the seed preset's probes with the default)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	fs.Bool("quiet", false, "batch mode: no progress on stderr")
	batch := addBatchFlags(fs) // optimal_batch.go: -input, -output, -shard
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if batch.active() {
		return batch.run(fs, stdout, stderr)
	}
	// A single solve writes only to stdout at its end; at N = 10⁵ and
	// beyond it takes seconds, so Ctrl-C says so and exits with 130.
	sig := catchInterrupts(stderr, "the solve was stopped; nothing was written")
	defer sig.stop()
	if *outBand < -1 || (*outBand == -1 && flagSet(fs, "out-band")) {
		return usagef("-out-band %d: want a half-bandwidth K' >= 0", *outBand)
	}
	if *matrix == "" || *outBand < 0 {
		return usagef("-matrix and -out-band are required")
	}
	// The band comes from the generator's length, 2K+1.
	x, err := parseNumbers(*matrix)
	if err != nil {
		return err
	}
	if len(x)%2 == 0 {
		return usagef("-matrix has %d entries: the generator of a matrix of half-bandwidth K has an odd number, 2K+1", len(x))
	}
	k := len(x) / 2
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
		if x, err = parseMatrix(*matrix, in); err != nil {
			return err
		}
		return printSymbol(stdout, in, out, x, *tol, *asJSON)
	}
	if *lossName == "spectral" && size > train.MaxN {
		return optimalLargeN(stdout, stderr, size, k, *outBand, *matrix, *tol, *method, maxMem.limit(), *asJSON)
	}
	cfg, _ := train.Preset("seed")
	cfg.N, cfg.InBand, cfg.OutBand = size, k, *outBand
	cfg.Loss, cfg.Probes, cfg.NumProbes, cfg.Seed = *lossName, *probes, *numProbes, *seed
	if err := cfg.Validate(); err != nil {
		return usagef("%v", err)
	}
	if err := train.LossEstimate(&cfg).Check(maxMem.limit(), "this problem", "-max-memory"); err != nil {
		return usagef("%v", err)
	}
	in, _ := cfg.Bands()
	if x, err = parseMatrix(*matrix, in); err != nil {
		return err
	}
	trained, _, err := train.BuildLoss(&cfg)
	if err != nil {
		return err
	}
	// One solve per matrix: the evaluator uses this solver for the optimum.
	sol, err := optimal.NewSolver(trained, &optimal.Options{Tol: *tol, Method: *method})
	if err != nil {
		if errors.Is(err, optimal.ErrOption) {
			return usagef("%v", err)
		}
		return err
	}
	opts := &eval.Options{Solver: sol}
	if cfg.Loss != "probe" {
		// probe_loss is measured with the -probes distribution or file.
		pc := cfg
		pc.Loss = "probe"
		pl, _, err := train.BuildLoss(&pc)
		if err != nil {
			return err
		}
		opts.Probe, opts.Probes = pl.(*loss.Quadratic), train.ProbesDescription(&pc)
	} else {
		opts.Probes = train.ProbesDescription(&cfg) + " (the loss minimised)"
	}
	ev, err := eval.New(nil, trained, opts)
	if err != nil {
		return err
	}
	row, err := ev.Evaluate(x)
	if err != nil {
		return err
	}
	best := row.Method(eval.Optimal)
	obj := map[string]any{"loss": *lossName, "n": size, "in_band": k, "out_band": *outBand, "probes": ev.Probes(),
		"generator": best.A, "probe_loss": jsonNum(best.ProbeLoss), "frobenius": jsonNum(best.Frobenius), "spectral": jsonNum(best.Spectral)}
	if *lossName == "spectral" {
		gap := 0.0
		if best.Loss > 0 {
			gap = (best.Loss - row.Lower) / best.Loss
		}
		obj["lower_bound"], obj["relative_gap"] = row.Lower, gap
		// The fields match the batch records (optimal_batch.go); whether the
		// solve stopped short is said on stderr.
		if !row.Converged {
			fmt.Fprintf(stderr, "warning: the solver stopped at a certified relative gap of %.3g, short of the tolerance; the answer is within that gap of the optimum\n", gap)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(obj)
	}
	fmt.Fprintf(stdout, "optimal %s approximation, %d×%d, half-bandwidth %d → %d\n", *lossName, size, size, k, *outBand)
	fmt.Fprintf(stdout, "generator   %s\n", fmtVec(best.A))
	fmt.Fprintf(stdout, "probe_loss  %.6g   (%s)\nfrobenius   %.6g\nspectral    %.6g\n", best.ProbeLoss, ev.Probes(), best.Frobenius, best.Spectral)
	if lb, ok := obj["lower_bound"]; ok {
		fmt.Fprintf(stdout, "certified lower bound on the spectral optimum %.9g (relative gap %.2g)\n", lb, obj["relative_gap"])
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
	gapN := 0.0
	if r.Upper > 0 {
		gapN = (r.Upper - lowN) / r.Upper
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"loss": "spectral", "symbol": true, "n": in.N, "in_band": in.K, "out_band": out.K,
			"generator": r.A, "upper_inf": jsonNum(r.Upper), "lower_inf": jsonNum(r.Lower), "relative_gap_inf": jsonNum(r.Gap()),
			"lower_n": jsonNum(lowN), "upper_n": jsonNum(r.Upper), "relative_gap_n": jsonNum(gapN)})
	}
	fmt.Fprintf(w, "Chebyshev approximation of the symbol, half-bandwidth %d → %d\n", in.K, out.K)
	fmt.Fprintf(w, "generator   %s\n", fmtVec(r.A))
	fmt.Fprintf(w, "opt_∞ in [%.12g, %.12g] (certified relative gap %.2g)\n", r.Lower, r.Upper, r.Gap())
	fmt.Fprintf(w, "N = %d: opt_N in [%.12g, %.12g] (relative gap %.2g); the generator above attains at most %.12g\n",
		in.N, lowN, r.Upper, gapN, r.Upper)
	return nil
}

// optimalLargeN solves the 2-norm problem above train.MaxN with
// optimal.Banded alone (O(N·K) memory; the probe loss, an N×N quadratic
// form, is not computed there), after checking its memory estimate.
func optimalLargeN(stdout, stderr io.Writer, size, k, outBand int, matrix string, tol float64, method string, limit int64, asJSON bool) error {
	in, err := structure.NewBand(size, k)
	if err != nil {
		return usagef("%v", err)
	}
	out := structure.Band{N: size, K: outBand}
	if err := structure.CheckNested(in, out); err != nil {
		return usagef("-out-band: %v", err)
	}
	if method != "" && method != "banded" {
		return usagef("-method %s: above N = %d only the banded solver runs (the SDP needs O(N²) memory)", method, train.MaxN)
	}
	if est := (train.Estimate{Parts: []train.Part{{What: "banded solver workspace", Bytes: optimal.BandedMemory(in, out)}}}); est.Check(limit, "this problem", "-max-memory") != nil {
		return usagef("%v", est.Check(limit, "this problem", "-max-memory"))
	}
	x, err := parseMatrix(matrix, in)
	if err != nil {
		return err
	}
	b, err := optimal.NewBanded(in, out, tol)
	if err != nil {
		return usagef("%v", err)
	}
	r, err := b.Solve(x)
	if err != nil && !errors.Is(err, optimal.ErrNotConverged) {
		return err
	}
	if err != nil {
		fmt.Fprintf(stderr, "warning: the solver stopped at a certified relative gap of %.3g, short of the tolerance; the answer is within that gap of the optimum\n", r.Gap())
	}
	resid := make([]float64, in.Len())
	structure.Embed(resid, in, r.A, out)
	for i := range resid {
		resid[i] = x[i] - resid[i]
	}
	fro := in.Frobenius(resid)
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"loss": "spectral", "n": size, "in_band": k, "out_band": outBand, "probes": nil,
			"generator": r.A, "probe_loss": nil, "frobenius": jsonNum(fro), "spectral": jsonNum(r.Value),
			"lower_bound": r.Lower, "relative_gap": r.Gap()})
	}
	fmt.Fprintf(stdout, "optimal spectral approximation, %d×%d, half-bandwidth %d → %d (banded solver)\n", size, size, k, outBand)
	fmt.Fprintf(stdout, "generator   %s\n", fmtVec(r.A))
	fmt.Fprintf(stdout, "probe_loss  not computed above N = %d (an N×N quadratic form)\nfrobenius   %.6g\nspectral    %.6g\n", train.MaxN, fro, r.Value)
	fmt.Fprintf(stdout, "certified lower bound on the spectral optimum %.9g (relative gap %.2g)\n", r.Lower, r.Gap())
	return nil
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) (set bool) {
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
