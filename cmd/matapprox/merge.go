package main

import (
	"fmt"
	"io"
	"os"
	"strings"

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
	err = atomicfile.Write(*output, 0o644, func(w io.Writer) error { return shard.Merge(w, srcs) })
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
	fmt.Fprintf(stdout, "merged %d parts (%s of %s, %d rows) into %s\n", len(parts), h.Command, h.Input, h.InputRows, *output)
	return nil
}
