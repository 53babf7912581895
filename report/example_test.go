package report_test

import (
	"bytes"
	"fmt"
	"log"
	"math"
	"strings"

	"github.com/matapprox/matapprox/eval"
	"github.com/matapprox/matapprox/report"
)

func ExampleWrite() {
	d := report.Data{
		Title:   "Notebook run",
		Config:  report.ConfigFromMap(map[string]any{"epochs": 3, "lr": 0.25}),
		Loss:    "frobenius",
		N:       11,
		InBand:  5,
		OutBand: 3,
		Epochs: []report.Epoch{
			{Epoch: 1, Train: 2.0, Val: 2.1, LR: 0.25, Elapsed: 0.5},
			{Epoch: 2, Train: 1.2, Val: 1.3, LR: 0.25, Elapsed: 1.0},
			{Epoch: 3, Train: 1.1, Val: 1.15, LR: 0.125, Elapsed: 1.5},
		},
		OptimalVal: 1.0,
		Examples: []report.Example{{
			Name:       "notebook test matrix",
			X:          []float64{0, 0, 0, 1, 2, 4, 2, 1, 0, 0, 0},
			Network:    []float64{0, 1.1, 1.9, 4.1, 2, 0.9, 0.1},
			Optimal:    []float64{0, 1, 2, 4, 2, 1, 0},
			Truncation: []float64{0, 1, 2, 4, 2, 1, 0},
		}},
		Gaps: []float64{0.01, 0.02, 0.05, 0.03},
		Summary: &eval.Summary{EvaluatedOn: eval.Validation, Description: "4 validation matrices", Loss: "frobenius", Rows: 4, RatioRows: 4,
			Methods: []eval.MethodSummary{{Method: "network", Loss: 1.1, ProbeLoss: math.NaN(), Frobenius: 1.1, Spectral: 0.6,
				Gap: 0.03, GapMean: 0.0275, GapMedian: 0.02, GapP95: 0.05, GapMax: 0.05, DiagonalRMS: []float64{0.1, 0.1, 0.1, 0.05, 0.1, 0.1, 0.1}}}},
	}
	var buf bytes.Buffer
	if err := report.Write(&buf, d); err != nil {
		log.Fatal(err)
	}
	page := buf.String()
	fmt.Println("images:", strings.Count(page, "<img "))
	fmt.Println("external references:", strings.Contains(page, "http://") || strings.Contains(page, "https://"))
	// Output:
	// images: 6
	// external references: false
}
