package structure_test

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/matapprox/matapprox/structure"
)

func ExampleBand_Dense() {
	b := structure.Band{N: 4, K: 1}
	m := b.Dense([]float64{-1, 2, 3}) // sub-, main and super-diagonal
	fmt.Printf("%v\n", mat.Formatted(m))
	// Output:
	// ⎡ 2   3   0   0⎤
	// ⎢-1   2   3   0⎥
	// ⎢ 0  -1   2   3⎥
	// ⎣ 0   0  -1   2⎦
}

func ExampleBand_MulVec() {
	b := structure.Band{N: 4, K: 1}
	y := make([]float64, 4)
	b.MulVec(y, []float64{-1, 2, 3}, []float64{1, 1, 1, 1})
	fmt.Println(y)
	// Output: [5 4 4 1]
}

// The notebook pads the network's 7 outputs with two zeros on each side.
func ExampleEmbed() {
	out, in := structure.Band{N: 11, K: 3}, structure.Band{N: 11, K: 5}
	g := make([]float64, in.Len())
	structure.Embed(g, in, []float64{1, 2, 3, 4, 5, 6, 7}, out)
	fmt.Println(g)
	// Output: [0 0 1 2 3 4 5 6 7 0 0]
}

func ExampleBand_Validate() {
	b := structure.Band{N: 11, K: 5}
	fmt.Println(b.Validate([]float64{1, 2, 3}))
	// Output: generator has 3 entries, want 2K+1 = 11 for N=11,K=5: wrong length
}
