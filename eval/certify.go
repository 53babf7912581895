package eval

import (
	"fmt"
	"math"

	"github.com/matapprox/matapprox/optimal"
)

// CertifiedSummary summarises the certificates (optimal.Certifier) of a
// model's answers: how far from the optimum each answer is guaranteed to
// be, and, where the evaluation knows the optimum, how far it really is.
//
// The certified gap of a row is (Value − Lower)/Value of its certificate;
// its true gap is (Value − L(optimal))/Value for the same (possibly
// polished or re-solved) answer, with L(optimal) the evaluator's exact
// optimum. Quantiles come from the same logarithmic histogram as Summary's.
type CertifiedSummary struct {
	Rows      int `json:"rows"`
	Polished  int `json:"polished"`
	Fallbacks int `json:"fallbacks"`
	// Certified gaps.
	GapMean   float64 `json:"certified_gap_mean"`
	GapMedian float64 `json:"certified_gap_median"`
	GapP95    float64 `json:"certified_gap_p95"`
	GapMax    float64 `json:"certified_gap_max"`
	// TrueGapMean is the mean true gap over the rows with a known,
	// non-zero optimum (TrueRows of them); Tightness is
	// GapMean/TrueGapMean over the same rows (1 for a perfect bound).
	TrueRows    int     `json:"true_rows"`
	TrueGapMean float64 `json:"true_gap_mean"`
	Tightness   float64 `json:"tightness"`
	// Histogram counts the rows per decade of certified gap: Histogram[i]
	// counts gaps in [10^(i−9), 10^(i−8)), the first bin also every smaller
	// gap and the last every gap from 10^-1 up.
	Histogram [9]int64 `json:"histogram"`
}

// CertifyAccumulator gathers certificates into a CertifiedSummary in
// bounded memory. The zero value is ready to use.
type CertifyAccumulator struct {
	rows, polished, fallbacks int
	sum, max                  float64
	trueRows                  int
	trueSum, certOnTrue       float64
	h                         histogram
	dec                       [9]int64
}

// Add records one certificate; optimum is the exact optimal loss of the
// row, or NaN when unknown.
func (a *CertifyAccumulator) Add(c optimal.Certificate, optimum float64) {
	g := c.Gap()
	a.rows++
	a.sum += g
	a.max = math.Max(a.max, g)
	a.h.add(g)
	if c.Polished {
		a.polished++
	}
	if c.Fallback {
		a.fallbacks++
	}
	i := 0
	if g > 0 {
		i = int(math.Floor(math.Log10(g))) + 9
	}
	a.dec[min(max(i, 0), len(a.dec)-1)]++
	if optimum > 0 && c.Value > 0 {
		a.trueRows++
		a.trueSum += math.Max(0, (c.Value-optimum)/c.Value)
		a.certOnTrue += g
	}
}

// Merge adds the certificates of b to a.
func (a *CertifyAccumulator) Merge(b *CertifyAccumulator) {
	a.rows += b.rows
	a.polished += b.polished
	a.fallbacks += b.fallbacks
	a.sum += b.sum
	a.max = math.Max(a.max, b.max)
	a.trueRows += b.trueRows
	a.trueSum += b.trueSum
	a.certOnTrue += b.certOnTrue
	a.h.merge(&b.h)
	for i, v := range b.dec {
		a.dec[i] += v
	}
}

// Summary returns the summary of the certificates added so far.
func (a *CertifyAccumulator) Summary() CertifiedSummary {
	s := CertifiedSummary{Rows: a.rows, Polished: a.polished, Fallbacks: a.fallbacks, GapMax: a.max, Histogram: a.dec,
		GapMean: math.NaN(), GapMedian: math.NaN(), GapP95: math.NaN(), TrueGapMean: math.NaN(), Tightness: math.NaN(), TrueRows: a.trueRows}
	if a.rows > 0 {
		s.GapMean = a.sum / float64(a.rows)
		s.GapMedian = a.h.quantile(0.5, 0, a.max)
		s.GapP95 = a.h.quantile(0.95, 0, a.max)
	}
	if a.trueRows > 0 {
		s.TrueGapMean = a.trueSum / float64(a.trueRows)
		if a.trueSum > 0 {
			s.Tightness = a.certOnTrue / a.trueSum
		}
	}
	return s
}

// String formats the summary on two lines.
func (s CertifiedSummary) String() string {
	out := fmt.Sprintf("certified %d network answers: certified gap mean %.4g%%, median %.4g%%, p95 %.4g%%, max %.4g%%; %d polished, %d re-solved exactly",
		s.Rows, 100*s.GapMean, 100*s.GapMedian, 100*s.GapP95, 100*s.GapMax, s.Polished, s.Fallbacks)
	if s.TrueRows > 0 {
		out += fmt.Sprintf("\ntrue gap of the same answers: mean %.4g%% over %d rows; certified/true %.3g", 100*s.TrueGapMean, s.TrueRows, s.Tightness)
	}
	return out
}

// CertifyRow certifies the network's approximation of the evaluated row r
// with c (whose loss must be the evaluator's trained loss) and, if acc is
// not nil, adds the certificate with the row's exact optimum. A row
// without a network approximation is an error.
func CertifyRow(c *optimal.Certifier, r *Row, acc *CertifyAccumulator) (optimal.Certificate, error) {
	net := r.Method(Network)
	if net == nil {
		return optimal.Certificate{}, fmt.Errorf("eval: certify row %d: no network approximation", r.Index+1)
	}
	cert, err := c.Certify(r.X, net.A)
	if err != nil {
		return cert, fmt.Errorf("eval: certify row %d: %w", r.Index+1, err)
	}
	if acc != nil {
		opt := math.NaN()
		if o := r.Method(Optimal); o != nil && !r.Exact {
			opt = o.Loss
		}
		acc.Add(cert, opt)
	}
	return cert, nil
}
