package optimal_test

import (
	"fmt"

	"github.com/matapprox/matapprox/optimal"
	"github.com/matapprox/matapprox/structure"
)

// The N → ∞ problem for the README's 0..10 generator, half-bandwidth
// 5 → 3: a certified sandwich of opt_∞ and, from the same dual measure, of
// opt_N at N = 100 000.
func ExampleSolveSymbol() {
	x := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	in, out := structure.Band{N: 100000, K: 5}, structure.Band{N: 100000, K: 3}
	r, err := optimal.SolveSymbol(in, out, x, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("a_∞ = %.4f\n", r.A)
	fmt.Printf("opt_∞ in [%.8f, %.8f], gap below 1e-10: %v\n", r.Lower, r.Upper, r.Gap() < 1e-10)
	fmt.Printf("opt_N >= %.7f at N = 100000\n", r.LowerN(in.N))
	// Output:
	// a_∞ = [3.3000 1.6500 5.3900 3.4199 8.0850 3.8500 13.2000]
	// opt_∞ in [16.10510000, 16.10510000], gap below 1e-10: true
	// opt_N >= 16.1050998 at N = 100000
}
