package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"slices"
	"sort"
	"strconv"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/matapprox/matapprox/structure"
)

// dpi is the resolution of the embedded PNG images: twice the 72 points per
// inch of vg lengths, so that figures stay sharp on high-density screens.
const dpi = 144

// figure is one embedded image.
type figure struct {
	Src   string // data:image/png;base64,...
	Width int    // display width in CSS pixels
	Alt   string
}

// SrcAttr returns the src attribute. The data URI holds only base64
// characters, so it is inserted as is rather than entity-escaped by
// html/template (which would write every '+' as "&#43;").
func (f figure) SrcAttr() template.HTMLAttr {
	return template.HTMLAttr(`src="` + f.Src + `"`)
}

// Series colours, the Tableau 10 palette (colour-blind friendly enough and
// distinct in greyscale by line style).
var (
	colBlue   = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	colOrange = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	colGreen  = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	colRed    = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	colBlack  = color.RGBA{A: 0xff}
	colGrey   = color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}
)

// renderPNG draws onto a w×h canvas and returns it as a figure.
func renderPNG(w, h vg.Length, alt string, paint func(dc draw.Canvas)) (figure, error) {
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))
	paint(draw.New(c))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return figure{}, fmt.Errorf("encode %s: %w", alt, err)
	}
	return figure{
		Src:   "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()),
		Width: int(math.Round(float64(w) * 96 / 72)), // CSS pixels are 1/96 in, points 1/72 in
		Alt:   alt,
	}, nil
}

// newPlot returns a plot with the report's title and axis labels.
func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Points(11)
	p.X.Label.TextStyle.Font.Size = vg.Points(12)
	p.Y.Label.TextStyle.Font.Size = vg.Points(12)
	p.X.Tick.Label.Font.Size = vg.Points(10.5)
	p.Y.Tick.Label.Font.Size = vg.Points(10.5)
	useSans(p)
	p.Add(plotter.NewGrid())
	return p
}

// logTicks marks a logarithmic axis: unlabelled minor ticks at m·10^e
// (m = 1…9) and labels at the sparsest of 10^e, {1,2,5}·10^e, {1,2,3,5,7}·10^e
// and every m·10^e that labels at least three ticks. Unlike plot.LogTicks
// it labels ranges inside a single decade, and it thins the labels of
// ranges over many decades.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi >= lo) || math.IsInf(hi, 0) {
		return nil
	}
	e0 := int(math.Floor(math.Log10(lo)))
	e1 := int(math.Ceil(math.Log10(hi)))
	decades := e1 - e0
	every := max(1, (decades+7)/8) // label at most about eight decades
	var ticks []plot.Tick
	for e := e0; e <= e1; e++ {
		p := math.Pow(10, float64(e))
		for m := 1; m <= 9; m++ {
			if decades > 10 && m > 1 {
				break // minor ticks would merge
			}
			v := float64(m) * p
			if v >= lo*(1-1e-9) && v <= hi*(1+1e-9) {
				ticks = append(ticks, plot.Tick{Value: v})
			}
		}
	}
	for _, set := range [][]int{{1}, {1, 2, 5}, {1, 2, 3, 5, 7}, {1, 2, 3, 4, 5, 6, 7, 8, 9}} {
		labels := 0
		for i := range ticks {
			ticks[i].Label = ""
			m, e := mantissa(ticks[i].Value)
			if slices.Contains(set, m) && (m > 1 || (e-e0)%every == 0) {
				ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'g', 3, 64)
				labels++
			}
		}
		if labels >= 3 {
			break
		}
	}
	labelTop(ticks, func(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) })
	return ticks
}

// labelTop labels the highest tick, so that every axis says where it ends;
// a labelled tick just below it (less than a sixth of the axis' tick
// count away) loses its label so that the two do not overlap.
func labelTop(ticks []plot.Tick, format func(float64) string) {
	if len(ticks) == 0 {
		return
	}
	top := len(ticks) - 1
	if ticks[top].Label != "" {
		return
	}
	ticks[top].Label = format(ticks[top].Value)
	near := max(1, len(ticks)/6)
	for i := top - 1; i >= 0 && i >= top-near; i-- {
		if ticks[i].Label != "" {
			ticks[i].Label = ""
			break
		}
	}
}

