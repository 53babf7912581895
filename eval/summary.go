package eval

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/matapprox/matapprox/structure"
)

// Summary is the one set of statistics of an evaluation (see the package
// documentation for each number).
type Summary struct {
	// EvaluatedOn is the kind of rows and Description says which rows.
	EvaluatedOn Origin
	Description string
	// Loss names the trained loss; Probes says which probes probe_loss
	// uses ("" when it is not computed).
	Loss   string
	Probes string
	// Rows is the number of rows evaluated; ExactRows of them have a zero
	// optimum and are out of the ratio statistics, which cover the
	// RatioRows = Rows − ExactRows others.
	Rows, ExactRows, RatioRows int
	// Unconverged counts rows whose iterative optimum stopped short of its
	// tolerance (still certified; see optimal.Solver).
	Unconverged int
	// Methods holds one entry per method, in the order of Methods.
	Methods []MethodSummary
}

// Method returns the summary of the named method, or nil.
func (s *Summary) Method(name string) *MethodSummary {
	for i := range s.Methods {
		if s.Methods[i].Method == name {
			return &s.Methods[i]
		}
	}
	return nil
}

// MethodSummary holds one method's statistics. Means are over all rows;
// gap statistics over the ratio rows; Exact* over the exact rows. A
// statistic over no rows is NaN.
type MethodSummary struct {
	Method string
	// Means of the errors over all rows.
	Loss, Frobenius, Spectral, ProbeLoss float64
	// Gap is mean L / mean L(optimal) − 1 over the ratio rows; GapMean,
	// GapMedian, GapP95 and GapMax are statistics of the per-row gaps.
	Gap, GapMean, GapMedian, GapP95, GapMax float64
	// ExactLossMean and ExactLossMax are the mean and maximum trained loss
	// on the exact rows (where the optimum is 0).
	ExactLossMean, ExactLossMax float64
	// DiagonalRMS[K'+d] is the root mean square of a[d] − a_optimal[d]
	// over all rows, for the output diagonals d = −K' … K'.
	DiagonalRMS []float64
}

// MarshalJSON writes the summary as an object with snake_case keys,
// methods keyed by name, and null for NaN or infinite statistics.
func (s Summary) MarshalJSON() ([]byte, error) {
	ms := map[string]any{}
	for _, m := range s.Methods {
		diag := make([]any, len(m.DiagonalRMS))
		for i, v := range m.DiagonalRMS {
			diag[i] = num(v)
		}
		ms[m.Method] = map[string]any{
			"loss": num(m.Loss), "frobenius": num(m.Frobenius), "spectral": num(m.Spectral), "probe_loss": num(m.ProbeLoss),
			"gap": num(m.Gap), "gap_mean": num(m.GapMean), "gap_median": num(m.GapMedian), "gap_p95": num(m.GapP95), "gap_max": num(m.GapMax),
			"exact_loss_mean": num(m.ExactLossMean), "exact_loss_max": num(m.ExactLossMax),
			"diagonal_rms": diag,
		}
	}
	return json.Marshal(map[string]any{
		"evaluated_on": s.EvaluatedOn, "description": s.Description, "loss": s.Loss, "probes": s.Probes,
		"rows": s.Rows, "exact_rows": s.ExactRows, "ratio_rows": s.RatioRows, "unconverged": s.Unconverged,
		"methods": ms,
	})
}

