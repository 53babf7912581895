package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/internal/atomicfile"
	"github.com/matapprox/matapprox/nn"
	"github.com/matapprox/matapprox/optimal"
	"github.com/matapprox/matapprox/train"
)

func runApprox(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("approx", "approx -model PATH -input FILE -output FILE [-certify] [-max-gap G]", stderr)
	modelPath := fs.String("model", "", "run directory or .safetensors file (required)")
	input := fs.String("input", "", "CSV or .npy file of input generators, one per row (required)")
	output := fs.String("output", "", "CSV or .npy file to write the approximations' generators to (required)")
	n := fs.Int("n", 0, "matrix size N to apply the model at (default: the run's N; for a bare .safetensors model its metadata's, or 2K+1)")
	batch := fs.Int("batch", 4096, "rows per forward pass")
	quiet := fs.Bool("quiet", false, "no progress and no warnings on stderr")
	precision := fs.String("precision", "f64", "the network's arithmetic: f64, or f32 (float32 products and activations from the float64 weights, about twice as fast; with -certify every answer is still certified in float64)")
	maxMem := memoryFlag(fs)
	certify := fs.Bool("certify", false, "attach to every row its exact loss, a certified lower bound on the optimum and the certified gap (in FILE.cert.csv next to a CSV/.npy output; in the rows of a .jsonl output)")
	maxGap := fs.Float64("max-gap", 0, "with -certify: re-solve with the exact solver every row whose certified gap exceeds this (e.g. 0.01), so every row is within it")
	polish := fs.Bool("polish", true, "with -certify: improve a row whose certified gap is above the target (-max-gap, or 0.1 %) by polish steps, up to -polish-steps (false keeps the network's answers, except the rows -max-gap re-solves)")
	polishSteps := fs.Int("polish-steps", 0, fmt.Sprintf("with -certify: the most polish steps per row (0: %d without -max-gap; %d with it, where a row still above G after them is re-solved by the exact solver)", optimal.DefaultPolishSteps, optimal.DefaultRefineSteps))
	dualCache := fs.Int("dual-cache", optimal.DefaultDualCache, fmt.Sprintf("with -certify, for the 2-norm at N <= 64: remember the dual certificates of this many rows and check later rows near their directions against them first (much cheaper than certifying from scratch; every bound stays rigorous; a row's bound then depends on the rows before it in the file, not on -batch or the number of threads; beyond 4 out-of-band diagonals at most %d, each improved for the row at hand by dual ascent; 0: certify every row on its own)", optimal.AscentDualCache))
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *modelPath == "" || *input == "" || *output == "" {
		return usagef("-model, -input and -output are required")
	}
	if *batch < 1 {
		return usagef("-batch %d: must be at least 1", *batch)
	}
	if *dualCache < 0 || *dualCache > optimal.MaxDualCache {
		return usagef("-dual-cache %d: must be in [0, %d]", *dualCache, optimal.MaxDualCache)
	}
	if *polishSteps < 0 {
		return usagef("-polish-steps %d: must be at least 0 (-polish=false disables polishing)", *polishSteps)
	}
	prec, err := nn.ParsePrecision(*precision)
	if err != nil {
		return usagef("-precision: %v", err)
	}
	inFmt, err := data.FormatOf(*input)
	if err != nil {
		return usagef("-input %v", err)
	}
	if !(*maxGap >= 0 && *maxGap < 1) {
		return usagef("-max-gap %v: must be in [0, 1)", *maxGap)
	}
	if *maxGap > 0 || isJSONL(*output) {
		*certify = true
	}
	outFmt := "jsonl"
	if !isJSONL(*output) {
		if outFmt, err = data.FormatOf(*output); err != nil {
			return usagef("-output %v (or .jsonl with -certify)", err)
		}
	}
	modelFile := *modelPath
	if st, err := os.Stat(modelFile); err == nil && st.IsDir() {
		modelFile = filepath.Join(modelFile, nn.WeightsFile)
	}
	if err := checkNotInput("-output", *output, *input, modelFile); err != nil {
		return err
	}
	lm, err := loadModel(*modelPath, *n, "", "")
	if err != nil {
		return err
	}
	est := train.ApproxEstimate(lm.model.Net.Config, *batch*lm.model.Symmetry.Order())
	what := fmt.Sprintf("-batch %d", *batch)
	if cin, cout := lm.cfg.Bands(); *certify && lm.cfg.Loss == "spectral" && optimal.DualCacheBytes(cin, cout, *dualCache) > 0 {
		est.Add("dual cache (-dual-cache)", optimal.DualCacheBytes(cin, cout, *dualCache), 1)
		what += fmt.Sprintf(" with -dual-cache %d", *dualCache)
	}
	if err := est.Check(maxMem.limit(), what, "-max-memory"); err != nil {
		return usagef("%v", err)
	}
	sig := catchInterrupts(stderr, fmt.Sprintf("%s was not written (a file already there is unchanged) and no temporary file is left; run the command again", *output))
	defer sig.stop()
	in, out := lm.cfg.Bands()
	f, err := os.Open(*input)
	if err != nil {
		return err
	}
	defer f.Close()
	rd, err := data.NewReader(bufio.NewReaderSize(f, 1<<16), *input, inFmt)
	if err != nil {
		return err
	}
	if rd.Dim() > 0 && rd.Dim() != in.Len() {
		return fmt.Errorf("%s: rows have %d entries, the model takes generators of 2K+1 = %d", *input, rd.Dim(), in.Len())
	}
	L, Lo := in.Len(), out.Len()
	if err := lm.model.Net.SetPrecision(prec); err != nil {
		return err
	}
	ws := lm.model.NewWorkspace(*batch)
	buf := make([]float64, *batch*L)
	rows := 0
	cov := newCoverage(lm, *n)
	ph := newReporter(stderr, *quiet).Start("approx", max(rd.Rows(), 0), "rows")
	newGen := func(w io.Writer) (*data.Writer, error) {
		if outFmt == "npy" {
			if rd.Rows() < 0 {
				return nil, fmt.Errorf("writing .npy needs the row count up front; read from a .npy input or write CSV")
			}
			return data.NewNPYWriter(w, rd.Rows(), Lo)
		}
		return data.NewWriter(w, "csv", Lo)
	}
	// forEachBatch feeds emit the network's outputs a for each batch x of k rows.
	forEachBatch := func(emit func(x, a []float64, k int) error) error {
		for {
			k := 0
			for ; k < *batch; k++ {
				err := rd.Next(buf[k*L : (k+1)*L])
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return err
				}
				if err := in.Validate(buf[k*L : (k+1)*L]); err != nil {
					return fmt.Errorf("%s: row %d: %w", *input, rows+k+1, err)
				}
			}
			if k > 0 {
				cov.check(buf[:k*L], k, rows)
				a := lm.model.Forward(ws, buf[:k*L], k)
				for i, v := range a[:k*Lo] {
					if math.IsInf(v, 0) || math.IsNaN(v) {
						return fmt.Errorf("%s: row %d: the network's answer overflows float64 (entries this close to the largest float64 leave no room for the generator; rescale the matrix)", *input, rows+i/Lo+1)
					}
				}
				if err := emit(buf[:k*L], a, k); err != nil {
					return err
				}
				rows += k
				ph.Set(rows)
			}
			if k < *batch {
				return nil
			}
		}
	}
	var ac *approxCertifier
	if *certify {
		if ac, err = newApproxCertifier(&lm.cfg, *maxGap, *polish, *polishSteps, *dualCache, *batch); err != nil {
			return err
		}
		if msg := ac.loadDuals(lm.dir, *dualCache); msg != "" && !*quiet {
			fmt.Fprintln(stderr, msg)
		}
		err = withCertOutput(*output, newGen, func(cw *certRowWriter) error {
			return forEachBatch(func(x, a []float64, k int) error {
				g, res, err := ac.certify(x, a, k)
				if err != nil {
					return err
				}
				for i := 0; i < k; i++ {
					if err := cw.write(g[i*Lo:(i+1)*Lo], res[i]); err != nil {
						return err
					}
				}
				return nil
			})
		})
	} else {
		err = atomicfile.Write(*output, 0o644, func(w io.Writer) error {
			wr, err := newGen(w)
			if err != nil {
				return err
			}
			if err := forEachBatch(func(_, a []float64, k int) error {
				for i := 0; i < k; i++ {
					if err := wr.Write(a[i*Lo : (i+1)*Lo]); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				return err
			}
			return wr.Close()
		})
	}
	ph.Finish()
	if err != nil {
		return err
	}
	if ac != nil {
		fmt.Fprintln(stdout, ac.summary())
		if w := ac.warning(); w != "" {
			fmt.Fprintln(stderr, w)
		}
	}
	fmt.Fprintf(stdout, "wrote %d approximations (half-bandwidth %d) to %s\n", rows, out.K, *output)
	if !*quiet {
		cov.report(stderr)
	}
	return nil
}
