package gemm

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas/gonum"
)

// minTime returns the least time per call of f over rounds of calls, which
// is robust to other processes sharing the CPU.
func minTime(f func(), calls, rounds int) time.Duration {
	best := time.Duration(1 << 62)
	for range rounds {
		t0 := time.Now()
		for range calls {
			f()
		}
		best = min(best, time.Since(t0)/time.Duration(calls))
	}
	return best
}

// TestTune compares design alternatives, or gemm with gonum, on the MLP shapes by interleaved
// best-of-rounds timing. It is a measurement, not a check: it runs only with
// MATAPPROX_GEMM_TUNE set to one of the experiment names below.
func TestTune(t *testing.T) {
	exp := os.Getenv("MATAPPROX_GEMM_TUNE")
	if exp == "" {
		t.Skip("set MATAPPROX_GEMM_TUNE=gonum|directB|packA|parallel|paths|paths32 to run")
	}
	type variant struct {
		name string
		set  func()
	}
	var variants []variant
	useGonum, single := false, false
	switch exp {
	case "gonum":
		variants = []variant{
			{"gemm", func() { useGonum = false }},
			{"gonum", func() { useGonum = true }},
		}
	case "directB":
		variants = []variant{
			{"packed", func() { directB = func(int, int) bool { return false } }},
			{"direct", func() { directB = func(int, int) bool { return true } }},
		}
	case "packA":
		variants = []variant{
			{"inplace", func() { packA = func(int, int, int, int) bool { return false } }},
			{"packed", func() { packA = func(int, int, int, int) bool { return true } }},
		}
	case "parallel":
		variants = []variant{
			{"procs1", func() { runtime.GOMAXPROCS(1) }},
			{"procs2", func() { runtime.GOMAXPROCS(2); minPartWork = 1 }},
		}
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
		defer func(w int) { minPartWork = w }(minPartWork)
	case "paths", "paths32":
		// Kernel families; paths32 times Sgemm on the float32 rounding.
		single = exp == "paths32"
		for p := AVX2; p <= BestPath(); p++ {
			variants = append(variants, variant{p.String(), func() { SetPath(p) }})
		}
		defer SetPath(SetPath(BestPath()))
	default:
		t.Fatalf("unknown experiment %q", exp)
	}
	defer func(f func(int, int) bool) { directB = f }(directB)
	defer func(f func(int, int, int, int) bool) { packA = f }(packA)
	var shapes []benchShape
	shapes = append(shapes, mlpShapes(100, []int{11, 100, 100, 7}, 10)...)
	shapes = append(shapes, mlpShapes(256, []int{129, 512, 512, 65}, 129)...)
	shapes = append(shapes, benchShape{"512x512x512", 'N', 'N', 512, 512, 512, 0})
	if f := os.Getenv("MATAPPROX_GEMM_TUNE_FILTER"); f != "" {
		var keep []benchShape
		for _, s := range shapes {
			if strings.Contains(s.name, f) {
				keep = append(keep, s)
			}
		}
		shapes = keep
	}
	for _, s := range shapes {
		rng := rand.New(rand.NewPCG(1, 1))
		p := newProblem(rng, s.tA, s.tB, s.m, s.n, s.k, 0, 1, s.beta)
		a32, b32, c32 := to32(p.a), to32(p.b), to32(p.c)
		f := func() {
			if single {
				Sgemm(p.tA, p.tB, p.m, p.n, p.k, 1, a32, p.lda, b32, p.ldb, float32(p.beta), c32, p.ldc)
				return
			}
			if useGonum {
				gonum.Implementation{}.Dgemm(p.tA, p.tB, p.m, p.n, p.k, 1, p.a, p.lda, p.b, p.ldb, p.beta, p.c, p.ldc)
				return
			}
			Dgemm(p.tA, p.tB, p.m, p.n, p.k, 1, p.a, p.lda, p.b, p.ldb, p.beta, p.c, p.ldc)
		}
		calls := max(1, 2e6/(s.m*s.n*s.k))
		best := make([]time.Duration, len(variants))
		for i := range best {
			best[i] = 1 << 62
		}
		for range 15 {
			for i, v := range variants {
				v.set()
				best[i] = min(best[i], minTime(f, calls, 1))
			}
		}
		line := fmt.Sprintf("%-26s %c%c", s.name, s.tA, s.tB)
		for i, v := range variants {
			line += fmt.Sprintf("  %s %9.1fµs %5.1f GF/s", v.name, best[i].Seconds()*1e6, 2*float64(s.m*s.n*s.k)/best[i].Seconds()/1e9)
		}
		t.Log(line)
	}
}
