// Command spectralcost measures the cost of the certified 2-norm optimum
// against the matrix size N for both exact solvers, the SDP (barrier
// method, O(K'²N³) per Newton step) and Banded (the symbol's Chebyshev
// solution refined by the subspace method, O(N·K) memory), and writes the
// cost curve as an SVG plot and a Markdown table:
//
//	go run ./bench/spectralcost -out docs/spectral_cost.svg
//
// Each point is one certified solve of a notebook-like input (entries
// uniform in [0, N), seed fixed), K 16 → 8 (below N = 33: K = N/2−1,
// K' = N/4), at the tolerance -tol; the time is the process's CPU time
// (user + system) of the solve, which other load on a shared machine
// lengthens less than wall time. Figures belong in docs/BENCHMARKS.md.
package main

import (
	"flag"
	"fmt"
	"image/color"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/matapprox/matapprox/optimal"
	"github.com/matapprox/matapprox/structure"
)

func main() {
	sizes := flag.String("sizes", "16,32,64,128,256,512,1024,2048,4096,8192,16384,32768,65536,100000", "comma-separated matrix sizes N")
	sdpMax := flag.Int("sdp-max", 128, "largest N at which the SDP is timed (its cost grows as N³)")
	tol := flag.Float64("tol", 1e-8, "certified relative gap of every solve")
	out := flag.String("out", "", "write the cost curve here as SVG (empty: table only)")
	flag.Parse()
	ns, err := parseSizes(*sizes)
	if err != nil {
		fmt.Fprintln(os.Stderr, "spectralcost:", err)
		os.Exit(2)
	}
	if !(*tol > 0 && *tol < 1) {
		fmt.Fprintln(os.Stderr, "spectralcost: -tol must be in (0, 1)")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(1)
	var sdp, banded plotter.XYs
	fmt.Printf("One certified solve per method and size (tolerance %g), CPU seconds; %s, %s/%s, GOMAXPROCS=1.\n\n", *tol, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Println("| N | K → K' | SDP CPU s | SDP gap | Banded CPU s | Banded gap |")
	fmt.Println("|---:|---|---:|---:|---:|---:|")
	for _, n := range ns {
		k, kp := 16, 8
		if n <= 32 {
			k, kp = n/2-1, n/4
		}
		in, outb := structure.Band{N: n, K: k}, structure.Band{N: n, K: kp}
		x := make([]float64, in.Len())
		rng := rand.New(rand.NewPCG(63, 63))
		for i := range x {
			x[i] = rng.Float64() * float64(n)
		}
		row := fmt.Sprintf("| %d | %d → %d |", n, k, kp)
		if n <= *sdpMax {
			s, err := optimal.NewSDP(in, outb, &optimal.SDPOptions{Tol: *tol})
			if err != nil {
				fail(err)
			}
			sec, gap := timed(func() (optimal.Result, error) { return s.Solve(x) })
			sdp = append(sdp, plotter.XY{X: float64(n), Y: sec})
			row += fmt.Sprintf(" %.3g | %.2g |", sec, gap)
		} else {
			row += " — | |"
		}
		if 2*k+1 <= n {
			b, err := optimal.NewBanded(in, outb, *tol)
			if err != nil {
				fail(err)
			}
			sec, gap := timed(func() (optimal.Result, error) { return b.Solve(x) })
			banded = append(banded, plotter.XY{X: float64(n), Y: sec})
			row += fmt.Sprintf(" %.3g | %.2g |", sec, gap)
		} else {
			row += " — | |"
		}
		fmt.Println(row)
	}
	if *out == "" {
		return
	}
	if err := writePlot(*out, sdp, banded, *tol); err != nil {
		fail(err)
	}
}

// timed runs solve once and returns its CPU seconds and certified gap (a
// solve that stops short of the tolerance keeps its certified gap).
func timed(solve func() (optimal.Result, error)) (float64, float64) {
	c0 := cpu()
	r, err := solve()
	sec := (cpu() - c0).Seconds()
	if err != nil && r.Value == 0 && r.Lower == 0 {
		fail(err)
	}
	return sec, r.Gap()
}

func cpu() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func parseSizes(s string) ([]int, error) {
	var ns []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 4 || n > 10_000_000 {
			return nil, fmt.Errorf("size %q: want an integer in [4, 10⁷]", f)
		}
		ns = append(ns, n)
	}
	return ns, nil
}

func writePlot(path string, sdp, banded plotter.XYs, tol float64) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Certified 2-norm optimum (gap ≤ %s): CPU time vs N", strings.Replace(strconv.FormatFloat(tol, 'g', -1, 64), "e-0", "e-", 1))
	p.X.Label.Text = "N"
	p.Y.Label.Text = "CPU seconds per solve"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	p.Add(plotter.NewGrid())
	for _, s := range []struct {
		name string
		xy   plotter.XYs
		col  color.Color
	}{{"SDP (barrier)", sdp, color.RGBA{R: 200, G: 60, B: 40, A: 255}}, {"Banded (symbol + subspace method)", banded, color.RGBA{R: 30, G: 90, B: 200, A: 255}}} {
		if len(s.xy) == 0 {
			continue
		}
		l, pts, err := plotter.NewLinePoints(s.xy)
		if err != nil {
			return err
		}
		l.Color, pts.Color = s.col, s.col
		l.Width = vg.Points(1.6)
		p.Add(l, pts)
		p.Legend.Add(s.name, l, pts)
	}
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(8), vg.Points(8)
	return p.Save(7*vg.Inch, 4.5*vg.Inch, path)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "spectralcost:", err)
	os.Exit(1)
}
