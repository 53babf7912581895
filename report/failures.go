package report

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/matapprox/matapprox/eval"
)

// gapCurve draws the validation optimality gap per epoch on a log scale:
// a 0.3% gap, invisible between loss curves spanning decades, is a line
// well inside this plot. ok is false when no epoch has a positive finite
// gap; notes explain what was left out.
func gapCurve(d *Data) (fig figure, notes []string, ok bool, err error) {
	var x, y []float64
	bad := 0
	for _, e := range d.Epochs {
		if math.IsNaN(e.ValGap) {
			continue
		}
		x = append(x, float64(e.Epoch))
		y = append(y, e.ValGap)
		if !(e.ValGap > 0) || math.IsInf(e.ValGap, 0) {
			bad++
		}
	}
	if len(x) == 0 {
		return fig, []string{"No validation gap was recorded per epoch (no validation set, a run older than the gap, or warm-start epochs only)."}, false, nil
	}
	if bad > 0 {
		notes = append(notes, fmt.Sprintf("%s not positive (the network at or below the optimum to rounding): not drawn on the log scale.", plural(bad, "gap value")))
	}
	p := newPlot("Validation gap: mean loss / mean optimal loss − 1", "epoch", "gap (log scale)")
	if !setLogAxis(&p.Y, y...) {
		return fig, notes, false, nil
	}
	p.X.Tick.Marker = intTicks{}
	if _, err := addSeries(p, "validation gap", x, y, true, colRed, nil, len(x) <= 40); err != nil {
		return fig, nil, false, err
	}
	p.Legend = plot.NewLegend() // a single series needs no legend
	fig, err = renderPNG(720, 340, "Validation optimality gap per epoch", func(dc draw.Canvas) { p.Draw(dc) })
	return fig, notes, err == nil, err
}

// diagonalErrors draws, for each output diagonal d = −K' … K', the root
// mean square of a_method[d] − a_optimal[d] over the evaluated rows, for
// the network and the truncation.
func diagonalErrors(s *eval.Summary, outK int) (fig figure, notes []string, ok bool, err error) {
	p := newPlot("RMS of a[d] − a_optimal[d] per output diagonal", "diagonal d of the approximation", "RMS error")
	p.X.Tick.Marker = intTicks{}
	var all []float64
	type line struct {
		name string
		y    []float64
	}
	var lines []line
	for _, m := range s.Methods {
		if m.Method == eval.Optimal || len(m.DiagonalRMS) != 2*outK+1 {
			continue
		}
		lines = append(lines, line{m.Method, m.DiagonalRMS})
		all = append(all, m.DiagonalRMS...)
	}
	if len(lines) == 0 {
		return fig, []string{"No error per diagonal to draw."}, false, nil
	}
	logY := setLogAxis(&p.Y, all...)
	for _, v := range all {
		if !(v > 0) {
			logY = false
		}
	}
	if !logY {
		p.Y.Scale = plot.LinearScale{}
		p.Y.Tick.Marker = linTicks{}
		p.Y.Min, p.Y.Max = 0, math.Inf(-1)
		for _, v := range all {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				p.Y.Max = math.Max(p.Y.Max, v)
			}
		}
		if !(p.Y.Max > 0) {
			return fig, []string{"The network's and the truncation's generators equal the optimum on every diagonal."}, false, nil
		}
		p.Y.Max *= 1.15
	} else {
		p.Y.Label.Text += " (log scale)"
		p.Y.Max *= 1.6 // room for the legend above the lines
	}
	x := make([]float64, 2*outK+1)
	for i := range x {
		x[i] = float64(i - outK)
	}
	styles := map[string][]vg.Length{eval.Truncation: dash(2, 2)}
	cols := map[string]color.Color{eval.Network: colBlue, eval.Truncation: colOrange}
	for _, l := range lines {
		col, ok := cols[l.name]
		if !ok {
			col = colGrey
		}
		if _, err := addSeries(p, l.name, x, l.y, logY, col, styles[l.name], true); err != nil {
			return fig, nil, false, err
		}
	}
	p.Legend.Left = false
	fig, err = renderPNG(560, 340, "Error per output diagonal", func(dc draw.Canvas) { p.Draw(dc) })
	return fig, notes, err == nil, err
}
