package report

import (
	"fmt"
	"sort"
	"time"

	"github.com/matapprox/matapprox/eval"
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
	// Worst are the evaluated inputs with the largest network gap (see
	// eval.Worst), drawn like Examples in the section on where the
	// network fails.
	Worst []Example
	// Gaps holds network loss / optimal loss − 1 for each evaluated row
	// outside the exact rows, drawn as a histogram.
	Gaps []float64
	// CertifiedGaps holds the certified relative gap (optimal.Certificate)
	// of the network's answer for each evaluated row, drawn as a second
	// histogram; nil leaves it out.
	CertifiedGaps []float64
	// Summary is the evaluation: one set of statistics, the one the CLI
	// prints and summary.json holds. The report shows its table, its gap
	// statistics and its error per output diagonal; nil leaves them out.
	Summary *eval.Summary
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
	Epoch int     // epoch number, usually from 1
	Train float64 // training loss
	Val   float64 // validation loss
	// ValGap is the validation optimality gap, mean network loss / mean
	// optimal loss − 1 (train.EpochStats.ValGap). The zero Epoch holds 0,
	// drawn as such: set NaN when unknown.
	ValGap  float64
	LR      float64 // learning rate used during the epoch
	Elapsed float64 // wall-clock seconds since training started
}

// Example is one input with its approximations, all given by generators
// (see package structure): X has 2·InBand+1 entries, the others
// 2·OutBand+1. A nil approximation is left out of the figures.
type Example struct {
	Name       string
	Note       string    // shown under the name, e.g. the example's gap
	X          []float64 // input generator, band K
	Network    []float64 // the network's approximation A, band K'
	Optimal    []float64 // the optimal approximation for the training loss
	Truncation []float64 // the central 2K'+1 entries of X
}
