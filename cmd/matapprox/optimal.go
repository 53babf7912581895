package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/matapprox/matapprox/eval"
	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/train"
)

func runOptimal(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("optimal", "optimal -loss probe|frobenius|spectral -matrix \"x1,x2,…\" -out-band K [-n N] [-probes FILE|DIST] [-json]", stderr)
	lossName := fs.String("loss", "probe", "loss to minimise: probe, frobenius or spectral")
	matrix := fs.String("matrix", "", "the input generator, comma-separated 2K+1 numbers (required)")
	outBand := fs.Int("out-band", -1, "half-bandwidth K' of the approximation (required)")
	n := fs.Int("n", 0, "matrix size N (default 2K+1, as in the notebook)")
	probes := fs.String("probes", "notebook", "probe distribution (notebook, gaussian, rademacher) or a CSV/.npy probe file")
	numProbes := fs.Int("num-probes", 100, "probes drawn from a distribution")
	maxMem := memoryFlag(fs)
	seed := fs.Uint64("seed", 1, "seed for drawn probes (the seed preset's probes with the default)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	batch := addBatchFlags(fs) // optimal_batch.go: -input, -output, -shard
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if batch.active() {
		return batch.run(fs, stdout)
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
	opts := &eval.Options{}
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
