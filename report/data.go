package report

import (
	"fmt"
	"sort"
	"time"
)

// Data is everything a report shows. It is plain data: the caller fills it
// from a training run and its evaluation; any part may be empty, in which
// case the corresponding section is replaced by a short note.
type Data struct {
	// Title heads the report; "Training report" if empty.
	Title string
	// Generated is the time the report was made; omitted if zero. It is the
	// only input that is not a result of the run, so tests that compare
	// output leave it zero.
	Generated time.Time
	// Config is the resolved run configuration, shown as a two-column table
	// in the given order (ConfigFromMap sorts a map by key).
	Config []Field

	// Loss names the training loss: "probe", "frobenius" or "spectral".
	Loss string
	// N is the matrix size; InBand and OutBand are the half-bandwidths K of
	// the input X and K' of the approximation A (K' <= K).
	N, InBand, OutBand int

	// Epochs holds one entry per training epoch, in order.
	Epochs []Epoch
	// OptimalVal is the loss of the optimal approximation on the validation
	// set, drawn as a horizontal line on the loss curves. NaN, or a value
	// <= 0 (which a log scale cannot show, and which the zero Data holds),
	// means unknown.
	OptimalVal float64

	// Examples are individual inputs with their approximations, drawn as
	// N×N matrices and by the singular values of the residuals.
	Examples []Example
	// Gaps holds network loss / optimal loss − 1 for each held-out sample.
	Gaps []float64
	// Summary is the evaluation summary, one row per method.
	Summary []Row
}

// Field is one configuration entry.
type Field struct {
	Name, Value string
}

// ConfigFromMap returns the entries of m sorted by name, each value
// formatted with fmt's %v.
func ConfigFromMap(m map[string]any) []Field {
	f := make([]Field, 0, len(m))
	for k, v := range m {
		f = append(f, Field{Name: k, Value: fmt.Sprint(v)})
	}
	sort.Slice(f, func(i, j int) bool { return f[i].Name < f[j].Name })
	return f
}

// Epoch is the record of one training epoch. Losses are per-sample means in
// the units of the training loss; NaN marks a value that was not computed.
type Epoch struct {
	Epoch   int     // epoch number, usually from 1
	Train   float64 // training loss
	Val     float64 // validation loss
	LR      float64 // learning rate used during the epoch
	Elapsed float64 // wall-clock seconds since training started
}

// Example is one input with its approximations, all given by generators
// (see package structure): X has 2·InBand+1 entries, the others
// 2·OutBand+1. A nil approximation is left out of the figures.
type Example struct {
	Name       string
	X          []float64 // input generator, band K
	Network    []float64 // the network's approximation A, band K'
	Optimal    []float64 // the optimal approximation for the training loss
	Truncation []float64 // the central 2K'+1 entries of X
}

// Row is one line of the evaluation summary: the mean over the held-out set
// of each loss of X − A for one method (network, optimal, truncation, …),
// and the mean optimality gap (loss / optimal loss − 1 for the training
// loss). NaN entries are shown as a dash.
type Row struct {
	Method    string
	ProbeLoss float64
	Frobenius float64
	Spectral  float64
	Gap       float64
}
