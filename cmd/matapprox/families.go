package main

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/train"
)

// familyResult is the gap of a network to the exact optimum on one family of
// inputs it was not trained on (data.Families), or at another matrix size.
type familyResult struct {
	Family      string  `json:"family"`
	Description string  `json:"description"`
	N           int     `json:"n"`
	Count       int     `json:"count"`
	GapMean     float64 `json:"gap_mean"`
	GapP95      float64 `json:"gap_p95"`
	GapMax      float64 `json:"gap_max"`
	// ExactRows counts the rows inside the output band, whose optimal loss
	// is zero; on them the ratio is undefined and FrobeniusMax, the largest ||X−A||_F/||X||_F of
	// the network, says how exact it is.
	ExactRows    int     `json:"exact_rows"`
	FrobeniusMax float64 `json:"frobenius_rel_max"`
}

// familyGaps evaluates ev's network on count inputs of every family built
// on base, each drawn from its own stream of seed.
func familyGaps(ev *evaluator, base data.Generator, count int, seed uint64) ([]familyResult, error) {
	fams, err := data.Families(base, ev.in, ev.out)
	if err != nil {
		return nil, err
	}
	var out []familyResult
	for i, f := range fams {
		set := f.Generate(ev.in, count, rand.New(rand.NewPCG(seed, 0xfa1+uint64(i))))
		fr, err := familyGap(ev, set)
		if err != nil {
			return nil, fmt.Errorf("family %s: %w", f.Name(), err)
		}
		fr.Family, fr.Description = f.Name(), f.Describe()
		out = append(out, fr)
	}
	return out, nil
}

// otherSizeGaps evaluates the network at other matrix sizes (same bands),
// which the sphere architecture allows; the probe loss depends on probes of
// length N and has no counterpart at another size, so it is skipped.
func otherSizeGaps(lm *loadedModel, sizes []int, count int, seed uint64) ([]familyResult, error) {
	var out []familyResult
	for _, n := range sizes {
		cfg := lm.cfg
		cfg.N = n
		if err := cfg.Validate(); err != nil {
			return nil, fmt.Errorf("-other-n %d: %w", n, err)
		}
		ev, err := newEvaluator(lm.model, &cfg)
		if err != nil {
			return nil, err
		}
		in, _ := cfg.Bands()
		g, err := data.GeneratorByName(cfg.Data, in)
		if err != nil {
			g, _ = data.GeneratorByName("notebook", in)
		}
		set := data.Generate(g, in, count, rand.New(rand.NewPCG(seed, 0x512e+uint64(n))))
		fr, err := familyGap(ev, set)
		if err != nil {
			return nil, fmt.Errorf("N = %d: %w", n, err)
		}
		fr.Family = fmt.Sprintf("n-%d", n)
		fr.Description = fmt.Sprintf("%s at N = %d (trained at N = %d)", g.Name(), n, lm.cfg.N)
		out = append(out, fr)
	}
	return out, nil
}

func familyGap(ev *evaluator, set *data.Set) (familyResult, error) {
	res, err := ev.evaluate(set.X, set.Rows)
	if err != nil {
		return familyResult{}, err
	}
	fr := familyResult{N: ev.in.N, Count: set.Rows, GapMax: math.NaN()}
	var gaps []float64
	for _, r := range res {
		a, o := r.Approximations["network"], r.Approximations["optimal"]
		if a == nil {
			return familyResult{}, fmt.Errorf("no network to evaluate")
		}
		xf := ev.in.Frobenius(r.Input)
		if !inBand(r.Input, ev.in.K-ev.out.K) {
			gaps = append(gaps, a.loss/o.loss-1)
			continue
		}
		fr.ExactRows++
		rel := 0.0
		if xf > 0 {
			rel = a.Frobenius / xf
		}
		fr.FrobeniusMax = math.Max(fr.FrobeniusMax, rel)
	}
	fr.GapMean, fr.GapP95 = meanP95(gaps)
	if len(gaps) > 0 {
		sort.Float64s(gaps)
		fr.GapMax = gaps[len(gaps)-1]
	}
	return fr, nil
}

// inBand reports whether the h first and h last entries of x are zero.
func inBand(x []float64, h int) bool {
	for j := 0; j < h; j++ {
		if x[j] != 0 || x[len(x)-1-j] != 0 {
			return false
		}
	}
	return true
}

func printFamilies(w io.Writer, fams []familyResult) {
	fmt.Fprintf(w, "out-of-distribution families (gap to the exact optimum of the trained loss, per matrix)\n")
	fmt.Fprintf(w, "%-16s %6s %6s %10s %10s %10s  %s\n", "family", "n", "count", "gap_mean", "gap_p95", "gap_max", "exact rows: max ||X−A||_F/||X||_F")
	for _, f := range fams {
		exact := ""
		if f.ExactRows > 0 {
			exact = fmt.Sprintf("%d: %.3g", f.ExactRows, f.FrobeniusMax)
		}
		fmt.Fprintf(w, "%-16s %6d %6d %9.4f%% %9.4f%% %9.4f%%  %s\n", f.Family, f.N, f.Count, 100*f.GapMean, 100*f.GapP95, 100*f.GapMax, exact)
	}
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
