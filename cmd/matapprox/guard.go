package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/nn"
	"github.com/matapprox/matapprox/train"
)

// checkNotInput refuses an output path that is the same file as one of the
// inputs, whatever the spelling (links, "./", "..").
func checkNotInput(flagName, output string, inputs ...string) error {
	ost, err := os.Stat(output)
	if err != nil {
		return nil // a new file cannot be an input
	}
	for _, in := range inputs {
		if ist, err := os.Stat(in); err == nil && os.SameFile(ost, ist) {
			return usagef("%s %s is the same file as the input %s: writing it would destroy the input; choose another output file", flagName, output, in)
		}
	}
	return nil
}

// checkReportPath accepts an -out for report: an .html file, not inside a
// run or model directory other than the run's own (dir), and not a
// directory.
func checkReportPath(path, dir string) error {
	if !strings.EqualFold(filepath.Ext(path), ".html") {
		return usagef("-out %s: a report is an .html file; give a path ending in .html", path)
	}
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return usagef("-out %s is not a regular file", path)
	}
	parent := filepath.Dir(path)
	pst, err := os.Stat(parent)
	if err != nil {
		return usagef("-out %s: its directory %s does not exist", path, parent)
	}
	if dst, err := os.Stat(dir); err == nil && os.SameFile(pst, dst) {
		return nil
	}
	_, model := os.Stat(filepath.Join(parent, nn.WeightsFile))
	if train.StatusOf(parent) != train.RunNone || model == nil {
		return usagef("-out %s would write into %s, which holds another run or model; write the report elsewhere or into %s", path, parent, dir)
	}
	return nil
}

// checkEvalMemory refuses an evaluation whose rows (one -matrix, the rows
// of -input, or -count random ones) do not fit in limit bytes.
func checkEvalMemory(cfg *train.Config, matrix, input string, count int, limit int64) error {
	in, _ := cfg.Bands()
	rows := count
	switch {
	case matrix != "":
		rows = 1
	case input != "":
		rows = data.MaxRows(input, in.Len())
	}
	what := fmt.Sprintf("evaluating %d matrices", rows)
	if input != "" {
		what = fmt.Sprintf("evaluating %s (up to %d rows)", input, rows)
	}
	if err := train.EvalEstimate(cfg, rows).Check(limit, what, "-max-memory"); err != nil {
		return usagef("%v", err)
	}
	return nil
}
