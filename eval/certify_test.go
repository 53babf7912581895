package eval

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/matapprox/matapprox/optimal"
)

// Certifying an evaluation's network answers: every certified gap bounds
// the true gap of the answer, the summary counts what it saw, and merged
// accumulators equal one over all rows.
func TestCertifyRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	var rows [][]float64
	for i := 0; i < 12; i++ {
		x := make([]float64, in11.Len())
		for j := range x {
			x[j] = 11 * rng.Float64()
		}
		rows = append(rows, x)
	}
	rows = append(rows, notebookTest) // an exact row: no true gap
	for name, l := range losses(t, in11, out11) {
		ev, err := New(scaled(in11, out11, 0.98, 0.05), l, nil)
		if err != nil {
			t.Fatal(err)
		}
		c, err := optimal.NewCertifier(l, &optimal.CertifyOptions{PolishSteps: -1})
		if err != nil {
			t.Fatal(err)
		}
		var all, a1, a2 CertifyAccumulator
		_, err = ev.Run(FromSet(set(rows...), File, "test rows"), func(r *Row) error {
			cert, err := CertifyRow(c, r, &all)
			if err != nil {
				return err
			}
			part := &a1
			if r.Index%2 == 1 {
				part = &a2
			}
			opt := math.NaN()
			if !r.Exact {
				opt = r.Method(Optimal).Loss
			}
			part.Add(cert, opt)
			if !r.Exact {
				trueGap := (cert.Value - opt) / cert.Value
				if cert.Gap() < trueGap-1e-9 {
					t.Errorf("%s row %d: certified gap %v below the true gap %v", name, r.Index, cert.Gap(), trueGap)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		a1.Merge(&a2)
		s, m := all.Summary(), a1.Summary()
		if s.Rows != len(rows) || s.TrueRows != len(rows)-1 || s.Rows != m.Rows || s.TrueRows != m.TrueRows ||
			s.Histogram != m.Histogram || s.GapMax != m.GapMax || s.GapMedian != m.GapMedian ||
			math.Abs(s.GapMean-m.GapMean) > 1e-12 || math.Abs(s.TrueGapMean-m.TrueGapMean) > 1e-12 {
			t.Errorf("%s: summary %+v, merged %+v", name, s, m)
		}
		var h int64
		for _, v := range s.Histogram {
			h += v
		}
		if h != int64(s.Rows) || !(s.GapMean >= s.TrueGapMean) || !(s.GapMax >= s.GapP95) || !(s.Tightness >= 1-1e-9) {
			t.Errorf("%s: inconsistent summary %+v", name, s)
		}
		if name != "spectral" && math.Abs(s.Tightness-1) > 1e-6 {
			t.Errorf("%s: closed-form gaps should be exact, tightness %v", name, s.Tightness)
		}
	}
}

func TestCertifyRowNoNetwork(t *testing.T) {
	l := losses(t, in11, out11)["frobenius"]
	ev, _ := New(nil, l, nil)
	c, _ := optimal.NewCertifier(l, nil)
	r, err := ev.Evaluate(notebookTest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CertifyRow(c, r, nil); err == nil {
		t.Error("no error for a row without a network answer")
	}
}
