package optim

import (
	"errors"
	"math"
	"testing"
)

func TestSchedules(t *testing.T) {
	notebook := Piecewise{Rate: 0.25, DropFactor: 0.5, DropPeriod: 5}
	for e, want := range map[int]float64{-1: 0.25, 0: 0.25, 4: 0.25, 5: 0.125, 9: 0.125, 10: 0.0625, 14: 0.0625, 15: 0.03125} {
		if got := notebook.LR(e); got != want {
			t.Errorf("piecewise epoch %d: %v, want %v", e, got, want)
		}
	}
	cos := Cosine{Rate: 1, Min: 0.2, Epochs: 4}
	for e, want := range map[int]float64{
		0: 1, 1: 0.2 + 0.8*(1+math.Sqrt2/2)/2, 2: 0.6, 3: 0.2 + 0.8*(1-math.Sqrt2/2)/2, 4: 0.2, 100: 0.2,
	} {
		if got := cos.LR(e); !near(got, want, 1e-15) {
			t.Errorf("cosine epoch %d: %v, want %v", e, got, want)
		}
	}
	if (Constant{Rate: 0.3}).LR(99) != 0.3 {
		t.Error("constant schedule changed")
	}
}

func TestParseSchedule(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Schedule
	}{
		{"constant", Constant{Rate: 0.1}},
		{"", Constant{Rate: 0.1}},
		{"constant:lr=0.5", Constant{Rate: 0.5}},
		{"piecewise", Piecewise{Rate: 0.1, DropFactor: 0.5, DropPeriod: 5}},
		{"Piecewise: factor=0.1, period=3", Piecewise{Rate: 0.1, DropFactor: 0.1, DropPeriod: 3}},
		{"step:period=2,lr=1", Piecewise{Rate: 1, DropFactor: 0.5, DropPeriod: 2}},
		{"cosine:epochs=10", Cosine{Rate: 0.1, Min: 0, Epochs: 10}},
		{"cosine:epochs=10,min=0.01", Cosine{Rate: 0.1, Min: 0.01, Epochs: 10}},
	} {
		got, err := ParseSchedule(tc.in, 0.1)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%q: %#v, want %#v", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{
		"linear", "piecewise:factor=2", "piecewise:factor=0", "piecewise:period=0", "piecewise:period=1.5",
		"cosine", "cosine:epochs=10,min=1", "constant:lr=-1", "constant:lr=nan", "piecewise:foo=1",
		"piecewise:factor", "piecewise:factor=0.5,factor=0.5", "cosine:epochs=x",
	} {
		if _, err := ParseSchedule(bad, 0.1); !errors.Is(err, ErrConfig) {
			t.Errorf("%q: error %v, want ErrConfig", bad, err)
		}
	}
}

func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"constant", "piecewise:factor=0.5,period=5", "cosine:epochs=7,min=0.001", "step:lr=3", "x:y=z"} {
		f.Add(s, 0.25)
	}
	f.Fuzz(func(t *testing.T, s string, lr float64) {
		sch, err := ParseSchedule(s, lr)
		if err != nil {
			return
		}
		again, err := ParseSchedule(sch.String(), 0)
		if err != nil {
			t.Fatalf("%q parsed as %v, whose String does not parse: %v", s, sch, err)
		}
		for e := 0; e < 30; e++ {
			a, b := sch.LR(e), again.LR(e)
			if a != b {
				t.Fatalf("%q epoch %d: %v, after round trip %v", s, e, a, b)
			}
			if !(a >= 0) || math.IsInf(a, 0) {
				t.Fatalf("%q epoch %d: learning rate %v", s, e, a)
			}
		}
	})
}
