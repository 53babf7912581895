package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/nn"
	"github.com/matapprox/matapprox/optimal"
	"github.com/matapprox/matapprox/structure"
)

// inferSize is one inference problem: approximations of N×N matrices of
// half-bandwidth K by half-bandwidth Ko, through a tanh network with the
// given hidden layers, the probe loss's projection, or the spectral solver.
type inferSize struct {
	Name      string
	N, K, Ko  int
	Hidden    []int
	Probes    int
	Pool      int // distinct matrices cycled through
	BatchSize int
}

var inferSizes = map[string]inferSize{
	// The notebook's problem and network.
	"n11": {Name: "n11", N: 11, K: 5, Ko: 3, Hidden: []int{100, 100}, Probes: 100, Pool: 1 << 16, BatchSize: 4096},
	// The spectral-32 preset's problem and network.
	"n32":  {Name: "n32", N: 32, K: 15, Ko: 7, Hidden: []int{256, 256}, Probes: 100, Pool: 1 << 16, BatchSize: 4096},
	"tiny": {Name: "tiny", N: 6, K: 2, Ko: 1, Hidden: []int{8}, Probes: 6, Pool: 64, BatchSize: 16},
}

// inferResult is the throughput, in matrices per second, of each method.
type inferResult struct {
	Network, Network32, Projection, Spectral float64
	// Torch32 and Torch64 are PyTorch's forward pass (torch.no_grad) in
	// float32 and float64; 0 when not measured.
	Torch32, Torch64 float64
	// SpectralSolved is how many matrices the spectral timing solved;
	// SpectralFailed how many of them returned an error (counted anyway:
	// the solver returns its best certified answer with ErrNotConverged).
	SpectralSolved, SpectralFailed int
}

func (s inferSize) bands() (in, out structure.Band) {
	return structure.Band{N: s.N, K: s.K}, structure.Band{N: s.N, K: s.Ko}
}

// measureInference times total approximations through the network (batched
// forward) and through the projection (batched Apply), cycling through a
// pool of s.Pool random matrices drawn as the notebook draws them, and the
// spectral solver for about d, one solver per goroutine on GOMAXPROCS
// goroutines, with at least minSolves solves.
func measureInference(s inferSize, total int, d time.Duration, minSolves int) (inferResult, error) {
	in, out := s.bands()
	L, Lo := in.Len(), out.Len()
	rng := rand.New(rand.NewPCG(7, 11))
	g, err := data.GeneratorByName("notebook", in)
	if err != nil {
		return inferResult{}, err
	}
	pool := data.Generate(g, in, s.Pool, rng)
	var res inferResult

	// Network: the weights do not change the cost.
	m, err := nn.New(nn.Config{Inputs: L, Hidden: s.Hidden, Outputs: Lo, Activation: nn.Tanh}, rng)
	if err != nil {
		return res, err
	}
	if err := m.SetThreads(runtime.GOMAXPROCS(0)); err != nil {
		return res, err
	}
	ws := m.NewWorkspace(s.BatchSize)
	res.Network = timeBatched(total, s.Pool, s.BatchSize, func(lo, n int) {
		m.Forward(ws, pool.X[lo*L:(lo+n)*L], n)
	})
	if err := m.SetPrecision(nn.Float32); err != nil {
		return res, err
	}
	ws32 := m.NewWorkspace(s.BatchSize)
	res.Network32 = timeBatched(total, s.Pool, s.BatchSize, func(lo, n int) {
		m.Forward(ws32, pool.X[lo*L:(lo+n)*L], n)
	})

	// Projection of the probe loss.
	ql, err := loss.NewProbe(in, out, loss.NotebookProbes(rng, s.Probes, s.N), s.Probes)
	if err != nil {
		return res, err
	}
	proj, err := optimal.NewProjection(ql)
	if err != nil {
		return res, err
	}
	dst := make([]float64, s.BatchSize*Lo)
	res.Projection = timeBatched(total, s.Pool, s.BatchSize, func(lo, n int) {
		proj.Apply(dst, pool.X[lo*L:(lo+n)*L], n)
	})

	// Spectral solver, one per goroutine.
	workers := runtime.GOMAXPROCS(0)
	var (
		wg             sync.WaitGroup
		mu             sync.Mutex
		solved, failed int
		firstErr       error
	)
	per := (minSolves + workers - 1) / workers
	start := time.Now()
	for w := 0; w < workers; w++ {
		sp, err := optimal.NewSDP(in, out, nil)
		if err != nil {
			return res, err
		}
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			n, f := 0, 0
			var werr error
			for i := w; n < per || time.Since(start) < d; i += workers {
				_, err := sp.Solve(pool.Row(i % s.Pool))
				if err != nil {
					if !errors.Is(err, optimal.ErrNotConverged) {
						werr = err
						break
					}
					f++
				}
				n++
			}
			mu.Lock()
			solved += n
			failed += f
			if werr != nil && firstErr == nil {
				firstErr = werr
			}
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	if firstErr != nil {
		return res, fmt.Errorf("spectral solver: %w", firstErr)
	}
	res.Spectral = float64(solved) / time.Since(start).Seconds()
	res.SpectralSolved, res.SpectralFailed = solved, failed
	return res, nil
}

// timeBatched calls f on consecutive batches of at most batch rows of a
// pool of poolRows rows, wrapping around, until total rows are done, after
// one untimed warm-up batch; it returns rows per second.
func timeBatched(total, poolRows, batch int, f func(lo, n int)) float64 {
	f(0, min(batch, poolRows))
	start := time.Now()
	for done, lo := 0, 0; done < total; {
		n := min(batch, total-done, poolRows-lo)
		f(lo, n)
		done += n
		lo += n
		if lo == poolRows {
			lo = 0
		}
	}
	return float64(total) / time.Since(start).Seconds()
}
