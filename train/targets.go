package train

import (
	"fmt"

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
// goroutines and the order of the rows (SolveBatch's contract; the banded
// method reseeds its oracle's random start for each solve), so the weights
// trained on them are too.
func targets(l loss.Loss, s *data.Set) ([]float64, error) {
	sol, err := optimal.NewSolver(l, nil)
	if err != nil {
		return nil, fmt.Errorf("warm-start targets: %w", err)
	}
	_, out := l.Bands()
	dst := make([]float64, s.Rows*out.Len())
	if err := sol.SolveBatch(dst, nil, s.X, s.Rows); err != nil {
		return nil, fmt.Errorf("warm-start targets: %w", err)
	}
	return dst, nil
}
