package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/internal/progress"
	"github.com/matapprox/matapprox/nn"
	"github.com/matapprox/matapprox/train"
)

// configSetting is one configuration flag as given.
type configSetting struct{ key, value string }

// configFlag is the flag of one configuration key; it records its text in
// order, to be applied after the preset and the config file (see
// train.Builder), so that one parser serves flags and files.
type configFlag struct {
	key  train.Key
	set  *[]configSetting
	text string
}

func (f *configFlag) String() string { return f.text }
func (f *configFlag) Set(s string) error {
	f.text = s
	*f.set = append(*f.set, configSetting{f.key.Name, s})
	return nil
}
func (f *configFlag) IsBoolFlag() bool { return f.key.IsBool() }

// configFlags registers one flag per configuration key.
func configFlags(fs *flag.FlagSet) *[]configSetting {
	set := new([]configSetting)
	for _, k := range train.ConfigKeys() {
		fs.Var(&configFlag{key: k, set: set}, k.Name, k.Doc)
	}
	return set
}

// trainFlags are train's flags other than the configuration keys.
type trainFlags struct {
	preset, config, out, resume             *string
	quiet, noReport, tensorboard, printConf *bool
	maxMem                                  *byteSize
}

// runFlagOrder lists the run-level flags in help order.
var runFlagOrder = []string{"preset", "config", "out", "resume", "print-config", "quiet", "no-report", "tensorboard", "max-memory"}

func newTrainFlags(fs *flag.FlagSet) trainFlags {
	return trainFlags{
		preset:      fs.String("preset", "", "start from a preset: "+strings.Join(train.PresetNames(), ", ")+" (default \"default\")"),
		config:      fs.String("config", "", "YAML configuration file (keys are the flag names) over the preset; flags override it"),
		out:         fs.String("out", "", "run directory to create (default: a new directory under runs/)"),
		resume:      fs.String("resume", "", "continue the run in this directory (with -epochs M: extend it to M epochs)"),
		printConf:   fs.Bool("print-config", false, "print the resolved configuration as YAML and exit without training"),
		quiet:       fs.Bool("quiet", false, "print only the final table: no progress, no per-epoch lines"),
		noReport:    fs.Bool("no-report", false, "do not write report.html"),
		tensorboard: fs.Bool("tensorboard", false, "also write TensorBoard event files into the run directory"),
		maxMem:      memoryFlag(fs),
	}
}

// resolveConfig builds the configuration from the preset, the config file
// and the configuration flags, in that order.
func resolveConfig(tf trainFlags, settings []configSetting) (train.Config, string, error) {
	name := *tf.preset
	if name == "" {
		name = "default"
	}
	base, err := train.Preset(name)
	if err != nil {
		return train.Config{}, "", err
	}
	b := train.NewBuilder(base)
	if *tf.config != "" {
		if err := b.ReadFile(*tf.config); err != nil {
			return train.Config{}, "", err
		}
	}
	for _, s := range settings {
		if err := b.Set(s.key, s.value, train.Origin{Flag: true}); err != nil {
			return train.Config{}, "", err
		}
	}
	cfg, err := b.Config()
	return cfg, strings.ToLower(name), err
}

