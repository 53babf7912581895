package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/matapprox/matapprox/internal/atomicfile"
	"github.com/matapprox/matapprox/sweep"
	"github.com/matapprox/matapprox/train"
)

func runSweep(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sweep", "sweep -grid GRID.yaml -out DIR [-shard i/n] [-list] [-no-report]\n       matapprox sweep -summarize DIR", stderr)
	gridFile := fs.String("grid", "", "YAML grid file: preset, config, grid, list, repeats (see README, \"sweep\")")
	out := fs.String("out", "", "sweep directory: one run directory per trial, named after the trial")
	shardFlag := fs.String("shard", "", "run only shard `i/n` (0-based) of the trials, e.g. $(JOB_COMPLETION_INDEX)/8 or ${SLURM_ARRAY_TASK_ID}/8")
	list := fs.Bool("list", false, "print the trials (of the shard) and exit")
	noReport := fs.Bool("no-report", false, "do not write report.html into the trials' run directories")
	summarize := fs.String("summarize", "", "write DIR/summary.csv and DIR/summary.md of the sweep in DIR and print its metrics")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *summarize != "" {
		if *gridFile != "" || *out != "" || *shardFlag != "" {
			return usagef("-summarize DIR takes no other flags")
		}
		return summarizeSweep(*summarize, stdout)
	}
	if *gridFile == "" || (*out == "" && !*list) {
		return usagef("-grid GRID.yaml and -out DIR are required (or -summarize DIR)")
	}
	src, err := train.ReadConfigFile(*gridFile)
	if err != nil {
		return err
	}
	// A grid that does not parse or expand is bad input (exit 2), as a bad
	// configuration file is.
	g, err := sweep.Parse(src, *gridFile)
	if err != nil {
		return usagef("%v", err)
	}
	trials, err := g.Trials()
	if err != nil {
		return usagef("%v", err)
	}
	spec, _, err := parseShardFlag(*shardFlag)
	if err != nil {
		return err
	}
	lo, hi := spec.Range(len(trials))
	if *list {
		for _, t := range trials[lo:hi] {
			fmt.Fprintln(stdout, t.Name)
		}
		return nil
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if err := sweep.WriteManifest(*out, sweep.NewManifest(g, trials)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sweep %s: %d trials; shard %s runs trials %d to %d into %s\n", *gridFile, len(trials), spec, lo, hi-1, *out)
	var failed []string
	for _, t := range trials[lo:hi] {
		err := runTrial(t, *out, !*noReport, stdout, stderr)
		var ee *exitError
		if errors.As(err, &ee) {
			return err // interrupted: stop at once; a rerun resumes
		}
		if err != nil {
			fmt.Fprintf(stderr, "trial %s failed: %v\n", t.Name, err)
			failed = append(failed, t.Name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d trials failed (%s); their run directories hold %s", len(failed), hi-lo, strings.Join(failed, ", "), sweep.FailedFile)
	}
	return nil
}

// runTrial runs one trial into DIR/NAME: it skips a finished trial,
// resumes an interrupted one and starts the others, refusing a directory
// that holds another configuration.
func runTrial(t sweep.Trial, out string, report bool, stdout, stderr io.Writer) error {
	dir := filepath.Join(out, t.Name)
	want := train.MarshalConfig(&t.Config)
	have, err := os.ReadFile(filepath.Join(dir, train.ConfigFile))
	if err == nil && !bytes.Equal(have, want) {
		return fmt.Errorf("%s holds a run of another configuration than trial %s: use a new -out directory for a changed grid", dir, t.Name)
	}
	_, errSum := os.Stat(filepath.Join(dir, train.SummaryFile))
	_, errCk := os.Stat(filepath.Join(dir, train.CheckpointFile))
	switch {
	case errSum == nil:
		fmt.Fprintf(stdout, "trial %s: done before, skipped\n", t.Name)
	default:
		var rd *train.RunDir
		if errCk == nil {
			// Interrupted after a checkpoint: continue it.
			os.Remove(filepath.Join(dir, sweep.FailedFile))
			if rd, err = train.OpenRunDir(dir); err != nil {
				return err
			}
		} else {
			// Never reached a checkpoint: nothing to keep, start afresh.
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
			if rd, err = train.CreateRunDir(dir); err != nil {
				return err
			}
		}
		defer rd.Close()
		fmt.Fprintf(stdout, "trial %s\n", t.Name)
		if err := trainInDir(t.Config, rd, errCk == nil, trainOptions{quiet: true, report: report}, stdout, stderr); err != nil {
			var ee *exitError
			if !errors.As(err, &ee) {
				atomicfile.WriteFile(filepath.Join(dir, sweep.FailedFile), []byte(err.Error()+"\n"), 0o644)
			}
			return err
		}
	}
	r, err := sweep.ReadRun(dir)
	if err != nil {
		return err
	}
	r.Name = t.Name
	return (&sweep.Table{Rows: []sweep.Row{r}}).WriteMetricLines(stdout)
}

// summarizeSweep writes the summary tables of the sweep in dir and prints
// the Markdown table and one metric line per trial.
func summarizeSweep(dir string, stdout io.Writer) error {
	t, err := sweep.Summarize(dir)
	if err != nil {
		return err
	}
	var csvB, md bytes.Buffer
	if err := t.WriteCSV(&csvB); err != nil {
		return err
	}
	if err := t.WriteMarkdown(&md); err != nil {
		return err
	}
	for name, b := range map[string][]byte{"summary.csv": csvB.Bytes(), "summary.md": md.Bytes()} {
		if err := atomicfile.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	stdout.Write(md.Bytes())
	fmt.Fprintln(stdout)
	if err := t.WriteMetricLines(stdout); err != nil {
		return err
	}
	c := t.Counts()
	fmt.Fprintf(stdout, "%d trials: %d done, %d partial, %d pending, %d failed; tables in %s and %s\n", len(t.Rows),
		c[sweep.StatusDone], c[sweep.StatusPartial], c[sweep.StatusPending], c[sweep.StatusFailed],
		filepath.Join(dir, "summary.csv"), filepath.Join(dir, "summary.md"))
	return nil
}
