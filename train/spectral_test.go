package train

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/nn"
	"github.com/matapprox/matapprox/optimal"
	"github.com/matapprox/matapprox/structure"
)

// smallSpectral is the spectral preset shrunk to a run of about a second.
func smallSpectral(t *testing.T) Config {
	t.Helper()
	c, err := Preset("spectral")
	if err != nil {
		t.Fatal(err)
	}
	c.TrainSize, c.ValSize, c.Epochs, c.Hidden = 2000, 200, 4, []int{32, 32}
	c.LR, c.BatchSize = 2e-2, 20
	c.WarmStart = 0
	return c
}

// truncationLoss is the mean spectral loss of the truncation on s.
func truncationLoss(t *testing.T, in, out structure.Band, s *data.Set) float64 {
	t.Helper()
	l, err := loss.NewSpectral(in, out)
	if err != nil {
		t.Fatal(err)
	}
	L, Lo := in.Len(), out.Len()
	a := make([]float64, s.Rows*Lo)
	for i := 0; i < s.Rows; i++ {
		structure.Restrict(a[i*Lo:(i+1)*Lo], s.X[i*L:(i+1)*L], in, out)
	}
	return l.Eval(nil, s.X, a, s.Rows) / float64(s.Rows)
}

func TestSpectralTrainingBeatsInitialisation(t *testing.T) {
	c := smallSpectral(t)
	tr, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	init := tr.ValLoss()
	if err := tr.Run(context.Background(), Callbacks{}); err != nil {
		t.Fatal(err)
	}
	final := tr.History[len(tr.History)-1].ValLoss
	trunc := truncationLoss(t, tr.In, tr.Out, tr.Val)
	t.Logf("validation spectral loss: initialisation %.4g, after %d epochs %.4g, truncation %.4g", init, c.Epochs, final, trunc)
	// The sphere architecture starts near the truncation (its correction
	// is small at initialisation); the optimum is about 10 % below the
	// truncation, and four epochs of 2000 rows at a high learning rate
	// cover more than half of that.
	if !(final < 0.95*trunc && final < init) {
		t.Errorf("validation loss %v after %d epochs, %v at initialisation, truncation %v: want below 0.95 × truncation", final, c.Epochs, init, trunc)
	}
}

func TestWarmStartTargetsEqualSolver(t *testing.T) {
	c := smallSpectral(t)
	c.TrainSize, c.WarmStart = 40, 1
	tr, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	// The targets are the exact solver's answers, whatever the goroutines
	// that computed them: compare with it row by row.
	s, err := optimal.NewSolver(tr.Loss, &optimal.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	L, Lo := tr.In.Len(), tr.Out.Len()
	if len(tr.targets) != tr.Train.Rows*Lo {
		t.Fatalf("%d targets for %d rows of %d", len(tr.targets), tr.Train.Rows, Lo)
	}
	for i := 0; i < tr.Train.Rows; i++ {
		r, err := s.Solve(tr.Train.X[i*L : (i+1)*L])
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		for j, v := range r.A {
			if got := tr.targets[i*Lo+j]; got != v {
				t.Fatalf("row %d, entry %d: target %v, solver %v", i, j, got, v)
			}
		}
	}
	// Warm-start epochs then train towards the targets.
	if err := tr.Run(context.Background(), Callbacks{}); err != nil {
		t.Fatal(err)
	}
	if !tr.History[0].WarmStart || tr.History[1].WarmStart {
		t.Errorf("warm-start flags %v, %v: want only the first epoch", tr.History[0].WarmStart, tr.History[1].WarmStart)
	}
}

// amortisation compares b.N matrices through the network, in batches of 256,
// with b.N exact solves.
func benchmarkAmortisation(b *testing.B, preset string, solve bool) {
	c, err := Preset(preset)
	if err != nil {
		b.Fatal(err)
	}
	in, out := c.Bands()
	const rows = 256
	s := data.Generate(data.Notebook{Scale: float64(c.N)}, in, rows, rand.New(rand.NewPCG(1, 2)))
	if solve {
		sol, err := optimal.NewSDP(in, out, nil)
		if err != nil {
			b.Fatal(err)
		}
		L := in.Len()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			r := i % rows
			if _, err := sol.Solve(s.X[r*L : (r+1)*L]); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "matrices/s")
		return
	}
	nc, err := c.NetworkConfig()
	if err != nil {
		b.Fatal(err)
	}
	m, err := nn.New(nc, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	ws := m.NewWorkspace(rows)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Forward(ws, s.X, rows)
	}
	b.ReportMetric(float64(b.N*rows)/b.Elapsed().Seconds(), "matrices/s")
}

func BenchmarkAmortisationNetwork11(b *testing.B) { benchmarkAmortisation(b, "spectral", false) }
func BenchmarkAmortisationSolver11(b *testing.B)  { benchmarkAmortisation(b, "spectral", true) }
func BenchmarkAmortisationNetwork32(b *testing.B) { benchmarkAmortisation(b, "spectral-32", false) }
func BenchmarkAmortisationSolver32(b *testing.B)  { benchmarkAmortisation(b, "spectral-32", true) }

func TestWarmStartSize(t *testing.T) {
	c := smallSpectral(t)
	c.TrainSize, c.ValSize, c.Epochs, c.WarmStart, c.WarmStartSize = 300, 50, 2, 1, 30
	tr, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	Lo := tr.Out.Len()
	if len(tr.targets) != 30*Lo {
		t.Fatalf("%d targets, want 30 rows of %d", len(tr.targets), Lo)
	}
	want, err := targets(tr.Loss, &data.Set{X: tr.Train.X[:30*tr.In.Len()], Rows: 30, Dim: tr.In.Len()})
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if tr.targets[i] != want[i] {
			t.Fatalf("target %d: %v, want the first rows' %v", i, tr.targets[i], want[i])
		}
	}
	totals := map[int]int{}
	err = tr.Run(context.Background(), Callbacks{Batch: func(epoch, done, total int) { totals[epoch] = total }})
	if err != nil {
		t.Fatal(err)
	}
	if totals[1] != 30 || totals[2] != 300 {
		t.Errorf("rows per epoch %v: want 30 in the warm start, then 300", totals)
	}
	c.WarmStartSize = -1
	if err := c.Validate(); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "warm-start-size") {
		t.Errorf("warm-start-size -1: %v", err)
	}
}