// num returns v, or nil when JSON cannot hold it.
func num(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

// Accumulator builds a Summary from Rows one at a time, in memory that does
// not depend on the number of rows. The zero value is not usable; get one
// from Evaluator.NewAccumulator.
type Accumulator struct {
	origin      Origin
	desc        string
	loss        string
	probes      string
	out         structure.Band
	rows, exact int
	unconverged int
	methods     []*methodAcc
}

type methodAcc struct {
	name                    string
	loss, frob, spec, probe float64 // sums over all rows
	ratioLoss, ratioOpt     float64 // sums over ratio rows
	gapSum, gapMin, gapMax  float64
	exactSum, exactMax      float64
	diag                    []float64 // sums of squares
	hist                    histogram
}

// NewAccumulator returns an empty Accumulator for rows of e described by
// origin and desc.
func (e *Evaluator) NewAccumulator(origin Origin, desc string) *Accumulator {
	a := &Accumulator{origin: origin, desc: desc, loss: e.trained.Name(), probes: e.probes, out: e.out}
	for _, m := range Methods {
		if m == Network && e.model == nil {
			continue
		}
		a.methods = append(a.methods, &methodAcc{name: m, gapMin: math.Inf(1), gapMax: math.Inf(-1), exactMax: math.Inf(-1), diag: make([]float64, e.out.Len())})
	}
	return a
}

// Add adds a row.
func (a *Accumulator) Add(r *Row) {
	a.rows++
	if r.Exact {
		a.exact++
	}
	if !r.Converged {
		a.unconverged++
	}
	opt := r.Method(Optimal)
	for _, m := range a.methods {
		ap := r.Method(m.name)
		if ap == nil || opt == nil {
			continue
		}
		m.loss += ap.Loss
		m.frob += ap.Frobenius
		m.spec += ap.Spectral
		m.probe += ap.ProbeLoss
		for j, v := range ap.A {
			if j < len(m.diag) {
				d := v - opt.A[j]
				m.diag[j] += d * d
			}
		}
		if r.Exact {
			m.exactSum += ap.Loss
			m.exactMax = math.Max(m.exactMax, ap.Loss)
			continue
		}
		m.ratioLoss += ap.Loss
		m.ratioOpt += opt.Loss
		m.gapSum += ap.Gap
		m.gapMin = math.Min(m.gapMin, ap.Gap)
		m.gapMax = math.Max(m.gapMax, ap.Gap)
		m.hist.add(ap.Gap)
	}
}

// Merge adds the rows of b, an Accumulator of the same Evaluator's kind
// (same methods and bands), to a: accumulating shards separately and
// merging gives the summary of all their rows.
func (a *Accumulator) Merge(b *Accumulator) error {
	if len(a.methods) != len(b.methods) || a.out != b.out || a.loss != b.loss {
		return errMergeKinds
	}
	for i, m := range a.methods {
		if m.name != b.methods[i].name {
			return errMergeKinds
		}
	}
	a.rows += b.rows
	a.exact += b.exact
	a.unconverged += b.unconverged
	for i, m := range a.methods {
		o := b.methods[i]
		m.loss += o.loss
		m.frob += o.frob
		m.spec += o.spec
		m.probe += o.probe
		m.ratioLoss += o.ratioLoss
		m.ratioOpt += o.ratioOpt
		m.gapSum += o.gapSum
		m.gapMin = math.Min(m.gapMin, o.gapMin)
		m.gapMax = math.Max(m.gapMax, o.gapMax)
		m.exactSum += o.exactSum
		m.exactMax = math.Max(m.exactMax, o.exactMax)
		for j := range m.diag {
			m.diag[j] += o.diag[j]
		}
		m.hist.merge(&o.hist)
	}
	return nil
}

// SetDescription replaces the description of the rows.
func (a *Accumulator) SetDescription(desc string) { a.desc = desc }

// Summary returns the statistics of the rows added so far.
func (a *Accumulator) Summary() Summary {
	s := Summary{EvaluatedOn: a.origin, Description: a.desc, Loss: a.loss, Probes: a.probes,
		Rows: a.rows, ExactRows: a.exact, RatioRows: a.rows - a.exact, Unconverged: a.unconverged}
	nan := math.NaN()
	div := func(x float64, n int) float64 {
		if n == 0 {
			return nan
		}
		return x / float64(n)
	}
	for _, m := range a.methods {
		ms := MethodSummary{Method: m.name,
			Loss: div(m.loss, a.rows), Frobenius: div(m.frob, a.rows), Spectral: div(m.spec, a.rows), ProbeLoss: div(m.probe, a.rows),
			Gap: nan, GapMean: div(m.gapSum, s.RatioRows), GapMedian: nan, GapP95: nan, GapMax: nan,
			ExactLossMean: div(m.exactSum, a.exact), ExactLossMax: nan,
		}
		if s.RatioRows > 0 {
			ms.Gap = m.ratioLoss/m.ratioOpt - 1
			if m.ratioOpt == 0 {
				ms.Gap = nan
			}
			ms.GapMax = m.gapMax
			ms.GapMedian = m.hist.quantile(0.5, m.gapMin, m.gapMax)
			ms.GapP95 = m.hist.quantile(0.95, m.gapMin, m.gapMax)
		}
		if a.exact > 0 {
			ms.ExactLossMax = m.exactMax
		}
		ms.DiagonalRMS = make([]float64, len(m.diag))
		for j, v := range m.diag {
			ms.DiagonalRMS[j] = math.Sqrt(div(v, a.rows))
		}
		s.Methods = append(s.Methods, ms)
	}
	return s
}

// Histogram of gaps: binsPerDecade logarithmic bins per decade of |g| from
// histMin to histMax, one set for positive and one for negative g, and a
// bin for |g| < histMin.
const (
	binsPerDecade = 1000
	histMinExp    = -16
	histMaxExp    = 8
	histBins      = (histMaxExp - histMinExp) * binsPerDecade
)

type histogram struct {
	pos, neg []int64 // allocated on first use
	zero     int64
	n        int64
}

func (h *histogram) bin(v float64) int {
	i := int(math.Floor((math.Log10(v) - histMinExp) * binsPerDecade))
	return min(max(i, 0), histBins-1)
}

func (h *histogram) add(g float64) {
	if math.IsNaN(g) {
		return
	}
	h.n++
	a := math.Abs(g)
	if a < math.Pow(10, histMinExp) {
		h.zero++
		return
	}
	if h.pos == nil {
		h.pos, h.neg = make([]int64, histBins), make([]int64, histBins)
	}
	if g > 0 {
		h.pos[h.bin(a)]++
	} else {
		h.neg[h.bin(a)]++
	}
}

func (h *histogram) merge(o *histogram) {
	h.n += o.n
	h.zero += o.zero
	if o.pos == nil {
		return
	}
	if h.pos == nil {
		h.pos, h.neg = make([]int64, histBins), make([]int64, histBins)
	}
	for i := range o.pos {
		h.pos[i] += o.pos[i]
		h.neg[i] += o.neg[i]
	}
}

// centre returns the geometric centre of bin i.
func centre(i int) float64 {
	return math.Pow(10, histMinExp+(float64(i)+0.5)/binsPerDecade)
}

// quantile returns the q-quantile (the order statistic of rank ⌈q·n⌉),
// clamped to [lo, hi], the smallest and largest value added.
func (h *histogram) quantile(q, lo, hi float64) float64 {
	if h.n == 0 {
		return math.NaN()
	}
	clamp := func(v float64) float64 { return math.Min(math.Max(v, lo), hi) }
	rank := int64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var c int64
	if h.pos != nil {
		for i := histBins - 1; i >= 0; i-- {
			if c += h.neg[i]; c >= rank {
				return clamp(-centre(i))
			}
		}
	}
	if c += h.zero; c >= rank {
		return clamp(0)
	}
	for i := 0; i < histBins; i++ {
		if c += h.pos[i]; c >= rank {
			return clamp(centre(i))
		}
	}
	return hi
}

// String describes the rows a summary covers, e.g. "1000 validation
// matrices (3 exact rows out of the ratio statistics)".
func (s *Summary) String() string {
	d := s.Description
	if d == "" {
		d = fmt.Sprintf("%d %s matrices", s.Rows, s.EvaluatedOn)
	}
	if s.ExactRows > 0 {
		d += fmt.Sprintf(" (%d exact rows, optimum 0, out of the gap statistics)", s.ExactRows)
	}
	return d
}
