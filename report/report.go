// Package report writes a self-contained HTML report of one training run:
// loss curves, example matrices, spectra of the residuals, the distribution
// of optimality gaps and the evaluation summary.
//
// The report is one HTML file that opens offline: CSS is inline, there is no
// script, and every figure is a PNG drawn with gonum.org/v1/plot and embedded
// as a data: URI.
//
// # What the figures show
//
// A training run approximates a banded Toeplitz matrix X = T(x) of
// half-bandwidth K (package structure) by A = T(a) of half-bandwidth K' < K.
// For each example the report draws X, the network's A, the optimal A for
// the training loss and the residual R = X − A as N×N heatmaps on one
// symmetric colour scale, and the singular values σ₁ ≥ … ≥ σ_N of R for the
// network, the optimum and the truncation (a = the central 2K'+1 entries of
// x). Since ‖R‖₂ = σ₁ and ‖R‖_F² = Σ σᵢ², the spectral and Frobenius losses
// can be read off the spectrum (the singular value decomposition is computed
// with gonum's mat.SVD, LAPACK's dgesvd; see Golub and Van Loan, Matrix
// Computations, 4th ed., §2.4 and §8.6). The optimality gap of a sample is
// L(network)/L(optimal) − 1 for the training loss L, zero for a perfect
// network.
//
// Missing or unusable data (no epochs, NaN losses, generators of the wrong
// length) never make Write fail: the affected section shows a note instead.
package report

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/plot/vg"

	"github.com/matapprox/matapprox/eval"
	"github.com/matapprox/matapprox/internal/atomicfile"
	"github.com/matapprox/matapprox/structure"
)

// maxDrawN is the largest matrix size drawn as heatmaps and decomposed for
// its spectrum; larger examples are skipped with a note.
const maxDrawN = 1024

// Write renders d as an HTML document to w.
func Write(w io.Writer, d Data) error {
	v, err := build(&d)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, v); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// WriteFile renders d to the file path, atomically: readers see the old file
// or the complete report, never a partial one.
func WriteFile(path string, d Data) error {
	return atomicfile.Write(path, 0o644, func(w io.Writer) error { return Write(w, d) })
}

// view is what the template renders.
type view struct {
	Title     string
	Generated string
	Facts     []Field // key figures of the run
	Config    []Field

	Loss       *figure
	LossNotes  []string
	GapCurve   *figure
	GapNotes   []string
	Epochs     []epochRow
	EpochCount string // "1 epoch", "30 epochs"

	Examples     []exampleView
	ExampleNotes []string

	Worst      []exampleView
	WorstNotes []string
	Diagonals  *figure
	DiagNotes  []string

	Gaps      *figure
	GapStats  []Field
	GapsNotes []string
	Certified *figure // certified gaps of the network's answers

	Summary *summaryView
}

type epochRow struct {
	Epoch                           int
	Train, Val, ValGap, LR, Elapsed string
}

type exampleView struct {
	Name    string
	Note    string
	Heat    *figure
	Diff    *figure // A network − A optimal
	Spectra *figure
	Norms   []normRow
	Notes   []string
}

type normRow struct {
	Method, Spectral, Frobenius string
}

type summaryView struct {
	Rows    []summaryRow
	Caption []string
}

type summaryRow struct {
	Method string
	Cells  []cell
}

type cell struct {
	Text string
	Best bool
}

