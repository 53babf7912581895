package main

import (
	"fmt"
	"io"
	"math"
)

// coverageZ is how many training standard deviations from the training mean
// an entry may lie before a plain network's input counts as outside its
// training distribution (uniform data stay within √3, Gaussian data reach 4
// in one entry of 16 000).
const coverageZ = 4

// coverage finds the inputs of approx that lie where the model was not
// trained. A sphere model is trained on every direction and is exact in
// scale, sign and the in-band part, so only another matrix size than its
// training size remains; a plain network (architecture mlp) knows only its
// training distribution, which its standardisation describes.
type coverage struct {
	lm               *loadedModel
	n                int // -n, 0 when not given
	outside, inBand  int
	firstOut, firstB int
}

func newCoverage(lm *loadedModel, n int) *coverage { return &coverage{lm: lm, n: n} }

func (c *coverage) check(x []float64, k, before int) {
	if c.lm.model.Kind.OnSphere() {
		return
	}
	in, out := c.lm.cfg.Bands()
	L, h := in.Len(), in.K-out.K
	mean, std := c.lm.model.Net.Mean, c.lm.model.Net.Std
	for i := 0; i < k; i++ {
		row := x[i*L : (i+1)*L]
		if h > 0 && inBand(row, h) {
			if c.inBand == 0 {
				c.firstB = before + i + 1
			}
			c.inBand++
		}
		if mean == nil {
			continue
		}
		for j, v := range row {
			if math.Abs(v-mean[j]) > coverageZ*std[j] {
				if c.outside == 0 {
					c.firstOut = before + i + 1
				}
				c.outside++
				break
			}
		}
	}
}

func (c *coverage) report(w io.Writer) {
	m := c.lm.model
	if m.Kind.OnSphere() {
		if tn := m.Meta.In; tn != nil && c.n > 0 && c.n != tn.N {
			fmt.Fprintf(w, "warning: the model was trained at N = %d and applied at N = %d; the optimum depends on N, so its gap here is not the one measured in training (measure it with: matapprox eval -model MODEL -families -other-n %d)\n", tn.N, c.n, c.n)
		}
		return
	}
	if c.outside > 0 {
		fmt.Fprintf(w, "warning: %d input rows (the first is row %d) have entries more than %d training standard deviations from the training mean: this plain network was not trained there and its answers may be far from optimal (train architecture sphere, which holds on every input)\n", c.outside, c.firstOut, coverageZ)
	}
	if c.inBand > 0 {
		fmt.Fprintf(w, "warning: %d input rows (the first is row %d) lie inside the output band, where the exact answer is the input itself; this plain network does not return it (architecture sphere does)\n", c.inBand, c.firstB)
	}
	if m.Net.Mean == nil {
		fmt.Fprintf(w, "warning: this plain network records no training distribution; its accuracy is known only on the inputs it was trained on (architecture sphere holds on every input)\n")
	}
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
