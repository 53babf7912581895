package nn_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/matapprox/matapprox/nn"
	"github.com/matapprox/matapprox/structure"
)

// ExampleMLP builds the notebook's network (11 → 100 tanh → 100 tanh → 7)
// and approximates the notebook's test generator, zero-padding the 7
// outputs into the 11-wide band as the notebook's F.pad(logits, (2, 2)).
func ExampleMLP() {
	m, err := nn.New(nn.NotebookConfig(), rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		panic(err)
	}
	x := []float64{0, 0, 0, 1, 2, 4, 2, 1, 0, 0, 0} // the notebook's Xtest
	a := m.Predict(x, 1)

	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	padded := make([]float64, in.Len())
	structure.Embed(padded, in, a, out)
	fmt.Println(m.Config, len(m.Params), "parameters")
	fmt.Printf("%.3f\n", padded)
	// Output:
	// 11-100-100-7 tanh 12007 parameters
	// [0.000 0.000 -0.030 -0.083 0.057 -0.227 0.152 -0.079 0.326 0.000 0.000]
}
