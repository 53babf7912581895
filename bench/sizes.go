package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/matapprox/matapprox/structure"
	"github.com/matapprox/matapprox/train"
)

// size is one benchmark problem: N×N Toeplitz matrices of half-bandwidth K
// approximated with half-bandwidth Ko by a tanh MLP (2K+1) → Hidden → (2Ko+1),
// trained on batches of Batch rows out of Train. The table of
// scripts/bench_torch.py must hold the same sizes under the same names.
type size struct {
	Name            string
	N, K, Ko        int
	Hidden          []int
	Batch, Train    int
	Probes          int
	TorchNotebook   bool // whether the notebook's per-sample code is run at this size
	TorchNotebookNo string
}

var sizes = map[string]size{
	"notebook": {Name: "notebook", N: 11, K: 5, Ko: 3, Hidden: []int{100, 100}, Batch: 100, Train: 3000, Probes: 100, TorchNotebook: true},
	"scaled": {Name: "scaled", N: 129, K: 64, Ko: 32, Hidden: []int{512, 512}, Batch: 256, Train: 20480, Probes: 100,
		TorchNotebookNo: "skipped: the notebook's per-sample Python loops cost O(B·P) interpreter round trips per batch (25 600 at this size) and its row_to_matrix a Python loop over N rows per sample; extrapolated it is far below 1 sample/s"},
	// tiny is for the tests: seconds of compute at most.
	"tiny": {Name: "tiny", N: 5, K: 2, Ko: 1, Hidden: []int{8}, Batch: 4, Train: 32, Probes: 6},
}

func sizeNames() string {
	var ns []string
	for n := range sizes {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return strings.Join(ns, ", ")
}

func lookupSize(name string) (size, error) {
	s, ok := sizes[name]
	if !ok {
		return size{}, fmt.Errorf("unknown size %q: use one of %s", name, sizeNames())
	}
	return s, nil
}

// bands returns the input and output bands.
func (s size) bands() (in, out structure.Band) {
	return structure.Band{N: s.N, K: s.K}, structure.Band{N: s.N, K: s.Ko}
}

// layers returns the widths of the network, input to output.
func (s size) layers() []int {
	in, out := s.bands()
	w := append([]int{in.Len()}, s.Hidden...)
	return append(w, out.Len())
}

// flopsPerSample counts the floating-point operations of one training
// sample by the convention of docs/BENCHMARKS.md: 2·Σ in·out for the
// forward products, twice that for the backward ones (weight gradient and
// input delta of every layer, the first layer's delta included although it
// is not computed), and 2·L² for the loss's product r·Q.
func (s size) flopsPerSample() float64 {
	w := s.layers()
	var f float64
	for i := 0; i+1 < len(w); i++ {
		f += 2 * float64(w[i]) * float64(w[i+1])
	}
	L := float64(w[0])
	return 3*f + 2*L*L
}

// config returns the training configuration of the matapprox run: the
// "seed" preset (the notebook: probe loss with the notebook's probes summed
// over the batch, Adagrad lr 0.25, no standardisation) resized, with no
// validation set so that epochs end without evaluating one.
func (s size) config() (train.Config, error) {
	c, err := train.Preset("seed")
	if err != nil {
		return c, err
	}
	c.N, c.InBand, c.OutBand = s.N, s.K, s.Ko
	c.Hidden = append([]int(nil), s.Hidden...)
	c.BatchSize, c.TrainSize, c.ValSize = s.Batch, s.Train, 0
	c.NumProbes = s.Probes
	c.Epochs = 1_000_000
	return c, c.Validate()
}
