package main

import (
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
	"github.com/matapprox/matapprox/nn"
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
		if _, err := os.Stat(filepath.Join(path, nn.WeightsFile)); errors.Is(err, os.ErrNotExist) {
			if _, err := os.Stat(filepath.Join(path, train.CheckpointFile)); err == nil {
				return nil, fmt.Errorf("model: %s holds an unfinished run (no %s yet); finish it with: matapprox train -resume %s", path, nn.WeightsFile, path)
			}
			if _, err := os.Stat(filepath.Join(path, train.ConfigFile)); err == nil {
				return nil, fmt.Errorf("model: %s holds a run that stopped before its first checkpoint; start it again with: matapprox train -config %s -out NEW_DIR", path, filepath.Join(path, train.ConfigFile))
			}
			return nil, fmt.Errorf("model: %s has no %s: give a run directory written by matapprox train or a .safetensors file", path, nn.WeightsFile)
		}
		lm.dir = path
	}
	if lm.model, err = nn.LoadApproximator(path); err != nil {
		return nil, err
	}
	if lm.dir != "" {
		if lm.cfg, err = train.LoadConfig(filepath.Join(lm.dir, train.ConfigFile), train.Config{}); err == nil {
			if err = lm.cfg.Validate(); err != nil {
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
	if lm.model.Kind == nn.KindSphere {
		cfg.Architecture, cfg.Symmetry, cfg.Standardize = "sphere", lm.model.Symmetry.String(), false
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
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '[' || r == ']' })
	x := make([]float64, 0, len(fields))
	for i, f := range fields {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return nil, usagef("-matrix entry %d %q is not a number; give the generator as comma-separated numbers, e.g. \"0,0,0,1,2,4,2,1,0,0,0\"", i+1, f)
		}
		x = append(x, v)
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
	input := fs.String("input", "", "CSV or .npy file of input generators, one per row")
	probes := fs.String("probes", "", "CSV or .npy file of probe vectors for probe_loss (default: the run's probes)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	count := fs.Int("count", 1000, "held-out random matrices to evaluate when no -matrix or -input is given")
	seed := fs.Uint64("seed", 12345, "seed of the held-out random matrices")
	n := fs.Int("n", 0, "matrix size for a bare .safetensors model (default 2K+1)")
	lossName := fs.String("loss", "", "for a bare model: the loss it was trained with (default: the file's, else probe)")
	families := fs.Bool("families", false, "also evaluate on every out-of-distribution family (scaled, negated, reversed, Gaussian, other generators, in-band inputs, other N)")
	familyCount := fs.Int("family-count", 200, "matrices per family with -families")
	otherN := fs.String("other-n", "", "with -families: other matrix sizes to evaluate at, comma-separated (default: 2N for a sphere model under a size-independent loss)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *modelPath == "" {
		return usagef("-model is required: a run directory or a .safetensors file")
	}
	if *matrix != "" && *input != "" {
		return usagef("give -matrix or -input, not both")
	}
	if *count < 1 {
		return usagef("-count %d: must be at least 1", *count)
	}
	lm, err := loadModel(*modelPath, *n, *lossName, "")
	if err != nil {
		return err
	}
	if *probes != "" {
		lm.cfg.Probes = *probes
	}
	ev, err := newEvaluator(lm.model, &lm.cfg)
	if err != nil {
		return err
	}
	in, out := lm.cfg.Bands()
	var x []float64
	var rows int
	random := false
	switch {
	case *matrix != "":
		if x, err = parseMatrix(*matrix, in); err != nil {
			return err
		}
		rows = 1
	case *input != "":
		set, err := data.ReadFile(*input)
		if err != nil {
			return err
		}
		if err := set.Validate(in); err != nil {
			return fmt.Errorf("%s: %w", *input, err)
		}
		x, rows = set.X, set.Rows
	default:
		name := lm.cfg.Data
		if _, err := data.GeneratorByName(name, in); err != nil {
			name = "notebook"
		}
		g, _ := data.GeneratorByName(name, in)
		set := data.Generate(g, in, *count, rand.New(rand.NewPCG(*seed, 0xe7a1)))
		x, rows, random = set.X, set.Rows, true
	}
	res, err := ev.evaluate(x, rows)
	if err != nil {
		return err
	}
	sum := summarize(res, lm.cfg.Loss)
	var fams []familyResult
	if *families {
		if *familyCount < 1 {
			return usagef("-family-count %d: must be at least 1", *familyCount)
		}
		base, err := data.GeneratorByName(lm.cfg.Data, in)
		if err != nil {
			base, _ = data.GeneratorByName("notebook", in)
		}
		if fams, err = familyGaps(ev, base, *familyCount, *seed); err != nil {
			return err
		}
		sizes := defaultOtherSizes(&lm.cfg)
		if *otherN != "" {
			sizes = nil
			for _, f := range strings.Split(*otherN, ",") {
				v, err := strconv.Atoi(strings.TrimSpace(f))
				if err != nil || v < 1 {
					return usagef("-other-n %q: give matrix sizes, comma-separated", *otherN)
				}
				sizes = append(sizes, v)
			}
		}
		if lm.model.Kind != nn.KindSphere && len(sizes) > 0 {
			return usagef("-other-n: a plain (mlp) network takes inputs of one size only; train architecture sphere")
		}
		more, err := otherSizeGaps(lm, sizes, min(*familyCount, 200), *seed)
		if err != nil {
			return err
		}
		fams = append(fams, more...)
	}
	if *asJSON {
		obj := map[string]any{"n": in.N, "in_band": in.K, "out_band": out.K, "loss": lm.cfg.Loss, "summary": sum}
		if fams != nil {
			obj["families"] = fams
		}
		if !random {
			obj["results"] = res
		} else {
			obj["results"] = []result{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sanitize(obj))
	}
	if !random {
		for i, r := range res {
			if i == 20 {
				fmt.Fprintf(stdout, "... %d more rows (use -json for all)\n", len(res)-20)
				break
			}
			printResult(stdout, r)
		}
	}
	if rows > 1 || random {
		printSummary(stdout, sum)
	}
	if fams != nil {
		fmt.Fprintln(stdout)
		printFamilies(stdout, fams)
	}
	return nil
}

func printResult(w io.Writer, r result) {
	fmt.Fprintf(w, "input %s\n", fmtVec(r.Input))
	fmt.Fprintf(w, "  %-11s %12s %12s %12s  %s\n", "method", "probe_loss", "frobenius", "spectral", "generator")
	for _, m := range methods {
		a := r.Approximations[m]
		if a == nil {
			continue
		}
		fmt.Fprintf(w, "  %-11s %12.5g %12.5g %12.5g  %s\n", m, a.ProbeLoss, a.Frobenius, a.Spectral, fmtVec(a.Generator))
	}
}

func fmtVec(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(x, 'g', 5, 64)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// sanitize replaces non-finite numbers, which JSON cannot hold, by nil.
func sanitize(v any) any {
	b, err := json.Marshal(v)
	if err == nil {
		var out any
		json.Unmarshal(b, &out)
		return out
	}
	// Slow path: walk through a generic representation.
	return walk(v)
}

func walk(v any) any {
	switch t := v.(type) {
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil
		}
		return t
	case map[string]any:
		m := map[string]any{}
		for k, x := range t {
			m[k] = walk(x)
		}
		return m
	case summary:
		m := map[string]any{"count": t.Count, "loss": t.Loss}
		ms := map[string]any{}
		for k, s := range t.Methods {
			ms[k] = map[string]any{"probe_loss": walk(s.ProbeLoss), "frobenius": walk(s.Frobenius), "spectral": walk(s.Spectral),
				"loss": walk(s.Loss), "gap": walk(s.Gap), "gap_mean": walk(s.GapMean), "gap_p95": walk(s.GapP95)}
		}
		m["methods"] = ms
		return m
	case []result:
		out := make([]any, len(t))
		for i, r := range t {
			ap := map[string]any{}
			for k, a := range r.Approximations {
				ap[k] = map[string]any{"generator": a.Generator, "probe_loss": walk(a.ProbeLoss), "frobenius": walk(a.Frobenius), "spectral": walk(a.Spectral)}
			}
			out[i] = map[string]any{"input": r.Input, "approximations": ap}
		}
		return out
	}
	return v
}