// mantissa returns m and e with v ≈ m·10^e, for v = m·10^e made by logTicks.
func mantissa(v float64) (m, e int) {
	e = int(math.Floor(math.Log10(v) + 1e-9))
	return int(math.Round(v / math.Pow(10, float64(e)))), e
}

// intTicks marks an axis of integers (epochs, indices) at multiples of 1, 2
// or 5 times a power of ten, at most about ten labels.
type intTicks struct{}

func (intTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi >= lo) || math.IsInf(hi-lo, 0) {
		return nil
	}
	step := niceStep(hi-lo, 10)
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi && len(ticks) <= 20; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return ticks
}

// linTicks marks a linear axis at multiples of 1, 2 or 5 times a power of
// ten (any power, unlike intTicks), every tick labelled, so the top tick is
// labelled too.
type linTicks struct{}

func (linTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		if hi == lo && !math.IsNaN(lo) && !math.IsInf(lo, 0) {
			return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', 4, 64)}}
		}
		return nil
	}
	span := hi - lo
	step := math.Pow(10, math.Floor(math.Log10(span)))
	for _, m := range []float64{0.1, 0.2, 0.5, 1} {
		if span/(m*step) <= 6 {
			step *= m
			break
		}
	}
	var ticks []plot.Tick
	for i := math.Ceil(lo / step); i*step <= hi*(1+1e-12) && len(ticks) <= 12; i++ {
		v := i * step
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', 4, 64)})
	}
	return ticks
}

// niceStep returns the smallest of 1, 2 and 5 times a power of ten, at
// least 1, that divides span into at most n steps.
func niceStep(span float64, n int) float64 {
	for p := 1.0; !math.IsInf(p, 0); p *= 10 {
		for _, m := range []float64{1, 2, 5} {
			if span/(m*p) <= float64(n) {
				return m * p
			}
		}
	}
	return math.Inf(1)
}

// sans is the font of all plot text: Liberation Sans, embedded in the PNGs.
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// useSans sets every text of p in sans.
func useSans(p *plot.Plot) {
	for _, f := range []*font.Font{
		&p.Title.TextStyle.Font, &p.Legend.TextStyle.Font,
		&p.X.Label.TextStyle.Font, &p.Y.Label.TextStyle.Font,
		&p.X.Tick.Label.Font, &p.Y.Tick.Label.Font,
	} {
		size := f.Size
		*f = sans
		f.Size = size
	}
}

// setLogAxis makes a a logarithmic axis over the positive values vals,
// padded by a small factor. It reports false if vals has no positive finite
// value.
func setLogAxis(a *plot.Axis, vals ...float64) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		if v > 0 && !math.IsInf(v, 0) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if math.IsInf(lo, 0) {
		return false
	}
	if hi/lo < 1.5 { // widen a near-constant range to show context
		c := math.Sqrt(hi * lo)
		lo, hi = c/1.5, c*1.5
	}
	pad := math.Pow(hi/lo, 0.04)
	a.Scale = plot.LogScale{}
	a.Tick.Marker = logTicks{}
	a.Min, a.Max = lo/pad, hi*pad
	return true
}

