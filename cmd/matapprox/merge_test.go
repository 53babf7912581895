package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMergeEvalSummary checks that merging the 3 parts of a sharded
// `eval -input -output` prints the summary the unsharded run prints, exact
// rows included, and that optimal parts print none.
func TestMergeEvalSummary(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	quickTrain(t, run)
	in, s := writeInput(t, dir, "in.csv", 40, 5, 3)
	// Two exact rows (an in-band one and a zero one), in different shards.
	copy(s.Row(2), []float64{0, 0, 0, 1, 2, 4, 2, 1, 0, 0, 0})
	clear(s.Row(30))
	var csv strings.Builder
	for i := 0; i < s.Rows; i++ {
		for j, v := range s.Row(i) {
			if j > 0 {
				csv.WriteByte(',')
			}
			fmt.Fprint(&csv, v)
		}
		csv.WriteByte('\n')
	}
	if err := os.WriteFile(in, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"eval", "-model", run, "-input", in}
	whole := mustRun(t, append(args, "-output", filepath.Join(dir, "whole.jsonl"))...)
	var parts []string
	for _, i := range []int{2, 0, 1} {
		p := filepath.Join(dir, fmt.Sprintf("part-%d", i))
		mustRun(t, append(args, "-output", p, "-shard", fmt.Sprintf("%d/3", i))...)
		parts = append(parts, p)
	}
	merged := mustRun(t, append([]string{"merge", "-output", filepath.Join(dir, "merged.jsonl")}, parts...)...)
	// summary returns out without its last line, which says what was written.
	summary := func(out string) string {
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		return strings.Join(lines[:len(lines)-1], "\n")
	}
	if !strings.Contains(whole, "evaluation on 40 rows of "+in) || !strings.Contains(whole, "exact_rows: 2") {
		t.Fatalf("unsharded eval output:\n%s", whole)
	}
	if got, want := summary(merged), summary(whole); got != want {
		t.Errorf("merged summary:\n%s\nunsharded summary:\n%s", got, want)
	}
	if !strings.Contains(merged, "\nmerged 3 parts (eval of "+in+", 40 rows)") {
		t.Errorf("merge output's last line:\n%s", merged)
	}
	if string(readFile(t, filepath.Join(dir, "merged.jsonl"))) != string(readFile(t, filepath.Join(dir, "whole.jsonl"))) {
		t.Error("merged records differ from the unsharded ones")
	}

	// optimal parts: records only, no summary.
	for i := 0; i < 2; i++ {
		mustRun(t, "optimal", "-out-band", "3", "-input", in, "-output", filepath.Join(dir, fmt.Sprintf("opt-%d", i)), "-shard", fmt.Sprintf("%d/2", i))
	}
	out := mustRun(t, "merge", "-output", filepath.Join(dir, "opt.jsonl"), filepath.Join(dir, "opt-0"), filepath.Join(dir, "opt-1"))
	if strings.Contains(out, "evaluation on") || strings.Count(out, "\n") != 1 {
		t.Errorf("merge of optimal parts prints:\n%s", out)
	}
}
