package report

import (
	"bytes"
	"encoding/base64"
	"flag"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot"

	"github.com/matapprox/matapprox/eval"
)

var sampleOut = flag.String("report.out", "", "also write the sample report to this file, to look at")

// notebookX is the notebook's test matrix generator (N = 11, K = 5).
var notebookX = []float64{0, 0, 0, 1, 2, 4, 2, 1, 0, 0, 0}

// sample returns realistic report data for N = 11, K = 5, K' = 3: losses
// decaying towards the optimum under a step learning-rate schedule,
// approximations close to the truncation, and spread-out gaps.
func sample(seed uint64) Data {
	rng := rand.New(rand.NewPCG(seed, 1))
	const epochs = 30
	d := Data{
		Title: "matapprox: N=11, K=5 → K'=3 (probe loss)",
		Config: ConfigFromMap(map[string]any{
			"loss": "probe", "n": 11, "in_band": 5, "out_band": 3, "epochs": epochs,
			"batch_size": 100, "lr": 0.25, "lr_drop_factor": 0.5, "lr_drop_period": 5,
			"momentum": 0.9, "hidden": []int{100, 100}, "seed": seed,
			"out": "/tmp/run/a-rather-long-path/that/should/wrap/in/the/table/model.safetensors",
		}),
		Loss: "probe", N: 11, InBand: 5, OutBand: 3,
		OptimalVal: 0.8,
	}
	lr := 0.25
	for e := 1; e <= epochs; e++ {
		if e > 1 && (e-1)%5 == 0 {
			lr /= 2
		}
		train := 0.8*1.02 + 3*math.Exp(-float64(e)/4) + 0.02*rng.Float64()
		d.Epochs = append(d.Epochs, Epoch{Epoch: e, Train: train, Val: train * (1.01 + 0.02*rng.Float64()), LR: lr, Elapsed: 0.7 * float64(e)})
	}
	mk := func(name string, x []float64) Example {
		trunc := append([]float64(nil), x[2:9]...)
		opt := make([]float64, 7)
		net := make([]float64, 7)
		for i := range trunc {
			opt[i] = trunc[i] + 0.15*(x[i]+x[i+4])
			net[i] = opt[i] + 0.05*rng.NormFloat64()
		}
		return Example{Name: name, X: x, Network: net, Optimal: opt, Truncation: trunc}
	}
	d.Examples = append(d.Examples, mk("Notebook test matrix", notebookX))
	for i := range 2 {
		x := make([]float64, 11)
		for j := range x {
			x[j] = rng.Float64() * 11
		}
		d.Examples = append(d.Examples, mk("Held-out sample "+string(rune('1'+i)), x))
	}
	for range 100 {
		d.Gaps = append(d.Gaps, 0.03*math.Exp(rng.NormFloat64()))
	}
	d.Worst = []Example{mk("worst 1", d.Examples[1].X)}
	d.Worst[0].Note = "gap 12.5%"
	for i := range d.Epochs {
		d.Epochs[i].ValGap = d.Epochs[i].Val/d.OptimalVal - 1
	}
	d.Summary = &eval.Summary{
		EvaluatedOn: eval.Validation, Description: "100 held-out validation matrices", Loss: "probe", Probes: "100 notebook probes (seed 1)",
		Rows: 101, ExactRows: 1, RatioRows: 100,
		Methods: []eval.MethodSummary{
			{Method: "network", Loss: 0.83, ProbeLoss: 0.83, Frobenius: 2.1, Spectral: 1.3, Gap: 0.031, GapMean: 0.035, GapMedian: 0.03, GapP95: 0.09, GapMax: 0.2, ExactLossMean: 0.01, ExactLossMax: 0.01, DiagonalRMS: []float64{0.05, 0.04, 0.03, 0.02, 0.03, 0.04, 0.06}},
			{Method: "truncation", Loss: 1.9, ProbeLoss: 1.9, Frobenius: 1.9, Spectral: 1.6, Gap: 1.4, GapMean: 1.4, GapMedian: 1.3, GapP95: 2, GapMax: 3, DiagonalRMS: []float64{0.9, 0.8, 0.7, 0.6, 0.7, 0.8, 0.9}},
			{Method: "optimal", Loss: 0.8, ProbeLoss: 0.80, Frobenius: 2.3, Spectral: 1.25, DiagonalRMS: make([]float64, 7)},
		},
	}
	return d
}

var (
	imgRE     = regexp.MustCompile(`<img [^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"`)
	imgTagRE  = regexp.MustCompile(`<img\b`)
	dataURIRE = regexp.MustCompile(`data:image/png;base64,[A-Za-z0-9+/=]*`)
	extRE     = regexp.MustCompile(`(?i)(https?:|//[a-z0-9]|<link\b|<script\b|@import|url\()`)
)

