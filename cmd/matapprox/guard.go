package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

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

// parseNumbers parses the numbers of a -matrix value: separated by commas
// ("1,2,3", spaces around them allowed) or, without any comma, by spaces,
// optionally inside [ ]. An empty entry ("1,,2", a trailing comma) is an
// error, never dropped.
func parseNumbers(s string) ([]float64, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
		t = strings.TrimSpace(t[1 : len(t)-1])
	}
	var fields []string
	if strings.Contains(t, ",") {
		fields = strings.Split(t, ",")
	} else {
		fields = strings.Fields(t)
	}
	x := make([]float64, 0, len(fields))
	for i, f := range fields {
		f = strings.TrimSpace(f)
		if f == "" {
			return nil, usagef("-matrix entry %d is empty (two commas in a row, or a trailing comma); give the generator as comma-separated numbers, e.g. \"0,0,0,1,2,4,2,1,0,0,0\"", i+1)
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return nil, usagef("-matrix entry %d %q is out of the float64 range (magnitude up to about 1.8e308, entries below 2^1023 ≈ 8.99e307)", i+1, f)
			}
			return nil, usagef("-matrix entry %d %q is not a number; give the generator as comma-separated numbers, e.g. \"0,0,0,1,2,4,2,1,0,0,0\"", i+1, f)
		}
		x = append(x, v)
	}
	return x, nil
}
