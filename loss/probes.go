package loss

import (
	"math"
	"math/rand/v2"
)

var nanValue = math.NaN()

// NotebookProbes returns p probes of length n drawn as the notebook draws
// them: rand(n)·rand()·n, every entry uniform in [0, 1) times one uniform
// scale per probe times n. All entries are non-negative.
func NotebookProbes(rng *rand.Rand, p, n int) []float64 {
	y := make([]float64, p*n)
	for i := 0; i < p; i++ {
		row := y[i*n : (i+1)*n]
		for j := range row {
			row[j] = rng.Float64()
		}
		s := rng.Float64() * float64(n)
		for j := range row {
			row[j] *= s
		}
	}
	return y
}

// GaussianProbes returns p probes of length n with independent standard
// normal entries: an isotropic distribution.
func GaussianProbes(rng *rand.Rand, p, n int) []float64 {
	y := make([]float64, p*n)
	for i := range y {
		y[i] = rng.NormFloat64()
	}
	return y
}

// RademacherProbes returns p probes of length n with independent entries ±1
// with equal probability: an isotropic distribution.
func RademacherProbes(rng *rand.Rand, p, n int) []float64 {
	y := make([]float64, p*n)
	for i := range y {
		y[i] = 1
		if rng.Uint64()&1 == 0 {
			y[i] = -1
		}
	}
	return y
}
