// Command matapprox trains neural networks that approximate banded Toeplitz
// matrices by narrower-band ones, and measures how close each approximation
// is to the best one mathematically possible.
//
// Usage:
//
//	matapprox COMMAND [flags]
//
// The commands:
//
//	train      train a network (a preset, a YAML file and flags)
//	eval       compare a trained network with truncation and the exact optimum
//	approx     apply a trained network to a file of matrices (CSV or .npy)
//	optimal    the best approximation of one matrix, or of a file of them, without a network
//	merge      join the part files of a sharded run into the unsharded output
//	sweep      run a grid of training configurations, or summarise one
//	report     write the HTML report of a run directory
//	reproduce  run the notebook end to end and compare with the default preset and the optimum
//	version    print the module version and VCS revision
//	help       list the commands, or show one command's flags (help COMMAND)
//
// Run `matapprox help COMMAND` (or `matapprox COMMAND -h`) for the flags of
// each command.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/internal/choice"
	"github.com/matapprox/matapprox/train"
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

// commands is the one list of subcommands: dispatch, usage and suggestions
// read it.
var commands []command

func init() {
	commands = []command{
		{"train", "train a network (a preset, a YAML file and flags)", runTrain},
		{"eval", "compare a trained network with truncation and the exact optimum", runEval},
		{"approx", "apply a trained network to a file of matrices (CSV or .npy)", runApprox},
		{"optimal", "the best approximation of one matrix, without a network", runOptimal},
		{"merge", "join the part files of a sharded run into the unsharded output", runMerge},
		{"sweep", "run a grid of training configurations, or summarise one", runSweep},
		{"report", "write the HTML report of a run directory", runReport},
		{"reproduce", "run the notebook end to end and compare with the default preset and the optimum", runReproduce},
		{"version", "print the module version and VCS revision", runVersion},
		{"help", "list the commands, or show one command's flags (help COMMAND)", runHelp},
	}
}

func commandNames() []string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return names
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "matapprox trains neural networks to approximate banded Toeplitz matrices and says how far each")
	fmt.Fprintln(w, "approximation is from the best one possible.")
	fmt.Fprintln(w, "\nUsage: matapprox COMMAND [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'matapprox help COMMAND' (or 'matapprox COMMAND -h') for a command's flags.")
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// isHelpFlag reports whether a is -h, -help, --h or --help.
func isHelpFlag(a string) bool {
	switch a {
	case "-h", "-help", "--h", "--help":
		return true
	}
	return false
}

// run runs the command line args and returns the exit code: 0 success (and
// help), 1 failure, 2 bad input (the command line, a configuration or an
// input file's contents), 130 interrupted.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	name, rest := args[0], args[1:]
	switch {
	case isHelpFlag(name):
		usage(stdout)
		return 0
	case name == "-version" || name == "--version":
		name = "version"
	case strings.HasPrefix(name, "-"):
		fmt.Fprintf(stderr, "matapprox: %s: the command comes first: matapprox COMMAND [flags] (for example 'matapprox train %s')\n\n", name, strings.Join(args, " "))
		usage(stderr)
		return 2
	}
	c, ok := lookupCommand(name)
	if !ok {
		fmt.Fprintf(stderr, "matapprox: unknown command %q%s\n\n", name, didYouMean(name, commandNames(), ""))
		usage(stderr)
		return 2
	}
	err := c.run(rest, stdout, stderr)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "matapprox %s: %v\n", c.name, err)
	return exitCode(err)
}

// exitCode maps an error to the exit code: the same kind of mistake gets
// the same code wherever it is found.
func exitCode(err error) int {
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, errUsage), errors.Is(err, train.ErrConfig), errors.Is(err, data.ErrFormat):
		return 2
	}
	return 1
}

// lookupCommand finds a command by name, ignoring case.
func lookupCommand(name string) (command, bool) {
	for _, c := range commands {
		if strings.EqualFold(c.name, name) {
			return c, true
		}
	}
	return command{}, false
}

// didYouMean returns "; did you mean PREFIX+X?" for the closest candidate,
// or "".
func didYouMean(s string, candidates []string, prefix string) string {
	if c := choice.Closest(s, candidates); c != "" {
		return fmt.Sprintf(" (did you mean %s%s?)", prefix, c)
	}
	return ""
}

// runHelp lists the commands, or shows one command's flags.
func runHelp(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (len(args) == 1 && isHelpFlag(args[0])) {
		usage(stdout)
		return nil
	}
	if len(args) > 1 {
		return usagef("help takes one command name, not %d", len(args))
	}
	c, ok := lookupCommand(args[0])
	if !ok {
		return usagef("unknown command %q%s; the commands are %s", args[0], didYouMean(args[0], commandNames(), ""), choice.List(commandNames()))
	}
	if c.name == "help" {
		usage(stdout)
		return nil
	}
	return c.run([]string{"-h"}, stdout, stderr)
}

var synopses = map[string]string{}

// newFlagSet returns a FlagSet that reports errors instead of exiting.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	synopses[name] = synopsis
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // -h is handled by parseFlags, errors by run
	return fs
}

// parseFlags parses and rejects positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if hasHelp(args) {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: matapprox %s\n\nFlags:\n", synopses[fs.Name()])
		fs.PrintDefaults()
		return flag.ErrHelp
	}
	return parseQuiet(fs, args)
}

// hasHelp reports whether args ask for help before any "--".
func hasHelp(args []string) bool {
	for _, a := range args {
		if a == "--" {
			break
		}
		if isHelpFlag(a) {
			return true
		}
	}
	return false
}

// parseQuiet parses args into fs, suggesting the closest flag for an
// unknown one, accepting "-flag true" and "-flag false" for a boolean flag
// as "-flag=true" does, and rejecting positional arguments.
func parseQuiet(fs *flag.FlagSet, args []string) error {
	args, err := normalizeArgs(fs, args)
	if err != nil {
		return err
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

type boolFlag interface{ IsBoolFlag() bool }

// normalizeArgs rewrites "-b true"/"-b false" for boolean flags b into
// "-b=true"/"-b=false" and reports an unknown flag with a suggestion.
func normalizeArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || len(a) < 2 || a[0] != '-' {
			return append(out, args[i:]...), nil
		}
		name, _, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		f := fs.Lookup(name)
		if f == nil {
			if isHelpFlag(a) {
				out = append(out, a)
				continue
			}
			var names []string
			fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
			return nil, usagef("unknown flag -%s%s (see -h)", name, didYouMean(name, names, "-"))
		}
		out = append(out, a)
		if hasValue {
			continue
		}
		if b, ok := f.Value.(boolFlag); ok && b.IsBoolFlag() {
			if i+1 < len(args) && (strings.EqualFold(args[i+1], "true") || strings.EqualFold(args[i+1], "false")) {
				out[len(out)-1] = "-" + name + "=" + strings.ToLower(args[i+1])
				i++
			}
			continue
		}
		if i+1 < len(args) {
			out = append(out, args[i+1])
			i++
		}
	}
	return out, nil
}