// checkHTML checks that page is a well-formed self-contained report and
// returns the number of images; every image must decode as a PNG of
// positive size.
func checkHTML(t *testing.T, page string) int {
	t.Helper()
	if !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.HasSuffix(page, "</html>\n") {
		t.Errorf("page does not look like an HTML document: %.40q…%.40q", page, page[max(0, len(page)-40):])
	}
	for _, tag := range []string{"html", "head", "body", "style", "table", "h1", "h2", "p"} {
		open := len(regexp.MustCompile(`<`+tag+`[ >]`).FindAllString(page, -1))
		closed := strings.Count(page, "</"+tag+">")
		if open != closed {
			t.Errorf("<%s>: %d opened, %d closed", tag, open, closed)
		}
	}
	if m := extRE.FindString(dataURIRE.ReplaceAllString(page, "data:")); m != "" {
		t.Errorf("page references an external resource: %q", m)
	}
	tags := len(imgTagRE.FindAllString(page, -1))
	imgs := imgRE.FindAllStringSubmatch(page, -1)
	if len(imgs) != tags {
		t.Errorf("%d <img> tags, %d with PNG data URIs", tags, len(imgs))
	}
	for i, m := range imgs {
		b, err := base64.StdEncoding.DecodeString(m[1])
		if err != nil {
			t.Errorf("image %d: %v", i, err)
			continue
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			t.Errorf("image %d: %v", i, err)
			continue
		}
		if cfg.Width < 100 || cfg.Height < 100 {
			t.Errorf("image %d is %d×%d", i, cfg.Width, cfg.Height)
		}
		if _, _, err := image.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("image %d: %v", i, err)
		}
	}
	return len(imgs)
}

