package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/eval"
	"github.com/matapprox/matapprox/internal/progress"
	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/nn"
	"github.com/matapprox/matapprox/optimal"
	"github.com/matapprox/matapprox/structure"
	"github.com/matapprox/matapprox/train"
)

// loadedModel is a network with the configuration it was trained with.
type loadedModel struct {
	model *nn.Approximator
	cfg   train.Config
	dir   string // run directory, "" for a bare file
}

// loadModel reads a run directory (model.safetensors, config.json and
// config.yaml) or a bare .safetensors file, whose architecture comes from
// the tensor shapes (PyTorch's names for the notebook's model accepted).
// For a bare file n sets the matrix size (0: 2K+1, as in the notebook) and
// lossName/probes the loss it is evaluated against.
func loadModel(path string, n int, lossName, probes string) (*loadedModel, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	lm := &loadedModel{}
	if st.IsDir() {
		switch train.StatusOf(path) {
		case train.RunUnfinished:
			return nil, fmt.Errorf("model: %s holds an unfinished run (interrupted, or its final files were not all written); finish it with: matapprox train -resume %s", path, path)
		case train.RunStarted:
			return nil, fmt.Errorf("model: %s holds a run that stopped before its first checkpoint; start it again with: matapprox train -resume %s", path, path)
		}
		if _, err := os.Stat(filepath.Join(path, nn.WeightsFile)); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("model: %s has no %s: give a run directory written by matapprox train or a .safetensors file", path, nn.WeightsFile)
		}
		lm.dir = path
	}
	if lm.model, err = nn.LoadApproximator(path); err != nil {
		return nil, err
	}
	if lm.dir != "" {
		if lm.cfg, err = train.LoadConfig(filepath.Join(lm.dir, train.ConfigFile), train.Config{}); err == nil {
			if n > 0 {
				lm.cfg.N = n // -n applies the run's model at another size
			}
			if err = lm.cfg.Validate(); err != nil {
				if n > 0 {
					return nil, usagef("-n %d: %v", n, err)
				}
				return nil, fmt.Errorf("model: %s: %w", filepath.Join(lm.dir, train.ConfigFile), err)
			}
			return lm, lm.check()
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	// A bare model: take the bands from its metadata or its shapes.
	c := lm.model.Net.Config
	nIn, nOut := lm.model.Inputs(), lm.model.Outputs()
	if nIn%2 == 0 || nOut%2 == 0 || nOut > nIn {
		return nil, fmt.Errorf("model: %s maps %d inputs to %d outputs; a band approximator maps 2K+1 inputs to 2K'+1 <= 2K+1 outputs", path, nIn, nOut)
	}
	cfg, _ := train.Preset("seed")
	cfg.InBand, cfg.OutBand = (nIn-1)/2, (nOut-1)/2
	cfg.N = nIn
	if m := lm.model.Meta; m.In != nil {
		cfg.N = m.In.N
	}
	if n > 0 {
		cfg.N = n
	}
	cfg.Hidden = c.Hidden
	cfg.Activation = c.Activation.String()
	if lm.model.Kind.OnSphere() {
		cfg.Architecture, cfg.Symmetry, cfg.Standardize = string(lm.model.Kind), lm.model.Symmetry.String(), false
	}
	if l := lm.model.Meta.Extra["loss"]; l != "" && lossName == "" {
		lossName = l
	}
	if lossName != "" {
		cfg.Loss = lossName
	}
	if probes != "" {
		cfg.Probes = probes
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	lm.cfg = cfg
	return lm, lm.check()
}

func (lm *loadedModel) check() error {
	in, out := lm.cfg.Bands()
	if lm.model.Inputs() != in.Len() || lm.model.Outputs() != out.Len() {
		return fmt.Errorf("model: the network maps %d → %d values but the run's bands need %d → %d", lm.model.Inputs(), lm.model.Outputs(), in.Len(), out.Len())
	}
	return nil
}

// parseMatrix parses "x1,x2,…" into a generator of band b.
func parseMatrix(s string, b structure.Band) ([]float64, error) {
	x, err := parseNumbers(s)
	if err != nil {
		return nil, err
	}
	if err := b.Validate(x); err != nil {
		return nil, usagef("-matrix: %v (the generator of an N×N matrix of half-bandwidth K has 2K+1 entries, diagonal −K first)", err)
	}
	return x, nil
}

func runEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval", "eval -model PATH [-matrix \"x1,x2,…\"] [-input FILE] [-probes FILE] [-json]", stderr)
	modelPath := fs.String("model", "", "run directory or .safetensors file (required)")
	matrix := fs.String("matrix", "", "one input generator, comma-separated (2K+1 numbers)")
	input := fs.String("input", "", "CSV or .npy file of input generators, one per row (read as a stream)")
	probes := fs.String("probes", "", "CSV or .npy file of probe vectors for the probe_loss metric only (default: the run's probes); the trained loss and its optimum do not change")
	asJSON := fs.Bool("json", false, "print one JSON object, streamed row by row")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	count := fs.Int("count", 1000, "random matrices drawn from the run's data generator when no -matrix or -input is given")
	seed := fs.Uint64("seed", 12345, "seed of the random matrices")
	n := fs.Int("n", 0, "matrix size N to apply the model at (default: the run's N; for a bare .safetensors model its metadata's, or 2K+1)")
	lossName := fs.String("loss", "", "for a bare model: the loss it was trained with (default probe)")
	batch := addEvalBatchFlags(fs) // eval_batch.go: -output, -shard
	fam := addFamilyFlags(fs)      // families.go: -families, -family-count, -other-n
	certify := fs.Bool("certify", false, "also certify every network answer (exact loss, certified lower bound, certified gap) and print the distribution of certified gaps against the true gaps")
	evalMaxGap := fs.Float64("max-gap", 0, "with -certify (implied): certify as approx -max-gap does, re-solving with the exact solver every answer whose certified gap exceeds this")
	evalDualCache := fs.Int("dual-cache", 0, "with -certify: remember this many rows' dual certificates and check later rows against them first, as approx -dual-cache does (0, the default: every row certified on its own, so that -shard parts merge to the unsharded summary)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *evalDualCache < 0 || *evalDualCache > optimal.MaxDualCache {
		return usagef("-dual-cache %d: must be in [0, %d]", *evalDualCache, optimal.MaxDualCache)
	}
	if !(*evalMaxGap >= 0 && *evalMaxGap < 1) {
		return usagef("-max-gap %v: must be in [0, 1)", *evalMaxGap)
	}
	if *evalMaxGap > 0 {
		*certify = true
	}
	if *certify && *asJSON {
		return usagef("-certify prints a text summary; use approx -certify -output FILE.jsonl for certificates as JSON")
	}
	if *modelPath == "" {
		return usagef("-model is required: a run directory or a .safetensors file")
	}
	if *matrix != "" && *input != "" {
		return usagef("give -matrix or -input, not both")
	}
	if *count < 1 || *count > 100_000_000 {
		return usagef("-count %d: must be between 1 and 100000000", *count)
	}
	lm, err := loadModel(*modelPath, *n, *lossName, "")
	if err != nil {
		return err
	}
	if lm.dir != "" {
		// The trained loss is built from the run's probes, even with -probes.
		if err := train.CheckInputs(lm.dir, "probes"); err != nil {
			return err
		}
	}
	in, out := lm.cfg.Bands()
	trained, _, err := train.BuildLoss(&lm.cfg)
	if err != nil {
		return err
	}
	opts, err := train.EvalOptions(&lm.cfg, trained)
	if err != nil {
		return err
	}
	if *probes != "" {
		set, err := data.ReadFile(*probes)
		if err != nil {
			return fmt.Errorf("probes: %w", err)
		}
		if set.Dim != in.N || set.Rows == 0 {
			return usagef("-probes %s: %d rows of %d entries; want at least one probe vector of N = %d entries per row", *probes, set.Rows, set.Dim, in.N)
		}
		if opts.Probe, err = loss.NewProbe(in, out, set.X, set.Rows); err != nil {
			return fmt.Errorf("probes %s: %w", *probes, err)
		}
		opts.Probes = fmt.Sprintf("the %d probes in %s (a metric; the trained loss keeps the run's)", set.Rows, *probes)
	}
	ev, err := eval.New(eval.NetworkModel(lm.model, 0), trained, opts)
	if err != nil {
		return err
	}
	if batch.active() {
		if *certify {
			return usagef("-certify does not apply to -output; use approx -certify -output FILE.jsonl")
		}
		return batch.run(fs, ev, *input, stdout, stderr)
	}
	sig := catchInterrupts(stderr, "the evaluation was stopped; nothing was written")
	defer sig.stop()
	var src eval.Source
	perRow := true
	total := 0 // rows, when known
	switch {
	case *matrix != "":
		x, err := parseMatrix(*matrix, in)
		if err != nil {
			return err
		}
		src = eval.FromSet(&data.Set{Dim: in.Len(), Rows: 1, X: x}, eval.File, "1 matrix given by -matrix")
		total = 1
	case *input != "":
		f, err := os.Open(*input)
		if err != nil {
			return fmt.Errorf("input: %w", err)
		}
		defer f.Close()
		format, err := data.FormatOf(*input)
		if err != nil {
			return usagef("-input %s: %v", *input, err)
		}
		rd, err := data.NewReader(f, *input, format)
		if err != nil {
			return err
		}
		src = eval.FromReader(rd, in, *input)
		total = max(rd.Rows(), 0)
	default:
		name := lm.cfg.Data
		if _, err := data.GeneratorByName(name, in); err != nil {
			name = "notebook"
		}
		g, _ := data.GeneratorByName(name, in)
		src = eval.FromGenerator(g, in, *count, rand.New(rand.NewPCG(*seed, 0xe7a1)),
			fmt.Sprintf("%d random matrices drawn afresh from the %s generator (seed %d)", *count, name, *seed))
		perRow = false
		total = *count
	}
	var fams []eval.FamilyResult
	if *fam.on {
		if fams, err = fam.run(lm, ev, *seed); err != nil {
			return err
		}
	}
	rep := newReporter(stderr, *quiet)
	if *asJSON {
		return streamJSON(stdout, ev, src, fams, rep.Start("evaluation", total, "matrices"))
	}
	cert, err := newEvalCertifier(*certify, trained, *evalMaxGap, *evalDualCache)
	if err != nil {
		return err
	}
	if cert != nil && *evalDualCache > 0 {
		if msg := loadRunDuals(cert.c, lm.dir); msg != "" && !*quiet {
			fmt.Fprintln(stderr, msg)
		}
	}
	rows := 0
	ph := rep.Start("evaluation", total, "matrices")
	sum, err := ev.Run(src, func(r *eval.Row) error {
		rows++
		ph.Add(1)
		if err := cert.add(r); err != nil {
			return err
		}
		if !perRow {
			return nil
		}
		if rows == 1 {
			printEvalHeader(stdout, ev, src)
		}
		if rows <= 20 {
			printRow(stdout, r)
		}
		return nil
	})
	ph.Finish()
	if err != nil {
		return err
	}
	if perRow && rows > 20 {
		fmt.Fprintf(stdout, "... %d more rows (use -json for all)\n", rows-20)
	}
	if rows > 1 || !perRow {
		if perRow {
			fmt.Fprintln(stdout)
		}
		printSummary(stdout, &sum)
	}
	if fams != nil {
		fmt.Fprintln(stdout)
		printFamilies(stdout, fams)
	}
	cert.print(stdout)
	return nil
}

// printEvalHeader says what the numbers that follow are.
func printEvalHeader(w io.Writer, ev *eval.Evaluator, src eval.Source) {
	fmt.Fprintf(w, "evaluation of %s (evaluated_on: %s)\n", src.Describe(), src.Origin())
	fmt.Fprintf(w, "trained loss: %s (optimal = its exact optimum); probe_loss uses %s\n", ev.Loss().Name(), ev.Probes())
}

// streamJSON writes {"n", "in_band", "out_band", "loss", "probes",
// "results": [...], "summary": {...}} with one result per line as it is
// computed, so that memory does not grow with the number of rows. It
// reports the rows done to ph and finishes it.
func streamJSON(w io.Writer, ev *eval.Evaluator, src eval.Source, fams []eval.FamilyResult, ph *progress.Phase) error {
	in, out := ev.Bands()
	head, _ := json.Marshal(map[string]any{"n": in.N, "in_band": in.K, "out_band": out.K, "loss": ev.Loss().Name(), "probes": ev.Probes(), "evaluated_on": src.Origin()})
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.Write(head[:len(head)-1])
	bw.WriteString(`,"results":[`)
	first := true
	sum, err := ev.Run(src, func(r *eval.Row) error {
		ph.Add(1)
		b, err := json.Marshal(rowJSON(r))
		if err != nil {
			return err
		}
		if !first {
			bw.WriteByte(',')
		}
		first = false
		bw.WriteByte('\n')
		_, err = bw.Write(b)
		return err
	})
	ph.Finish()
	if err != nil {
		bw.Flush()
		return err
	}
	b, err := json.Marshal(sum)
	if err != nil {
		return err
	}
	bw.WriteString("\n],\"summary\":")
	bw.Write(b)
	if fams != nil {
		fb, err := json.Marshal(familiesJSON(fams))
		if err != nil {
			return err
		}
		bw.WriteString(",\"families\":")
		bw.Write(fb)
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

// rowJSON is the JSON form of one row; NaN and infinities become null.
func rowJSON(r *eval.Row) map[string]any {
	ap := map[string]any{}
	for _, a := range r.Approximations {
		ap[a.Method] = map[string]any{"generator": a.A, "loss": jsonNum(a.Loss), "probe_loss": jsonNum(a.ProbeLoss),
			"frobenius": jsonNum(a.Frobenius), "spectral": jsonNum(a.Spectral), "gap": jsonNum(a.Gap)}
	}
	return map[string]any{"index": r.Index, "input": r.X, "exact": r.Exact, "optimal_lower_bound": jsonNum(r.Lower), "approximations": ap}
}

func printRow(w io.Writer, r *eval.Row) {
	note := ""
	if r.Exact {
		note = "  (exact row: the optimum is 0; no gap)"
	}
	fmt.Fprintf(w, "input %s%s\n", fmtVec(r.X), note)
	fmt.Fprintf(w, "  %-11s %12s %12s %12s %10s  %s\n", "method", "probe_loss", "frobenius", "spectral", "gap", "generator")
	for _, a := range r.Approximations {
		fmt.Fprintf(w, "  %-11s %12.5g %12.5g %12.5g %10s  %s\n", a.Method, a.ProbeLoss, a.Frobenius, a.Spectral, pct(a.Gap), fmtVec(a.A))
	}
}

// pct formats a ratio as a percentage, "—" for NaN.
func pct(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%.3f%%", 100*v)
}

// printSummary prints an evaluation summary and says what each number is.
func printSummary(w io.Writer, s *eval.Summary) {
	fmt.Fprintf(w, "evaluation on %s (evaluated_on: %s)\n", s.Description, s.EvaluatedOn)
	fmt.Fprintf(w, "trained loss: %s (optimal = its exact optimum); probe_loss uses %s\n", s.Loss, s.Probes)
	fmt.Fprintf(w, "%-11s %12s %12s %12s %10s %10s %10s %10s %10s\n", "method", "probe_loss", "frobenius", "spectral", "gap", "gap_mean", "gap_median", "gap_p95", "gap_max")
	for _, m := range s.Methods {
		fmt.Fprintf(w, "%-11s %12.5g %12.5g %12.5g %10s %10s %10s %10s %10s\n", m.Method, m.ProbeLoss, m.Frobenius, m.Spectral,
			pct(m.Gap), pct(m.GapMean), pct(m.GapMedian), pct(m.GapP95), pct(m.GapMax))
	}
	fmt.Fprintf(w, "probe_loss, frobenius (‖X−A‖_F), spectral (‖X−A‖₂): means over all %d rows. gap = mean loss / mean optimal loss − 1;\n", s.Rows)
	fmt.Fprintf(w, "gap_mean, gap_median, gap_p95, gap_max: of the per-matrix loss / optimal loss − 1; all gaps over the %d ratio rows (rows − exact_rows).\n", s.RatioRows)
	if s.ExactRows > 0 {
		rows := "rows have"
		if s.ExactRows == 1 {
			rows = "row has"
		}
		parts := []string{fmt.Sprintf("exact_rows: %d %s optimum 0 (to rounding) and no ratio", s.ExactRows, rows)}
		for _, m := range s.Methods {
			if m.Method != eval.Optimal {
				parts = append(parts, fmt.Sprintf("%s loss there: mean %.5g, max %.5g", m.Method, m.ExactLossMean, m.ExactLossMax))
			}
		}
		fmt.Fprintln(w, strings.Join(parts, "; "))
	} else {
		fmt.Fprintln(w, "exact_rows: 0 (no row has optimum 0)")
	}
	if s.Unconverged > 0 {
		fmt.Fprintf(w, "%d optima stopped short of the solver's tolerance (still certified within their gap)\n", s.Unconverged)
	}
}

func fmtVec(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(x, 'g', 5, 64)
	}
	return "[" + strings.Join(parts, " ") + "]"
}
