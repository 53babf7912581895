package eval

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/structure"
)

var (
	in11  = structure.Band{N: 11, K: 5}
	out11 = structure.Band{N: 11, K: 3}
	// notebookTest lies in the narrow band: its optimum is exactly 0.
	notebookTest = []float64{0, 0, 0, 1, 2, 4, 2, 1, 0, 0, 0}
)

// scaled returns a toy model: s times the truncation, plus c.
func scaled(in, out structure.Band, s, c float64) Model {
	L, Lo := in.Len(), out.Len()
	return ModelFunc(func(dst, x []float64, n int) error {
		for i := 0; i < n; i++ {
			structure.Restrict(dst[i*Lo:(i+1)*Lo], x[i*L:(i+1)*L], in, out)
			for j := i * Lo; j < (i+1)*Lo; j++ {
				dst[j] = s*dst[j] + c
			}
		}
		return nil
	})
}

func losses(t *testing.T, in, out structure.Band) map[string]loss.Loss {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 1))
	probe, err := loss.NewProbe(in, out, loss.NotebookProbes(rng, 100, in.N), 100)
	if err != nil {
		t.Fatal(err)
	}
	frob, _ := loss.NewFrobenius(in, out, true)
	spec, _ := loss.NewSpectral(in, out)
	return map[string]loss.Loss{"probe": probe, "frobenius": frob, "spectral": spec}
}

func set(rows ...[]float64) *data.Set {
	s := &data.Set{Dim: len(rows[0])}
	for _, r := range rows {
		s.X = append(s.X, r...)
		s.Rows++
	}
	return s
}

// TestExactRows checks the notebook's in-band test matrix and an all-zero
// row under every loss: both are counted as exact rows, kept out of the
// ratio statistics (gap_mean stays finite and equal to the other row's
// gap), and measured by the absolute statistics.
func TestExactRows(t *testing.T) {
	other := []float64{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5}
	zero := make([]float64, 11)
	for name, l := range losses(t, in11, out11) {
		t.Run(name, func(t *testing.T) {
			ev, err := New(scaled(in11, out11, 0.9, 0.1), l, nil)
			if err != nil {
				t.Fatal(err)
			}
			var rows []*Row
			sum, err := ev.Run(FromSet(set(notebookTest, other, zero), File, ""), func(r *Row) error { rows = append(rows, r.Clone()); return nil })
			if err != nil {
				t.Fatal(err)
			}
			if sum.Rows != 3 || sum.ExactRows != 2 || sum.RatioRows != 1 || len(rows) != 3 {
				t.Fatalf("rows %d exact %d ratio %d (%d seen)", sum.Rows, sum.ExactRows, sum.RatioRows, len(rows))
			}
			if !rows[0].Exact || rows[1].Exact || !rows[2].Exact {
				t.Errorf("exact flags %v %v %v", rows[0].Exact, rows[1].Exact, rows[2].Exact)
			}
			net := sum.Method(Network)
			g := rows[1].Method(Network).Gap
			if !(g > 0) || math.Abs(net.GapMean-g) > 1e-12*g || math.Abs(net.GapMax-g) > 1e-12*g || math.Abs(net.GapMedian-g) > 1e-12*g {
				t.Errorf("gap_mean %v median %v max %v, want the one ratio row's gap %v", net.GapMean, net.GapMedian, net.GapMax, g)
			}
			want := (rows[0].Method(Network).Loss + rows[2].Method(Network).Loss) / 2
			if math.Abs(net.ExactLossMean-want) > 1e-12*want || !(net.ExactLossMax >= net.ExactLossMean) {
				t.Errorf("exact loss mean %v max %v, want mean %v", net.ExactLossMean, net.ExactLossMax, want)
			}
			if o := sum.Method(Optimal); o.ExactLossMax > 1e-9 {
				t.Errorf("optimal loss on exact rows %v, want about 0", o.ExactLossMax)
			}
			b, err := json.Marshal(sum)
			if err != nil || !bytes.Contains(b, []byte(`"exact_rows":2`)) || !bytes.Contains(b, []byte(`"evaluated_on":"file"`)) {
				t.Errorf("JSON %s (%v)", b, err)
			}
		})
	}
}