// printTrainHelp prints train's flags by group, each with its default
// from the preset (and config file) the other arguments choose.
func printTrainHelp(w io.Writer, fs *flag.FlagSet, tf trainFlags, args []string) {
	var rest []string
	for _, a := range args {
		if !isHelpFlag(a) {
			rest = append(rest, a)
		}
	}
	parseQuiet(fs, rest) // only to learn -preset and -config; errors show again without -h
	presetName := *tf.preset
	if presetName == "" {
		presetName = "default"
	}
	cfg, err := train.Preset(presetName)
	if err != nil {
		presetName, cfg = "default", mustPreset("default")
	}
	from := fmt.Sprintf("preset %q", presetName)
	if *tf.config != "" {
		if c, err := train.LoadConfig(*tf.config, cfg); err == nil {
			cfg = c
			from += " with " + *tf.config
		}
	}
	fmt.Fprintf(w, `Usage: matapprox train [-preset NAME] [-config FILE] [-out DIR] [flags]
       matapprox train -resume DIR [-epochs M] [-tensorboard] [-no-report] [-quiet]

Trains a network on the configuration resolved from a preset, a YAML file (-config) and the flags, in
that order, into a new run directory. Every configuration key is a flag and a YAML key. Defaults are
those of %s (-preset NAME -h shows another's).
`, from)
	line := func(name, typ, doc string) {
		left := "-" + name
		if typ != "" {
			left += " " + typ
		}
		if len(left) > 24 {
			fmt.Fprintf(w, "  %s\n  %24s  %s\n", left, "", doc)
		} else {
			fmt.Fprintf(w, "  %-24s  %s\n", left, doc)
		}
	}
	for _, g := range train.Groups {
		fmt.Fprintf(w, "\n%s%s:\n", strings.ToUpper(g[:1]), g[1:])
		for _, k := range train.ConfigKeys() {
			if k.Group != g {
				continue
			}
			typ := k.Type()
			if k.IsBool() {
				typ = ""
			}
			line(k.Name, typ, fmt.Sprintf("%s (default %s)", k.Doc, k.Value(&cfg)))
		}
		if g == "run" {
			for _, n := range runFlagOrder {
				f := fs.Lookup(n)
				typ := ""
				if b, ok := f.Value.(boolFlag); !ok || !b.IsBoolFlag() {
					typ = strings.ToUpper(map[string]string{"preset": "name", "config": "file", "out": "dir", "resume": "dir", "max-memory": "size"}[n])
				}
				line(n, typ, f.Usage)
			}
		}
	}
	fmt.Fprintln(w, "\nBoolean flags take -flag, -flag=false or -flag false; names of choices ignore case.")
}

func mustPreset(name string) train.Config {
	c, err := train.Preset(name)
	if err != nil {
		panic(err)
	}
	return c
}

func runTrain(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("train", "train [-preset NAME] [-config FILE] [-out DIR] [flags]", stderr)
	tf := newTrainFlags(fs)
	settings := configFlags(fs)
	if hasHelp(args) {
		printTrainHelp(fs.Output(), fs, tf, args)
		return flag.ErrHelp
	}
	if err := parseQuiet(fs, args); err != nil {
		return err
	}
	opt := trainOptions{quiet: *tf.quiet, report: !*tf.noReport, tensorboard: *tf.tensorboard, maxMemory: tf.maxMem.limit(), memoryFlag: tf.maxMem.n}
	if *tf.resume != "" {
		return resumeRun(*tf.resume, fs, tf, *settings, opt, stdout, stderr)
	}
	cfg, name, err := resolveConfig(tf, *settings)
	if err != nil {
		return err
	}
	if *tf.printConf {
		_, err := stdout.Write(train.MarshalConfig(&cfg))
		return err
	}
	if err := train.TrainingEstimate(&cfg).Check(opt.maxMemory, "this configuration", "-max-memory"); err != nil {
		return usagef("%v", err)
	}
	label := name
	if *tf.config != "" {
		label = strings.TrimSuffix(filepath.Base(*tf.config), filepath.Ext(*tf.config))
	}
	rd, err := makeRunDir(*tf.out, label)
	if err != nil {
		return err
	}
	defer rd.Close()
	return trainInDir(cfg, rd, false, opt, stdout, stderr)
}

