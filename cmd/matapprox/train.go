package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/matapprox/matapprox/nn"
	"github.com/matapprox/matapprox/train"
)

// keyHelp documents every configuration key; the keys are the flag names.
var keyHelp = map[string]string{
	"n":                  "matrix size N",
	"in-band":            "half-bandwidth K of the input matrices",
	"out-band":           "half-bandwidth K' of the approximation (K' <= K)",
	"loss":               "training loss: probe, frobenius or spectral",
	"probes":             "probe distribution (notebook, gaussian, rademacher) or a CSV/.npy file of probes, one per row",
	"num-probes":         "number of probes drawn from the distribution",
	"normalize":          "divide the Frobenius loss by N",
	"reduction":          "batch reduction: mean or sum",
	"loss-scale":         "factor on the training objective (0 = 1)",
	"data":               "training data: a generator (notebook, gaussian, notebook-symmetric, gaussian-symmetric) or a CSV/.npy file",
	"train-size":         "number of generated training matrices",
	"val-size":           "number of generated validation matrices",
	"val-fraction":       "fraction of a data file held out for validation",
	"hidden":             "hidden layer widths, comma-separated (e.g. 100,100)",
	"activation":         "activation: tanh, relu or identity",
	"standardize":        "standardise the inputs with the training data's mean and deviation",
	"architecture":       "mlp (the network maps the whole input) or sphere (exact by construction: x_I + ||x_out||·f(x_out/||x_out||))",
	"symmetry":           "sphere: group to average over (none, odd, odd+reverse+modulate, …; empty: the loss's own)",
	"spectral-smoothing": "spectral: train through the smooth bound σ_1 + τ·log Σ exp((σ_i−σ_1)/τ), τ = this × σ_1 (0 = off)",
	"sphere-fraction":    "sphere: fraction of training rows given out-of-band directions uniform on the sphere",
	"precision":          "network arithmetic: f64 or f32 (float32 products, float64 parameters)",
	"optimizer":          "adagrad, sgd, adam or adamw",
	"lr":                 "initial learning rate",
	"momentum":           "SGD momentum",
	"nesterov":           "SGD Nesterov momentum",
	"weight-decay":       "weight decay (L2 for adagrad/sgd/adam, decoupled for adamw)",
	"clip-norm":          "clip gradients to this global norm (0 = off)",
	"schedule":           "learning-rate schedule: constant, piecewise or cosine",
	"drop-factor":        "piecewise: multiply the learning rate by this",
	"drop-period":        "piecewise: every this many epochs",
	"min-lr":             "cosine: final learning rate",
	"epochs":             "number of epochs",
	"batch-size":         "samples per batch",
	"seed":               "random seed: the same seed and config give bit-identical weights",
	"patience":           "early stopping: epochs without improvement of the validation loss (0 = off)",
	"min-delta":          "early stopping: relative improvement that counts",
	"warm-start":         "epochs of supervised training on the exact optimum before the loss itself",
	"warm-start-size":    "warm start on the first this many training rows only (0 = all)",
	"divergence":         "stop when a batch's loss exceeds this many times the first batch's (0 = 1e6, -1 = no check)",
}

// keyTypes names the type of each key's value in -h.
var keyTypes = func() map[string]string {
	m := map[string]string{}
	t := reflect.TypeOf(train.Config{})
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		k := strings.Split(f.Tag.Get("yaml"), ",")[0]
		switch f.Type.Kind() {
		case reflect.Int, reflect.Uint64:
			m[k] = "int"
		case reflect.Float64:
			m[k] = "float"
		case reflect.Bool:
			m[k] = "bool"
		case reflect.Slice:
			m[k] = "list"
		default:
			m[k] = "string"
		}
	}
	return m
}()

