package train

import (
	"context"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/nn"
	"github.com/matapprox/matapprox/optimal"
)

// smallSymbol is the spectral-1024 preset shrunk to N = 128 and a run of
// a few seconds: a_∞'s gap there is about 0.3 %, the correction's size
// (K/N)² = 1.5e-3.
func smallSymbol(t *testing.T) Config {
	t.Helper()
	c := mustPreset(t, "spectral-1024")
	c.N, c.TrainSize, c.ValSize, c.Hidden = 64, 200, 40, []int{16}
	c.Epochs, c.WarmStart, c.BatchSize, c.LR, c.SphereFraction = 15, 15, 10, 1e-2, 0
	return c
}

// TestWarmStartThenLossDivergence: the divergence check after a warm start
// compares with the first batch of the loss, not with the supervised
// loss's, which is in other units (a squared generator error, against the
// 2-norm: at N = 1024 the spectral-1024 preset's first 2-norm batch is 10⁶
// times its first supervised one, and it stopped there). Here the ratio is
// about 10³, so a factor of 100 shows it.
func TestWarmStartThenLossDivergence(t *testing.T) {
	c := smallSymbol(t)
	c.TrainSize, c.ValSize, c.Epochs, c.WarmStart, c.Divergence = 60, 10, 3, 2, 100
	tr, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background(), Callbacks{}); err != nil {
		t.Fatal(err)
	}
	if h := tr.History; len(h) != 3 || !h[1].WarmStart || h[2].WarmStart || !(h[2].ValGap >= 0) {
		t.Fatalf("history %+v", h)
	}
	if tr.BestEpoch != 3 {
		t.Errorf("best epoch %d, want the one epoch on the loss, 3", tr.BestEpoch)
	}
}

// TestSymbolTrainingBeatsSymbolSolution is the claim of the spectral-1024
// preset on a small case: trained on exact optima, the symbol
// architecture's correction brings the held-out mean true gap well below
// that of a_∞ itself, which is the untrained model.
func TestSymbolTrainingBeatsSymbolSolution(t *testing.T) {
	c := smallSymbol(t)
	tr, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Model.Kind != nn.KindSymbol {
		t.Fatalf("model kind %v, want symbol", tr.Model.Kind)
	}
	l, err := loss.NewSpectral(tr.In, tr.Out)
	if err != nil {
		t.Fatal(err)
	}
	b, err := optimal.NewBanded(tr.In, tr.Out, 0)
	if err != nil {
		t.Fatal(err)
	}
	L, Lo := tr.In.Len(), tr.Out.Len()
	opt := make([]float64, tr.Val.Rows)
	for i := range opt {
		r, err := b.Solve(tr.Val.X[i*L : (i+1)*L])
		if err != nil {
			t.Fatal(err)
		}
		opt[i] = r.Value
	}
	gap := func() float64 {
		a := tr.Model.Predict(tr.Val.X, tr.Val.Rows)
		var sum float64
		for i := range opt {
			sum += l.Eval(nil, tr.Val.X[i*L:(i+1)*L], a[i*Lo:(i+1)*Lo], 1)/opt[i] - 1
		}
		return sum / float64(len(opt))
	}
	before := gap() // the untrained model is a_∞
	if err := tr.Run(context.Background(), Callbacks{}); err != nil {
		t.Fatal(err)
	}
	after := gap()
	t.Logf("held-out mean true gap at N = %d: a_∞ %.3g, trained %.3g (%.2g×)", c.N, before, after, before/after)
	if !(before > 1e-3) {
		t.Fatalf("a_∞'s gap %.3g: the test case no longer has a finite-N correction to learn", before)
	}
	if !(after < before/2) {
		t.Errorf("trained gap %.3g, a_∞'s %.3g: the correction does not beat a_∞ by 2×", after, before)
	}
}

func TestSymbolConfig(t *testing.T) {
	c := mustPreset(t, "spectral-1024")
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if sym, err := c.ModelSymmetry(); err != nil || sym != nn.SymmetryFull {
		t.Errorf("spectral-1024 symmetry %v, %v", sym, err)
	}
	for _, tc := range []struct {
		name string
		edit func(c *Config)
		want string
	}{
		{"probe loss", func(c *Config) { c.Loss, c.Probes, c.NumProbes = "probe", "gaussian", 10 }, "symbol with loss spectral"},
		{"no out-of-band entries", func(c *Config) { c.OutBand = c.InBand }, "out-band < in-band"},
		{"standardised", func(c *Config) { c.Standardize = true }, "standardize false"},
		{"unknown architecture", func(c *Config) { c.Architecture = "symbols" }, "mlp, sphere or symbol"},
	} {
		c := mustPreset(t, "spectral-1024")
		tc.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error mentioning %q", tc.name, err, tc.want)
		}
	}
	// symmetry and sphere-fraction apply to the symbol architecture.
	b := NewBuilder(mustPreset(t, "spectral-1024"))
	for key, value := range map[string]string{"symmetry": "odd", "sphere-fraction": "0.25"} {
		if err := b.Set(key, value, Origin{Flag: true}); err != nil {
			t.Fatal(err)
		}
	}
	if c, err := b.Config(); err != nil || c.Symmetry != "odd" || c.SphereFraction != 0.25 {
		t.Errorf("symmetry, sphere-fraction on a symbol model: %v, %q %v", err, c.Symmetry, c.SphereFraction)
	}
}

// TestTargetsPerRow: the warm start's exact optima are a function of each
// row alone, on one goroutine or two and in any order, also for the
// large-N method (optimal.Banded, whose oracle is warm-started from its
// previous solve), so that training on them is reproducible.
func TestTargetsPerRow(t *testing.T) {
	c := smallSymbol(t)
	c.N = 200
	l, _, err := BuildLoss(&c)
	if err != nil {
		t.Fatal(err)
	}
	if sol, err := optimal.NewSolver(l, nil); err != nil || sol.Method() != optimal.MethodBanded {
		t.Fatalf("N = 200: method %v, %v; the test needs the banded method", sol.Method(), err)
	}
	in, out := c.Bands()
	L, Lo, n := in.Len(), out.Len(), 6
	gen, err := data.GeneratorByName("notebook", in)
	if err != nil {
		t.Fatal(err)
	}
	s := generate(gen, in, n, rand.New(rand.NewPCG(4, 5)), nil, "")
	rev := &data.Set{Dim: L, Rows: n, X: make([]float64, n*L)}
	for i := 0; i < n; i++ {
		copy(rev.Row(n-1-i), s.Row(i))
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var ref []float64
	for _, procs := range []int{1, 2} {
		runtime.GOMAXPROCS(procs)
		a, err := targets(l, s)
		if err != nil {
			t.Fatal(err)
		}
		b, err := targets(l, rev)
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = a
		}
		for i := 0; i < n; i++ {
			for j := 0; j < Lo; j++ {
				if a[i*Lo+j] != ref[i*Lo+j] || b[(n-1-i)*Lo+j] != ref[i*Lo+j] {
					t.Fatalf("GOMAXPROCS %d: row %d entry %d: %v in order, %v reversed, %v on one goroutine", procs, i, j, a[i*Lo+j], b[(n-1-i)*Lo+j], ref[i*Lo+j])
				}
			}
		}
	}
}
