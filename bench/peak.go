package main

import (
	"bufio"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/gonum/blas"

	"github.com/matapprox/matapprox/internal/gemm"
)

// measurePeak returns the GFLOP/s of internal/gemm on an n×n×n product
// (C = A·Bᵀ, the layout of the forward pass), the best of the repetitions
// that fit in d, at the current GOMAXPROCS.
func measurePeak(n int, d time.Duration) float64 {
	rng := rand.New(rand.NewPCG(1, 2))
	a, b, c := make([]float64, n*n), make([]float64, n*n), make([]float64, n*n)
	for i := range a {
		a[i], b[i] = rng.Float64(), rng.Float64()
	}
	gemm.Dgemm(blas.NoTrans, blas.Trans, n, n, n, 1, a, n, b, n, 0, c, n) // warm-up
	best := 0.0
	for start := time.Now(); time.Since(start) < d; {
		t0 := time.Now()
		gemm.Dgemm(blas.NoTrans, blas.Trans, n, n, n, 1, a, n, b, n, 0, c, n)
		if g := 2 * float64(n) * float64(n) * float64(n) / time.Since(t0).Seconds() / 1e9; g > best {
			best = g
		}
	}
	return best
}

// measurePeak32 is measurePeak for gemm.Sgemm.
func measurePeak32(n int, d time.Duration) float64 {
	rng := rand.New(rand.NewPCG(1, 2))
	a, b, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
	for i := range a {
		a[i], b[i] = rng.Float32(), rng.Float32()
	}
	gemm.Sgemm(blas.NoTrans, blas.Trans, n, n, n, 1, a, n, b, n, 0, c, n) // warm-up
	best := 0.0
	for start := time.Now(); time.Since(start) < d; {
		t0 := time.Now()
		gemm.Sgemm(blas.NoTrans, blas.Trans, n, n, n, 1, a, n, b, n, 0, c, n)
		if g := 2 * float64(n) * float64(n) * float64(n) / time.Since(t0).Seconds() / 1e9; g > best {
			best = g
		}
	}
	return best
}

// cpuGHz returns the nominal clock from /proc/cpuinfo ("cpu MHz" of the
// first processor), or 0 when it cannot be read.
func cpuGHz() float64 {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "cpu MHz" {
			mhz, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0
			}
			return mhz / 1000
		}
	}
	return 0
}

// cpuModel returns the model name from /proc/cpuinfo, or "".
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