// segments splits the points (x[i], y[i]) into runs of drawable points: y
// finite, and positive if logY.
func segments(x, y []float64, logY bool) []plotter.XYs {
	var out []plotter.XYs
	var cur plotter.XYs
	for i := range x {
		ok := !math.IsNaN(y[i]) && !math.IsInf(y[i], 0) && !math.IsNaN(x[i]) && !math.IsInf(x[i], 0)
		if logY && !(y[i] > 0) {
			ok = false
		}
		if ok {
			cur = append(cur, plotter.XY{X: x[i], Y: y[i]})
			continue
		}
		if len(cur) > 0 {
			out = append(out, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// addSeries adds the drawable segments of (x, y) to p as one legend entry.
// It reports the number of points drawn.
func addSeries(p *plot.Plot, name string, x, y []float64, logY bool, col color.Color, dashes []vg.Length, points bool) (int, error) {
	n := 0
	for i, seg := range segments(x, y, logY) {
		l, s, err := plotter.NewLinePoints(seg)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		l.Color = col
		l.Width = vg.Points(1.6)
		l.Dashes = dashes
		p.Add(l)
		if points || len(seg) == 1 {
			s.Color = col
			s.Shape = draw.CircleGlyph{}
			s.Radius = vg.Points(2.2)
			p.Add(s)
		}
		if i == 0 {
			if points {
				p.Legend.Add(name, l, s)
			} else {
				p.Legend.Add(name, l)
			}
		}
		n += len(seg)
	}
	return n, nil
}

// lossCurves draws the training and validation losses and the optimal
// loss over the epochs, and the learning rate below them. It returns the
// figure and notes about data that could not be drawn; ok is false if
// nothing could.
func lossCurves(d *Data) (fig figure, notes []string, ok bool, err error) {
	ep := d.Epochs
	if len(ep) == 0 {
		return fig, []string{"No epochs were recorded."}, false, nil
	}
	x := make([]float64, len(ep))
	train := make([]float64, len(ep))
	val := make([]float64, len(ep))
	lr := make([]float64, len(ep))
	for i, e := range ep {
		x[i], train[i], val[i], lr[i] = float64(e.Epoch), e.Train, e.Val, e.LR
	}
	points := len(ep) <= 40
	lossName := "loss"
	if d.Loss != "" {
		lossName = d.Loss + " loss"
	}

	top := newPlot("Loss per epoch", "epoch", lossName+" (log scale)")
	all := append(append([]float64{}, train...), val...)
	opt := d.OptimalVal
	if opt > 0 && !math.IsInf(opt, 0) {
		all = append(all, opt)
	}
	drawnLoss := setLogAxis(&top.Y, all...)
	if drawnLoss {
		nt, err := addSeries(top, "training", x, train, true, colBlue, nil, points)
		if err != nil {
			return fig, nil, false, err
		}
		nv, err := addSeries(top, "validation", x, val, true, colOrange, nil, points)
		if err != nil {
			return fig, nil, false, err
		}
		if skipped := 2*len(ep) - nt - nv; skipped > 0 {
			notes = append(notes, fmt.Sprintf("%s not positive and finite: not drawn.", plural(skipped, "loss value")))
		}
		if opt > 0 && !math.IsInf(opt, 0) {
			lo, hi := x[0], x[0]
			for _, v := range x {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
			if lo == hi {
				lo, hi = lo-0.5, hi+0.5
			}
			l, err := plotter.NewLine(plotter.XYs{{X: lo, Y: opt}, {X: hi, Y: opt}})
			if err != nil {
				return fig, nil, false, err
			}
			l.Color = colBlack
			l.Width = vg.Points(1.2)
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			top.Add(l)
			top.Legend.Add(fmt.Sprintf("optimal (validation) = %.4g", opt), l)
		} else {
			notes = append(notes, "The optimal validation loss is not known (NaN or not positive), so it is not drawn.")
		}
	} else {
		notes = append(notes, "No positive finite loss values to draw on a log scale.")
	}

	bottom := newPlot("Learning rate", "epoch", "learning rate")
	logLR := setLogAxis(&bottom.Y, lr...)
	nl, err := addSeries(bottom, "learning rate", x, lr, logLR, colGreen, nil, points)
	if err != nil {
		return fig, nil, false, err
	}
	if nl < len(ep) {
		notes = append(notes, fmt.Sprintf("%s not positive and finite: not drawn.", plural(len(ep)-nl, "learning-rate value")))
	}
	bottom.Legend = plot.NewLegend() // a single series needs no legend
	top.X.Tick.Marker = intTicks{}
	bottom.X.Tick.Marker = intTicks{}
	if !drawnLoss && nl == 0 {
		return fig, notes, false, nil
	}

	const w, h = 720, 560
	fig, err = renderPNG(w, h, "Loss and learning rate per epoch", func(dc draw.Canvas) {
		// The loss plot gets 65% of the height, the learning rate the rest;
		// both share the left edge of their data areas.
		split := dc.Min.Y + (dc.Max.Y-dc.Min.Y)*0.35
		lower, upper := dc, dc
		lower.Max.Y, upper.Min.Y = split, split
		plots := [][]*plot.Plot{{top}}
		if !drawnLoss {
			plots = [][]*plot.Plot{{nil}}
		}
		cu := plot.Align(plots, draw.Tiles{Rows: 1, Cols: 1, PadTop: 6, PadRight: 12, PadLeft: 4, PadBottom: 6}, upper)
		cl := plot.Align([][]*plot.Plot{{bottom}}, draw.Tiles{Rows: 1, Cols: 1, PadTop: 6, PadRight: 12, PadLeft: 4, PadBottom: 4}, lower)
		// Line up the data areas: give both the larger left inset.
		if drawnLoss && nl > 0 {
			du, dl := top.DataCanvas(cu[0][0]), bottom.DataCanvas(cl[0][0])
			if d := dl.Min.X - du.Min.X; d > 0 {
				cu[0][0].Min.X += d
			} else {
				cl[0][0].Min.X -= d
			}
		}
		if drawnLoss {
			top.Draw(cu[0][0])
		}
		if nl > 0 {
			bottom.Draw(cl[0][0])
		}
	})
	return fig, notes, err == nil, err
}

// matGrid shows a square matrix as a plotter.GridXYZ with row 0 at the top.
type matGrid struct{ m *mat.Dense }

func (g matGrid) Dims() (c, r int)   { r, c = g.m.Dims(); return c, r }
func (g matGrid) Z(c, r int) float64 { n, _ := g.m.Dims(); return g.m.At(n-1-r, c) }
func (g matGrid) X(c int) float64    { return float64(c) }
func (g matGrid) Y(r int) float64    { return float64(r) }

// indexTicks labels matrix indices 0..n-1 on an axis; flipped axes count
// from the top.
func indexTicks(n int, flipped bool) plot.ConstantTicks {
	step := int(niceStep(float64(n-1), 5))
	var t plot.ConstantTicks
	at := func(i int) plot.Tick {
		v := float64(i)
		if flipped {
			v = float64(n - 1 - i)
		}
		return plot.Tick{Value: v, Label: strconv.Itoa(i)}
	}
	for i := 0; i < n; i += step {
		t = append(t, at(i))
	}
	// The last index is always labelled; a label closer than half a step
	// to it gives way.
	if last := t[len(t)-1]; last.Label != strconv.Itoa(n-1) {
		if 2*(n-1-(len(t)-1)*step) < step {
			t = t[:len(t)-1]
		}
		t = append(t, at(n-1))
	}
	return t
}

// panel is one matrix of a heatmap row.
type panel struct {
	title string
	m     *mat.Dense
}

// heatmaps draws the panels side by side with one symmetric colour scale,
// blue for negative and red for positive entries, and a colour bar.
func heatmaps(name string, panels []panel) (figure, error) {
	scale := maxAbs(panels)
	if !(scale > 0) || math.IsInf(scale, 0) {
		scale = 1
	}
	cm := moreland.SmoothBlueRed()
	cm.SetMin(-scale)
	cm.SetMax(scale)
	pal := cm.Palette(255)

	plots := make([][]*plot.Plot, 1)
	for _, pn := range panels {
		n, _ := pn.m.Dims()
		p := newPlot(pn.title, "column", "row")
		p.Title.TextStyle.Font.Size = vg.Points(12)
		hm := plotter.NewHeatMap(matGrid{pn.m}, pal)
		hm.Min, hm.Max = -scale, scale
		hm.Rasterized = n > 64
		p.Add(hm)
		p.X.Tick.Marker = indexTicks(n, false)
		p.Y.Tick.Marker = indexTicks(n, true)
		p.X.Padding, p.Y.Padding = 0, 0
		plots[0] = append(plots[0], p)
	}
	bar := plot.New()
	bar.Add(&plotter.ColorBar{ColorMap: cm, Vertical: true})
	bar.HideX()
	bar.Y.Label.Text = "entry value"
	bar.Y.Padding = 0
	bar.Y.Tick.Marker = linTicks{}
	useSans(bar)

	const tile, barW = 190, 78
	w := vg.Length(tile*len(panels) + barW)
	return renderPNG(w, tile+14, name, func(dc draw.Canvas) {
		left, right := dc, dc
		split := dc.Max.X - barW
		left.Max.X, right.Min.X = split, split
		pad := draw.Tiles{Rows: 1, Cols: len(panels), PadX: 10, PadTop: 4, PadBottom: 4, PadLeft: 4, PadRight: 4}
		cs := plot.Align(plots, pad, left)
		for i, p := range plots[0] {
			p.Draw(cs[0][i])
		}
		// Match the colour bar's extent to the panels' data area.
		cb := plot.Align([][]*plot.Plot{{bar}}, draw.Tiles{Rows: 1, Cols: 1, PadTop: 4, PadBottom: 4, PadLeft: 4, PadRight: 8}, right)
		c := cb[0][0]
		da, db := plots[0][0].DataCanvas(cs[0][0]), bar.DataCanvas(c)
		c.Min.Y += da.Min.Y - db.Min.Y
		c.Max.Y += da.Max.Y - db.Max.Y
		bar.Draw(c)
	})
}

func maxAbs(panels []panel) float64 {
	m := 0.0
	for _, p := range panels {
		r, c := p.m.Dims()
		for i := range r {
			for j := range c {
				m = math.Max(m, math.Abs(p.m.At(i, j)))
			}
		}
	}
	return m
}

// svLine is the spectrum of one residual.
type svLine struct {
	method string
	sv     []float64
	col    color.Color
	dashes []vg.Length
}

// singularValues draws σ_i(X − A) on a log scale. Values below 1e-13·σ_max
// are numerically zero and left out; it returns a note for each residual
// that is zero altogether.
func singularValues(name string, lines []svLine) (figure, []string, error) {
	p := newPlot("Singular values of X − A", "index i", "σᵢ(X − A) (log scale)")
	p.X.Tick.Marker = intTicks{}
	var all []float64
	smax := 0.0
	for _, l := range lines {
		for _, s := range l.sv {
			smax = math.Max(smax, s)
		}
	}
	floor := smax * 1e-13
	var notes []string
	ys := make([][]float64, len(lines))
	for k, l := range lines {
		ys[k] = make([]float64, len(l.sv))
		dropped := 0
		for i, s := range l.sv {
			if s > floor {
				ys[k][i] = s
				all = append(all, s)
			} else {
				ys[k][i] = math.NaN()
				dropped++
			}
		}
		// Isolated zero singular values are common (residuals supported on
		// a few diagonals are often rank deficient) and the caption says
		// they are omitted; a residual that is zero altogether gets a note.
		if dropped == len(l.sv) {
			notes = append(notes, fmt.Sprintf("X − A %s is zero: its spectrum is not drawn.", l.method))
		}
	}
	if !setLogAxis(&p.Y, all...) {
		return figure{}, notes, nil
	}
	for k, l := range lines {
		x := make([]float64, len(l.sv))
		for i := range x {
			x[i] = float64(i + 1)
		}
		if _, err := addSeries(p, l.method, x, ys[k], true, l.col, l.dashes, len(x) <= 40); err != nil {
			return figure{}, nil, err
		}
	}
	p.Legend.Left = false
	fig, err := renderPNG(430, 300, name, func(dc draw.Canvas) { p.Draw(dc) })
	return fig, notes, err
}

// certifiedHistogram draws the distribution of certified gaps (the finite,
// positive ones, binned by their logarithm); ok is false when there are
// none.
func certifiedHistogram(gaps []float64) (fig figure, ok bool, err error) {
	var vals plotter.Values
	for _, g := range gaps {
		if finite(g) && g > 0 {
			vals = append(vals, math.Log10(g))
		}
	}
	if len(vals) == 0 {
		return figure{}, false, nil
	}
	bins := min(max(int(math.Round(1.5*math.Sqrt(float64(len(vals))))), 5), 50)
	h, err := plotter.NewHist(vals, bins)
	if err != nil {
		return figure{}, false, fmt.Errorf("certified gap histogram: %w", err)
	}
	h.FillColor = color.NRGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0x99}
	h.LineStyle.Color = colBlue
	h.LineStyle.Width = vg.Points(0.8)
	p := newPlot("Certified gap per evaluated matrix", "(value − certified lower bound) / value, log10", "count")
	p.Add(h)
	p.Y.Min, p.Y.Max = 0, maxBin(h)*1.05
	p.Y.Tick.Marker = linTicks{}
	fig, err = renderPNG(560, 320, "Histogram of certified gaps", func(dc draw.Canvas) { p.Draw(dc) })
	return fig, err == nil, err
}

// gapHistogram draws the distribution of the optimality gaps, which must be
// finite and non-empty, with a line at med, the evaluation's gap_median
// (NaN: the median of gaps). Gaps spread over more than two decades, all
// positive, are binned by their logarithm so that the bulk is not squeezed
// into one bin by a few outliers.
func gapHistogram(gaps []float64, med float64) (figure, error) {
	sorted := append([]float64(nil), gaps...)
	sort.Float64s(sorted)
	lo, hi := sorted[0], sorted[len(sorted)-1]
	logX := lo > 0 && hi/lo > 100
	vals := make(plotter.Values, len(sorted))
	for i, g := range sorted {
		vals[i] = g
		if logX {
			vals[i] = math.Log10(g)
		}
	}
	bins := int(math.Round(1.5 * math.Sqrt(float64(len(vals)))))
	bins = min(max(bins, 5), 50)
	h, err := plotter.NewHist(vals, bins)
	if err != nil {
		return figure{}, fmt.Errorf("gap histogram: %w", err)
	}
	h.FillColor = color.NRGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0x99}
	h.LineStyle.Color = colBlue
	h.LineStyle.Width = vg.Points(0.8)
	xlabel := "network loss / optimal loss − 1"
	if logX {
		xlabel += " (log scale)"
	}
	p := newPlot("Optimality gap per evaluated matrix", xlabel, "count")
	p.Add(h)
	if logX {
		var ticks plot.ConstantTicks
		for _, t := range (logTicks{}).Ticks(lo, hi) {
			t.Value = math.Log10(t.Value)
			ticks = append(ticks, t)
		}
		p.X.Tick.Marker = ticks
	}
	if math.IsNaN(med) {
		med = median(sorted)
	}
	mx := med
	if logX {
		mx = math.Log10(med)
	}
	l, err := plotter.NewLine(plotter.XYs{{X: mx, Y: 0}, {X: mx, Y: maxBin(h)}})
	if err != nil {
		return figure{}, fmt.Errorf("gap histogram: %w", err)
	}
	l.Color = colRed
	l.Width = vg.Points(1.5)
	l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(l)
	p.Legend.Add(fmt.Sprintf("median = %.4g", med), l)
	p.Legend.Left = false
	p.Y.Min, p.Y.Max = 0, maxBin(h)*1.12 // room for the legend
	p.Y.Tick.Marker = linTicks{}
	if !logX {
		p.X.Tick.Marker = linTicks{}
	}
	return renderPNG(560, 320, "Histogram of optimality gaps", func(dc draw.Canvas) { p.Draw(dc) })
}

func maxBin(h *plotter.Histogram) float64 {
	m := 0.0
	for _, b := range h.Bins {
		m = math.Max(m, b.Weight)
	}
	return m
}

// median returns the median of sorted, which must be non-empty.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// dense returns T(g) for a generator of band b embedded into the input band
// in, so that all matrices of an example have the same band layout.
func dense(in, b structure.Band, g []float64) *mat.Dense {
	e := make([]float64, in.Len())
	structure.Embed(e, in, g, b)
	return in.Dense(e)
}

// svd returns the singular values of m in decreasing order.
func svd(m *mat.Dense) ([]float64, error) {
	var s mat.SVD
	if !s.Factorize(m, mat.SVDNone) {
		return nil, fmt.Errorf("singular value decomposition did not converge")
	}
	return s.Values(nil), nil
}

// plural returns "1 thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
