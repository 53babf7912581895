package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/matapprox/matapprox/structure"
)

// accState is the JSON form of an Accumulator: every sum, extreme and
// histogram count, so that an accumulation made in another process (one
// shard of an evaluation) merges exactly as if it had been made here.
type accState struct {
	Origin      Origin         `json:"evaluated_on"`
	Description string         `json:"description"`
	Loss        string         `json:"loss"`
	Probes      string         `json:"probes"`
	Out         structure.Band `json:"out"`
	Rows        int            `json:"rows"`
	Exact       int            `json:"exact_rows"`
	Unconverged int            `json:"unconverged"`
	Methods     []methodState  `json:"methods"`
}

type methodState struct {
	Name      string       `json:"method"`
	Loss      exactFloat   `json:"loss"`
	Frob      exactFloat   `json:"frobenius"`
	Spec      exactFloat   `json:"spectral"`
	Probe     exactFloat   `json:"probe_loss"`
	RatioLoss exactFloat   `json:"ratio_loss"`
	RatioOpt  exactFloat   `json:"ratio_optimal"`
	GapSum    exactFloat   `json:"gap_sum"`
	GapMin    exactFloat   `json:"gap_min"`
	GapMax    exactFloat   `json:"gap_max"`
	ExactSum  exactFloat   `json:"exact_sum"`
	ExactMax  exactFloat   `json:"exact_max"`
	Diag      []exactFloat `json:"diagonal_sq"`
	// The gap histogram, sparse: [bin, count] pairs of the non-empty bins.
	Pos  [][2]int64 `json:"hist_pos,omitempty"`
	Neg  [][2]int64 `json:"hist_neg,omitempty"`
	Zero int64      `json:"hist_zero"`
	N    int64      `json:"hist_n"`
}

// exactFloat is a float64 that JSON carries exactly: the shortest decimal
// that reads back as the same float64, or "+Inf", "-Inf", "NaN".
type exactFloat float64

func (f exactFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return json.Marshal(strconv.FormatFloat(v, 'g', -1, 64))
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

func (f *exactFloat) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		switch s {
		case "+Inf", "-Inf", "NaN":
		default:
			return fmt.Errorf("eval: %q is not a number", s)
		}
	} else {
		s = string(b)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("eval: %s is not a number", b)
	}
	*f = exactFloat(v)
	return nil
}

// MarshalJSON encodes the Accumulator's whole state (not its Summary), for
// an accumulation made in one process and merged in another: UnmarshalJSON
// reads it back, and Merge of the decoded Accumulators gives the Summary of
// all their rows.
func (a *Accumulator) MarshalJSON() ([]byte, error) {
	s := accState{Origin: a.origin, Description: a.desc, Loss: a.loss, Probes: a.probes, Out: a.out,
		Rows: a.rows, Exact: a.exact, Unconverged: a.unconverged}
	for _, m := range a.methods {
		ms := methodState{Name: m.name, Loss: exactFloat(m.loss), Frob: exactFloat(m.frob), Spec: exactFloat(m.spec),
			Probe: exactFloat(m.probe), RatioLoss: exactFloat(m.ratioLoss), RatioOpt: exactFloat(m.ratioOpt),
			GapSum: exactFloat(m.gapSum), GapMin: exactFloat(m.gapMin), GapMax: exactFloat(m.gapMax),
			ExactSum: exactFloat(m.exactSum), ExactMax: exactFloat(m.exactMax),
			Diag: make([]exactFloat, len(m.diag)), Zero: m.hist.zero, N: m.hist.n}
		for j, v := range m.diag {
			ms.Diag[j] = exactFloat(v)
		}
		sparse := func(h []int64) [][2]int64 {
			var p [][2]int64
			for i, c := range h {
				if c != 0 {
					p = append(p, [2]int64{int64(i), c})
				}
			}
			return p
		}
		ms.Pos, ms.Neg = sparse(m.hist.pos), sparse(m.hist.neg)
		s.Methods = append(s.Methods, ms)
	}
	return json.Marshal(&s)
}

// UnmarshalJSON replaces a's state with one encoded by MarshalJSON. It
// checks the state's consistency (counts, bands, lengths, known methods)
// and returns an error, never panics, on anything else.
func (a *Accumulator) UnmarshalJSON(b []byte) error {
	var s accState
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("eval: accumulator: %w", err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("eval: accumulator: "+format, args...)
	}
	if s.Rows < 0 || s.Exact < 0 || s.Exact > s.Rows || s.Unconverged < 0 || s.Unconverged > s.Rows {
		return bad("row counts %d, %d exact, %d unconverged are inconsistent", s.Rows, s.Exact, s.Unconverged)
	}
	if s.Out.K < 0 || s.Out.N < 1 || s.Out.K > s.Out.N-1 {
		return bad("output band %v is not a band", s.Out)
	}
	if len(s.Methods) == 0 || len(s.Methods) > len(Methods) {
		return bad("%d methods, want 1 to %d", len(s.Methods), len(Methods))
	}
	out := &Accumulator{origin: s.Origin, desc: s.Description, loss: s.Loss, probes: s.Probes, out: s.Out,
		rows: s.Rows, exact: s.Exact, unconverged: s.Unconverged}
	for _, ms := range s.Methods {
		known := false
		for _, name := range Methods {
			known = known || name == ms.Name
		}
		if !known {
			return bad("unknown method %q", ms.Name)
		}
		if len(ms.Diag) != s.Out.Len() {
			return bad("%s: %d diagonals, the output band has %d", ms.Name, len(ms.Diag), s.Out.Len())
		}
		if ms.N < 0 || ms.Zero < 0 || ms.Zero > ms.N {
			return bad("%s: histogram counts %d, %d at zero are inconsistent", ms.Name, ms.N, ms.Zero)
		}
		m := &methodAcc{name: ms.Name, loss: float64(ms.Loss), frob: float64(ms.Frob), spec: float64(ms.Spec),
			probe: float64(ms.Probe), ratioLoss: float64(ms.RatioLoss), ratioOpt: float64(ms.RatioOpt),
			gapSum: float64(ms.GapSum), gapMin: float64(ms.GapMin), gapMax: float64(ms.GapMax),
			exactSum: float64(ms.ExactSum), exactMax: float64(ms.ExactMax), diag: make([]float64, len(ms.Diag))}
		for j, v := range ms.Diag {
			m.diag[j] = float64(v)
		}
		m.hist.zero, m.hist.n = ms.Zero, ms.N
		total := ms.Zero
		if len(ms.Pos)+len(ms.Neg) > 0 {
			m.hist.pos, m.hist.neg = make([]int64, histBins), make([]int64, histBins)
			for _, side := range []struct {
				pairs [][2]int64
				dst   []int64
			}{{ms.Pos, m.hist.pos}, {ms.Neg, m.hist.neg}} {
				for _, p := range side.pairs {
					if p[0] < 0 || p[0] >= histBins || p[1] < 0 || p[1] > ms.N {
						return bad("%s: histogram bin %v out of range", ms.Name, p)
					}
					side.dst[p[0]] += p[1]
					total += p[1]
				}
			}
		}
		if total != ms.N {
			return bad("%s: histogram holds %d gaps, its count says %d", ms.Name, total, ms.N)
		}
		out.methods = append(out.methods, m)
	}
	*a = *out
	return nil
}

var errMergeKinds = errors.New("eval: merging accumulators of different evaluations")
