// Command matapprox trains neural networks that approximate banded Toeplitz
// matrices by narrower-band ones, and measures how close each approximation
// is to the best one mathematically possible.
//
// Usage:
//
//	matapprox train     [-config FILE] [-preset NAME] [-out DIR] [flags]
//	matapprox eval      -model PATH [-matrix "x1,x2,…"] [-input FILE] [-probes FILE] [-json]
//	matapprox approx    -model PATH -input FILE -output FILE
//	matapprox optimal   -loss probe|frobenius|spectral -matrix … -out-band K [-probes FILE] [-json]
//	matapprox optimal   -loss … -out-band K -input FILE -output FILE.jsonl [-shard i/n]
//	matapprox merge     -output FILE PART...
//	matapprox sweep     -grid GRID.yaml -out DIR [-shard i/n] | -summarize DIR
//	matapprox report    -model DIR [-out FILE.html]
//	matapprox reproduce
//
// Run `matapprox COMMAND -h` for the flags of each command.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// exitError carries an exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// errUsage marks a command-line mistake (exit code 2).
var errUsage = errors.New("usage")

// usageError is a command-line mistake: it prints without a prefix and
// exits with code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string        { return e.msg }
func (e *usageError) Is(target error) bool { return target == errUsage }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

type command struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"train", "train a network (default preset, or -preset/-config/flags)", runTrain},
	{"eval", "compare a trained network with truncation and the exact optimum", runEval},
	{"approx", "apply a trained network to a file of matrices (CSV or .npy)", runApprox},
	{"optimal", "the best approximation of one matrix, without a network", runOptimal},
	{"merge", "join the part files of a sharded run into the unsharded output", runMerge},
	{"sweep", "run a grid of training configurations, or summarise one", runSweep},
	{"report", "write the HTML report of a run directory", runReport},
	{"reproduce", "run the notebook end to end and compare with the default preset and the optimum", runReproduce},
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "matapprox trains neural networks to approximate banded Toeplitz matrices and says how far each")
	fmt.Fprintln(w, "approximation is from the best one possible.")
	fmt.Fprintln(w, "\nUsage: matapprox COMMAND [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'matapprox COMMAND -h' for a command's flags. With no command, 'matapprox' is 'matapprox train'.")
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	name := "train"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		name, args = args[0], args[1:]
	}
	if name == "help" || name == "-h" || name == "--help" {
		usage(stdout)
		return 0
	}
	for _, c := range commands {
		if c.name != name {
			continue
		}
		err := c.run(args, stdout, stderr)
		if err == nil || errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "matapprox %s: %v\n", name, err)
		var ee *exitError
		switch {
		case errors.As(err, &ee):
			return ee.code
		case errors.Is(err, errUsage):
			return 2
		}
		return 1
	}
	fmt.Fprintf(stderr, "matapprox: unknown command %q\n\n", name)
	usage(stderr)
	return 2
}

// newFlagSet returns a FlagSet that reports errors instead of exiting.
var synopses = map[string]string{}

func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	synopses[name] = synopsis
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // -h is handled by parseFlags, errors by run
	return fs
}

// parseFlags parses and rejects positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" || a == "--h" {
			w := fs.Output()
			fmt.Fprintf(w, "Usage: matapprox %s\n\nFlags:\n", synopses[fs.Name()])
			fs.PrintDefaults()
			return flag.ErrHelp
		}
	}
	out := fs.Output()
	fs.SetOutput(io.Discard) // errors are reported once, by run
	defer fs.SetOutput(out)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%v (see -h)", err)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q: every option is a flag (see -h)", fs.Arg(0))
	}
	return nil
}
