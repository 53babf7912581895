package structure_test

import (
	"fmt"
	"math"

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

// The largest singular values of a 1000×1000 tridiagonal Toeplitz matrix,
// whose exact values are 2 − 2cos(jπ/1001) for the Laplacian generator
// (−1, 2, −1).
func ExampleTopSingular() {
	b := structure.Band{N: 1000, K: 1}
	ts, err := structure.NewTopSingular(b, 2, nil)
	if err != nil {
		panic(err)
	}
	s, err := ts.Compute([]float64{-1, 2, -1})
	if err != nil {
		panic(err)
	}
	for j, v := range s.Values {
		exact := 2 - 2*math.Cos(float64(1000-j)*math.Pi/1001)
		fmt.Printf("σ_%d = %.12f (exact %.12f)\n", j+1, v, exact)
	}
	fmt.Println("upper bound holds:", s.Upper >= s.Values[0])
	// Output:
	// σ_1 = 3.999990150113 (exact 3.999990150113)
	// σ_2 = 3.999960600550 (exact 3.999960600550)
	// upper bound holds: true
}
