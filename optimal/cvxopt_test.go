package optimal

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/matapprox/matapprox/structure"
)

// TestSpectralAgainstCvxopt compares SDP with an independent solver:
// testdata/spectral_cvxopt.json, written by scripts/cvxopt_spectral.py with
// cvxopt's SDP solver, holds 52 cases at N = 8..64 (uniform, Gaussian with
// in-band entries 1e10 times the rest, dynamic range 1e±150, scales 1e-300
// and 1e300, symmetric and alternating), each with the 2-norm of the
// residual of cvxopt's answer. The two values agree within 1e-6, and the
// certified lower bound never exceeds cvxopt's attained value.
func TestSpectralAgainstCvxopt(t *testing.T) {
	raw, err := os.ReadFile("../testdata/spectral_cvxopt.json")
	if err != nil {
		t.Fatal(err)
	}
	var fix struct {
		Cases []struct {
			N, K, KP int
			Kind     string
			X        []float64
			Value    float64
		}
	}
	if err := json.Unmarshal(raw, &fix); err != nil {
		t.Fatal(err)
	}
	if len(fix.Cases) < 50 {
		t.Fatalf("%d cases, want at least 50", len(fix.Cases))
	}
	if testing.Short() {
		fix.Cases = fix.Cases[:20]
	}
	var worst float64
	for i, c := range fix.Cases {
		in, out := structure.Band{N: c.N, K: c.K}, structure.Band{N: c.N, K: c.KP}
		s := mustSpectral(t, in, out, nil)
		r, err := acceptShort(s.Solve(c.X))
		if err != nil {
			t.Errorf("case %d (%s, %v -> K'=%d): %v", i, c.Kind, in, c.KP, err)
			continue
		}
		rel := (r.Value - c.Value) / c.Value
		worst = math.Max(worst, math.Abs(rel))
		if math.Abs(rel) > 1e-6 {
			t.Errorf("case %d (%s, %v -> K'=%d): value %v, cvxopt %v (relative %.3g)", i, c.Kind, in, c.KP, r.Value, c.Value, rel)
		}
		if r.Lower > c.Value*(1+1e-12) {
			t.Errorf("case %d (%s): certified lower bound %v above cvxopt's attained value %v", i, c.Kind, r.Lower, c.Value)
		}
	}
	t.Logf("worst relative difference to cvxopt: %.3g", worst)
}
