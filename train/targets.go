package train

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/optimal"
	"github.com/matapprox/matapprox/structure"
)

// spectralTargets writes into dst (rows×(2K'+1)) the exact operator-norm
// optimum of every row of x, solving the rows on up to workers goroutines
// (GOMAXPROCS when workers < 1), each with its own optimal.Spectral (a
// solver is not safe for concurrent use). Rows are handed out by an atomic
// counter and each answer is written at its row's index, so dst does not
// depend on the number of workers or on scheduling. A row whose solve stops
// short of the tolerance (optimal.ErrNotConverged) keeps the solver's best
// certified answer, which is within its reported gap of the optimum; any
// other error stops the work and the error of the lowest failing row is
// returned.
func spectralTargets(dst, x []float64, rows int, in, out structure.Band, workers int) error {
	L, Lo := in.Len(), out.Len()
	if len(x) < rows*L || len(dst) < rows*Lo {
		panic("train: spectralTargets: slice lengths do not match the rows")
	}
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, rows))
	solvers := make([]*optimal.Spectral, workers)
	for w := range solvers {
		s, err := optimal.NewSpectral(in, out, nil)
		if err != nil {
			return err
		}
		solvers[w] = s
	}
	errs := make([]error, rows)
	var (
		mu     sync.Mutex
		next   int
		failed bool
		wg     sync.WaitGroup
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if failed || next >= rows {
			return 0, false
		}
		next++
		return next - 1, true
	}
	for _, s := range solvers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i, ok := take()
				if !ok {
					return
				}
				r, err := s.Solve(x[i*L : (i+1)*L])
				if err != nil && !notConvergedOK(err, r, Lo) {
					errs[i] = err
					mu.Lock()
					failed = true
					mu.Unlock()
					continue
				}
				copy(dst[i*Lo:(i+1)*Lo], r.A)
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("row %d: %w", i+1, err)
		}
	}
	return nil
}

// notConvergedOK reports whether err only says that the solver stopped
// short of its tolerance (double precision exhausted or the step limit) and
// r is its best certified answer, usable for lo outputs. Such stalls happen
// at N = 32 with relative gaps of about 1.1e-8 against the default 1e-8.
func notConvergedOK(err error, r optimal.SpectralResult, lo int) bool {
	if !errors.Is(err, optimal.ErrNotConverged) || len(r.A) != lo {
		return false
	}
	for _, v := range r.A {
		if !finite(v) {
			return false
		}
	}
	return finite(r.Value) && r.Value > 0
}

// targets returns the exact optimum of loss l for every row of s: the
// projection (one batched product) for the probe and Frobenius losses,
// parallel SDP solves for the spectral loss.
func targets(l loss.Loss, s *data.Set) ([]float64, error) {
	in, out := l.Bands()
	dst := make([]float64, s.Rows*out.Len())
	if _, ok := l.(*loss.Spectral); ok {
		if err := spectralTargets(dst, s.X, s.Rows, in, out, 0); err != nil {
			return nil, fmt.Errorf("warm-start targets: %w", err)
		}
		return dst, nil
	}
	o, err := NewOptimizer(l)
	if err != nil {
		return nil, err
	}
	if err := o.Solve(dst, s.X, s.Rows); err != nil {
		return nil, fmt.Errorf("warm-start targets: %w", err)
	}
	return dst, nil
}