// num formats a number for a table: four significant digits, a dash for NaN.
func num(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%.4g", v)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// build computes everything the template shows.
func build(d *Data) (*view, error) {
	v := &view{Title: d.Title, Config: d.Config}
	if v.Title == "" {
		v.Title = "Training report"
	}
	if !d.Generated.IsZero() {
		v.Generated = d.Generated.Format("2006-01-02 15:04:05 MST")
	}
	v.Facts = facts(d)

	fig, notes, ok, err := lossCurves(d)
	if err != nil {
		return nil, err
	}
	if ok {
		v.Loss = &fig
	}
	v.LossNotes = notes
	for _, e := range d.Epochs {
		v.Epochs = append(v.Epochs, epochRow{Epoch: e.Epoch, Train: num(e.Train), Val: num(e.Val), ValGap: num(e.ValGap), LR: num(e.LR), Elapsed: fmt.Sprintf("%.1f", e.Elapsed)})
	}
	if len(d.Epochs) > 0 {
		fig, notes, ok, err := gapCurve(d)
		if err != nil {
			return nil, err
		}
		if ok {
			v.GapCurve = &fig
		}
		v.GapNotes = notes
	}

	v.EpochCount = plural(len(d.Epochs), "epoch")

	if v.Examples, v.ExampleNotes, err = buildExamples(d, d.Examples); err != nil {
		return nil, err
	}
	if len(d.Worst) > 0 {
		if v.Worst, v.WorstNotes, err = buildExamples(d, d.Worst); err != nil {
			return nil, err
		}
	} else {
		v.WorstNotes = append(v.WorstNotes, "No worst-gap matrices were given.")
	}
	if d.Summary != nil {
		fig, notes, ok, err := diagonalErrors(d.Summary, d.OutBand)
		if err != nil {
			return nil, err
		}
		if ok {
			v.Diagonals = &fig
		}
		v.DiagNotes = notes
	}
	if err := buildGaps(d, v); err != nil {
		return nil, err
	}
	if d.Summary != nil {
		v.Summary = summary(d.Summary)
	}
	return v, nil
}

// facts lists the run's key figures: problem size, final and best losses,
// and how close the best validation loss came to the optimum.
func facts(d *Data) []Field {
	var f []Field
	if d.Loss != "" {
		f = append(f, Field{"training loss", d.Loss})
	}
	if d.N > 0 {
		f = append(f, Field{"matrix size N", fmt.Sprint(d.N)}, Field{"bands K → K'", fmt.Sprintf("%d → %d", d.InBand, d.OutBand)})
	}
	if n := len(d.Epochs); n > 0 {
		last := d.Epochs[n-1]
		f = append(f, Field{"epochs", fmt.Sprint(n)},
			Field{"final training loss", num(last.Train)},
			Field{"final validation loss", num(last.Val)})
		best := -1
		for i, e := range d.Epochs {
			if finite(e.Val) && (best < 0 || e.Val < d.Epochs[best].Val) {
				best = i
			}
		}
		if best >= 0 {
			f = append(f, Field{"best validation loss", fmt.Sprintf("%s (epoch %d)", num(d.Epochs[best].Val), d.Epochs[best].Epoch)})
			if g := d.Epochs[best].ValGap; finite(g) {
				f = append(f, Field{"validation gap at the best epoch", pct(g)})
			}
		}
		if finite(last.Elapsed) && last.Elapsed > 0 {
			f = append(f, Field{"training time", fmt.Sprintf("%.1f s", last.Elapsed)})
		}
	}
	if finite(d.OptimalVal) && d.OptimalVal > 0 {
		f = append(f, Field{"optimal validation loss", num(d.OptimalVal)})
	}
	return f
}

// buildExamples draws examples, or explains why they are not drawn.
func buildExamples(d *Data, exs []Example) (views []exampleView, notes []string, err error) {
	if len(exs) == 0 {
		return nil, []string{"No examples were given."}, nil
	}
	in, out := structure.Band{N: d.N, K: d.InBand}, structure.Band{N: d.N, K: d.OutBand}
	if err := structure.CheckNested(in, out); err != nil {
		return nil, []string{fmt.Sprintf("Examples not drawn: bands N=%d, K=%d, K'=%d: %v.", d.N, d.InBand, d.OutBand, err)}, nil
	}
	if d.N > maxDrawN {
		return nil, []string{fmt.Sprintf("Examples not drawn: N = %d exceeds %d.", d.N, maxDrawN)}, nil
	}
	for i, ex := range exs {
		ev, err := buildExample(in, out, i, ex)
		if err != nil {
			return nil, nil, err
		}
		views = append(views, ev)
	}
	return views, nil, nil
}

func buildExample(in, out structure.Band, i int, ex Example) (exampleView, error) {
	ev := exampleView{Name: ex.Name, Note: ex.Note}
	if ev.Name == "" {
		ev.Name = fmt.Sprintf("Example %d", i+1)
	}
	if err := in.Validate(ex.X); err != nil {
		ev.Notes = append(ev.Notes, fmt.Sprintf("Not drawn: X: %v.", err))
		return ev, nil
	}
	x := in.Dense(ex.X)
	approx := func(what string, g []float64) *mat.Dense {
		if g == nil {
			ev.Notes = append(ev.Notes, fmt.Sprintf("No %s approximation given.", what))
			return nil
		}
		if err := out.Validate(g); err != nil {
			ev.Notes = append(ev.Notes, fmt.Sprintf("The %s approximation is not drawn: %v.", what, err))
			return nil
		}
		return dense(in, out, g)
	}
	net := approx("network", ex.Network)
	opt := approx("optimal", ex.Optimal)
	trunc := approx("truncation", ex.Truncation)

	panels := []panel{{title: fmt.Sprintf("X (K = %d)", in.K), m: x}}
	if net != nil {
		panels = append(panels, panel{title: fmt.Sprintf("A network (K' = %d)", out.K), m: net})
	}
	if opt != nil {
		panels = append(panels, panel{title: fmt.Sprintf("A optimal (K' = %d)", out.K), m: opt})
	}
	residual := func(a *mat.Dense) *mat.Dense {
		var r mat.Dense
		r.Sub(x, a)
		return &r
	}
	switch {
	case net != nil:
		panels = append(panels, panel{title: "X − A network", m: residual(net)})
	case opt != nil:
		panels = append(panels, panel{title: "X − A optimal", m: residual(opt)})
	}
	heat, err := heatmaps(ev.Name+": X, approximations and residual", panels)
	if err != nil {
		return ev, err
	}
	ev.Heat = &heat
	if net != nil && opt != nil {
		// On its own colour scale: it is usually much smaller than X.
		var diff mat.Dense
		diff.Sub(net, opt)
		fig, err := heatmaps(ev.Name+": A network − A optimal", []panel{{title: "A network − A optimal", m: &diff}})
		if err != nil {
			return ev, err
		}
		ev.Diff = &fig
	}

	var lines []svLine
	add := func(name string, a *mat.Dense, style svLine) {
		if a == nil {
			return
		}
		sv, err := svd(residual(a))
		if err != nil {
			ev.Notes = append(ev.Notes, fmt.Sprintf("Spectrum of X − A %s: %v.", name, err))
			return
		}
		style.method, style.sv = name, sv
		lines = append(lines, style)
		ss := 0.0
		for _, s := range sv {
			ss += s * s
		}
		ev.Norms = append(ev.Norms, normRow{Method: name, Spectral: num(sv[0]), Frobenius: num(math.Sqrt(ss))})
	}
	add("network", net, svLine{col: colBlue})
	add("truncation", trunc, svLine{col: colOrange, dashes: dash(2, 2)})
	add("optimal", opt, svLine{col: colBlack, dashes: dash(6, 3)})
	if len(lines) == 0 {
		return ev, nil
	}
	spec, notes, err := singularValues(ev.Name+": singular values of the residuals", lines)
	if err != nil {
		return ev, err
	}
	ev.Notes = append(ev.Notes, notes...)
	if spec.Src != "" {
		ev.Spectra = &spec
	} else {
		ev.Notes = append(ev.Notes, "All residuals are zero: no spectrum to draw.")
	}
	return ev, nil
}

// dash returns a dash pattern of on and off lengths in points.
func dash(on, off float64) []vg.Length { return []vg.Length{vg.Points(on), vg.Points(off)} }

func buildGaps(d *Data, v *view) error {
	var vals []float64
	for _, g := range d.Gaps {
		if finite(g) {
			vals = append(vals, g)
		}
	}
	if bad := len(d.Gaps) - len(vals); bad > 0 {
		v.GapsNotes = append(v.GapsNotes, fmt.Sprintf("%d of %d gaps are not finite and are left out.", bad, len(d.Gaps)))
	}
	if len(vals) == 0 {
		v.GapsNotes = append(v.GapsNotes, "No optimality gaps to show.")
		return nil
	}
	med := math.NaN()
	if d.Summary != nil {
		if m := d.Summary.Method(eval.Network); m != nil && len(vals) == d.Summary.RatioRows {
			med = m.GapMedian
		}
	}
	fig, err := gapHistogram(vals, med)
	if err != nil {
		return err
	}
	v.Gaps = &fig
	if cf, ok, err := certifiedHistogram(d.CertifiedGaps); err != nil {
		return err
	} else if ok {
		v.Certified = &cf
	}
	if s := d.Summary; s != nil {
		if m := s.Method(eval.Network); m != nil {
			v.GapStats = []Field{
				{"rows", fmt.Sprintf("%d (%s)", s.Rows, s.EvaluatedOn)},
				{"exact rows (optimum 0, no ratio)", fmt.Sprint(s.ExactRows)},
				{"ratio rows", fmt.Sprint(s.RatioRows)},
				{"gap (ratio of means)", pct(m.Gap)},
				{"gap_mean", pct(m.GapMean)},
				{"gap_median", pct(m.GapMedian)},
				{"gap_p95", pct(m.GapP95)},
				{"gap_max", pct(m.GapMax)},
			}
		}
	}
	return nil
}

// pct formats a ratio as a percentage with four significant digits, a
// dash for NaN.
func pct(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%.4g%%", 100*v)
}

// summary formats the evaluation table, marking the smallest finite value
// of each column, with a caption that says what each column is.
func summary(s *eval.Summary) *summaryView {
	cols := func(m eval.MethodSummary) []float64 {
		return []float64{m.Loss, m.ProbeLoss, m.Frobenius, m.Spectral, m.Gap, m.GapMean, m.GapMedian, m.GapP95, m.GapMax}
	}
	isGap := func(j int) bool { return j >= 4 }
	best := make([]float64, 9)
	for j := range best {
		best[j] = math.Inf(1)
	}
	for _, m := range s.Methods {
		for j, x := range cols(m) {
			if finite(x) {
				best[j] = math.Min(best[j], x)
			}
		}
	}
	v := &summaryView{}
	for _, m := range s.Methods {
		sr := summaryRow{Method: m.Method}
		for j, x := range cols(m) {
			text := num(x)
			if isGap(j) {
				text = pct(x)
			}
			sr.Cells = append(sr.Cells, cell{Text: text, Best: x == best[j] && len(s.Methods) > 1})
		}
		v.Rows = append(v.Rows, sr)
	}
	probes := s.Probes
	if probes == "" {
		probes = "no probes: not computed"
	}
	v.Caption = []string{
		fmt.Sprintf("Rows: %s (evaluated_on: %s); %d rows, of which %d exact rows (optimum 0 to rounding) are left out of the gap columns, which cover the other %d.", s.Description, s.EvaluatedOn, s.Rows, s.ExactRows, s.RatioRows),
		fmt.Sprintf("loss: the mean over all rows of the trained loss (%s) of X − A. probe loss: the mean of (1/P) Σ ‖(X − A)y‖²/‖y‖² over %s. Frobenius: the mean of ‖X − A‖_F. spectral: the mean of ‖X − A‖₂.", s.Loss, probes),
		"gap: mean loss / mean optimal loss − 1 (ratio of means). gap_mean, gap_median, gap_p95, gap_max: the mean, median, 95th percentile and maximum of the per-matrix loss / optimal loss − 1 (quantiles within 0.12%). The smallest value of each column is in bold.",
	}
	if s.ExactRows > 0 {
		if m := s.Method(eval.Network); m != nil {
			v.Caption = append(v.Caption, fmt.Sprintf("On the %d exact rows the network's trained loss is %s on average and %s at most (the optimum's is 0).", s.ExactRows, num(m.ExactLossMean), num(m.ExactLossMax)))
		}
	}
	return v
}

var page = template.Must(template.New("report").Parse(strings.TrimSpace(pageHTML) + "\n"))

// pageHTML is the report template. It must not reference anything outside
// the file: no links to style sheets, scripts or fonts.
const pageHTML = `
{{define "example"}}<h3>{{.Name}}</h3>
{{- if .Note}}
<p>{{.Note}}</p>
{{- end}}
{{- with .Heat}}
<img {{.SrcAttr}} width="{{.Width}}" alt="{{.Alt}}">
{{- end}}
<div class="row">
{{- with .Diff}}
<img {{.SrcAttr}} width="{{.Width}}" alt="{{.Alt}}">
{{- end}}
{{- with .Spectra}}
<img {{.SrcAttr}} width="{{.Width}}" alt="{{.Alt}}">
{{- end}}
{{- if .Norms}}
<table>
<tr><th>residual X − A</th><th class="num">spectral ‖·‖₂ = σ₁</th><th class="num">Frobenius ‖·‖<sub>F</sub></th></tr>
{{- range .Norms}}
<tr><td>{{.Method}}</td><td class="num">{{.Spectral}}</td><td class="num">{{.Frobenius}}</td></tr>
{{- end}}
</table>
{{- end}}
</div>
{{- range .Notes}}
<p class="note">{{.}}</p>
{{- end}}
{{- end}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", Arial, sans-serif;
  font-size: 16px; line-height: 1.45; color: #222; background: #fff; margin: 0 auto; padding: 1.5em 2em; max-width: 1250px; }
h1 { font-size: 1.8em; margin: 0 0 0.2em; }
h2 { font-size: 1.35em; margin: 1.6em 0 0.6em; padding-bottom: 0.2em; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.1em; margin: 1.2em 0 0.4em; }
.generated { color: #666; margin: 0 0 1em; }
table { border-collapse: collapse; margin: 0.4em 0 1em; font-variant-numeric: tabular-nums; }
th, td { padding: 0.25em 0.8em; border-bottom: 1px solid #e4e4e4; text-align: left; vertical-align: top; }
th { background: #f4f4f4; font-weight: 600; }
td.num, th.num { text-align: right; }
td.best { font-weight: 700; }
table.facts td:first-child, table.config td:first-child { color: #555; }
table.config td:last-child { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 0.92em; word-break: break-all; }
img { max-width: 100%; height: auto; display: block; }
.row { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; }
.note { color: #8a5a00; background: #fff8e6; border-left: 4px solid #f0b400; padding: 0.3em 0.8em; margin: 0.4em 0; }
details { margin: 0.5em 0 1em; }
summary { cursor: pointer; color: #1f5fa0; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{if .Generated}}<p class="generated">Generated {{.Generated}}</p>{{end}}
{{- if .Facts}}
<table class="facts">
{{- range .Facts}}
<tr><td>{{.Name}}</td><td>{{.Value}}</td></tr>
{{- end}}
</table>
{{- end}}

<h2 id="config">Configuration</h2>
{{- if .Config}}
<table class="config">
<tr><th>setting</th><th>value</th></tr>
{{- range .Config}}
<tr><td>{{.Name}}</td><td>{{.Value}}</td></tr>
{{- end}}
</table>
{{- else}}
<p class="note">No configuration was recorded.</p>
{{- end}}

<h2 id="loss">Loss curves</h2>
{{- with .Loss}}
<img {{.SrcAttr}} width="{{.Width}}" alt="{{.Alt}}">
{{- end}}
{{- range .LossNotes}}
<p class="note">{{.}}</p>
{{- end}}

<h2 id="gap-per-epoch">Optimality gap per epoch</h2>
<p>The validation gap of each epoch: mean network loss / mean optimal loss − 1 over the validation rows whose optimum is not 0,
on a log scale, where a gap of a fraction of a percent stays visible.</p>
{{- with .GapCurve}}
<img {{.SrcAttr}} width="{{.Width}}" alt="{{.Alt}}">
{{- end}}
{{- range .GapNotes}}
<p class="note">{{.}}</p>
{{- end}}
{{- if .Epochs}}
<details><summary>Per-epoch values ({{.EpochCount}})</summary>
<table>
<tr><th class="num">epoch</th><th class="num">training</th><th class="num">validation</th><th class="num">validation gap</th><th class="num">learning rate</th><th class="num">elapsed (s)</th></tr>
{{- range .Epochs}}
<tr><td class="num">{{.Epoch}}</td><td class="num">{{.Train}}</td><td class="num">{{.Val}}</td><td class="num">{{.ValGap}}</td><td class="num">{{.LR}}</td><td class="num">{{.Elapsed}}</td></tr>
{{- end}}
</table>
</details>
{{- end}}

<h2 id="examples">Examples</h2>
<p>The matrices of an example share one colour scale (blue negative, red positive; row 0 at the top).
Singular values of the residuals below 10<sup>−13</sup>·σ<sub>max</sub> are numerically zero and not drawn.</p>
{{- range .ExampleNotes}}
<p class="note">{{.}}</p>
{{- end}}
{{- range .Examples}}
{{template "example" .}}
{{- end}}

<h2 id="worst">Where the network fails</h2>
<p>The evaluated matrices with the largest gap network loss / optimal loss − 1, worst first. Beside each heatmap row,
A network − A optimal on its own colour scale: where the network's approximation differs from the best one.</p>
{{- range .WorstNotes}}
<p class="note">{{.}}</p>
{{- end}}
{{- range .Worst}}
{{template "example" .}}
{{- end}}

<h3 id="diagonals">Error per output diagonal</h3>
<p>For each diagonal d = −K′ … K′ of the approximation, the root mean square over the evaluated rows of
a[d] − a<sub>optimal</sub>[d], the difference between a method's generator entry and the optimum's.</p>
{{- with .Diagonals}}
<img {{.SrcAttr}} width="{{.Width}}" alt="{{.Alt}}">
{{- end}}
{{- range .DiagNotes}}
<p class="note">{{.}}</p>
{{- end}}

<h2 id="gaps">Optimality gaps</h2>
{{- range .GapsNotes}}
<p class="note">{{.}}</p>
{{- end}}
{{- if .Gaps}}
<div class="row">
{{- with .Gaps}}
<img {{.SrcAttr}} width="{{.Width}}" alt="{{.Alt}}">
{{- end}}
{{- if .GapStats}}
<table>
<tr><th colspan="2">network: the evaluation's gap statistics</th></tr>
{{- range .GapStats}}
<tr><td>{{.Name}}</td><td class="num">{{.Value}}</td></tr>
{{- end}}
</table>
{{- end}}
</div>
{{- end}}
{{- with .Certified}}
<p>Certified gaps: for each row, (value − certified lower bound)/value of the network's answer
(<code>optimal.Certifier</code>, the answers as they are): the optimum is provably within this of the answer.</p>
<img {{.SrcAttr}} width="{{.Width}}" alt="{{.Alt}}">
{{- end}}

<h2 id="summary">Evaluation summary</h2>
{{- with .Summary}}
<table>
<tr><th>method</th><th class="num">loss</th><th class="num">probe loss</th><th class="num">Frobenius</th><th class="num">spectral</th><th class="num">gap</th><th class="num">gap_mean</th><th class="num">gap_median</th><th class="num">gap_p95</th><th class="num">gap_max</th></tr>
{{- range .Rows}}
<tr><td>{{.Method}}</td>{{range .Cells}}<td class="num{{if .Best}} best{{end}}">{{.Text}}</td>{{end}}</tr>
{{- end}}
</table>
{{- range .Caption}}
<p>{{.}}</p>
{{- end}}
{{- else}}
<p class="note">No evaluation summary was given.</p>
{{- end}}
</body>
</html>
`
