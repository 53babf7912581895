package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/eval"
	"github.com/matapprox/matapprox/train"
)

// familyFlags are eval's flags for the out-of-distribution check.
type familyFlags struct {
	on     *bool
	count  *int
	otherN *string
}

func addFamilyFlags(fs interface {
	Bool(string, bool, string) *bool
	Int(string, int, string) *int
	String(string, string, string) *string
}) familyFlags {
	return familyFlags{
		on:     fs.Bool("families", false, "also evaluate on every out-of-distribution family: scaled by 1e-3…1e3, negated, reversed, modulated, Gaussian and other generators, near-in-band and in-band inputs, and other N (sphere models)"),
		count:  fs.Int("family-count", 200, "matrices per family with -families"),
		otherN: fs.String("other-n", "", "with -families: other matrix sizes, comma-separated (default: 2N for a sphere model under a size-independent loss; none for the probe loss, whose probes have length N)"),
	}
}

// run evaluates the families of lm's model; ev is its evaluator at the
// training size.
func (ff familyFlags) run(lm *loadedModel, ev *eval.Evaluator, seed uint64) ([]eval.FamilyResult, error) {
	if *ff.count < 1 || *ff.count > 1_000_000 {
		return nil, usagef("-family-count %d: must be between 1 and 1000000", *ff.count)
	}
	in, out := lm.cfg.Bands()
	base, err := data.GeneratorByName(lm.cfg.Data, in)
	if err != nil {
		base, _ = data.GeneratorByName("notebook", in)
	}
	fams, err := data.Families(base, in, out)
	if err != nil {
		return nil, err
	}
	res, err := ev.Families(fams, *ff.count, seed)
	if err != nil {
		return nil, err
	}
	sizes := defaultOtherSizes(&lm.cfg)
	if *ff.otherN != "" {
		sizes = nil
		for _, f := range strings.Split(*ff.otherN, ",") {
			v, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || v < 1 {
				return nil, usagef("-other-n %q: give matrix sizes, comma-separated", *ff.otherN)
			}
			sizes = append(sizes, v)
		}
	}
	if len(sizes) > 0 && !lm.model.Kind.OnSphere() {
		return nil, usagef("-other-n: a plain (mlp) network is tied to its training size; train architecture sphere or symbol")
	}
	for _, n := range sizes {
		cfg := lm.cfg
		cfg.N = n
		if err := cfg.Validate(); err != nil {
			return nil, usagef("-other-n %d: %v", n, err)
		}
		if cfg.Loss == "probe" {
			return nil, usagef("-other-n %d: the probe loss is defined by probes of length N = %d and has no counterpart at another size", n, lm.cfg.N)
		}
		l, _, err := train.BuildLoss(&cfg)
		if err != nil {
			return nil, err
		}
		evn, err := train.NewEvaluator(eval.NetworkModel(lm.model, 0), l, &cfg)
		if err != nil {
			return nil, err
		}
		bn, _ := cfg.Bands()
		g, err := data.GeneratorByName(cfg.Data, bn)
		if err != nil {
			g, _ = data.GeneratorByName("notebook", bn)
		}
		cnt := min(*ff.count, 200)
		src := eval.FromGenerator(g, bn, cnt, rand.New(rand.NewPCG(seed, 0x512e+uint64(n))),
			fmt.Sprintf("%d matrices of the %s generator at N = %d", cnt, g.Name(), n))
		fr, err := evn.Family(src)
		if err != nil {
			return nil, fmt.Errorf("N = %d: %w", n, err)
		}
		fr.Family = fmt.Sprintf("n-%d", n)
		fr.Description = fmt.Sprintf("%s at N = %d (trained at N = %d; the optimum depends on N)", g.Name(), n, lm.cfg.N)
		res = append(res, fr)
	}
	return res, nil
}

// defaultOtherSizes returns the sizes -other-n defaults to: twice the
// training size for a sphere model under a loss defined at every size (not
// the probe loss), none otherwise.
func defaultOtherSizes(cfg *train.Config) []int {
	if cfg.Architecture != "sphere" || cfg.Loss == "probe" {
		return nil
	}
	return []int{2 * cfg.N}
}

func printFamilies(w io.Writer, fams []eval.FamilyResult) {
	fmt.Fprintf(w, "out-of-distribution families: the network's gap to the exact optimum of the trained loss, per matrix\n")
	fmt.Fprintf(w, "%-16s %5s %6s %10s %10s %10s  %s\n", "family", "n", "rows", "gap_mean", "gap_p95", "gap_max", "exact rows: max ‖X−A‖_F/‖X‖_F")
	for _, f := range fams {
		m := f.Summary.Method(eval.Network)
		if m == nil {
			continue
		}
		exact := ""
		if f.Summary.ExactRows > 0 {
			exact = fmt.Sprintf("%d: %.3g", f.Summary.ExactRows, f.FrobeniusRelMax)
		}
		fmt.Fprintf(w, "%-16s %5d %6d %10s %10s %10s  %s\n", f.Family, f.N, f.Summary.Rows, pct4(m.GapMean), pct4(m.GapP95), pct4(m.GapMax), exact)
	}
}

func pct4(v float64) string {
	if v != v {
		return "—"
	}
	return fmt.Sprintf("%.4f%%", 100*v)
}

// familiesJSON is the JSON form of the family results.
func familiesJSON(fams []eval.FamilyResult) []map[string]any {
	out := make([]map[string]any, 0, len(fams))
	for _, f := range fams {
		s, _ := json.Marshal(f.Summary)
		out = append(out, map[string]any{"family": f.Family, "description": f.Description, "n": f.N,
			"frobenius_rel_max": jsonNum(f.FrobeniusRelMax), "summary": json.RawMessage(s)})
	}
	return out
}
