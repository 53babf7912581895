// Command symbolgap measures a 2-norm approximator at large N against the
// symbol's Chebyshev solution a_∞ (optimal.SolveSymbol, the N → ∞ optimum
// used at finite N), the deliverable of the spectral-1024 preset:
//
//   - held-out inputs: -rows rows drawn from the run's training generator
//     (config data), or from the generator -data names, with -seed, a
//     stream the trainer never draws (it seeds its own with the run's seed
//     and other stream constants);
//   - their exact optima by optimal.Banded (certified: Lower <= opt_N <=
//     Value, to its default relative gap 1e-8);
//   - for the network (nn.Approximator.Forward in batches of -batch) and
//     for a_∞, the true gap ‖T(x) − T(a)‖₂ / Value − 1 of each row, its
//     mean, median, 95th percentile and maximum, the certified gap
//     ‖T(x) − T(a)‖₂ / Lower − 1 (an upper bound on the true one), and the
//     number of rows where the network is closer to the optimum than a_∞;
//   - wall time per row of the network (which includes its own symbol
//     solve for architecture symbol), of a_∞ alone and of the exact solver,
//     on one goroutine.
//
// It prints these as text and one Markdown table row for docs/BENCHMARKS.md
// ("The spectral-1024 preset").
//
// Usage, from the repository root:
//
//	go run ./bench/symbolgap -model runs/spectral-1024 -rows 500
package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"time"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/nn"
	"github.com/matapprox/matapprox/optimal"
	"github.com/matapprox/matapprox/train"
)

type options struct {
	model string
	rows  int
	seed  uint64
	batch int
	data  string
}

