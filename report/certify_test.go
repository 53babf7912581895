package report

import (
	"math"
	"strings"
	"testing"
)

// Certified gaps add a histogram after the gap histogram; non-finite and
// zero gaps are left out, and none at all leaves the figure out.
func TestCertifiedGaps(t *testing.T) {
	d := sample(3)
	if page := render(t, d); strings.Contains(page, "Histogram of certified gaps") {
		t.Error("a certified-gap figure without certified gaps")
	}
	d.CertifiedGaps = []float64{0.01, 0.003, 0.02, math.NaN(), 0, 0.5, 1e-4}
	page := render(t, d)
	if !strings.Contains(page, "Histogram of certified gaps") || !strings.Contains(page, "Certified gaps:") {
		t.Error("no certified-gap figure")
	}
	d.CertifiedGaps = []float64{math.NaN(), 0}
	if page := render(t, d); strings.Contains(page, "Histogram of certified gaps") {
		t.Error("a certified-gap figure without a positive finite gap")
	}
}
