package eval

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/optimal"
)

// TestAccumulatorJSON checks that an Accumulator's state survives JSON
// exactly (its Summary is identical, NaN and infinities included) and that
// decoded halves merge like the originals.
func TestAccumulatorJSON(t *testing.T) {
	l := losses(t, in11, out11)["probe"]
	ev, _ := New(scaled(in11, out11, 0.8, 0), l, nil)
	s := data.Generate(data.Notebook{Scale: 11}, in11, 300, rand.New(rand.NewPCG(4, 4)))
	copy(s.Row(7), notebookTest) // an exact row
	for _, rows := range []int{0, 1, 300} {
		a := ev.NewAccumulator(File, "some rows")
		sub := &data.Set{Dim: 11, Rows: rows, X: s.X[:rows*11]}
		ev.Run(FromSet(sub, File, ""), func(r *Row) error { a.Add(r); return nil })
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		var back Accumulator
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%d rows: %v\n%s", rows, err, b)
		}
		want, _ := json.Marshal(a.Summary())
		got, _ := json.Marshal(back.Summary())
		if string(got) != string(want) {
			t.Errorf("%d rows: decoded summary\n%s\nwant\n%s", rows, got, want)
		}
		again, _ := json.Marshal(&back)
		if string(again) != string(b) {
			t.Errorf("%d rows: re-encoded state differs", rows)
		}
	}
	// Decoded halves merge to what the in-process halves merge to.
	x, y := ev.NewAccumulator(File, ""), ev.NewAccumulator(File, "")
	ev.Run(FromSet(&data.Set{Dim: 11, Rows: 100, X: s.X[:100*11]}, File, ""), func(r *Row) error { x.Add(r); return nil })
	ev.Run(FromSet(&data.Set{Dim: 11, Rows: 200, X: s.X[100*11:]}, File, ""), func(r *Row) error { y.Add(r); return nil })
	bx, _ := json.Marshal(x)
	by, _ := json.Marshal(y)
	var dx, dy Accumulator
	if err := json.Unmarshal(bx, &dx); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(by, &dy); err != nil {
		t.Fatal(err)
	}
	if err := x.Merge(y); err != nil {
		t.Fatal(err)
	}
	if err := dx.Merge(&dy); err != nil {
		t.Fatal(err)
	}
	if w, g := x.Summary(), dx.Summary(); !reflect.DeepEqual(mustJSON(t, w), mustJSON(t, g)) {
		t.Errorf("decoded merge %s\nwant %s", mustJSON(t, g), mustJSON(t, w))
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAccumulatorJSONRejects checks that inconsistent states are refused.
func TestAccumulatorJSONRejects(t *testing.T) {
	ok := `{"evaluated_on":"file","description":"","loss":"probe","probes":"","out":{"N":11,"K":1},"rows":2,"exact_rows":0,"unconverged":0,` +
		`"methods":[{"method":"optimal","loss":1,"frobenius":1,"spectral":1,"probe_loss":1,"ratio_loss":1,"ratio_optimal":1,"gap_sum":0,` +
		`"gap_min":0,"gap_max":0,"exact_sum":0,"exact_max":"-Inf","diagonal_sq":[0,0,0],"hist_zero":2,"hist_n":2}]}`
	var a Accumulator
	if err := json.Unmarshal([]byte(ok), &a); err != nil {
		t.Fatalf("a valid state: %v", err)
	}
	for _, c := range []struct{ old, new string }{
		{`"rows":2`, `"rows":-1`},
		{`"exact_rows":0`, `"exact_rows":3`},
		{`"K":1`, `"K":11`},
		{`"method":"optimal"`, `"method":"magic"`},
		{`[0,0,0]`, `[0,0]`},
		{`"hist_zero":2`, `"hist_zero":1`},
		{`"hist_zero":2`, `"hist_pos":[[99999999,1]],"hist_zero":1`},
		{`"exact_max":"-Inf"`, `"exact_max":"huge"`},
		{`"methods":[`, `"methods":[],"x":[`},
	} {
		bad := replaceOnce(t, ok, c.old, c.new)
		if err := json.Unmarshal([]byte(bad), &a); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func replaceOnce(t *testing.T, s, old, new string) string {
	for i := 0; i+len(old) <= len(s); i++ {
		if s[i:i+len(old)] == old {
			return s[:i] + new + s[i+len(old):]
		}
	}
	t.Fatalf("%q not in %s", old, s)
	return ""
}

// FuzzAccumulatorJSON checks that decoding never panics and that what
// decodes re-encodes and summarises without panicking.
func FuzzAccumulatorJSON(f *testing.F) {
	f.Add([]byte(`{"out":{"N":3,"K":0},"methods":[{"method":"optimal","diagonal_sq":[0],"hist_pos":[[5,1]],"hist_n":1}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var a Accumulator
		if json.Unmarshal(b, &a) != nil {
			return
		}
		a.Summary()
		if _, err := json.Marshal(&a); err != nil {
			t.Fatal(err)
		}
		c := a
		if err := a.Merge(&c); err != nil {
			t.Fatal(err)
		}
	})
}

// TestFromSolvedSet checks that Run uses the optima a solved set carries:
// the true optima give the evaluation of FromSet exactly, other "optima"
// (here the truncation) show up as the optimal method, and optima of the
// wrong size stop the run with an error.
func TestFromSolvedSet(t *testing.T) {
	for name, l := range losses(t, in11, out11) {
		ev, err := New(scaled(in11, out11, 0.8, 0), l, &Options{Batch: 7})
		if err != nil {
			t.Fatal(err)
		}
		s := data.Generate(data.Notebook{Scale: 11}, in11, 20, rand.New(rand.NewPCG(5, 5)))
		copy(s.Row(3), notebookTest)
		sol, err := optimal.NewSolver(l, nil)
		if err != nil {
			t.Fatal(err)
		}
		Lo := out11.Len()
		known := Optima{A: make([]float64, s.Rows*Lo), Results: make([]optimal.Result, s.Rows)}
		if err := sol.SolveBatch(known.A, known.Results, s.X, s.Rows); err != nil {
			t.Fatal(err)
		}
		want, err := ev.Run(FromSet(s, Validation, "rows"), nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ev.Run(FromSolvedSet(s, known, Validation, "rows"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
			t.Errorf("%s: with known optima\n%s\nwant\n%s", name, g, w)
		}
		fake := Optima{A: make([]float64, s.Rows*Lo), Results: known.Results}
		for i := 0; i < s.Rows; i++ {
			copy(fake.A[i*Lo:(i+1)*Lo], s.Row(i)[2:9])
		}
		var rows []*Row
		if _, err := ev.Run(FromSolvedSet(s, fake, Validation, ""), func(r *Row) error { rows = append(rows, r.Clone()); return nil }); err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if o, tr := r.Method(Optimal), r.Method(Truncation); o.Loss != tr.Loss {
				t.Fatalf("%s row %d: optimal loss %v, the supplied optimum (the truncation) has %v", name, r.Index, o.Loss, tr.Loss)
			}
		}
		short := Optima{A: known.A[:len(known.A)-Lo], Results: known.Results[:s.Rows-1]}
		if _, err := ev.Run(FromSolvedSet(s, short, Validation, ""), nil); err == nil {
			t.Errorf("%s: optima for %d of %d rows accepted", name, s.Rows-1, s.Rows)
		}
	}
}
