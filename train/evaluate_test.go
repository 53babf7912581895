package train

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/eval"
	"github.com/matapprox/matapprox/optim"
)

// TestBestWhateverMinDelta checks that the best weights are those of the
// lowest validation loss even when min-delta ignores the improvement, and
// that early stopping is then recorded with why and when.
func TestBestWhateverMinDelta(t *testing.T) {
	c := small(t, "default")
	c.Epochs, c.MinDelta = 6, 0.9 // no epoch improves by 90%: patience counts every epoch
	c.Patience = 3
	var improved []int
	tr, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background(), Callbacks{Improved: func(s EpochStats) error { improved = append(improved, s.Epoch); return nil }}); err != nil {
		t.Fatal(err)
	}
	best := 0
	for i, h := range tr.History {
		if h.ValLoss < tr.History[best].ValLoss {
			best = i
		}
	}
	if tr.BestEpoch != tr.History[best].Epoch || tr.BestVal != tr.History[best].ValLoss {
		t.Errorf("best epoch %d (%v), want %d (%v) of %+v", tr.BestEpoch, tr.BestVal, tr.History[best].Epoch, tr.History[best].ValLoss, tr.History)
	}
	if len(improved) == 0 || improved[len(improved)-1] != tr.BestEpoch {
		t.Errorf("Improved called at epochs %v, best %d", improved, tr.BestEpoch)
	}
	// The kept weights give the best validation loss.
	m := tr.Model.Clone()
	copy(m.Params(), tr.BestParams())
	if v := MeanLoss(m, m.NewWorkspace(256), tr.Loss, tr.Val); math.Abs(v-tr.BestVal) > 1e-12*v {
		t.Errorf("best weights give validation loss %v, want %v", v, tr.BestVal)
	}
	st := tr.Stopped()
	// The first epoch improves on +Inf; the next three do not by 90%.
	if st == nil || st.Epoch != 4 || len(tr.History) != 4 || st.Patience != 3 || st.BestEpoch != tr.BestEpoch {
		t.Fatalf("early stop %+v after %d epochs, want a stop after epoch 4", st, len(tr.History))
	}
	if s := st.String(); !strings.Contains(s, "after epoch 4") || !strings.Contains(s, "0.9") || !strings.Contains(s, "3 epochs") {
		t.Errorf("early stop line %q", s)
	}
	// Without patience nothing stops the run.
	c.Patience = 0
	if tr := run(t, c); tr.Stopped() != nil || len(tr.History) != 6 {
		t.Errorf("patience 0 stopped: %+v", tr.Stopped())
	}
}

