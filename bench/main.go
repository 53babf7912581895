// Command bench measures the training and inference throughput of
// matapprox and of the notebook's PyTorch code side by side, and prints the
// tables of docs/BENCHMARKS.md in Markdown.
//
// Usage, from the repository root:
//
//	go run ./bench [-sizes notebook,scaled] [-threads 1,2] [-torch=true] [-seconds 3] [-reps 3]
//
// Training: for every size and thread count (GOMAXPROCS and
// nn.MLP.SetThreads for Go, torch.set_num_threads for PyTorch) it measures
// samples per second of
//
//   - matapprox f32 and f64: train.New with the "seed" preset resized and
//     precision f32 or f64 (the two alternate, rep by rep), timed over
//     train.Run (gather, forward, probe loss by its quadratic form and
//     gradient, backward, Adagrad step); with 2 threads the network splits
//     every batch into two row blocks with a deterministic reduction;
//   - PyTorch running the notebook's code as written (per-sample Python loop
//     of Spectral_Loss with torch_row_to_matrix), at the notebook size only;
//   - PyTorch with the loss vectorised (dense X−A by one gather, a batched
//     matmul over the probes);
//   - PyTorch with the loss as the quadratic form r·Q·rᵀ, Q precomputed,
//     in float32 and float64,
//
// all with Adagrad, by running scripts/bench_torch.py. Each figure is the
// best of -reps timed segments of -seconds. It reports the achieved GFLOP/s
// of each precision against a large internal/gemm product (Sgemm, Dgemm)
// measured in the same run and against the theoretical 32 (float32) or 16
// (float64) flops/cycle/core of two 256-bit FMA pipes. The first line names
// the kernel paths in use (internal/gemm, internal/vmath).
//
// Inference: approximations per second through the network (batched
// forward, float32 and float64, split over the threads as in training), the
// same network in PyTorch under torch.no_grad (float32 and float64, the
// same batches), the probe loss's projection (optimal.Projection.Apply) and
// the spectral-norm solver (optimal.SDP.Solve per matrix, one solver per
// thread), for -infer-total matrices (the solver timed for -seconds and
// extrapolated).
//
// PyTorch is skipped, with a note, when the interpreter cannot import
// torch. -torch-lib prepends a directory to the LD_LIBRARY_PATH of the
// PyTorch runs, to give PyTorch another BLAS (see docs/BENCHMARKS.md).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/matapprox/matapprox/internal/gemm"
	"github.com/matapprox/matapprox/internal/vmath"
)

type options struct {
	sizes      []string
	threads    []int
	torch      bool
	runner     torchRunner
	seconds    float64
	reps       int
	rounds     int
	training   bool
	inference  bool
	inferSizes []string
	inferTotal int
	minSolves  int
	peakN      int
	ghz        float64
	cpuProfile string
	precisions []string  // matapprox precisions measured in training
	log        io.Writer // progress, may be io.Discard
}

func main() {
	var o options
	var sizesFlag, threadsFlag, inferFlag, precFlag string
	flag.StringVar(&sizesFlag, "sizes", "notebook,scaled", "training sizes: "+sizeNames())
	flag.StringVar(&threadsFlag, "threads", "1,2", "thread counts (GOMAXPROCS; torch.set_num_threads)")
	flag.BoolVar(&o.torch, "torch", true, "also measure PyTorch (skipped with a note if torch cannot be imported)")
	flag.StringVar(&o.runner.python, "python", "/usr/bin/python3", "Python interpreter for PyTorch")
	flag.StringVar(&o.runner.script, "script", "scripts/bench_torch.py", "path of bench_torch.py")
	flag.StringVar(&o.runner.libPath, "torch-lib", "", "directory prepended to LD_LIBRARY_PATH for PyTorch (another BLAS)")
	flag.Float64Var(&o.seconds, "seconds", 3, "seconds per timed segment")
	flag.IntVar(&o.reps, "reps", 3, "timed segments per figure and round; the best is reported")
	flag.IntVar(&o.rounds, "rounds", 1, "passes over all measurements (spread in time against other load); the best is reported")
	flag.BoolVar(&o.training, "training", true, "measure training throughput")
	flag.BoolVar(&o.inference, "inference", true, "measure inference throughput")
	flag.StringVar(&inferFlag, "infer-sizes", "n11,n32", "inference sizes: n11 (K 5→3), n32 (K 15→7), tiny")
	flag.IntVar(&o.inferTotal, "infer-total", 1_000_000, "matrices through the network and the projection")
	flag.IntVar(&o.minSolves, "min-solves", 300, "least number of spectral solves timed")
	flag.IntVar(&o.peakN, "peak-n", 1024, "size of the square gemm product that measures the peak")
	flag.Float64Var(&o.ghz, "ghz", 0, "clock in GHz for the theoretical peak (0: /proc/cpuinfo)")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	flag.StringVar(&precFlag, "precisions", "f32,f64", "matapprox training precisions to measure (f32, f64)")
	flag.Parse()
	var err error
	if o.threads, err = parseInts(threadsFlag); err != nil {
		fmt.Fprintln(os.Stderr, "bench: -threads:", err)
		os.Exit(2)
	}
	o.sizes, o.inferSizes, o.precisions = splitList(sizesFlag), splitList(inferFlag), splitList(precFlag)
	o.log = os.Stderr
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	if err := run(o, os.Stdout); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		v, err := strconv.Atoi(f)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no thread count in %q", s)
	}
	return out, nil
}

