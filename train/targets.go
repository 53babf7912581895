package train

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/optimal"
)

// targets returns the exact optimum of loss l for every row of s, by
// optimal.Solver: one batched product for the probe and Frobenius losses,
// parallel certified solves on GOMAXPROCS goroutines for the spectral loss
// (a solve that stops just short of the tolerance keeps its certified
// answer, the Solver's policy).
//
// Every target is a function of its row alone, whatever the number of
// goroutines and the order of the rows, so that the weights trained on them
// are too. optimal.Banded (the large-N method) warm-starts its oracle from
// the workspace's previous solve, and its answers differ in the last
// digits with the rows solved before on the same workspace (up to 1e-6
// relative in the generator at N = 1024); for it each row gets a solver of
// its own, at the price of allocating its O(N·K) workspace per row.
func targets(l loss.Loss, s *data.Set) ([]float64, error) {
	sol, err := optimal.NewSolver(l, nil)
	if err != nil {
		return nil, fmt.Errorf("warm-start targets: %w", err)
	}
	_, out := l.Bands()
	Lo := out.Len()
	dst := make([]float64, s.Rows*Lo)
	if sol.Method() != optimal.MethodBanded {
		if err := sol.SolveBatch(dst, nil, s.X, s.Rows); err != nil {
			return nil, fmt.Errorf("warm-start targets: %w", err)
		}
		return dst, nil
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), s.Rows))
	errs := make([]error, s.Rows)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < s.Rows; i += workers {
				one, err := optimal.NewSolver(l, nil)
				if err == nil {
					err = one.SolveBatch(dst[i*Lo:(i+1)*Lo], nil, s.Row(i), 1)
				}
				if err != nil {
					var re *optimal.RowError
					if errors.As(err, &re) {
						err = re.Err
					}
					errs[i] = &optimal.RowError{Row: i, Err: err}
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("warm-start targets: %w", err)
		}
	}
	return dst, nil
}