// TestExactTolerance checks the boundary of an exact row: an input whose
// out-of-band part is a small multiple of the tolerance is exact below it
// and a ratio row above it.
func TestExactTolerance(t *testing.T) {
	l := losses(t, in11, out11)["frobenius"]
	ev, _ := New(nil, l, &Options{ExactTol: 1e-6})
	for _, c := range []struct {
		eps   float64
		exact bool
	}{{0, true}, {1e-12, true}, {1e-8, true}, {1e-4, false}, {1, false}} {
		x := append([]float64(nil), notebookTest...)
		x[0] = c.eps * 4
		r, err := ev.Evaluate(x)
		if err != nil {
			t.Fatal(err)
		}
		if r.Exact != c.exact {
			t.Errorf("out-of-band entry %g: exact %v, want %v", x[0], r.Exact, c.exact)
		}
	}
}

// TestAgainstBruteForce compares the summary with statistics computed
// directly from every row, for each loss, with exact rows mixed in.
func TestAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	g := data.Gaussian{}
	for name, l := range losses(t, in11, out11) {
		n := 300
		if name == "spectral" {
			n = 40
		}
		s := data.Generate(g, in11, n, rng)
		copy(s.Row(3), notebookTest)
		clear(s.Row(5))
		ev, err := New(scaled(in11, out11, 1.1, 0.05), l, &Options{Batch: 7})
		if err != nil {
			t.Fatal(err)
		}
		var rows []*Row
		sum, err := ev.Run(FromSet(s, Validation, ""), func(r *Row) error { rows = append(rows, r.Clone()); return nil })
		if err != nil {
			t.Fatal(err)
		}
		for mi, m := range sum.Methods {
			var loss, optSum, lossRatio, gsum float64
			var gaps []float64
			for _, r := range rows {
				a, o := r.Approximations[mi], r.Method(Optimal)
				if a.Method != m.Method {
					t.Fatalf("method order %s vs %s", a.Method, m.Method)
				}
				loss += a.Loss
				if r.Exact {
					continue
				}
				lossRatio += a.Loss
				optSum += o.Loss
				gaps = append(gaps, a.Loss/o.Loss-1)
				gsum += a.Loss/o.Loss - 1
			}
			sort.Float64s(gaps)
			q := func(p float64) float64 { return gaps[int(math.Ceil(p*float64(len(gaps))))-1] }
			close := func(what string, got, want, tol float64) {
				if math.Abs(got-want) > tol*math.Max(math.Abs(want), 1e-300) && !(m.Method == Optimal && math.Abs(got) < 1e-9) {
					t.Errorf("%s %s %s = %v, brute force %v", name, m.Method, what, got, want)
				}
			}
			close("loss", m.Loss, loss/float64(len(rows)), 1e-12)
			close("gap", m.Gap, lossRatio/optSum-1, 1e-9)
			close("gap_mean", m.GapMean, gsum/float64(len(gaps)), 1e-9)
			close("gap_max", m.GapMax, gaps[len(gaps)-1], 1e-12)
			close("gap_median", m.GapMedian, q(0.5), 1.2e-3)
			close("gap_p95", m.GapP95, q(0.95), 1.2e-3)
		}
		if sum.ExactRows != 2 || sum.Rows != n {
			t.Errorf("%s: %d exact of %d rows, want 2 of %d", name, sum.ExactRows, sum.Rows, n)
		}
	}
}

