package optimal

import (
	"runtime"
	"sync"
)

// forRows runs row(i) for i = 0..n−1 on up to workers goroutines
// (GOMAXPROCS when workers <= 0). Each goroutine gets its own row function
// and workspace from open and calls done when it ends. Rows are taken in
// increasing order and none is taken after a failure, so every row below a
// failing one has run: the error returned, a *RowError, is that of the
// lowest failing row, whatever the number of goroutines. An error from open
// is returned as it is.
func forRows(n, workers int, open func() (row func(i int) error, done func(), err error)) error {
	if n <= 0 {
		return nil
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, n))
	errs := make([]error, n)
	var (
		mu     sync.Mutex
		next   int
		failed bool
		wg     sync.WaitGroup
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if failed || next >= n {
			return 0, false
		}
		next++
		return next - 1, true
	}
	var openErr error
	for range workers {
		row, done, err := open()
		if err != nil {
			openErr = err
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer done()
			for {
				i, ok := take()
				if !ok {
					return
				}
				if err := row(i); err != nil {
					errs[i] = err
					mu.Lock()
					failed = true
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if openErr != nil {
		return openErr
	}
	for i, err := range errs {
		if err != nil {
			return &RowError{Row: i, Err: err}
		}
	}
	return nil
}
