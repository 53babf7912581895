package optimal_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/optimal"
	"github.com/matapprox/matapprox/structure"
)

// The best half-bandwidth-3 approximation of the notebook's test matrix
// under the notebook's probe loss, computed in closed form. With all-positive
// probes the optimum differs markedly from truncation.
func ExampleNewProjection() {
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	rng := rand.New(rand.NewPCG(1, 2))
	probe, _ := loss.NewProbe(in, out, loss.NotebookProbes(rng, 100, in.N), 100)
	p, err := optimal.NewProjection(probe)
	if err != nil {
		fmt.Println(err)
		return
	}
	x := []float64{3, 1, 1, 1, 2, 4, 2, 1, 1, 1, 3}
	a, _ := p.Solve(x)
	t, _ := optimal.Truncate(x, in, out)
	fmt.Printf("optimum    %.2f loss %.3f\n", a, probe.Eval(nil, x, a, 1))
	fmt.Printf("truncation %.2f loss %.3f\n", t, probe.Eval(nil, x, t, 1))
	// Output:
	// optimum    [1.89 1.48 2.59 4.89 2.66 1.56 1.94] loss 4.739
	// truncation [1.00 1.00 2.00 4.00 2.00 1.00 1.00] loss 19.250
}

func ExampleTruncate() {
	a, _ := optimal.Truncate([]float64{9, 0, 1, 2, 4, 2, 1, 0, 9}, structure.Band{N: 9, K: 4}, structure.Band{N: 9, K: 2})
	fmt.Println(a)
	// Output: [1 2 4 2 1]
}
