package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/eval"
	"github.com/matapprox/matapprox/nn"
	"github.com/matapprox/matapprox/train"
)

// evalBatchFlags are the flags of `eval -input FILE -output FILE.jsonl
// [-shard i/n]`, registered on the eval command's FlagSet.
type evalBatchFlags struct {
	output, shard *string
}

func addEvalBatchFlags(fs *flag.FlagSet) *evalBatchFlags {
	return &evalBatchFlags{
		output: fs.String("output", "", "with -input: write one JSON line per input row (the rows of -json) to this file; with -shard, a part file for `matapprox merge`"),
		shard:  addShardFlag(fs),
	}
}

func (b *evalBatchFlags) active() bool { return *b.output != "" || *b.shard != "" }

// run evaluates the rows of input (or of one shard of them) with ev and
// writes one record per row: the row objects of `eval -json`, "index"
// being the row's 0-based position in the whole input.
func (b *evalBatchFlags) run(fs *flag.FlagSet, ev *eval.Evaluator, input string, stdout, stderr io.Writer) error {
	if input == "" || *b.output == "" {
		return usagef("-output and -shard need -input FILE and -output FILE.jsonl")
	}
	if fs.Lookup("matrix").Value.String() != "" {
		return usagef("give -matrix or -input, not both")
	}
	if abs(input) == abs(*b.output) {
		return usagef("-output %s would overwrite the input", *b.output)
	}
	sig := catchInterrupts(stderr, *b.output+" was not written (a file already there is unchanged) and no temporary file is left")
	defer sig.stop()
	spec, sharded, err := parseShardFlag(*b.shard)
	if err != nil {
		return err
	}
	src, err := openRows(input, spec, sharded)
	if err != nil {
		return err
	}
	defer src.Close()
	in, _ := ev.Bands()
	if src.dim != in.Len() {
		return fmt.Errorf("%s: rows have %d entries, the model takes generators of 2K+1 = %d", input, src.dim, in.Len())
	}
	settings := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) {
		if !notSettings[f.Name] && f.Name != "count" && f.Name != "seed" {
			settings[f.Name] = f.Value.String()
		}
	})
	// Paths differ between machines; contents identify the model and probes.
	settings["model"] = "sha256:" + modelSHA256(settings["model"])
	if h, ok := fileSHA256(settings["probes"]); ok {
		settings["probes"] = "sha256:" + h
	}
	acc := ev.NewAccumulator(eval.File, "")
	quiet := fs.Lookup("quiet").Value.String() == "true"
	ph := newReporter(stderr, quiet).Start("evaluation", src.total(), "matrices")
	n, err := writeRecords(*b.output, src, sharded, "eval", settings, func(lines [][]byte, x []float64, k, first int) error {
		set := &data.Set{Dim: src.dim, Rows: k, X: x}
		_, err := ev.Run(eval.FromSet(set, eval.File, ""), func(r *eval.Row) error {
			acc.Add(r)
			i := r.Index
			r.Index += first
			b, err := json.Marshal(rowJSON(r))
			lines[i] = append(lines[i], b...)
			return err
		})
		return err
	}, func() ([]byte, error) { return json.Marshal(acc) }, ph)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("%d rows of %s", n, input)
	if sharded {
		what = fmt.Sprintf("rows %d to %d of %d of %s (shard %s)", src.lo, src.lo+n-1, src.rows, input, spec)
	}
	acc.SetDescription(what)
	sum := acc.Summary()
	if n > 0 {
		printSummary(stdout, &sum)
	}
	fmt.Fprintf(stdout, "wrote the evaluation of %s to %s\n", what, *b.output)
	return nil
}

// modelSHA256 returns the SHA-256 of a model: of its weights and its run
// configuration for a run directory, of the file otherwise ("" if
// unreadable; loading the model has already succeeded).
func modelSHA256(path string) string {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		w, _ := fileSHA256(filepath.Join(path, nn.WeightsFile))
		c, _ := fileSHA256(filepath.Join(path, train.ConfigFile))
		return w + "+" + c
	}
	h, _ := fileSHA256(path)
	return h
}