func render(t *testing.T, d Data) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, d); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestSample(t *testing.T) {
	d := sample(1)
	d.Generated = time.Date(2024, 7, 10, 12, 0, 0, 0, time.UTC)
	page := render(t, d)
	// Loss curves, the gap per epoch, per example (and worst-gap matrix)
	// heatmaps, A network − A optimal and spectrum, the error per
	// diagonal and the histogram.
	if n, want := checkHTML(t, page), 2+3*len(d.Examples)+3*len(d.Worst)+2; n != want {
		t.Errorf("%d images, want %d", n, want)
	}
	for _, want := range []string{
		"Generated 2024-07-10 12:00:00 UTC",
		"Notebook test matrix", "Held-out sample 2",
		"lr_drop_period", "<td>truncation</td>",
		`<td class="num best">0.8</td>`, // the optimal probe loss is the column minimum
		"validation gap at the best epoch",
		"A network − A optimal", "Where the network fails", "gap 12.5%", "Error per output diagonal",
		"100 held-out validation matrices (evaluated_on: validation); 101 rows, of which 1 exact rows",
		"over 100 notebook probes (seed 1)", "gap_p95", "95th percentile",
		`<td class="num">9%</td>`, // the network's gap_p95 in the gap statistics
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// The notebook's X has zeros on its outer diagonals, so its truncation
	// is exact; that is the only note complete data may produce.
	notes := regexp.MustCompile(`<p class="note">[^<]*`).FindAllString(page, -1)
	if len(notes) != 1 || !strings.Contains(notes[0], "X − A truncation is zero") {
		t.Errorf("notes %q, want one on the exact truncation", notes)
	}
	if *sampleOut != "" {
		if err := WriteFile(*sampleOut, d); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDeterministic(t *testing.T) {
	a, b := render(t, sample(2)), render(t, sample(2))
	if a != b {
		t.Error("two renderings of the same data differ")
	}
	if c := render(t, sample(3)); c == a {
		t.Error("different data rendered identically")
	}
}

func TestEscaping(t *testing.T) {
	d := Data{Title: `<script>alert("x")</script>`, Config: []Field{{"a<b", "</table>"}}}
	page := render(t, d)
	if strings.Contains(page, "<script>") || strings.Contains(page, "<b") && !strings.Contains(page, "a&lt;b") {
		t.Error("title or config not escaped")
	}
	checkHTML(t, page)
}

func TestDegenerate(t *testing.T) {
	nan := math.NaN()
	full := sample(4)
	cases := []struct {
		name  string
		d     Data
		notes []string // substrings of notes that must appear
		imgs  int
	}{
		{"empty", Data{}, []string{"No epochs", "No examples", "No optimality gaps", "No evaluation summary", "No configuration"}, 0},
		{"one epoch", Data{Epochs: []Epoch{{Epoch: 1, Train: 2, Val: 3, LR: 0.1}}, OptimalVal: nan}, []string{"optimal validation loss is not known"}, 1},
		{"all NaN", Data{Epochs: []Epoch{{Epoch: 1, Train: nan, Val: nan, LR: nan}, {Epoch: 2, Train: nan, Val: nan, LR: nan}}, Gaps: []float64{nan, math.Inf(1)}}, []string{"No positive finite loss", "2 of 2 gaps are not finite"}, 0},
		{"some NaN and zero", Data{Epochs: []Epoch{{Epoch: 1, Train: 1, Val: nan, LR: 0}, {Epoch: 2, Train: 0, Val: 0.5, LR: 0.1}, {Epoch: 3, Train: 0.4, Val: 0.45, LR: 0.1}}, OptimalVal: 0.3}, []string{"2 loss values not", "1 learning-rate value not"}, 1},
		{"constant", Data{Epochs: []Epoch{{Epoch: 1, Train: 1, Val: 1, LR: 0.1}, {Epoch: 2, Train: 1, Val: 1, LR: 0.1}}, OptimalVal: 1, Gaps: []float64{0.5, 0.5, 0.5}}, nil, 2},
		{"bad bands", Data{N: 11, InBand: 3, OutBand: 5, Examples: full.Examples}, []string{"Examples not drawn"}, 0},
		{"bad generators", Data{N: 11, InBand: 5, OutBand: 3, Examples: []Example{
			{Name: "short X", X: []float64{1, 2, 3}},
			{Name: "NaN network", X: notebookX, Network: []float64{nan, 0, 0, 0, 0, 0, 0}, Optimal: full.Examples[0].Optimal},
			{Name: "only X", X: notebookX},
			{Name: "zero", X: make([]float64, 11), Network: make([]float64, 7)},
		}}, []string{"Not drawn: X", "network approximation is not drawn", "No network approximation", "All residuals are zero"}, 0 + 2 + 1 + 1},
		{"exact", Data{N: 11, InBand: 5, OutBand: 5, Examples: []Example{{X: notebookX, Network: notebookX, Optimal: notebookX}}}, []string{"All residuals are zero"}, 2},
		{"huge N", Data{N: 1 << 20, InBand: 1, OutBand: 0, Examples: []Example{{X: []float64{1, 2, 3}}}}, []string{"exceeds"}, 0},
		{"one gap", Data{Gaps: []float64{0.1}}, nil, 1},
		{"one summary row", Data{Summary: &eval.Summary{Methods: []eval.MethodSummary{{Method: "network", ProbeLoss: nan, Frobenius: 1, Spectral: math.Inf(1), Gap: -0.5}}}}, []string{"No error per diagonal"}, 0},
		{"zero diagonal errors", Data{OutBand: 1, Summary: &eval.Summary{Methods: []eval.MethodSummary{{Method: "network", DiagonalRMS: []float64{0, 0, 0}}}}}, []string{"equal the optimum on every diagonal"}, 0},
		{"no gap per epoch", Data{Epochs: []Epoch{{Epoch: 1, Train: 2, Val: 3, ValGap: nan, LR: 0.1}}}, []string{"No validation gap was recorded"}, 1},
		{"negative gap per epoch", Data{Epochs: []Epoch{{Epoch: 1, Train: 2, Val: 3, ValGap: -1e-9, LR: 0.1}, {Epoch: 2, Train: 2, Val: 3, ValGap: 0.01, LR: 0.1}}}, []string{"1 gap value not positive"}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			page := render(t, c.d)
			if n := checkHTML(t, page); n != c.imgs {
				t.Errorf("%d images, want %d", n, c.imgs)
			}
			for _, n := range c.notes {
				if !strings.Contains(page, n) {
					t.Errorf("page lacks note %q; notes: %q", n, regexp.MustCompile(`<p class="note">[^<]*`).FindAllString(page, -1))
				}
			}
		})
	}
}

func TestZeroOptimalIsAbsent(t *testing.T) {
	page := render(t, Data{Epochs: []Epoch{{Epoch: 1, Train: 2, Val: 3, LR: 0.1}}})
	if strings.Contains(page, "optimal validation loss</td>") {
		t.Error("the zero OptimalVal is reported as a known optimum")
	}
	if !strings.Contains(page, "(1 epoch)") {
		t.Error("epoch count not in the singular")
	}
}

func TestLogTicks(t *testing.T) {
	for _, r := range [][2]float64{{0.3, 0.9}, {0.81, 0.83}, {1e-3, 10}, {1e-30, 1e30}, {5, 5}} {
		ticks := logTicks{}.Ticks(r[0], r[1])
		labels := 0
		for _, tk := range ticks {
			if tk.Value < r[0]*(1-1e-9) || tk.Value > r[1]*(1+1e-9) {
				t.Errorf("range %v: tick %v outside", r, tk.Value)
			}
			if tk.Label != "" {
				labels++
			}
		}
		if r[1]/r[0] >= 2.5 && (labels < 2 || labels > 12) {
			t.Errorf("range %v: %d labels", r, labels)
		}
	}
	if ticks := (logTicks{}).Ticks(-1, 1); ticks != nil {
		t.Errorf("non-positive range gave ticks %v", ticks)
	}
}

func TestIntTicks(t *testing.T) {
	for _, r := range [][2]float64{{1, 30}, {0, 1}, {-5, 5}, {1, 1e6}, {1e18, 1e18 + 256}, {-1e308, 1e308}, {math.NaN(), 1}} {
		ticks := intTicks{}.Ticks(r[0], r[1])
		if len(ticks) > 21 {
			t.Errorf("range %v: %d ticks", r, len(ticks))
		}
		for _, tk := range ticks {
			if tk.Value != math.Round(tk.Value) || tk.Value < r[0] || tk.Value > r[1] {
				t.Errorf("range %v: tick %v", r, tk.Value)
			}
		}
		if r[1]-r[0] >= 1 && r[1]-r[0] < 1e7 && len(ticks) < 2 {
			t.Errorf("range %v: only %d ticks", r, len(ticks))
		}
	}
}

func TestWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.html")
	if err := WriteFile(path, sample(5)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := render(t, sample(5)); string(b) != got {
		t.Error("file differs from Write output")
	}
	if err := WriteFile(filepath.Join(path, "sub.html"), Data{}); err == nil {
		t.Error("WriteFile under a regular file succeeded")
	}
}

// FuzzWrite checks that Write never fails or panics on odd numbers and
// sizes, and always produces a self-contained page.
func FuzzWrite(f *testing.F) {
	f.Add(11, 5, 3, 1.0, 0.5, 0.25, 0.8, 0.1, 4.0)
	f.Add(1, 0, 0, math.NaN(), math.Inf(1), 0.0, -1.0, math.NaN(), 0.0)
	f.Add(3, 2, 3, 0.0, 0.0, 0.0, 0.0, 0.0, 1e300)
	f.Fuzz(func(t *testing.T, n, k, kp int, train, val, lr, opt, gap, x float64) {
		n, k, kp = n%24, k%24, kp%24 // keep matrices small enough to draw quickly
		d := Data{N: n, InBand: k, OutBand: kp, OptimalVal: opt, Gaps: []float64{gap, 2 * gap, 0.01}}
		for e := range 3 {
			s := float64(e + 1)
			d.Epochs = append(d.Epochs, Epoch{Epoch: e, Train: train / s, Val: val / s, LR: lr, Elapsed: s})
		}
		if k >= 0 && kp >= 0 {
			g := make([]float64, 2*k+1)
			a := make([]float64, 2*kp+1)
			for i := range g {
				g[i] = x * float64(i%3)
			}
			for i := range a {
				a[i] = x / float64(i+1)
			}
			d.Examples = []Example{{X: g, Network: a, Optimal: a, Truncation: a}}
		}
		var buf bytes.Buffer
		if err := Write(&buf, d); err != nil {
			t.Fatal(err)
		}
		checkHTML(t, buf.String())
	})
}

// TestTopTickLabelled checks that every tick marker of the report labels
// the highest tick of its axis, over many ranges.
func TestTopTickLabelled(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for i := 0; i < 500; i++ {
		lo := math.Pow(10, -12+20*rng.Float64())
		hi := lo * math.Pow(10, 6*rng.Float64())
		for name, ticks := range map[string][]plot.Tick{
			"log": logTicks{}.Ticks(lo, hi), "lin": linTicks{}.Ticks(lo, hi), "lin0": linTicks{}.Ticks(0, hi),
			"int": intTicks{}.Ticks(math.Floor(lo), math.Floor(hi)+1), "index": indexTicks(2+rng.IntN(1000), rng.IntN(2) == 0),
		} {
			if len(ticks) == 0 {
				continue
			}
			top := ticks[0]
			for _, tk := range ticks {
				if tk.Value > top.Value {
					top = tk
				}
			}
			if top.Label == "" {
				t.Fatalf("%s ticks over [%g, %g]: the top tick %g has no label: %v", name, lo, hi, top.Value, ticks)
			}
		}
	}
	// Index axes label the last index.
	for _, n := range []int{2, 7, 11, 12, 31, 32, 129, 1000} {
		ticks := indexTicks(n, false)
		if last := ticks[len(ticks)-1]; last.Label != strconv.Itoa(n-1) {
			t.Errorf("n = %d: last index label %q", n, last.Label)
		}
	}
}