// trainRow is one line of the training tables.
type trainRow struct {
	s       size
	threads int
	go64    float64
	go32    float64
	peak    float64 // measured Dgemm GFLOP/s at this thread count
	peak32  float64 // measured Sgemm GFLOP/s
	// Fastest single training step, seconds, of matapprox f32 and f64 and
	// of PyTorch by variant key; 0 when not measured.
	step32, step64 float64
	torchStep      map[string]float64
	// PyTorch samples/s by variant key; 0 when not run.
	torch map[string]float64
	blas  string
}

var torchVariants = []struct{ key, variant, dtype, title string }{
	{"notebook", "notebook", "float32", "PyTorch notebook f32"},
	{"vectorised", "vectorised", "float32", "PyTorch vectorised f32"},
	{"quad32", "quadratic", "float32", "PyTorch quadratic f32"},
	{"quad64", "quadratic", "float64", "PyTorch quadratic f64"},
}

// run performs the measurements of o and writes the Markdown report to w.
func run(o options, w io.Writer) error {
	if o.seconds <= 0 || o.reps < 1 || o.rounds < 1 {
		return fmt.Errorf("-seconds must be positive, -reps and -rounds at least 1")
	}
	for _, p := range o.precisions {
		if p != "f32" && p != "f64" {
			return fmt.Errorf("-precisions: %q: want f32 or f64", p)
		}
	}
	d := time.Duration(o.seconds * float64(time.Second))
	var trainSizes []size
	for _, n := range o.sizes {
		s, err := lookupSize(n)
		if err != nil {
			return err
		}
		trainSizes = append(trainSizes, s)
	}
	var infSizes []inferSize
	for _, n := range o.inferSizes {
		s, ok := inferSizes[n]
		if !ok {
			return fmt.Errorf("unknown inference size %q: use n11, n32 or tiny", n)
		}
		infSizes = append(infSizes, s)
	}
	ghz := o.ghz
	if ghz == 0 {
		ghz = cpuGHz()
	}
	procs := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(procs)

	fmt.Fprintf(w, "Measured %s on %s (%d logical CPUs, %.2f GHz nominal), %s %s/%s; every figure is the best of %d timed segments of %g s. Kernels: gemm %s (best %s), vmath %s (best %s).\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), orUnknown(cpuModel()), runtime.NumCPU(), ghz,
		runtime.Version(), runtime.GOOS, runtime.GOARCH, o.reps*o.rounds, o.seconds,
		gemm.CurrentPath(), gemm.BestPath(), vmath.Current(), vmath.Best())

	var note string
	torchOn := o.torch && (o.training || o.inference)
	if torchOn {
		if err := o.runner.available(); err != nil {
			torchOn = false
			note = "PyTorch skipped: " + err.Error()
			fmt.Fprintf(w, "%s\n\n", note)
		}
	} else {
		fmt.Fprintf(w, "PyTorch not measured (-torch=false).\n\n")
	}

	if o.training {
		var rows []trainRow
		for _, s := range trainSizes {
			for _, th := range o.threads {
				rows = append(rows, trainRow{s: s, threads: th, torch: map[string]float64{}, torchStep: map[string]float64{}})
			}
		}
		for round := 1; round <= o.rounds; round++ {
			for i := range rows {
				if err := measureTrainRow(&rows[i], o, torchOn, d, round); err != nil {
					runtime.GOMAXPROCS(procs)
					return err
				}
			}
		}
		writeTraining(w, rows, torchOn, ghz, o.peakN)
	}

	if o.inference {
		type cell struct {
			s       inferSize
			threads int
			best    inferResult
		}
		var cells []cell
		for _, s := range infSizes {
			for _, th := range o.threads {
				cells = append(cells, cell{s: s, threads: th})
			}
		}
		for round := 1; round <= o.rounds; round++ {
			for i := range cells {
				c := &cells[i]
				runtime.GOMAXPROCS(c.threads)
				for rep := 0; rep < o.reps; rep++ {
					r, err := measureInference(c.s, o.inferTotal, min(d, 3*time.Second), o.minSolves)
					if err != nil {
						runtime.GOMAXPROCS(procs)
						return fmt.Errorf("inference %s: %w", c.s.Name, err)
					}
					fmt.Fprintf(o.log, "round %d: inference %s threads=%d rep %d: network f32 %.0f, f64 %.0f, projection %.0f, spectral %.1f matrices/s (%d solved, %d not converged)\n",
						round, c.s.Name, c.threads, rep+1, r.Network32, r.Network, r.Projection, r.Spectral, r.SpectralSolved, r.SpectralFailed)
					c.best.Network = max(c.best.Network, r.Network)
					c.best.Network32 = max(c.best.Network32, r.Network32)
					c.best.Projection = max(c.best.Projection, r.Projection)
					if r.Spectral > c.best.Spectral {
						c.best.Spectral, c.best.SpectralSolved, c.best.SpectralFailed = r.Spectral, r.SpectralSolved, r.SpectralFailed
					}
				}
				if torchOn {
					for _, dt := range []string{"float32", "float64"} {
						res, err := o.runner.runInference(c.s, c.threads, dt, o.inferTotal, o.reps)
						if err != nil {
							runtime.GOMAXPROCS(procs)
							return fmt.Errorf("inference %s: %w", c.s.Name, err)
						}
						fmt.Fprintf(o.log, "round %d: torch inference %s %s threads=%d: %.0f matrices/s\n", round, c.s.Name, dt, c.threads, res.Rates)
						if dt == "float32" {
							c.best.Torch32 = max(c.best.Torch32, res.SamplesPerS)
						} else {
							c.best.Torch64 = max(c.best.Torch64, res.SamplesPerS)
						}
					}
				}
				runtime.GOMAXPROCS(procs)
			}
		}
		writeInferenceHeader(w, o.inferTotal, torchOn)
		for _, c := range cells {
			writeInferenceRow(w, c.s, c.threads, c.best, torchOn)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// precs returns the training precisions to measure: f32 and f64 unless
// -precisions chose.
func (o options) precs() []string {
	if len(o.precisions) == 0 {
		return []string{"f32", "f64"}
	}
	return o.precisions
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown CPU"
	}
	return s
}

// measureTrainRow measures one size and thread count once more and keeps
// the best figures in r.
func measureTrainRow(r *trainRow, o options, torchOn bool, d time.Duration, round int) error {
	procs := runtime.GOMAXPROCS(r.threads)
	defer runtime.GOMAXPROCS(procs)
	r.peak = max(r.peak, measurePeak(o.peakN, min(d, 2*time.Second)))
	r.peak32 = max(r.peak32, measurePeak32(o.peakN, min(d, 2*time.Second)))
	for rep := 0; rep < o.reps; rep++ {
		// f32 and f64 alternate, so that both see the same load.
		for _, prec := range o.precs() {
			v, best, err := measureTraining(r.s, d, prec, r.threads)
			if err != nil {
				return err
			}
			fmt.Fprintf(o.log, "round %d: matapprox %s %s threads=%d rep %d: %.0f samples/s, fastest step %v\n", round, prec, r.s.Name, r.threads, rep+1, v, best)
			if prec == "f32" {
				r.go32 = max(r.go32, v)
				r.step32 = minPos(r.step32, best.Seconds())
			} else {
				r.go64 = max(r.go64, v)
				r.step64 = minPos(r.step64, best.Seconds())
			}
		}
	}
	if !torchOn {
		return nil
	}
	for _, tv := range torchVariants {
		if tv.variant == "notebook" && !r.s.TorchNotebook {
			continue
		}
		res, err := o.runner.run(r.s, r.threads, tv.variant, tv.dtype, d, o.reps)
		if err != nil {
			return err
		}
		fmt.Fprintf(o.log, "round %d: torch %s %s %s threads=%d: %.0f samples/s\n", round, r.s.Name, tv.variant, tv.dtype, r.threads, res.Rates)
		r.torch[tv.key] = max(r.torch[tv.key], res.SamplesPerS)
		r.torchStep[tv.key] = minPos(r.torchStep[tv.key], res.BestStepS)
		r.blas = fmt.Sprintf("torch %s, BLAS %s", res.Torch, strings.Join(res.BLAS, " "))
	}
	return nil
}

// writeTraining prints the throughput and efficiency tables.
func writeTraining(w io.Writer, rows []trainRow, torchOn bool, ghz float64, peakN int) {
	fmt.Fprintf(w, "Training samples/s (higher is better):\n\n")
	hdr := "| size | threads | matapprox f32 | matapprox f64 | µs/step f32 |"
	sep := "|---|---:|---:|---:|---:|"
	if torchOn {
		for _, tv := range torchVariants {
			hdr += " " + tv.title + " |"
			sep += "---:|"
		}
		hdr += " f32 ÷ notebook | f32 ÷ vectorised f32 | f32 ÷ quadratic f32 | f64 ÷ quadratic f32 | f64 ÷ quadratic f64 |"
		sep += "---:|---:|---:|---:|---:|"
	}
	fmt.Fprintln(w, hdr)
	fmt.Fprintln(w, sep)
	for _, r := range rows {
		step := "—"
		if r.go32 > 0 {
			step = fmt.Sprintf("%.0f", 1e6*float64(r.s.Batch)/r.go32)
		}
		line := fmt.Sprintf("| %s | %d | %s | %s | %s |", r.s.Name, r.threads, rate(r.go32), rate(r.go64), step)
		if torchOn {
			for _, tv := range torchVariants {
				line += " " + rate(r.torch[tv.key]) + " |"
			}
			line += fmt.Sprintf(" %s | %s | %s | %s | %s |", ratio(r.go32, r.torch["notebook"]), ratio(r.go32, r.torch["vectorised"]),
				ratio(r.go32, r.torch["quad32"]), ratio(r.go64, r.torch["quad32"]), ratio(r.go64, r.torch["quad64"]))
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintln(w)
	if torchOn && len(rows) > 0 {
		for _, r := range rows {
			if !r.s.TorchNotebook && r.s.TorchNotebookNo != "" {
				fmt.Fprintf(w, "PyTorch notebook at %s: %s.\n", r.s.Name, r.s.TorchNotebookNo)
				break
			}
		}
		fmt.Fprintf(w, "PyTorch: %s.\n\n", rows[len(rows)-1].blas)
	}
	fmt.Fprintf(w, "Fastest single training step, µs (gather, forward, loss, backward, optimizer step; the minimum over all timed steps, which other load on the machine can only lengthen):\n\n")
	shdr, ssep := "| size | threads | matapprox f32 | matapprox f64 |", "|---|---:|---:|---:|"
	if torchOn {
		shdr += " PyTorch quadratic f32 | PyTorch quadratic f64 | f32 ÷ quadratic f32 | f64 ÷ quadratic f64 |"
		ssep += "---:|---:|---:|---:|"
	}
	fmt.Fprintln(w, shdr)
	fmt.Fprintln(w, ssep)
	for _, r := range rows {
		line := fmt.Sprintf("| %s | %d | %s | %s |", r.s.Name, r.threads, micro(r.step32), micro(r.step64))
		if torchOn {
			t32, t64 := r.torchStep["quad32"], r.torchStep["quad64"]
			line += fmt.Sprintf(" %s | %s | %s | %s |", micro(t32), micro(t64), ratio(t32, r.step32), ratio(t64, r.step64))
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "\n\"a ÷ b\" of steps is b's step time over a's (a speed-up, like the throughput ratios).\n\n")
	fmt.Fprintf(w, "matapprox efficiency (flops per sample: 2·Σ in·out forward, twice that backward, 2·L² loss):\n\n")
	fmt.Fprintln(w, "| size | threads | precision | MFLOP/sample | matapprox GFLOP/s | gemm peak GFLOP/s (measured) | % of measured | theoretical GFLOP/s | % of theoretical |")
	fmt.Fprintln(w, "|---|---:|---|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		fps := r.s.flopsPerSample()
		for _, pc := range []struct {
			name        string
			rate, peak  float64
			flopsPerCyc float64
		}{{"f32", r.go32, r.peak32, 32}, {"f64", r.go64, r.peak, 16}} {
			g := pc.rate * fps / 1e9
			theo := pc.flopsPerCyc * ghz * float64(r.threads)
			fmt.Fprintf(w, "| %s | %d | %s | %.3f | %.2f | %.2f | %.0f%% | %.1f | %.0f%% |\n",
				r.s.Name, r.threads, pc.name, fps/1e6, g, pc.peak, pct(g, pc.peak), theo, pct(g, theo))
		}
	}
	fmt.Fprintf(w, "\nMeasured peak: internal/gemm (Sgemm for f32, Dgemm for f64) on a %d×%d×%d product (C = A·Bᵀ), best of the repetitions in up to 2 s; theoretical: 32 (f32) or 16 (f64) flops/cycle/core (two 256-bit FMA pipes) × %.2f GHz × threads.\n\n", peakN, peakN, peakN, ghz)
}

func writeInferenceHeader(w io.Writer, total int, torchOn bool) {
	fmt.Fprintf(w, "Inference, matrices/s (networks — matapprox and PyTorch under torch.no_grad — and projection over %d matrices in the same batches; spectral solver timed and extrapolated):\n\n", total)
	torch, tsep := "", ""
	if torchOn {
		torch, tsep = " PyTorch f32 | PyTorch f64 | ÷ PyTorch f32 |", "---:|---:|---:|"
	}
	fmt.Fprintln(w, "| N | K → K' | network | threads | matapprox f32 | matapprox f64 |"+torch+" projection | spectral solver | network ÷ solver | 10⁶ by network | 10⁶ by solver |")
	fmt.Fprintln(w, "|---:|---|---|---:|---:|---:|"+tsep+"---:|---:|---:|---:|---:|")
}

// writeInferenceRow prints one inference line; "network ÷ solver" and "10⁶
// by network" use the faster of the two matapprox precisions, "÷ PyTorch
// f32" is matapprox f32 over PyTorch f32.
func writeInferenceRow(w io.Writer, s inferSize, threads int, r inferResult, torchOn bool) {
	in, out := s.bands()
	arch := fmt.Sprintf("%d→", in.Len())
	for _, h := range s.Hidden {
		arch += fmt.Sprintf("%d→", h)
	}
	arch += strconv.Itoa(out.Len())
	solver := rate(r.Spectral)
	if r.SpectralFailed > 0 {
		solver += fmt.Sprintf(" (%d/%d not converged)", r.SpectralFailed, r.SpectralSolved)
	}
	net := max(r.Network, r.Network32)
	torch := ""
	if torchOn {
		torch = fmt.Sprintf(" %s | %s | %s |", rate(r.Torch32), rate(r.Torch64), ratio(r.Network32, r.Torch32))
	}
	fmt.Fprintf(w, "| %d | %d → %d | %s | %d | %s | %s |%s %s | %s | %s | %s | %s |\n",
		s.N, s.K, s.Ko, arch, threads, rate(r.Network32), rate(r.Network), torch,
		rate(r.Projection), solver, ratio(net, r.Spectral), dur(1e6/net), dur(1e6/r.Spectral))
}

func rate(v float64) string {
	switch {
	case v <= 0:
		return "—"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func ratio(a, b float64) string {
	if a <= 0 || b <= 0 {
		return "—"
	}
	if a/b >= 100 {
		return fmt.Sprintf("%.0f×", a/b)
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// minPos returns the smaller positive one of a and b (0 if neither is).
func minPos(a, b float64) float64 {
	switch {
	case a <= 0:
		return max(b, 0)
	case b <= 0:
		return a
	}
	return min(a, b)
}

// micro formats seconds as microseconds, "—" for 0.
func micro(sec float64) string {
	if sec <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f", sec*1e6)
}

func pct(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return 100 * a / b
}

func dur(sec float64) string {
	d := time.Duration(sec * float64(time.Second))
	switch {
	case d >= time.Hour:
		return fmt.Sprintf("%.1f h", d.Hours())
	case d >= time.Minute:
		return fmt.Sprintf("%.1f min", d.Minutes())
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}
