package eval_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/eval"
	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/structure"
)

// Evaluate a model against the exact optimum of the Frobenius loss, row by
// row, on three matrices: the notebook's test matrix (already in the narrow
// band, so its optimum is 0: an exact row), an all-zero matrix (exact too)
// and one that is not.
func ExampleEvaluator() {
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	frob, _ := loss.NewFrobenius(in, out, false)
	// A toy model: 0.9 times the central entries.
	model := eval.ModelFunc(func(dst, x []float64, n int) error {
		for i := 0; i < n; i++ {
			structure.Restrict(dst[i*7:(i+1)*7], x[i*11:(i+1)*11], in, out)
			for j := range dst[i*7 : (i+1)*7] {
				dst[i*7+j] *= 0.9
			}
		}
		return nil
	})
	ev, err := eval.New(model, frob, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	set := &data.Set{Dim: 11, Rows: 3, X: []float64{
		0, 0, 0, 1, 2, 4, 2, 1, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	}}
	sum, err := ev.Run(eval.FromSet(set, eval.File, "3 matrices"), func(r *eval.Row) error {
		net := r.Method(eval.Network)
		fmt.Printf("row %d: exact %v, network loss %.4g, gap %.4g\n", r.Index, r.Exact, net.Loss, net.Gap)
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %d exact, %d in the ratio statistics\n", sum.String(), sum.ExactRows, sum.RatioRows)
	net := sum.Method(eval.Network)
	fmt.Printf("network: gap_mean %.4g, absolute loss on exact rows %.4g\n", net.GapMean, net.ExactLossMean)

	// A family of inputs drawn afresh: Gaussian entries, out of any
	// training distribution.
	g, _ := data.GeneratorByName("gaussian", in)
	sum, _ = ev.Run(eval.FromGenerator(g, in, 1000, rand.New(rand.NewPCG(1, 2)), ""), nil)
	fmt.Printf("%s: gap_p95 %.3g\n", sum.Description, sum.Method(eval.Network).GapP95)
	// Output:
	// row 0: exact true, network loss 2.74, gap NaN
	// row 1: exact true, network loss 0, gap NaN
	// row 2: exact false, network loss 26.65, gap 0.025
	// 3 matrices (2 exact rows, optimum 0, out of the gap statistics): 2 exact, 1 in the ratio statistics
	// network: gap_mean 0.025, absolute loss on exact rows 1.37
	// 1000 matrices drawn from the gaussian generator: gap_p95 0.159
}
