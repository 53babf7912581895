// Command certify measures the goals of issue 13 (every network answer
// certified) for a trained run directory, in one process and without Python:
//
//   - held-out inputs: -rows rows drawn from the run's training generator
//     (config data) with -seed, a stream the trainer never draws (it seeds
//     its own with the run's seed and other stream constants);
//   - the network's answers (nn.Approximator.Forward, batches of -batch),
//     certified by optimal.Certifier with CertifyOptions{MaxGap: -max-gap}
//     row by row on -workers goroutines, each locked to its OS thread, so
//     that the certifier's cost is those threads' CPU time
//     (CLOCK_THREAD_CPUTIME_ID, read once a batch; each row's share by its
//     monotonic-clock time): the figures do not depend on other load on
//     the machine the way wall times do;
//   - the exact solver (optimal.Solver with MethodAuto, as `matapprox
//     optimal -input` runs it) on -exact rows spread evenly over the run
//     (every rows/exact-th), each batch's right after the batch is
//     certified (so that both rates come from the same phase of a machine
//     whose speed drifts), timed the same way and stated as a rate; with
//     -sdp-too (the default) also the SDP on the same rows, for continuity
//     with figures measured when MethodAuto chose it at these sizes;
//   - on those rows, the true gap (Value − optimum)/Value of the certified
//     output and of the network's own answer, the certified ÷ true gap
//     (ratio of the means, as eval.CertifiedSummary.Tightness) and the
//     number of certified lower bounds above the exact solver's value
//     (must be 0);
//   - the guarantee: the number of output rows whose certified gap exceeds
//     -max-gap (must be 0);
//   - the cost per row by outcome: answers certified as they are, answers
//     improved (Certificate.Polished) without the exact solver, and rows the
//     exact solver replaced (Certificate.Fallback).
//
// With -run-duals the certifier's cache starts from the run directory's
// remembered duals (train.DualsFile), as `matapprox approx -certify` starts
// it, and the load's CPU time (each dual re-verified) is counted as the
// certifier's; by default the cache starts empty.
//
// It prints these as text and one Markdown table row for docs/BENCHMARKS.md
// ("Certification"). -cpuprofile writes a CPU profile of the certification
// phase (go tool pprof -top) to show where a row's time goes.
//
// Usage, from the repository root:
//
//	go run ./bench/certify -model runs/spectral -rows 100000 -exact 2000 -max-gap 0.01
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/eval"
	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/nn"
	"github.com/matapprox/matapprox/optimal"
	"github.com/matapprox/matapprox/structure"
	"github.com/matapprox/matapprox/train"
)

// options are the measurement's settings.
type options struct {
	rows, exact, batch, workers int
	maxGap, reuse               float64
	polishSteps, dualCache      int
	ascentSteps                 int
	fallbackTol                 float64
	sdpToo                      bool
	precision                   string
	seed                        uint64
	cpuProfile                  string
	writeInput                  string // CSV file of the held-out rows, for timing the CLI on them
	runDuals                    string // the run's remembered duals to load first, as approx does ("" for none)
	log                         io.Writer
}