// TestQuantiles checks the histogram quantiles against the order statistics
// of seeded samples spread over many decades, of both signs.
func TestQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 20; trial++ {
		n := 1 + rng.IntN(5000)
		var h histogram
		v := make([]float64, n)
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := range v {
			v[i] = math.Pow(10, -12+14*rng.Float64())
			if rng.IntN(10) == 0 {
				v[i] = -v[i]
			}
			if rng.IntN(50) == 0 {
				v[i] = 0
			}
			h.add(v[i])
			lo, hi = math.Min(lo, v[i]), math.Max(hi, v[i])
		}
		sort.Float64s(v)
		for _, q := range []float64{0, 0.01, 0.5, 0.9, 0.95, 0.99, 1} {
			want := v[max(int(math.Ceil(q*float64(n)))-1, 0)]
			got := h.quantile(q, lo, hi)
			if math.Abs(got-want) > 1.16e-3*math.Abs(want) {
				t.Errorf("n %d q %v: %v, want %v", n, q, got, want)
			}
		}
	}
}

// TestMerge checks that accumulating shards and merging them gives the
// summary of the whole set.
func TestMerge(t *testing.T) {
	l := losses(t, in11, out11)["probe"]
	ev, _ := New(scaled(in11, out11, 0.8, 0), l, nil)
	s := data.Generate(data.Notebook{Scale: 11}, in11, 500, rand.New(rand.NewPCG(9, 9)))
	copy(s.Row(10), notebookTest)
	whole, _ := ev.Run(FromSet(s, Validation, "all"), nil)
	a, b := ev.NewAccumulator(Validation, "all"), ev.NewAccumulator(Validation, "all")
	half := &data.Set{Dim: 11, Rows: 200, X: s.X[:200*11]}
	rest := &data.Set{Dim: 11, Rows: 300, X: s.X[200*11:]}
	ev.Run(FromSet(half, Validation, ""), func(r *Row) error { a.Add(r); return nil })
	ev.Run(FromSet(rest, Validation, ""), func(r *Row) error { b.Add(r); return nil })
	if err := a.Merge(b); err != nil {
		t.Fatal(err)
	}
	got := a.Summary()
	ja, _ := json.Marshal(got)
	jb, _ := json.Marshal(whole)
	// Sums in another order may differ in the last bits: compare rounded.
	if got.Rows != whole.Rows || got.ExactRows != whole.ExactRows {
		t.Fatalf("merged rows %d/%d, whole %d/%d", got.Rows, got.ExactRows, whole.Rows, whole.ExactRows)
	}
	for i, m := range got.Methods {
		w := whole.Methods[i]
		for _, p := range [][2]float64{{m.Loss, w.Loss}, {m.Gap, w.Gap}, {m.GapMean, w.GapMean}, {m.GapP95, w.GapP95}, {m.GapMax, w.GapMax}, {m.ExactLossMean, w.ExactLossMean}} {
			if math.Abs(p[0]-p[1]) > 1e-12*math.Abs(p[1]) {
				t.Errorf("merged %s\nwhole  %s", ja, jb)
				return
			}
		}
	}
	other, _ := New(nil, l, nil)
	if err := a.Merge(other.NewAccumulator(Validation, "")); err == nil {
		t.Error("merging accumulators with different methods succeeded")
	}
}

// TestProbeMetricOnly checks that another probe set changes probe_loss and
// nothing else: the trained loss, its optimum and the gaps stay.
func TestProbeMetricOnly(t *testing.T) {
	l := losses(t, in11, out11)["probe"]
	metric, desc, err := GaussianProbeMetric(in11, out11, 50, 3)
	if err != nil {
		t.Fatal(err)
	}
	model := scaled(in11, out11, 0.9, 0.2)
	a, _ := New(model, l, nil)
	b, _ := New(model, l, &Options{Probe: metric, Probes: desc})
	x := []float64{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5}
	ra, _ := a.Evaluate(x)
	rb, _ := b.Evaluate(x)
	for i := range ra.Approximations {
		pa, pb := ra.Approximations[i], rb.Approximations[i]
		if pa.Loss != pb.Loss || pa.Gap != pb.Gap || pa.A[0] != pb.A[0] {
			t.Errorf("%s: loss/gap/generator changed with the metric probes: %+v vs %+v", pa.Method, pa, pb)
		}
		if pa.Method == Network && pa.ProbeLoss == pb.ProbeLoss {
			t.Errorf("probe_loss did not change with the metric probes")
		}
	}
	if a.Probes() == "" || !strings.Contains(b.Probes(), "50 Gaussian") {
		t.Errorf("probe descriptions %q, %q", a.Probes(), b.Probes())
	}
	f, _ := loss.NewFrobenius(in11, out11, false)
	c, _ := New(nil, f, nil)
	if r, _ := c.Evaluate(x); !math.IsNaN(r.Method(Optimal).ProbeLoss) || c.Probes() != "" {
		t.Errorf("Frobenius without probes: probe_loss %v, probes %q", r.Method(Optimal).ProbeLoss, c.Probes())
	}
}