// resumeRun continues (or, with -epochs, extends) the run in dir.
func resumeRun(dir string, fs *flag.FlagSet, tf trainFlags, settings []configSetting, opt trainOptions, stdout, stderr io.Writer) error {
	var conflict []string
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "preset", "config", "out":
			conflict = append(conflict, "-"+f.Name)
		}
	})
	epochs := ""
	for _, s := range settings {
		if s.key == "epochs" {
			epochs = s.value
		} else {
			conflict = append(conflict, "-"+s.key)
		}
	}
	if len(conflict) > 0 {
		return usagef("-resume takes the configuration from %s; remove %s (only -epochs may change, to extend the run)",
			filepath.Join(dir, train.ConfigFile), strings.Join(conflict, ", "))
	}
	// Decide before locking: a finished run with nothing to do is left
	// untouched, lock file included.
	cfgPath := filepath.Join(dir, train.ConfigFile)
	if _, err := os.Stat(cfgPath); err != nil {
		return fmt.Errorf("-resume %s: not a run directory: %w", dir, err)
	}
	cfg, err := train.LoadConfig(cfgPath, train.Config{})
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	asked := cfg.Epochs
	if epochs != "" {
		b := train.NewBuilder(cfg)
		if err := b.Set("epochs", epochs, train.Origin{Flag: true}); err != nil {
			return err
		}
		if cfg, err = b.Config(); err != nil {
			return err
		}
	}
	if *tf.printConf {
		_, err := stdout.Write(train.MarshalConfig(&cfg))
		return err
	}
	// The epochs done are the records of the metrics log.
	var done int
	if h, err := train.ReadMetrics(filepath.Join(dir, train.MetricsFile)); err == nil {
		done = len(h)
	}
	finished := train.StatusOf(dir) == train.RunFinished
	switch {
	case finished && (cfg.Epochs <= done || cfg.Epochs == asked):
		fmt.Fprintf(stdout, "%s is finished: %d of %d epochs done; nothing to do (extend it with -resume %s -epochs M, M > %d)\n",
			dir, done, asked, dir, done)
		return nil
	case finished && done < asked:
		return usagef("%s stopped early at epoch %d (patience %d): extending it would stop again at once", dir, done, cfg.Patience)
	case cfg.Epochs < done:
		return usagef("-epochs %d: %s has already done %d epochs", cfg.Epochs, dir, done)
	}
	var rd *train.RunDir
	if cfg.Epochs != asked {
		if rd, err = train.ExtendRunDir(dir, &cfg); err != nil {
			return err
		}
		if !opt.quiet {
			fmt.Fprintf(stdout, "extending %s from %d to %d epochs\n", dir, asked, cfg.Epochs)
		}
	} else if rd, err = train.OpenRunDir(dir); err != nil {
		return err
	}
	defer rd.Close()
	return trainInDir(cfg, rd, true, opt, stdout, stderr)
}

// resumeCommand is the command line that continues the run in dir with
// the run-level flags that were given: -tensorboard, -no-report, -quiet
// and -max-memory (the configuration is the run's config.yaml).
func resumeCommand(dir string, opt trainOptions) string {
	cmd := "matapprox train -resume " + shellQuote(dir)
	if opt.tensorboard {
		cmd += " -tensorboard"
	}
	if !opt.report {
		cmd += " -no-report"
	}
	if opt.quiet {
		cmd += " -quiet"
	}
	if opt.memoryFlag > 0 {
		cmd += fmt.Sprintf(" -max-memory %dB", opt.memoryFlag)
	}
	return cmd
}

// shellQuote quotes s for a POSIX shell when it holds anything but
// letters, digits and -_./+:,=@%.
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./+:,=@%", r)) {
			safe = false
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// runContext wraps the context training runs under; tests replace it to
// interrupt a run at a chosen batch.
var runContext = func(ctx context.Context) context.Context { return ctx }

type trainOptions struct {
	quiet, report, tensorboard bool
	// notebook prints "Epoch E Loss: L" lines as the notebook does.
	notebook  bool
	maxMemory int64 // 0: the default
	// memoryFlag is the -max-memory the command line gave, in bytes (0 if
	// none), for the resume command.
	memoryFlag int64
}