func main() {
	var o options
	model := flag.String("model", "", "run directory written by matapprox train (required)")
	flag.IntVar(&o.rows, "rows", 10000, "held-out rows to certify")
	flag.IntVar(&o.exact, "exact", 1000, "of those, rows solved by the exact solver (rate and true gaps): every (rows/exact)-th row, spread over the run, since a certifier with a dual cache gets faster and tighter as it goes")
	flag.IntVar(&o.batch, "batch", 4096, "rows per forward pass")
	flag.IntVar(&o.workers, "workers", 1, "certifying goroutines, each on its own OS thread")
	flag.Float64Var(&o.maxGap, "max-gap", 0.01, "CertifyOptions.MaxGap (0: certify without a guarantee)")
	flag.IntVar(&o.polishSteps, "polish-steps", 0, "CertifyOptions.PolishSteps (0: the default; negative: no polishing)")
	flag.IntVar(&o.dualCache, "dual-cache", optimal.DefaultDualCache, "CertifyOptions.DualCache: dual certificates remembered and reused (0: none)")
	flag.IntVar(&o.ascentSteps, "ascent-steps", 0, "CertifyOptions.AscentSteps: the most dual-ascent steps on a remembered dual that misses the reuse target (0: the default; negative: none)")
	flag.Float64Var(&o.reuse, "reuse-target", 0, "CertifyOptions.ReuseTarget (0: adapted to the rows, optimal.ReuseGapFactor times the mean gap of the rows certified the full way, within [DefaultReuseFraction, 1] × -max-gap)")
	flag.Float64Var(&o.fallbackTol, "fallback-tol", 0, "tolerance of the exact solver in a fallback (CertifyOptions.Solver.Tol; 0: the certifier's default)")
	flag.BoolVar(&o.sdpToo, "sdp-too", true, "also time the SDP (optimal.MethodSDP) on the rows solved exactly, for the throughput against it (the exact solver is optimal.MethodAuto's choice, which is the faster of the two at N = 11 and 32)")
	flag.StringVar(&o.precision, "precision", "f64", "the network's arithmetic: f64 or f32 (nn.SetPrecision; the certificates are float64 either way)")
	flag.Uint64Var(&o.seed, "seed", 2026, "seed of the held-out rows")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the certification phase to this file")
	flag.StringVar(&o.writeInput, "write-input", "", "also write the held-out rows to this CSV file (to time matapprox approx on them)")
	runDuals := flag.Bool("run-duals", false, "load the run directory's remembered duals ("+train.DualsFile+") into the cache first, as matapprox approx -certify does, and count the load's CPU time as the certifier's (false: the cache starts empty)")
	flag.Parse()
	o.log = os.Stderr
	if *model == "" {
		fmt.Fprintln(os.Stderr, "certify: -model is required")
		os.Exit(2)
	}
	if *runDuals {
		o.runDuals = filepath.Join(*model, train.DualsFile)
	}
	net, cfg, err := train.LoadRun(*model)
	if err == nil {
		err = run(o, net, &cfg, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "certify:", err)
		os.Exit(1)
	}
}

// threadCPU returns the CPU time of the calling OS thread.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// outcome classes of a certified row.
const (
	asIs = iota
	reusedDual
	ascendedDual
	recoveredDual
	improved
	fallback
	outcomes
)

var outcomeNames = [outcomes]string{"certified as it is", "certified as it is by a remembered dual", "certified as it is by a remembered dual after dual ascent", "replaced by the primal of the ascended dual", "improved without the exact solver", "replaced by the exact solver"}

// stats gathers one worker's figures.
type stats struct {
	count   [outcomes]int
	cpu     [outcomes]time.Duration
	acc     eval.CertifyAccumulator
	over    int     // rows whose certified gap exceeds MaxGap
	maxGap  float64 // largest certified gap
	nonPos  int     // rows with Value <= 0 (gap 0 by definition)
	gapList []float64
	// By tenth of the run: rows, rows certified by a remembered dual,
	// the certifier's CPU.
	tenth [10]struct {
		rows, reused int
		cpu          time.Duration
		reuse        float64 // the certifier's reuse target at the tenth's end
	}
}

func (s *stats) merge(t *stats) {
	for i := range s.count {
		s.count[i] += t.count[i]
		s.cpu[i] += t.cpu[i]
	}
	s.acc.Merge(&t.acc)
	s.over += t.over
	s.maxGap = math.Max(s.maxGap, t.maxGap)
	s.nonPos += t.nonPos
	s.gapList = append(s.gapList, t.gapList...)
	for i := range s.tenth {
		s.tenth[i].rows += t.tenth[i].rows
		s.tenth[i].reused += t.tenth[i].reused
		s.tenth[i].cpu += t.tenth[i].cpu
		s.tenth[i].reuse = math.Max(s.tenth[i].reuse, t.tenth[i].reuse)
	}
}

// outcome returns the class of a certificate in the report.
func outcome(cert optimal.Certificate) int {
	switch {
	case cert.Ascended:
		return ascendedDual
	case cert.Recovered:
		return recoveredDual
	case cert.Reused:
		return reusedDual
	case cert.Fallback:
		return fallback
	case cert.Polished:
		return improved
	}
	return asIs
}

// exactRow keeps what the exact comparison needs of one of the sampled rows.
type exactRow struct {
	x, net []float64
	cert   optimal.Certificate
	ref    optimal.Result // the exact solver's
}