// configFlags registers one string flag per configuration key. Values are
// decoded later as YAML onto the configuration, so that flags, files and
// presets share one parser and one set of error messages.
func configFlags(fs *flag.FlagSet) map[string]*string {
	vals := map[string]*string{}
	bools := map[string]bool{"standardize": true, "nesterov": true, "normalize": true}
	for _, k := range train.Keys() {
		v := &configValue{isBool: bools[k]}
		vals[k] = &v.s
		fs.Var(v, k, keyHelp[k]+" (`"+keyTypes[k]+"`)")
	}
	return vals
}

// configValue is a flag holding the text of one configuration value;
// boolean keys may be given without a value.
type configValue struct {
	s      string
	isBool bool
}

func (v *configValue) String() string     { return v.s }
func (v *configValue) Set(s string) error { v.s = s; return nil }
func (v *configValue) IsBoolFlag() bool   { return v.isBool }

var flagPrefix = regexp.MustCompile(`^flags(:\d+)?: `)

// applyFlags overlays the flags that were set on c.
func applyFlags(fs *flag.FlagSet, vals map[string]*string, c train.Config) (train.Config, error) {
	var b strings.Builder
	var err error
	fs.Visit(func(f *flag.Flag) {
		v, ok := vals[f.Name]
		if !ok {
			return
		}
		s := strings.TrimSpace(*v)
		if f.Name == "hidden" {
			s = "[" + s + "]"
		} else if strings.ContainsAny(s, ":#{}[]\n") || s == "" {
			if f.Name == "probes" || f.Name == "data" {
				s = fmt.Sprintf("%q", s)
			} else {
				err = usagef("-%s %q: not a valid value", f.Name, *v)
			}
		}
		fmt.Fprintf(&b, "%s: %s\n", f.Name, s)
	})
	if err != nil {
		return c, err
	}
	c, err = train.ParseConfig([]byte(b.String()), "flags", c)
	if err != nil {
		return c, usagef("%s", flagPrefix.ReplaceAllString(err.Error(), "-"))
	}
	return c, nil
}

func runTrain(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("train", "train [-config FILE] [-preset NAME] [-out DIR] [-resume DIR] [flags]", stderr)
	preset := fs.String("preset", "", "start from a preset: "+strings.Join(train.PresetNames(), ", ")+" (default \"default\")")
	cfgFile := fs.String("config", "", "YAML configuration file (keys are the flag names); flags override it")
	out := fs.String("out", "", "run directory to create (default: a new directory under runs/)")
	resume := fs.String("resume", "", "continue the interrupted run in this directory")
	quiet := fs.Bool("quiet", false, "print only the final table")
	noReport := fs.Bool("no-report", false, "do not write report.html")
	tb := fs.Bool("tensorboard", false, "also write TensorBoard event files into the run directory")
	maxMem := memoryFlag(fs)
	vals := configFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var cfg train.Config
	var err error
	var rd *train.RunDir
	if *resume != "" {
		set := 0
		fs.Visit(func(f *flag.Flag) {
			if _, ok := vals[f.Name]; ok || f.Name == "preset" || f.Name == "config" || f.Name == "out" {
				set++
			}
		})
		if set > 0 {
			return usagef("-resume takes the configuration from %s; remove the other configuration flags", filepath.Join(*resume, train.ConfigFile))
		}
		if rd, err = train.OpenRunDir(*resume); err != nil {
			return err
		}
		defer rd.Close()
		if cfg, err = train.LoadConfig(rd.File(train.ConfigFile), train.Config{}); err != nil {
			return fmt.Errorf("resume: %w", err)
		}
	} else {
		name := *preset
		if name == "" {
			name = "default"
		}
		if cfg, err = train.Preset(name); err != nil {
			return usagef("%v", err)
		}
		if *cfgFile != "" {
			if cfg, err = train.LoadConfig(*cfgFile, cfg); err != nil {
				return err
			}
		}
		if cfg, err = applyFlags(fs, vals, cfg); err != nil {
			return err
		}
		if err := cfg.Validate(); err != nil {
			return usagef("%v", err)
		}
		if err := train.TrainingEstimate(&cfg).Check(maxMem.limit(), "this configuration", "-max-memory"); err != nil {
			return usagef("%v", err)
		}
		label := name
		if *cfgFile != "" {
			label = strings.TrimSuffix(filepath.Base(*cfgFile), filepath.Ext(*cfgFile))
		}
		if rd, err = makeRunDir(*out, label); err != nil {
			return err
		}
		defer rd.Close()
	}
	return trainInDir(cfg, rd, *resume != "", trainOptions{quiet: *quiet, report: !*noReport, tensorboard: *tb, maxMemory: maxMem.limit()}, stdout, stderr)
}