// TestSources checks origins, descriptions and file errors.
func TestSources(t *testing.T) {
	l := losses(t, in11, out11)["frobenius"]
	ev, _ := New(nil, l, &Options{Batch: 2})
	csv := "0,0,0,1,2,4,2,1,0,0,0\n1,2,3,4,5,6,7,8,9,10,11\n1,1,1,1,1,1,1,1,1,1,1\n"
	rd, err := data.NewReader(strings.NewReader(csv), "in.csv", "csv")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := ev.Run(FromReader(rd, in11, "in.csv"), nil)
	if err != nil || sum.Rows != 3 || sum.EvaluatedOn != File || sum.Description != "3 matrices from in.csv" {
		t.Errorf("reader: %v %+v", err, sum)
	}
	rd, _ = data.NewReader(strings.NewReader("1,2,3\n"), "short.csv", "csv")
	if _, err := ev.Run(FromReader(rd, in11, "short.csv"), nil); !errors.Is(err, structure.ErrLength) || !strings.Contains(err.Error(), "short.csv") {
		t.Errorf("short rows: %v", err)
	}
	rd, _ = data.NewReader(strings.NewReader(csv+"1,2,x,4,5,6,7,8,9,10,11\n"), "bad.csv", "csv")
	sum, err = ev.Run(FromReader(rd, in11, "bad.csv"), nil)
	if !errors.Is(err, data.ErrFormat) || sum.Rows != 3 {
		t.Errorf("bad value: %v after %d rows", err, sum.Rows)
	}
	g := FromGenerator(data.Gaussian{}, in11, 5, rand.New(rand.NewPCG(1, 1)), "")
	if sum, err := ev.Run(g, nil); err != nil || sum.Rows != 5 || sum.EvaluatedOn != Generated || !strings.Contains(sum.Description, "gaussian") {
		t.Errorf("generator: %v %+v", err, sum)
	}
	empty := &data.Set{Dim: 11}
	if sum, err := ev.Run(FromSet(empty, Validation, ""), nil); err != nil || sum.Rows != 0 || !math.IsNaN(sum.Methods[0].Loss) {
		t.Errorf("empty: %v %+v", err, sum)
	}
}

