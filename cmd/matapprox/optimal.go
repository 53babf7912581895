package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/matapprox/matapprox/optimal"
	"github.com/matapprox/matapprox/train"
)

func runOptimal(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("optimal", "optimal -loss probe|frobenius|spectral -matrix \"x1,x2,…\" -out-band K [-n N] [-tol T] [-probes FILE|DIST] [-json]", stderr)
	lossName := fs.String("loss", "probe", "loss to minimise: probe, frobenius or spectral")
	matrix := fs.String("matrix", "", "the input generator, comma-separated 2K+1 numbers (required)")
	outBand := fs.Int("out-band", -1, "half-bandwidth K' of the approximation (required)")
	n := fs.Int("n", 0, "matrix size N (default 2K+1, as in the notebook)")
	tol := fs.Float64("tol", 0, "spectral loss: certified relative gap at which the solver stops (default 1e-8)")
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
	cfg, _ := train.Preset("seed")
	cfg.N, cfg.InBand, cfg.OutBand = size, k, *outBand
	cfg.Loss, cfg.Probes, cfg.NumProbes, cfg.Seed = *lossName, *probes, *numProbes, *seed
	if err := cfg.Validate(); err != nil {
		return usagef("%v", err)
	}
	if !(*tol >= 0 && *tol < 1) {
		return usagef("-tol %v: must be in [0, 1)", *tol)
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
	sol, err := optimal.NewSolver(ev.trained, &optimal.Options{Tol: *tol})
	if err != nil {
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
		obj["iterations"] = r.Iterations
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
