package loss_test

import (
	"fmt"

	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/structure"
)

// The probe loss of the notebook's test matrix against its truncation to
// half-bandwidth 3, with two probes.
func ExampleNewProbe() {
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	x := []float64{0, 0, 0, 1, 2, 4, 2, 1, 0, 0, 0}
	a := []float64{0, 1, 2, 4, 2, 1, 0} // the central 7 entries: a perfect fit here
	probes := make([]float64, 2*11)
	for i := range 11 {
		probes[i] = 1                 // all ones
		probes[11+i] = float64(i % 2) // alternate
	}
	l, err := loss.NewProbe(in, out, probes, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(l.Eval(nil, x, a, 1))
	a[3] = 3 // now A = X − I: ||(X−A)y||²/||y||² = 1 for every probe
	fmt.Println(l.Eval(nil, x, a, 1))
	// Output:
	// 0
	// 1
}

// The notebook's batch loss: summed over the batch and multiplied by 3000.
func ExampleObjective() {
	in, out := structure.Band{N: 3, K: 1}, structure.Band{N: 3, K: 0}
	frob, _ := loss.NewFrobenius(in, out, false)
	obj := loss.Objective{Loss: frob, Reduction: loss.Sum, Scale: 3000}
	x := []float64{1, 0, 1, 0, 5, 0} // two samples
	a := []float64{0, 5}
	fmt.Println(obj.Eval(nil, x, a, 2)) // 3000 · (2 + 2 + 0)
	// Output: 12000
}

func ExampleSpectral_Norm() {
	in := structure.Band{N: 11, K: 5}
	l, _ := loss.NewSpectral(in, in)
	r := []float64{0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0} // the identity
	fmt.Println(l.Norm(nil, r))
	// Output: 1
}