// makeRunDir creates and locks a fresh run directory: out if given (it
// must not exist or be empty), else runs/<time>-<label>.
func makeRunDir(out, label string) (*train.RunDir, error) {
	if out == "" {
		base := filepath.Join("runs", time.Now().Format("20060102-150405")+"-"+label)
		out = base
		for i := 2; ; i++ {
			if _, err := os.Stat(out); errors.Is(err, os.ErrNotExist) {
				break
			}
			out = fmt.Sprintf("%s-%d", base, i)
		}
	}
	rd, err := train.CreateRunDir(out)
	if errors.Is(err, train.ErrRunExists) {
		return nil, usagef("%v", err)
	}
	return rd, err
}

// trainInDir runs training into the locked run directory rd and writes
// everything a run leaves, in the order RunDir documents.
func trainInDir(cfg train.Config, rd *train.RunDir, resuming bool, opt trainOptions, stdout, stderr io.Writer) error {
	dir := rd.Path()
	again := "run the same command again"
	resumeHint := resumeCommand(dir, opt)
	if resuming {
		again = "nothing changed; continue with: " + resumeHint
	}
	sig := catchInterrupts(stderr, "during setup (data, probes, warm-start targets): nothing was trained; "+again)
	defer sig.stop()
	rep := newReporter(stderr, opt.quiet)
	tr, err := train.NewWithOptions(cfg, train.Options{MaxMemory: opt.maxMemory, Progress: phaseProgress(rep)})
	if err != nil {
		return err
	}
	if resuming {
		ok, err := rd.Resume(tr)
		if err != nil {
			return err
		}
		if !opt.quiet {
			if ok {
				fmt.Fprintf(stdout, "resuming %s at epoch %d\n", dir, tr.Epoch()+1)
			} else {
				fmt.Fprintf(stdout, "%s stopped before its first checkpoint: starting it from the beginning\n", dir)
			}
		}
	} else if err := rd.Start(&cfg); err != nil {
		return err
	}
	var events *eventLog
	if opt.tensorboard {
		if events, err = openEvents(dir); err != nil {
			return err
		}
		defer events.Close()
	}
	var bar *progress.Phase
	if !opt.quiet && !opt.notebook {
		net := fmt.Sprintf("%d→%v→%d network", 2*cfg.InBand+1, cfg.Hidden, 2*cfg.OutBand+1)
		if m := tr.Model; m.Kind == nn.KindSphere {
			net = fmt.Sprintf("sphere approximator x_I + ρ·f(x_out/ρ), f %d→%v→%d symmetrised over %v", m.Net.Config.Inputs, cfg.Hidden, m.Outputs(), m.Symmetry)
		} else if m.Kind == nn.KindSymbol {
			net = fmt.Sprintf("symbol approximator a_∞ + (K/N)²·ρ·f(x_out/ρ), f %d→%v→%d symmetrised over %v", m.Net.Config.Inputs, cfg.Hidden, m.Outputs(), m.Symmetry)
		}
		fmt.Fprintf(stdout, "training %s: %s loss, %s, %s lr %g, %d epochs of %d batches of %d\n",
			dir, cfg.Loss, net, cfg.Optimizer, cfg.LR, cfg.Epochs,
			(tr.Train.Rows+cfg.BatchSize-1)/cfg.BatchSize, cfg.BatchSize)
		fmt.Fprintf(stdout, "%6s  %12s  %12s  %10s  %10s  %8s\n", "epoch", "train loss", "val loss", "val gap", "lr", "elapsed")
	}
	cb := rd.Callbacks(tr, train.Callbacks{
		Batch: func(epoch, done, total int) {
			if bar == nil {
				bar = rep.Start(fmt.Sprintf("epoch %d/%d", epoch, cfg.Epochs), total, "rows")
			}
			bar.Set(done)
		},
		Epoch: func(s train.EpochStats) error {
			bar.Finish()
			bar = nil
			switch {
			case opt.notebook:
				fmt.Fprintf(stdout, "Epoch %d Loss: %v\n", s.Epoch, float32(s.LastBatch))
			case !opt.quiet:
				fmt.Fprintf(stdout, "%6d  %12.5g  %12.5g  %10s  %10.3g  %7.2fs\n", s.Epoch, s.TrainLoss, s.ValLoss, pct(s.ValGap), s.LR, s.Elapsed)
			}
			events.epoch(s)
			return nil
		},
	})
	sig.phase(true, "during training; the last checkpoint is kept; continue with: "+resumeHint)
	err = tr.Run(runContext(sig.ctx), cb)
	bar.Finish()
	sig.phase(false, "while finishing: the training is complete and checkpointed in "+dir+"; write the final model, evaluation and report with: "+resumeHint)
	switch {
	case errors.Is(err, train.ErrInterrupted):
		if werr := rd.Checkpoint(tr); werr != nil {
			return fmt.Errorf("interrupted, and the checkpoint could not be written (the previous one is kept; continue with %s): %w", resumeHint, werr)
		}
		fmt.Fprintf(stderr, "interrupted during epoch %d; checkpoint written. Resume with:\n  %s\n", tr.Epoch()+1, resumeHint)
		return &exitError{130, errors.New("interrupted")}
	case errors.Is(err, train.ErrCheckpointWrite):
		return err
	case err != nil:
		return fmt.Errorf("%w (no model was saved)", err)
	}
	if err := rd.SaveModel(tr.Model); err != nil {
		return fmt.Errorf("%w; the training is complete and checkpointed: free space and finish with %s", err, resumeHint)
	}
	if st := tr.Stopped(); st != nil {
		fmt.Fprintln(stdout, st)
	}
	if nd, err := rd.SaveDuals(tr.Model, tr.Loss, tr.Train); err != nil {
		fmt.Fprintf(stderr, "warning: %v (approx certifies without them)\n", err)
	} else if nd > 0 && !opt.quiet && !opt.notebook {
		fmt.Fprintf(stdout, "remembered %d dual certificates in %s (approx -certify checks answers against them first)\n", nd, filepath.Join(dir, train.DualsFile))
	}
	re, err := evaluateRun(tr.Model, tr.Loss, &cfg, tr.Train, tr.Val, tr.EvalSource(), rep)
	if err != nil {
		return err
	}
	events.summary(&re.sum, int64(tr.Epoch()))
	if !opt.notebook {
		fmt.Fprintln(stdout)
		printSummary(stdout, &re.sum)
	}
	if opt.report {
		if err := writeReport(dir, &cfg, tr.History, re); err != nil {
			fmt.Fprintf(stderr, "warning: report: %v\n", err)
		} else if !opt.quiet && !opt.notebook {
			fmt.Fprintf(stdout, "report: %s\n", filepath.Join(dir, "report.html"))
		}
	}
	if err := writeSummary(dir, &cfg, tr, &re.sum); err != nil {
		return fmt.Errorf("%w; finish with %s", err, resumeHint)
	}
	return nil
}

func lastElapsed(h []train.EpochStats) float64 {
	if len(h) == 0 {
		return 0
	}
	return h[len(h)-1].Elapsed
}

func jsonNum(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

// newReporter returns the progress reporter of a command; tests replace it.
var newReporter = progress.New

// phaseProgress adapts a Reporter to train.Progress: one phase at a time,
// finished when it reaches its total.
func phaseProgress(rep *progress.Reporter) train.Progress {
	var ph *progress.Phase
	var name string
	return func(phase string, done, total int) {
		if ph == nil || name != phase {
			ph.Finish()
			unit := "rows"
			if phase == "warm-start targets" {
				unit = "matrices"
			}
			ph, name = rep.Start(phase, total, unit), phase
		}
		ph.Set(done)
		if done >= total {
			ph.Finish()
			ph = nil
		}
	}
}

// evalRows is the number of rows train.EvalSource yields, the total of the
// evaluation's progress.
func evalRows(trainSet, valSet *data.Set) int {
	set := valSet
	if set == nil || set.Rows == 0 {
		set = trainSet
	}
	return min(set.Rows, train.EvalRows)
}
