package optimal_test

import (
	"fmt"
	"log"

	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/optimal"
	"github.com/matapprox/matapprox/structure"
)

// A dual certificate proves a lower bound for every input, not only its
// own. With DualCache the certifier remembers the duals it finds; an input
// whose out-of-band entries point the same way as one certified before (here
// the same generator at another scale and with other in-band entries) is
// then certified by the remembered dual, at the cost of its exact loss
// alone.
func ExampleCertifier_dualCache() {
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	l, err := loss.NewSpectral(in, out)
	if err != nil {
		log.Fatal(err)
	}
	c, err := optimal.NewCertifier(l, &optimal.CertifyOptions{MaxGap: 0.01, DualCache: 1000})
	if err != nil {
		log.Fatal(err)
	}
	sdp, err := optimal.NewSDP(in, out, nil)
	if err != nil {
		log.Fatal(err)
	}
	x := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	best, err := sdp.Solve(x)
	if err != nil {
		log.Fatal(err)
	}
	// The duals of a block of rows are remembered after the block
	// (optimal.CertifyBatch's rows in order, 128 rows a block); certify
	// 128 rows first.
	for i := 0; i < 128; i++ {
		if _, err := c.Certify(x, best.A); err != nil {
			log.Fatal(err)
		}
	}
	// 3·x with other in-band entries: the same out-of-band direction.
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = 3 * v
	}
	y[5] = -40
	a := make([]float64, len(best.A))
	for i, v := range best.A {
		a[i] = 3*v + (y[i+2] - 3*x[i+2])
	}
	r, err := c.Certify(y, a)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("value %.4f, certified gap below 0.25 %%: %v, by a remembered dual: %v\n", r.Value, r.Gap() <= 0.0025, r.Reused)
	// Output:
	// value 46.4660, certified gap below 0.25 %: true, by a remembered dual: true
}
