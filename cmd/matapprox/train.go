package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/matapprox/matapprox/internal/atomicfile"
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
	vals := configFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var cfg train.Config
	var dir string
	var err error
	if *resume != "" {
		dir = *resume
		set := 0
		fs.Visit(func(f *flag.Flag) {
			if _, ok := vals[f.Name]; ok || f.Name == "preset" || f.Name == "config" || f.Name == "out" {
				set++
			}
		})
		if set > 0 {
			return usagef("-resume takes the configuration from %s; remove the other configuration flags", filepath.Join(dir, train.ConfigFile))
		}
		if cfg, err = train.LoadConfig(filepath.Join(dir, train.ConfigFile), train.Config{}); err != nil {
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
		label := name
		if *cfgFile != "" {
			label = strings.TrimSuffix(filepath.Base(*cfgFile), filepath.Ext(*cfgFile))
		}
		if dir, err = makeRunDir(*out, label); err != nil {
			return err
		}
	}
	return trainInDir(cfg, dir, *resume != "", trainOptions{quiet: *quiet, report: !*noReport, tensorboard: *tb}, stdout, stderr)
}

type trainOptions struct {
	quiet, report, tensorboard bool
	// notebook prints "Epoch E Loss: L" lines as the notebook does.
	notebook bool
}

// makeRunDir creates a fresh run directory: out if given (it must not
// exist or be empty), else runs/<time>-<label>.
func makeRunDir(out, label string) (string, error) {
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
	if entries, err := os.ReadDir(out); err == nil && len(entries) > 0 {
		return "", usagef("run directory %s already exists and is not empty; choose another -out, or continue it with -resume %s", out, out)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", fmt.Errorf("create run directory: %w", err)
	}
	return out, nil
}

// trainInDir runs training into dir and writes everything a run leaves.
func trainInDir(cfg train.Config, dir string, resuming bool, opt trainOptions, stdout, stderr io.Writer) error {
	tr, err := train.New(cfg)
	if err != nil {
		return err
	}
	ckpt := filepath.Join(dir, train.CheckpointFile)
	if resuming {
		if err := tr.Resume(ckpt); err != nil {
			return err
		}
		if !opt.quiet {
			fmt.Fprintf(stdout, "resuming %s at epoch %d\n", dir, tr.Epoch()+1)
		}
	} else {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create run directory: %w", err)
		}
		if err := train.WriteConfig(filepath.Join(dir, train.ConfigFile), &cfg); err != nil {
			return err
		}
	}
	var events *eventLog
	if opt.tensorboard {
		if events, err = openEvents(dir); err != nil {
			return err
		}
		defer events.Close()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	bar := newProgress(stderr, opt.quiet)
	if !opt.quiet && !opt.notebook {
		fmt.Fprintf(stdout, "training %s: %s loss, %d→%v→%d network, %s lr %g, %d epochs of %d batches of %d\n",
			dir, cfg.Loss, 2*cfg.InBand+1, cfg.Hidden, 2*cfg.OutBand+1, cfg.Optimizer, cfg.LR, cfg.Epochs,
			(tr.Train.Rows+cfg.BatchSize-1)/cfg.BatchSize, cfg.BatchSize)
		fmt.Fprintf(stdout, "%6s  %12s  %12s  %10s  %8s\n", "epoch", "train loss", "val loss", "lr", "elapsed")
	}
	cb := train.Callbacks{
		Batch: bar.update,
		Epoch: func(s train.EpochStats) {
			bar.clear()
			switch {
			case opt.notebook:
				fmt.Fprintf(stdout, "Epoch %d Loss: %v\n", s.Epoch, float32(s.LastBatch))
			case !opt.quiet:
				fmt.Fprintf(stdout, "%6d  %12.5g  %12.5g  %10.3g  %7.2fs\n", s.Epoch, s.TrainLoss, s.ValLoss, s.LR, s.Elapsed)
			}
			if err := train.WriteMetrics(filepath.Join(dir, train.MetricsFile), tr.History); err != nil {
				fmt.Fprintf(stderr, "warning: %v\n", err)
			}
			if err := tr.WriteCheckpoint(ckpt); err != nil {
				fmt.Fprintf(stderr, "warning: %v\n", err)
			}
			events.epoch(s)
		},
		Improved: func(train.EpochStats) {
			if err := tr.Model.Save(filepath.Join(dir, train.BestFile)); err != nil {
				fmt.Fprintf(stderr, "warning: saving the best model: %v\n", err)
			}
		},
	}
	err = tr.Run(ctx, cb)
	bar.clear()
	switch {
	case errors.Is(err, train.ErrInterrupted):
		if werr := tr.WriteCheckpoint(ckpt); werr != nil {
			return fmt.Errorf("interrupted, and the checkpoint could not be written: %w", werr)
		}
		train.WriteMetrics(filepath.Join(dir, train.MetricsFile), tr.History)
		fmt.Fprintf(stderr, "interrupted during epoch %d; checkpoint written. Resume with:\n  matapprox train -resume %s\n", tr.Epoch()+1, dir)
		return &exitError{130, errors.New("interrupted")}
	case err != nil:
		return fmt.Errorf("%w (no model was saved)", err)
	}
	if err := tr.Model.Save(dir); err != nil {
		return err
	}
	ev, res, sum, err := evaluateRun(tr.Model, &cfg, tr.Train, tr.Val)
	if err != nil {
		return err
	}
	if !opt.notebook {
		fmt.Fprintln(stdout)
		printSummary(stdout, sum)
	}
	if opt.report {
		if err := writeReport(dir, tr.Model, &cfg, tr.History, ev, res, sum); err != nil {
			fmt.Fprintf(stderr, "warning: report: %v\n", err)
		} else if !opt.quiet && !opt.notebook {
			fmt.Fprintf(stdout, "report: %s\n", filepath.Join(dir, "report.html"))
		}
	}
	summary := map[string]any{
		"config": cfg, "epochs": tr.Epoch(), "best_epoch": tr.BestEpoch, "best_val_loss": jsonNum(tr.BestVal),
		"elapsed_s": lastElapsed(tr.History), "eval": sum,
	}
	b, _ := json.MarshalIndent(summary, "", "  ")
	return atomicfile.WriteFile(filepath.Join(dir, train.SummaryFile), append(b, '\n'), 0o644)
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