// TestValGapMatchesEval checks that the last epoch's validation gap is the
// Gap of the evaluation of the final network on the validation set, with
// exact rows (the notebook's in-band matrix, an all-zero row) in the file.
func TestValGapMatchesEval(t *testing.T) {
	c := small(t, "default")
	in, _ := c.Bands()
	s := data.Generate(data.Notebook{Scale: 11}, in, 400, newRNGOnly(3))
	copy(s.Row(0), []float64{0, 0, 0, 1, 2, 4, 2, 1, 0, 0, 0})
	clear(s.Row(1))
	copy(s.Row(2), []float64{0, 0, 0, 1, 2, 4, 2, 1, 0, 0, 0})
	path := filepath.Join(t.TempDir(), "rows.csv")
	if err := data.WriteFile(path, s); err != nil {
		t.Fatal(err)
	}
	c.Data, c.ValFraction = path, 0.5
	tr := run(t, c)
	if tr.Val.Rows != 200 || tr.Train.Rows != 200 {
		t.Fatalf("split %d/%d, want 200/200", tr.Train.Rows, tr.Val.Rows)
	}
	ev, err := tr.Evaluator()
	if err != nil {
		t.Fatal(err)
	}
	src := EvalSource(tr.Train, tr.Val)
	sum, err := ev.Run(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	last := tr.History[len(tr.History)-1]
	if g := sum.Method(eval.Network).Gap; math.Abs(last.ValGap-g) > 1e-9*math.Abs(g) {
		t.Errorf("val_gap %v, evaluation gap %v", last.ValGap, g)
	}
	if sum.EvaluatedOn != eval.Validation || !strings.Contains(sum.Description, "200 held-out validation") {
		t.Errorf("evaluated on %s: %q", sum.EvaluatedOn, sum.Description)
	}
}

// TestDataFileHoldsOut checks the default validation split of a data file
// and what an evaluation without one says.
func TestDataFileHoldsOut(t *testing.T) {
	c, _ := Preset("default")
	in, _ := c.Bands()
	s := data.Generate(data.Notebook{Scale: 11}, in, 1000, newRNGOnly(4))
	path := filepath.Join(t.TempDir(), "rows.npy")
	if err := data.WriteFile(path, s); err != nil {
		t.Fatal(err)
	}
	c.Data = path
	trainSet, valSet, err := Datasets(&c)
	if err != nil {
		t.Fatal(err)
	}
	if valSet.Rows != 100 || trainSet.Rows != 900 {
		t.Errorf("default split %d/%d, want 900/100", trainSet.Rows, valSet.Rows)
	}
	if src := EvalSource(trainSet, valSet); src.Origin() != eval.Validation {
		t.Errorf("origin %s", src.Origin())
	}
	c.ValFraction = 0
	trainSet, valSet, _ = Datasets(&c)
	src := EvalSource(trainSet, valSet)
	if valSet.Rows != 0 || src.Origin() != eval.Training || !strings.Contains(src.Describe(), "first 1000 of 1000 training") && !strings.Contains(src.Describe(), "1000 training matrices") {
		t.Errorf("no split: %d validation rows, %s %q", valSet.Rows, src.Origin(), src.Describe())
	}
}

// TestProbeMetricNamed checks which probes probe_loss uses: the training
// probes for a probe run, named Gaussian metric probes otherwise.
func TestProbeMetricNamed(t *testing.T) {
	for _, c := range []struct{ preset, want string }{{"default", "100 notebook probes (seed 1) (the training loss)"}, {"spectral", "100 Gaussian probes (seed 1; a metric, not the trained loss)"}} {
		cfg, _ := Preset(c.preset)
		l, _, err := BuildLoss(&cfg)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := NewEvaluator(nil, l, &cfg)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Probes() != c.want {
			t.Errorf("%s: probes %q, want %q", c.preset, ev.Probes(), c.want)
		}
	}
}

func newRNGOnly(seed uint64) *rand.Rand {
	r, _ := newRNG(seed, 99)
	return r
}

// TestOneScheduleParser checks that a configuration's schedule and the
// text form optim.ParseSchedule reads agree: each round-trips to the other.
func TestOneScheduleParser(t *testing.T) {
	for _, name := range PresetNames() {
		c, _ := Preset(name)
		for _, sched := range []string{"constant", "piecewise", "cosine"} {
			c.Schedule, c.DropFactor, c.DropPeriod = sched, 0.5, 3
			s, err := c.LRSchedule()
			if err != nil {
				t.Fatalf("%s %s: %v", name, sched, err)
			}
			again, err := optim.ParseSchedule(s.String(), 0)
			if err != nil || again != s {
				t.Errorf("%s: %v parses back as %v (%v)", name, s, again, err)
			}
		}
	}
	c, _ := Preset("default")
	c.Schedule = "step" // an alias of the text form only
	if _, err := c.LRSchedule(); err == nil {
		t.Error("schedule: step accepted in a configuration")
	}
}

// TestScheduleRegistryValidates checks that every schedule of the
// configuration registry is built by optim.NewSchedule: the registry lists
// exactly optim.ScheduleNames, and settings NewSchedule rejects are rejected
// by LRSchedule too, with optim.ErrConfig.
func TestScheduleRegistryValidates(t *testing.T) {
	if got := Choices("schedule"); !slices.Equal(got, optim.ScheduleNames) {
		t.Errorf("schedule registry %v, optim.ScheduleNames %v", got, optim.ScheduleNames)
	}
	for _, c := range []struct {
		name string
		set  func(c *Config)
	}{
		{"piecewise drop factor 0", func(c *Config) { c.Schedule, c.DropFactor, c.DropPeriod = "piecewise", 0, 3 }},
		{"piecewise period 0", func(c *Config) { c.Schedule, c.DropFactor, c.DropPeriod = "piecewise", 0.5, 0 }},
		{"cosine min above lr", func(c *Config) { c.Schedule, c.MinLR = "cosine", 2*c.LR }},
		{"cosine no epochs", func(c *Config) { c.Schedule, c.Epochs = "cosine", 0 }},
		{"constant NaN rate", func(c *Config) { c.Schedule, c.LR = "constant", math.NaN() }},
	} {
		cfg, _ := Preset("default")
		c.set(&cfg)
		if s, err := cfg.LRSchedule(); !errors.Is(err, optim.ErrConfig) {
			t.Errorf("%s: LRSchedule = %v, %v; want an optim.ErrConfig", c.name, s, err)
		}
	}
}

// TestValidateChecksSchedule checks that Validate rejects, as a
// ConfigError on "schedule", settings only optim.NewSchedule knows are
// wrong (cosine to a minimum above the rate).
func TestValidateChecksSchedule(t *testing.T) {
	c, _ := Preset("default")
	c.Schedule, c.MinLR = "cosine", 2*c.LR
	var ce *ConfigError
	if err := c.Validate(); !errors.As(err, &ce) || ce.Key != "schedule" {
		t.Errorf("Validate = %v, want a ConfigError on schedule", err)
	}
}

// TestEvalSourceReusesValidationOptima checks that the trainer keeps the
// validation optima it solved for val_gap, and that the final evaluation
// from Trainer.EvalSource, which reuses them, is exactly the evaluation
// that solves them again (for each loss, a spectral one included).
func TestEvalSourceReusesValidationOptima(t *testing.T) {
	for _, lossName := range []string{"probe", "frobenius", "spectral"} {
		c := small(t, "default")
		c.Loss, c.Epochs, c.ValSize = lossName, 1, 30
		if lossName != "probe" {
			c.Probes, c.NumProbes = "", 0
		}
		tr, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		if k := tr.ValidationOptima(); k.A != nil || k.Results != nil {
			t.Fatalf("%s: optima before the first epoch", lossName)
		}
		if err := tr.Run(context.Background(), Callbacks{}); err != nil {
			t.Fatal(err)
		}
		_, out := c.Bands()
		if k := tr.ValidationOptima(); len(k.Results) != tr.Val.Rows || len(k.A) != tr.Val.Rows*out.Len() {
			t.Fatalf("%s: %d optima (%d entries) for %d validation rows", lossName, len(k.Results), len(k.A), tr.Val.Rows)
		}
		ev, err := tr.Evaluator()
		if err != nil {
			t.Fatal(err)
		}
		reused, err := ev.Run(tr.EvalSource(), nil)
		if err != nil {
			t.Fatal(err)
		}
		solved, err := ev.Run(EvalSource(tr.Train, tr.Val), nil)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(reused)
		b, _ := json.Marshal(solved)
		if string(a) != string(b) {
			t.Errorf("%s: evaluation with the trainer's optima\n%s\nsolving again\n%s", lossName, a, b)
		}
	}
}