func run(o options, net *nn.Approximator, cfg *train.Config, w io.Writer) error {
	if o.rows < 1 || o.exact < 0 || o.batch < 1 || o.workers < 1 {
		return fmt.Errorf("-rows %d, -exact %d, -batch %d, -workers %d: need rows, batch, workers >= 1 and exact >= 0", o.rows, o.exact, o.batch, o.workers)
	}
	o.exact = min(o.exact, o.rows)
	in, out := cfg.Bands()
	l, _, err := train.BuildLoss(cfg)
	if err != nil {
		return err
	}
	gen, err := data.GeneratorByName(cfg.Data, in)
	if err != nil {
		return err
	}
	co := &optimal.CertifyOptions{MaxGap: o.maxGap, PolishSteps: o.polishSteps, Workers: 1, DualCache: o.dualCache, ReuseTarget: o.reuse, AscentSteps: o.ascentSteps}
	if o.fallbackTol > 0 {
		co.Solver = &optimal.Options{Tol: o.fallbackTol}
	}
	c, err := optimal.NewCertifier(l, co)
	if err != nil {
		return err
	}
	// The run's duals, loaded (and each re-verified) on this thread, whose
	// CPU time is then the certifier's.
	var loadCPU time.Duration
	loaded := 0
	if o.runDuals != "" {
		runtime.LockOSThread()
		t0 := threadCPU()
		loaded, err = c.ReadDuals(o.runDuals)
		loadCPU = threadCPU() - t0
		runtime.UnlockOSThread()
		if err != nil {
			return err
		}
	}
	L, Lo := in.Len(), out.Len()
	rng := rand.New(rand.NewPCG(o.seed, 0xce27))
	batch := min(o.batch, o.rows)
	x := make([]float64, batch*L)
	prec, err := nn.ParsePrecision(o.precision)
	if err != nil {
		return err
	}
	if err := net.Net.SetPrecision(prec); err != nil {
		return err
	}
	ws := net.NewWorkspace(batch)
	// The exact solver on the sampled rows (MethodAuto's choice, as
	// `matapprox optimal -input` runs it) and, with -sdp-too, the SDP,
	// each batch's rows right after the batch is certified, so that both
	// rates are measured in the same phase of the machine.
	solver, err := optimal.NewSolver(l, nil)
	if err != nil {
		return err
	}
	var sdp *optimal.Solver
	var exactCPU, sdpCPU time.Duration
	if o.sdpToo && solver.Method() != optimal.MethodSDP {
		if sdp, err = optimal.NewSolver(l, &optimal.Options{Method: optimal.MethodSDP}); err != nil {
			return err
		}
	}
	keep := make([]exactRow, 0, o.exact)
	all := &stats{}
	var netCPU time.Duration
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	var inputFile *bufio.Writer
	if o.writeInput != "" {
		f, err := os.Create(o.writeInput)
		if err != nil {
			return err
		}
		defer f.Close()
		inputFile = bufio.NewWriterSize(f, 1<<16)
	}
	runtime.LockOSThread()
	start := time.Now()
	for done := 0; done < o.rows; {
		k := min(batch, o.rows-done)
		for i := 0; i < k; i++ {
			gen.Fill(x[i*L:(i+1)*L], rng)
			if inputFile != nil {
				for j, v := range x[i*L : (i+1)*L] {
					if j > 0 {
						inputFile.WriteByte(',')
					}
					inputFile.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
				}
				inputFile.WriteByte('\n')
			}
		}
		t0 := threadCPU()
		a := net.Forward(ws, x[:k*L], k)
		netCPU += threadCPU() - t0
		res := make([]optimal.Certificate, k)
		ws := make([]*stats, o.workers)
		var wg sync.WaitGroup
		errs := make([]error, o.workers)
		for wi := range ws {
			ws[wi] = &stats{}
			wg.Add(1)
			go func(wi int) {
				defer wg.Done()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				s := ws[wi]
				// The thread's CPU time over the whole batch is the
				// certifier's cost; each row's share of it (by outcome
				// and by tenth) is apportioned by its monotonic-clock
				// time, since a thread CPU clock read is a system call
				// of ≈ 0.5 µs, a tenth of a row at N = 11.
				c0 := threadCPU()
				var wallSum time.Duration
				for i := wi; i < k; i += o.workers {
					t0 := time.Now()
					cert, err := c.Certify(x[i*L:(i+1)*L], a[i*Lo:(i+1)*Lo])
					dt := time.Since(t0)
					wallSum += dt
					if err != nil {
						errs[wi] = fmt.Errorf("row %d: %w", done+i+1, err)
						return
					}
					res[i] = cert
					cls := outcome(cert)
					s.count[cls]++
					s.cpu[cls] += dt
					tt := &s.tenth[min(9, (done+i)*10/o.rows)]
					tt.rows++
					tt.cpu += dt
					if cert.Reused {
						tt.reused++
					}
					tt.reuse = c.ReuseTarget()
					g := cert.Gap()
					s.acc.Add(cert, math.NaN())
					s.gapList = append(s.gapList, g)
					s.maxGap = math.Max(s.maxGap, g)
					if o.maxGap > 0 && g > o.maxGap {
						s.over++
					}
					if !(cert.Value > 0) {
						s.nonPos++
					}
				}
				if cpu := threadCPU() - c0; wallSum > 0 {
					f := float64(cpu) / float64(wallSum)
					for cls := range s.cpu {
						s.cpu[cls] = time.Duration(f * float64(s.cpu[cls]))
					}
					for t := range s.tenth {
						s.tenth[t].cpu = time.Duration(f * float64(s.tenth[t].cpu))
					}
				}
			}(wi)
		}
		wg.Wait()
		for wi, s := range ws {
			if errs[wi] != nil {
				return errs[wi]
			}
			all.merge(s)
		}
		stride := o.rows / max(o.exact, 1)
		for i := 0; i < k && o.exact > 0; i++ {
			if (done+i)%stride != 0 || len(keep) >= o.exact {
				continue
			}
			r := res[i]
			r.A = append([]float64(nil), r.A...)
			e := exactRow{x: append([]float64(nil), x[i*L:(i+1)*L]...), net: append([]float64(nil), a[i*Lo:(i+1)*Lo]...), cert: r}
			t0 := threadCPU()
			e.ref, err = solver.Solve(e.x)
			exactCPU += threadCPU() - t0
			if err != nil {
				return fmt.Errorf("exact solve of row %d: %w", done+i+1, err)
			}
			if sdp != nil {
				t0 := threadCPU()
				if _, err := sdp.Solve(e.x); err != nil {
					return fmt.Errorf("SDP solve of row %d: %w", done+i+1, err)
				}
				sdpCPU += threadCPU() - t0
			}
			keep = append(keep, e)
		}
		done += k
		fmt.Fprintf(o.log, "\rcertified %d/%d rows (%.0f s)", done, o.rows, time.Since(start).Seconds())
	}
	fmt.Fprintln(o.log)
	if inputFile != nil {
		if err := inputFile.Flush(); err != nil {
			return err
		}
	}
	if o.cpuProfile != "" {
		pprof.StopCPUProfile()
	}

	sub := &stats{}
	var byOutcome [outcomes]eval.CertifyAccumulator
	var netOver, bad, exactUnconverged int
	var netGaps []float64      // the network's true gaps on the exactly solved rows
	var fullRows, fullGood int // rows certified the full way; of them, with a network gap within the final reuse target
	reuseEnd := all.tenth[len(all.tenth)-1].reuse
	r := make([]float64, L)
	for _, e := range keep {
		ref := e.ref
		if !ref.Converged {
			exactUnconverged++
		}
		opt := ref.Value
		if e.cert.Lower > opt*(1+1e-9) {
			bad++
		}
		sub.acc.Add(e.cert, opt)
		byOutcome[outcome(e.cert)].Add(e.cert, opt)
		if v := lossValue(l, in, out, e.x, e.net, r); v > 0 && opt > 0 {
			g := math.Max(0, (v-opt)/v)
			netGaps = append(netGaps, g)
			if o.maxGap > 0 && g > o.maxGap {
				netOver++
			}
			if outcome(e.cert) == asIs {
				fullRows++
				if g <= reuseEnd {
					fullGood++
				}
			}
		}
	}
	runtime.UnlockOSThread()

	// Report.
	var certCPU time.Duration
	for _, d := range all.cpu {
		certCPU += d
	}
	certCPU += loadCPU
	total := certCPU + netCPU
	rate := float64(o.rows) / total.Seconds()
	fmt.Fprintf(w, "%v → K' = %d, %s loss, %s; %d held-out rows (generator %s, seed %d), MaxGap %g, %d worker(s), %s\n",
		in, out.K, l.Name(), filepath.Base(cfg.Data), o.rows, cfg.Data, o.seed, o.maxGap, o.workers, time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "network: %.3g µs CPU per row; certifier: %.4g µs CPU per row; together %.0f rows per CPU-second\n",
		us(netCPU, o.rows), us(certCPU, o.rows), rate)
	if o.runDuals != "" {
		fmt.Fprintf(w, "  the run's remembered duals: %d loaded from %s in %.3g s CPU (in the certifier's CPU, %.3g µs a row)\n",
			loaded, o.runDuals, loadCPU.Seconds(), us(loadCPU, o.rows))
	}
	for cls := range outcomes {
		n := all.count[cls]
		fmt.Fprintf(w, "  %-36s %8d rows (%6.3f %%), %9.4g µs CPU per row, %5.1f %% of the certifier's CPU\n",
			outcomeNames[cls]+":", n, 100*float64(n)/float64(o.rows), us(all.cpu[cls], n), 100*all.cpu[cls].Seconds()/math.Max(certCPU.Seconds(), 1e-300))
	}
	s := all.acc.Summary()
	sort.Float64s(all.gapList)
	fmt.Fprintf(w, "certified gap: mean %.4g %%, median %.4g %%, p95 %.4g %%, p99 %.4g %%, max %.4g %%; rows above MaxGap: %d\n",
		100*s.GapMean, 100*quantile(all.gapList, 0.5), 100*quantile(all.gapList, 0.95), 100*quantile(all.gapList, 0.99), 100*all.maxGap, all.over)
	fmt.Fprint(w, "by tenth of the run, certified by a remembered dual / certifier CPU per row / reuse target at its end:")
	for _, t := range all.tenth {
		if t.rows > 0 {
			fmt.Fprintf(w, " %.0f %% / %.0f µs / %.3g %%", 100*float64(t.reused)/float64(t.rows), us(t.cpu, t.rows), 100*t.reuse)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, "certified gap histogram:")
	for i, v := range s.Histogram {
		if v > 0 {
			fmt.Fprintf(w, " [1e%d,1e%d):%d", i-9, i-8, v)
		}
	}
	fmt.Fprintln(w)
	speedup := math.NaN()
	if len(keep) > 0 {
		exactRate := float64(len(keep)) / exactCPU.Seconds()
		speedup = rate / exactRate
		ss := sub.acc.Summary()
		fmt.Fprintf(w, "exact solver (%s) on %d rows spread over the run: %.4g ms CPU per row (%.0f rows per CPU-second; %d short of its tolerance); certify ÷ exact throughput %.3g×\n",
			solver.Method(), len(keep), 1e3*exactCPU.Seconds()/float64(len(keep)), exactRate, exactUnconverged, speedup)
		if sdp != nil {
			sdpRate := float64(len(keep)) / sdpCPU.Seconds()
			fmt.Fprintf(w, "the SDP on the same rows: %.4g ms CPU per row; certify ÷ SDP throughput %.3g× (%s is %.3g× faster than the SDP)\n",
				1e3*sdpCPU.Seconds()/float64(len(keep)), rate/sdpRate, solver.Method(), exactRate/sdpRate)
		}
		fmt.Fprintf(w, "on those rows: certified gap mean %.4g %%, true gap of the output mean %.4g %% (%d rows with a positive optimum), certified ÷ true %.3g; network's own true gap mean %.4g %%; lower bounds above the optimum: %d\n",
			100*ss.GapMean, 100*ss.TrueGapMean, ss.TrueRows, ss.Tightness, 100*floats.Sum(netGaps)/math.Max(float64(len(netGaps)), 1), bad)
		fmt.Fprint(w, "certified ÷ true by outcome (rows):")
		for cls := range byOutcome {
			if t := byOutcome[cls].Summary(); t.TrueRows > 0 {
				fmt.Fprintf(w, " %s %.3g (%d);", outcomeNames[cls], t.Tightness, t.TrueRows)
			}
		}
		fmt.Fprintln(w)
		if o.maxGap > 0 {
			fmt.Fprintf(w, "network answers truly above MaxGap (the fewest rows any valid bound must refine or re-solve): %d of %d (%.3g %%)\n",
				netOver, len(netGaps), 100*float64(netOver)/math.Max(float64(len(netGaps)), 1))
		}
		sort.Float64s(netGaps)
		fmt.Fprintf(w, "network's true gap: p50 %.3g %%, p75 %.3g %%, p90 %.3g %%, p95 %.3g %%, p99 %.3g %%; of the %d rows certified the full way, %d had a network answer within the final reuse target %.3g %% (what a tighter cache could take; the rest no valid bound can reuse)\n",
			100*quantile(netGaps, 0.5), 100*quantile(netGaps, 0.75), 100*quantile(netGaps, 0.9), 100*quantile(netGaps, 0.95), 100*quantile(netGaps, 0.99), fullRows, fullGood, 100*reuseEnd)
		s = ss
	}
	fmt.Fprintf(w, "| %d, %d → %d | %d | %d | %.4g µs | %.3g× | %d (%.3g %%) | %d | %.3g %% / %.3g %% / %.4g %% | %.3g %% | %.3g |\n",
		in.N, in.K, out.K, o.rows, len(keep), us(total, o.rows), speedup, all.count[fallback], 100*float64(all.count[fallback])/float64(o.rows),
		all.count[improved], 100*all.acc.Summary().GapMean, 100*quantile(all.gapList, 0.95), 100*all.maxGap, 100*s.TrueGapMean, s.Tightness)
	if in.N <= 256 {
		fmt.Fprintf(w, "cost floor: one dense SVD (singular vectors too) of the %d×%d residual, as the certifier's oracle computes it: %.4g µs CPU\n", in.N, in.N, svdCost(in))
	}
	if all.over > 0 || bad > 0 {
		return fmt.Errorf("%d rows above MaxGap, %d lower bounds above the optimum", all.over, bad)
	}
	return nil
}

// lossValue returns the loss of the answer a for x, using r (2K+1) as
// workspace.
func lossValue(l loss.Loss, in, out structure.Band, x, a, r []float64) float64 {
	if _, ok := l.(*loss.Spectral); ok {
		structure.Embed(r, in, a, out)
		for i := range r {
			r[i] = x[i] - r[i]
		}
		return optimal.SpectralNorm(in, r)
	}
	return l.Eval(nil, x, a, 1)
}

// svdCost returns the thread CPU time in µs of one full SVD of a banded
// Toeplitz residual of band b (mat.SVD, SVDFull), the certifier's dense
// oracle, as the median of 15 runs of enough repetitions to take 10 ms.
func svdCost(b structure.Band) float64 {
	rng := rand.New(rand.NewPCG(5, 6))
	g := make([]float64, b.Len())
	for i := range g {
		g[i] = rng.NormFloat64()
	}
	m := mat.NewDense(b.N, b.N, nil)
	for i := 0; i < b.N; i++ {
		for j := max(0, i-b.K); j <= min(b.N-1, i+b.K); j++ {
			m.Set(i, j, g[b.K+j-i])
		}
	}
	var svd mat.SVD
	reps := 1
	for {
		t0 := threadCPU()
		for range reps {
			svd.Factorize(m, mat.SVDFull)
		}
		if threadCPU()-t0 > 10*time.Millisecond || reps > 1<<20 {
			break
		}
		reps *= 2
	}
	runs := make([]float64, 15)
	for r := range runs {
		t0 := threadCPU()
		for range reps {
			svd.Factorize(m, mat.SVDFull)
		}
		runs[r] = (threadCPU() - t0).Seconds() * 1e6 / float64(reps)
	}
	sort.Float64s(runs)
	return runs[len(runs)/2]
}

func us(d time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return d.Seconds() * 1e6 / float64(n)
}

// quantile returns the q-quantile of the sorted values v (nearest rank).
func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	return v[min(len(v)-1, int(q*float64(len(v))))]
}
