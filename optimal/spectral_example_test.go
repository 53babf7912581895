package optimal_test

import (
	"fmt"
	"log"

	"github.com/matapprox/matapprox/optimal"
	"github.com/matapprox/matapprox/structure"
)

// The notebook approximates 11×11 Toeplitz matrices of half-bandwidth 5 by
// half-bandwidth 3. Its test matrix already lies in the narrower band, so
// the optimum is exact; its row_to_matrix example 0..10 is not.
func ExampleSDP_Solve() {
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	s, err := optimal.NewSDP(in, out, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, x := range [][]float64{
		{0, 0, 0, 1, 2, 4, 2, 1, 0, 0, 0},
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
	} {
		r, err := s.Solve(x)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("optimum %.6f, certified gap below 1e-6: %v\n", r.Value, r.Gap() <= 1e-6)
	}
	// Output:
	// optimum 0.000000, certified gap below 1e-6: true
	// optimum 15.488668, certified gap below 1e-6: true
}

// The same generator at N = 100 000: Banded never forms the matrix; it
// starts at the symbol's Chebyshev solution and certifies (and, when
// needed, refines) it at finite N, in O(N·K) memory. As N grows the
// optimum approaches the symbol's, 16.1051, from below.
func ExampleBanded_Solve() {
	in, out := structure.Band{N: 100000, K: 5}, structure.Band{N: 100000, K: 3}
	b, err := optimal.NewBanded(in, out, 1e-8)
	if err != nil {
		log.Fatal(err)
	}
	r, err := b.Solve([]float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("optimum %.4f, certified gap below 1e-8: %v\n", r.Value, r.Gap() <= 1e-8)
	fmt.Printf("memory estimate %.0f MB\n", optimal.BandedMemory(in, out)/1e6)
	// Output:
	// optimum 16.1051, certified gap below 1e-8: true
	// memory estimate 222 MB
}
