package train

import (
	"math"
	"testing"
)

// TestProgressChangesNothing checks that the chunked, progress-reporting
// data generation and warm-start targets give bit for bit what the
// unchunked ones give, under every loss, and that progress reaches the
// totals.
func TestProgressChangesNothing(t *testing.T) {
	defer func(g, c int) { generateChunk, targetChunk = g, c }(generateChunk, targetChunk)
	generateChunk, targetChunk = 7, 7
	for _, lossName := range []string{"probe", "frobenius", "spectral"} {
		cfg := mustPreset(t, "seed")
		cfg.Loss, cfg.TrainSize, cfg.ValSize = lossName, 30, 9
		if lossName != "probe" {
			cfg.Probes, cfg.NumProbes = "", 0
		}
		last := map[string][2]int{}
		p := func(phase string, done, total int) { last[phase] = [2]int{done, total} }
		trA, vaA, err := datasets(&cfg, p)
		if err != nil {
			t.Fatal(err)
		}
		trB, vaB, _ := Datasets(&cfg)
		if !same(trA.X, trB.X) || !same(vaA.X, vaB.X) {
			t.Fatalf("%s: chunked data differ", lossName)
		}
		l, _, err := BuildLoss(&cfg)
		if err != nil {
			t.Fatal(err)
		}
		a, err := chunkedTargets(l, trA, p)
		if err != nil {
			t.Fatal(err)
		}
		b, err := targets(l, trA)
		if err != nil {
			t.Fatal(err)
		}
		if !same(a, b) {
			t.Errorf("%s: chunked targets differ", lossName)
		}
		for phase, want := range map[string][2]int{"training data": {30, 30}, "validation data": {9, 9}, "warm-start targets": {30, 30}} {
			if last[phase] != want {
				t.Errorf("%s: %s progress ended at %v, want %v", lossName, phase, last[phase], want)
			}
		}
	}
}

func same(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}