type trainOptions struct {
	quiet, report, tensorboard bool
	// notebook prints "Epoch E Loss: L" lines as the notebook does.
	notebook  bool
	maxMemory int64 // 0: the default
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
	if resuming {
		again = "nothing changed; continue with: matapprox train -resume " + dir
	}
	sig := catchInterrupts(stderr, "during setup (data, probes, warm-start targets): nothing was trained; "+again)
	defer sig.stop()
	tr, err := train.NewWithOptions(cfg, train.Options{MaxMemory: opt.maxMemory})
	if err != nil {
		return err
	}
	resumeHint := "matapprox train -resume " + dir
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
	bar := newProgress(stderr, opt.quiet)
	if !opt.quiet && !opt.notebook {
		net := fmt.Sprintf("%d→%v→%d network", 2*cfg.InBand+1, cfg.Hidden, 2*cfg.OutBand+1)
		if m := tr.Model; m.Kind == nn.KindSphere {
			net = fmt.Sprintf("sphere approximator x_I + ρ·f(x_out/ρ), f %d→%v→%d symmetrised over %v", m.Net.Config.Inputs, cfg.Hidden, m.Outputs(), m.Symmetry)
		}
		fmt.Fprintf(stdout, "training %s: %s loss, %s, %s lr %g, %d epochs of %d batches of %d\n",
			dir, cfg.Loss, net, cfg.Optimizer, cfg.LR, cfg.Epochs,
			(tr.Train.Rows+cfg.BatchSize-1)/cfg.BatchSize, cfg.BatchSize)
		fmt.Fprintf(stdout, "%6s  %12s  %12s  %10s  %8s\n", "epoch", "train loss", "val loss", "lr", "elapsed")
	}
	cb := rd.Callbacks(tr, train.Callbacks{
		Batch: bar.update,
		Epoch: func(s train.EpochStats) error {
			bar.clear()
			switch {
			case opt.notebook:
				fmt.Fprintf(stdout, "Epoch %d Loss: %v\n", s.Epoch, float32(s.LastBatch))
			case !opt.quiet:
				fmt.Fprintf(stdout, "%6d  %12.5g  %12.5g  %10.3g  %7.2fs\n", s.Epoch, s.TrainLoss, s.ValLoss, s.LR, s.Elapsed)
			}
			events.epoch(s)
			return nil
		},
	})
	sig.phase(true, "during training; the last checkpoint is kept; continue with: "+resumeHint)
	err = tr.Run(sig.ctx, cb)
	bar.clear()
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
	re, err := evaluateRun(tr.Model, tr.Loss, &cfg, tr.Train, tr.Val)
	if err != nil {
		return err
	}
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

// progress draws a progress bar inside an epoch when stderr is a terminal.
type progress struct {
	w    io.Writer
	on   bool
	last time.Time
}

func newProgress(w io.Writer, quiet bool) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok && !quiet {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	return p
}

func (p *progress) update(epoch, done, total int) {
	if !p.on || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	const width = 30
	k := width * done / max(total, 1)
	fmt.Fprintf(p.w, "\repoch %d [%s%s] %d/%d", epoch, strings.Repeat("=", k), strings.Repeat(" ", width-k), done, total)
}

func (p *progress) clear() {
	if p.on {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", 60))
	}
}
