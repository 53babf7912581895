package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/matapprox/matapprox/eval"
	"github.com/matapprox/matapprox/internal/atomicfile"
	"github.com/matapprox/matapprox/shard"
)

func runMerge(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("merge", "merge -output FILE PART...", stderr)
	output := fs.String("output", "", "file to write: exactly what the unsharded command writes (required)")
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			return parseFlags(fs, []string{a})
		}
	}
	out := fs.Output()
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.SetOutput(out)
	if err != nil {
		return usagef("%v (see -h)", err)
	}
	parts := fs.Args()
	if *output == "" {
		return usagef("-output is required: merge -output FILE PART...")
	}
	if len(parts) == 0 {
		return usagef("no part files given: merge -output FILE PART... (the files written with -shard i/n)")
	}
	srcs := make([]shard.Source, len(parts))
	for i, p := range parts {
		if strings.HasPrefix(p, "-") {
			return usagef("%q: flags go before the part files", p)
		}
		if abs(p) == abs(*output) {
			return usagef("-output %s is one of the parts", *output)
		}
		srcs[i] = shard.FileSource(p)
	}
	if err := checkNotInput("-output", *output, parts...); err != nil {
		return err
	}
	sig := catchInterrupts(stderr, *output+" was not written (a file already there is unchanged) and no temporary file is left")
	defer sig.stop()
	var data []json.RawMessage
	err = atomicfile.Write(*output, 0o644, func(w io.Writer) error {
		var err error
		data, err = shard.MergeData(w, srcs)
		return err
	})
	if err != nil {
		return err
	}
	f, err := os.Open(parts[0])
	if err != nil {
		return err
	}
	defer f.Close()
	h, err := shard.ReadHeader(f, parts[0])
	if err != nil {
		return err
	}
	if h.Command == "eval" && h.InputRows > 0 {
		sum, err := mergeEvalSummaries(data, fmt.Sprintf("%d rows of %s", h.InputRows, h.Input))
		if err != nil {
			return fmt.Errorf("%s was written, but its summary cannot be computed: %w", *output, err)
		}
		if sum == nil {
			fmt.Fprintln(stdout, "(the parts carry no evaluation summary: they were written by an older matapprox)")
		} else {
			printSummary(stdout, sum)
		}
	}
	fmt.Fprintf(stdout, "merged %d parts (%s of %s, %d rows) into %s\n", len(parts), h.Command, h.Input, h.InputRows, *output)
	return nil
}

// mergeEvalSummaries merges the summary accumulators that the parts of a
// sharded `eval -input` carry in their trailers (in shard order) into the
// Summary of all rows, described as desc: the summary the unsharded run
// prints. It returns nil when no part carries one.
func mergeEvalSummaries(data []json.RawMessage, desc string) (*eval.Summary, error) {
	var all *eval.Accumulator
	for i, d := range data {
		if len(d) == 0 {
			continue
		}
		var a eval.Accumulator
		if err := json.Unmarshal(d, &a); err != nil {
			return nil, fmt.Errorf("shard %d: %w", i, err)
		}
		if all == nil {
			all = &a
		} else if err := all.Merge(&a); err != nil {
			return nil, fmt.Errorf("shard %d: %w", i, err)
		}
	}
	if all == nil {
		return nil, nil
	}
	for i, d := range data {
		if len(d) == 0 {
			return nil, fmt.Errorf("shard %d carries no summary while others do", i)
		}
	}
	all.SetDescription(desc)
	s := all.Summary()
	return &s, nil
}
