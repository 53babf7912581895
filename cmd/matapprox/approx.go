package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/internal/atomicfile"
	"github.com/matapprox/matapprox/nn"
)

func runApprox(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("approx", "approx -model PATH -input FILE -output FILE", stderr)
	modelPath := fs.String("model", "", "run directory or .safetensors file (required)")
	input := fs.String("input", "", "CSV or .npy file of input generators, one per row (required)")
	output := fs.String("output", "", "CSV or .npy file to write the approximations' generators to (required)")
	n := fs.Int("n", 0, "matrix size for a bare .safetensors model (default 2K+1)")
	batch := fs.Int("batch", 4096, "rows per forward pass")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *modelPath == "" || *input == "" || *output == "" {
		return usagef("-model, -input and -output are required")
	}
	if *batch < 1 {
		return usagef("-batch %d: must be at least 1", *batch)
	}
	inFmt, err := data.FormatOf(*input)
	if err != nil {
		return usagef("-input %v", err)
	}
	outFmt, err := data.FormatOf(*output)
	if err != nil {
		return usagef("-output %v", err)
	}
	lm, err := loadModel(*modelPath, *n, "", "")
	if err != nil {
		return err
	}
	in, out := lm.cfg.Bands()
	f, err := os.Open(*input)
	if err != nil {
		return err
	}
	defer f.Close()
	rd, err := data.NewReader(bufio.NewReaderSize(f, 1<<16), *input, inFmt)
	if err != nil {
		return err
	}
	if rd.Dim() > 0 && rd.Dim() != in.Len() {
		return fmt.Errorf("%s: rows have %d entries, the model takes generators of 2K+1 = %d", *input, rd.Dim(), in.Len())
	}
	L, Lo := in.Len(), out.Len()
	ws := lm.model.NewWorkspace(*batch)
	buf := make([]float64, *batch*L)
	rows := 0
	cov := newCoverage(lm, *n)
	err = atomicfile.Write(*output, 0o644, func(w io.Writer) error {
		var wr *data.Writer
		var err error
		if outFmt == "npy" {
			if rd.Rows() < 0 {
				return fmt.Errorf("writing .npy needs the row count up front; read from a .npy input or write CSV")
			}
			wr, err = data.NewNPYWriter(w, rd.Rows(), Lo)
		} else {
			wr, err = data.NewWriter(w, "csv", Lo)
		}
		if err != nil {
			return err
		}
		for {
			k := 0
			for ; k < *batch; k++ {
				err := rd.Next(buf[k*L : (k+1)*L])
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return err
				}
				if err := in.Validate(buf[k*L : (k+1)*L]); err != nil {
					return fmt.Errorf("%s: row %d: %w", *input, rows+k+1, err)
				}
			}
			if k > 0 {
				cov.check(buf[:k*L], k, rows)
				a := lm.model.Forward(ws, buf[:k*L], k)
				for i := 0; i < k; i++ {
					if err := wr.Write(a[i*Lo : (i+1)*Lo]); err != nil {
						return err
					}
				}
				rows += k
			}
			if k < *batch {
				return wr.Close()
			}
		}
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d approximations (half-bandwidth %d) to %s\n", rows, out.K, *output)
	cov.report(stderr)
	return nil
}

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
	if c.lm.model.Kind == nn.KindSphere {
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
	if m.Kind == nn.KindSphere {
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