func main() {
	var o options
	flag.StringVar(&o.model, "model", "", "run directory of a 2-norm model (config.yaml and model.safetensors)")
	flag.IntVar(&o.rows, "rows", 500, "held-out rows")
	flag.Uint64Var(&o.seed, "seed", 11, "seed of the held-out rows")
	flag.IntVar(&o.batch, "batch", 100, "rows per network batch")
	flag.StringVar(&o.data, "data", "", "generator of the held-out rows (default: the run's own, config data)")
	flag.Parse()
	if o.model == "" || o.rows < 1 || o.batch < 1 {
		fmt.Fprintln(os.Stderr, "symbolgap: give -model DIR, -rows >= 1 and -batch >= 1")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(1)
	net, cfg, err := train.LoadRun(o.model)
	if err == nil {
		err = run(o, net, &cfg, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "symbolgap:", err)
		os.Exit(1)
	}
}

// stats are the per-row gaps of one method.
type stats struct {
	name       string
	gaps, cert []float64
	perRow     time.Duration
}

func (s stats) mean(v []float64) float64 {
	var m float64
	for _, g := range v {
		m += g
	}
	return m / float64(len(v))
}

func quantile(v []float64, q float64) float64 {
	c := append([]float64(nil), v...)
	sort.Float64s(c)
	return c[min(len(c)-1, int(math.Ceil(q*float64(len(c))))-1)]
}

func run(o options, net *nn.Approximator, cfg *train.Config, w io.Writer) error {
	in, out := cfg.Bands()
	if cfg.Loss != "spectral" {
		return fmt.Errorf("%s: loss %s; symbolgap measures 2-norm models", o.model, cfg.Loss)
	}
	if net.Inputs() != in.Len() || net.Outputs() != out.Len() {
		return fmt.Errorf("%s: the network maps %d → %d, the configuration's bands need %d → %d", o.model, net.Inputs(), net.Outputs(), in.Len(), out.Len())
	}
	if o.data != "" {
		cfg.Data = o.data
	}
	gen, err := data.GeneratorByName(cfg.Data, in)
	if err != nil {
		return fmt.Errorf("data %q: %w (symbolgap draws held-out rows from a named generator)", cfg.Data, err)
	}
	L, Lo, n := in.Len(), out.Len(), o.rows
	rng := rand.New(rand.NewPCG(o.seed, 0x5b1))
	x := make([]float64, n*L)
	for i := 0; i < n; i++ {
		gen.Fill(x[i*L:(i+1)*L], rng)
	}
	l, err := loss.NewSpectral(in, out)
	if err != nil {
		return err
	}
	// Exact optima.
	b, err := optimal.NewBanded(in, out, 0)
	if err != nil {
		return err
	}
	val, low := make([]float64, n), make([]float64, n)
	start := time.Now()
	for i := 0; i < n; i++ {
		r, err := b.Solve(x[i*L : (i+1)*L])
		if err != nil {
			return fmt.Errorf("exact optimum of row %d: %w", i+1, err)
		}
		val[i], low[i] = r.Value, r.Lower
	}
	exact := time.Since(start) / time.Duration(n)
	// a_∞.
	sym := make([]float64, n*Lo)
	start = time.Now()
	for i := 0; i < n; i++ {
		r, err := optimal.SolveSymbol(in, out, x[i*L:(i+1)*L], 0)
		if err != nil {
			return fmt.Errorf("symbol solution of row %d: %w", i+1, err)
		}
		copy(sym[i*Lo:], r.A)
	}
	symT := time.Since(start) / time.Duration(n)
	// The network.
	a := make([]float64, n*Lo)
	ws := net.NewWorkspace(o.batch)
	start = time.Now()
	for i := 0; i < n; i += o.batch {
		k := min(o.batch, n-i)
		copy(a[i*Lo:], net.Forward(ws, x[i*L:(i+k)*L], k))
	}
	netT := time.Since(start) / time.Duration(n)
	measure := func(name string, ans []float64, t time.Duration) stats {
		s := stats{name: name, perRow: t}
		for i := 0; i < n; i++ {
			v := l.Eval(nil, x[i*L:(i+1)*L], ans[i*Lo:(i+1)*Lo], 1)
			s.gaps = append(s.gaps, v/val[i]-1)
			s.cert = append(s.cert, v/low[i]-1)
		}
		return s
	}
	ns, ss := measure("network", a, netT), measure("a_∞ (symbol)", sym, symT)
	wins := 0
	for i := range ns.gaps {
		if ns.gaps[i] < ss.gaps[i] {
			wins++
		}
	}
	fmt.Fprintf(w, "%s: N = %d, K = %d → %d, %s model, %d held-out rows (seed %d) of %s; exact optima by optimal.Banded (%.3g ms a row)\n",
		o.model, in.N, in.K, out.K, net.Kind, n, o.seed, cfg.Data, ms(exact))
	fmt.Fprintf(w, "%-14s %11s %11s %11s %11s %15s %12s\n", "method", "gap_mean", "gap_median", "gap_p95", "gap_max", "certified_mean", "ms_per_row")
	for _, s := range []stats{ns, ss} {
		fmt.Fprintf(w, "%-14s %11.3g %11.3g %11.3g %11.3g %15.3g %12.3g\n", s.name, s.mean(s.gaps), quantile(s.gaps, 0.5), quantile(s.gaps, 0.95), quantile(s.gaps, 1), s.mean(s.cert), ms(s.perRow))
	}
	fmt.Fprintf(w, "network closer to the optimum than a_∞ on %d of %d rows; mean gap ratio network ÷ a_∞ %.3g\n", wins, n, ns.mean(ns.gaps)/ss.mean(ss.gaps))
	fmt.Fprintf(w, "\n| %d | %d → %d | %d | %.2e | %.2e | %.2e | %.2e | %.2e | %.2e | %d/%d | %.3g | %.3g | %.3g |\n",
		in.N, in.K, out.K, n, ns.mean(ns.gaps), quantile(ns.gaps, 0.95), quantile(ns.gaps, 1),
		ss.mean(ss.gaps), quantile(ss.gaps, 0.95), quantile(ss.gaps, 1), wins, n, ms(netT), ms(symT), ms(exact))
	return nil
}

func ms(d time.Duration) float64 { return d.Seconds() * 1e3 }