// TestModelErrors checks that a model's failure or non-finite output stops
// the run with an error naming the row.
func TestModelErrors(t *testing.T) {
	l := losses(t, in11, out11)["frobenius"]
	s := data.Generate(data.Gaussian{}, in11, 10, rand.New(rand.NewPCG(1, 1)))
	bad := ModelFunc(func(dst, x []float64, n int) error {
		for i := range dst {
			dst[i] = 0
		}
		if n > 3 {
			dst[3*7+2] = math.NaN()
		}
		return nil
	})
	ev, _ := New(bad, l, nil)
	if _, err := ev.Run(FromSet(s, Validation, ""), nil); !errors.Is(err, ErrModel) || !strings.Contains(err.Error(), "row 4") {
		t.Errorf("NaN output: %v", err)
	}
	boom := errors.New("boom")
	ev, _ = New(ModelFunc(func([]float64, []float64, int) error { return boom }), l, nil)
	if _, err := ev.Run(FromSet(s, Validation, ""), nil); !errors.Is(err, boom) {
		t.Errorf("model error: %v", err)
	}
	stop := errors.New("stop")
	ev, _ = New(nil, l, nil)
	n := 0
	sum, err := ev.Run(FromSet(s, Validation, ""), func(*Row) error {
		if n++; n == 4 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || sum.Rows != 4 {
		t.Errorf("callback error: %v after %d rows", err, sum.Rows)
	}
	if _, err := New(nil, nil, nil); err == nil {
		t.Error("New without a loss succeeded")
	}
	if _, err := New(nil, l, &Options{ExactTol: 2}); err == nil {
		t.Error("ExactTol 2 accepted")
	}
	if _, err := ev.Evaluate([]float64{1, 2}); !errors.Is(err, structure.ErrLength) {
		t.Errorf("short input: %v", err)
	}
}

// TestBoundedMemory checks that the memory Run holds does not grow with
// the number of rows: rows are streamed, not kept.
func TestBoundedMemory(t *testing.T) {
	l := losses(t, in11, out11)["frobenius"]
	ev, _ := New(scaled(in11, out11, 0.9, 0), l, nil)
	const rows = 30 * DefaultBatch
	s := data.Generate(data.Notebook{Scale: 11}, in11, rows, rand.New(rand.NewPCG(1, 1)))
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	var early, late uint64
	ev.Run(FromSet(s, Validation, "x"), func(r *Row) error {
		switch r.Index {
		case 2 * DefaultBatch:
			early = heap()
		case rows - 1:
			late = heap()
		}
		return nil
	})
	if late > early+256<<10 {
		t.Errorf("heap grew from %d to %d bytes over %d rows", early, late, rows-2*DefaultBatch)
	}
}

// TestWorst checks that Worst keeps the rows of largest gap, in order.
func TestWorst(t *testing.T) {
	l := losses(t, in11, out11)["frobenius"]
	ev, _ := New(scaled(in11, out11, 0.5, 1), l, nil)
	s := data.Generate(data.Gaussian{}, in11, 200, rand.New(rand.NewPCG(5, 5)))
	w := Worst{K: 4}
	var gaps []float64
	ev.Run(FromSet(s, Validation, ""), func(r *Row) error {
		w.Add(r)
		gaps = append(gaps, r.Method(Network).Gap)
		return nil
	})
	sort.Sort(sort.Reverse(sort.Float64Slice(gaps)))
	if len(w.Rows()) != 4 {
		t.Fatalf("%d rows kept", len(w.Rows()))
	}
	for i, r := range w.Rows() {
		if g := r.Method(Network).Gap; g != gaps[i] {
			t.Errorf("worst %d: gap %v, want %v", i, g, gaps[i])
		}
	}
}

// TestUnrepresentableMetrics: a row whose metrics exceed the float64 range
// (squared entries of 1e300 in the probe loss, a Frobenius norm above the
// largest float64) is an error naming the row, not a table of Inf and NaN;
// the same row scaled into range evaluates.
func TestUnrepresentableMetrics(t *testing.T) {
	big := func(v float64) []float64 {
		return []float64{v, v, v, 1, 2, 4, 2, 1, v, v, v}
	}
	for name, l := range losses(t, in11, out11) {
		ev, err := New(scaled(in11, out11, 1, 0), l, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []float64{1e300, 8e307} {
			_, err := ev.Run(FromSet(set(big(1), big(v)), Validation, ""), nil)
			if name == "spectral" && v == 1e300 {
				// The 2-norm of 1e300 entries is representable; so are all
				// its metrics but the probe metric, which is not computed.
				if err != nil {
					t.Errorf("%s, entries %v: %v", name, v, err)
				}
				continue
			}
			if !errors.Is(err, structure.ErrNonFinite) || !strings.Contains(err.Error(), "row 2") {
				t.Errorf("%s, entries %v: err = %v, want ErrNonFinite naming row 2", name, v, err)
			}
		}
		if _, err := ev.Run(FromSet(set(big(1e150)), Validation, ""), nil); err != nil {
			t.Errorf("%s, entries 1e150: %v", name, err)
		}
	}
}
