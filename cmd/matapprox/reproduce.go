package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/matapprox/matapprox/eval"
	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/nn"
	"github.com/matapprox/matapprox/train"
)

func runReproduce(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("reproduce", "reproduce [-out DIR] [-epochs N]", stderr)
	out := fs.String("out", "", "directory for the two runs (default: a new directory under runs/)")
	epochs := fs.Int("epochs", 0, "override the seed preset's 10 epochs (for a quick check)")
	defEpochs := fs.Int("default-epochs", 0, "override the default preset's epochs (for a quick check)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	parent, err := makeRunDir(*out, "reproduce")
	if err != nil {
		return err
	}
	defer parent.Close()
	dir := parent.Path()
	seed, _ := train.Preset("seed")
	def, _ := train.Preset("default")
	if *epochs > 0 {
		seed.Epochs = *epochs
	}
	if *defEpochs > 0 {
		def.Epochs = *defEpochs
	}
	fmt.Fprintln(stdout, "The notebook, end to end (preset seed). Losses are printed in the notebook's printed scale:")
	fmt.Fprintln(stdout, "the batch sum of the probe loss divided by 3000 (its code multiplies by 3000, but the numbers")
	fmt.Fprintln(stdout, "it printed are these; Adagrad does not depend on the scale, so training is the same).")
	fmt.Fprintln(stdout)
	seedDir := filepath.Join(dir, "seed")
	if err := trainInNewDir(seed, seedDir, trainOptions{notebook: true, report: true}, stdout, stderr); err != nil {
		return fmt.Errorf("seed preset: %w", err)
	}
	defDir := filepath.Join(dir, "default")
	fmt.Fprintf(stdout, "\nTraining the default preset (%d epochs) ...\n", def.Epochs)
	if err := trainInNewDir(def, defDir, trainOptions{quiet: true, report: true}, io.Discard, stderr); err != nil {
		return fmt.Errorf("default preset: %w", err)
	}
	seedModel, err := nn.LoadApproximator(seedDir)
	if err != nil {
		return err
	}
	defModel, err := nn.LoadApproximator(defDir)
	if err != nil {
		return err
	}
	// Everything is measured under the notebook's own loss (its probes).
	seedLoss, _, err := train.BuildLoss(&seed)
	if err != nil {
		return err
	}
	nb, err := evalOne(seedModel, seedLoss, &seed)
	if err != nil {
		return err
	}
	dr, err := evalOne(defModel, seedLoss, &seed)
	if err != nil {
		return err
	}
	nbNet, defNet := nb.Method(eval.Network), dr.Method(eval.Network)
	opt, trunc := nb.Method(eval.Optimal), nb.Method(eval.Truncation)
	fmt.Fprintf(stdout, "\nTest on X = %v (the notebook's cells 9 and 12):\n", notebookTest)
	fmt.Fprintf(stdout, "%v\n", float32(nbNet.ProbeLoss/3000))
	fmt.Fprintf(stdout, "tensor(%.4f)\n", nbNet.Frobenius)
	fmt.Fprintf(stdout, "\nSide by side on the same matrix, under the notebook's loss (probe loss over %s):\n", train.ProbesDescription(&seed))
	fmt.Fprintf(stdout, "%-26s %16s %14s %12s %12s\n", "approximation", "printed loss", "probe loss", "||X−A||_F", "||X−A||_2")
	for _, row := range []struct {
		name string
		a    *eval.Approximation
	}{{"notebook network (seed)", nbNet}, {"default preset network", defNet}, {"optimum of the probe loss", opt}, {"truncation", trunc}} {
		fmt.Fprintf(stdout, "%-26s %16.6g %14.6g %12.6g %12.6g\n", row.name, row.a.ProbeLoss/3000, row.a.ProbeLoss, row.a.Frobenius, row.a.Spectral)
	}
	if nb.Exact {
		fmt.Fprintln(stdout, "(This X lies in the narrow band: its optimum is 0, an exact row, so no optimality ratio is defined; the errors above are absolute.)")
	}
	fmt.Fprintf(stdout, "\nThe notebook's network misses this matrix by ||X−A||_F = %.3g although an exact banded fit exists "+
		"(the optimum and truncation reach %.2g here): its all-positive probes make the loss nearly blind to most error "+
		"directions, its data never look like X and ten epochs of Adagrad on raw inputs leave it far from the optimum; "+
		"the default preset, on the same loss and data, copies the in-band entries and learns only the out-of-band "+
		"correction (zero here), exact by construction (architecture sphere, see docs/SPECTRAL.md), and gets to %.3g.\n", nbNet.Frobenius, opt.Frobenius, defNet.Frobenius)
	fmt.Fprintf(stdout, "\nRuns and reports: %s, %s\n", seedDir, defDir)
	return nil
}

// trainInNewDir trains cfg into the new run directory dir.
func trainInNewDir(cfg train.Config, dir string, opt trainOptions, stdout, stderr io.Writer) error {
	rd, err := train.CreateRunDir(dir)
	if err != nil {
		return err
	}
	defer rd.Close()
	return trainInDir(cfg, rd, false, opt, stdout, stderr)
}

// evalOne evaluates network m on the notebook's test matrix under loss l.
func evalOne(m *nn.Approximator, l loss.Loss, cfg *train.Config) (*eval.Row, error) {
	ev, err := train.NewEvaluator(eval.NetworkModel(m, 0), l, cfg)
	if err != nil {
		return nil, err
	}
	return ev.Evaluate(notebookTest)
}
