package train

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"

	"github.com/matapprox/matapprox/internal/choice"

	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/nn"
	"github.com/matapprox/matapprox/optim"
	"github.com/matapprox/matapprox/structure"
)

// MaxN is the largest matrix size a configuration accepts: training,
// evaluation and the probe loss form N×N quadratic forms. (The spectral
// solver alone goes further: optimal.Banded, `matapprox optimal -loss
// spectral` above MaxN.)
const MaxN = 4096

// ErrConfig reports an invalid run configuration.
var ErrConfig = errors.New("invalid configuration")

// Config is a complete, reproducible description of a training run. Its
// YAML keys are the command-line flag names of `matapprox train`. The group
// and doc tags give each key's section and line in `matapprox train -h`: a
// new key is a field with these four tags, a rule in rules (its valid
// values), when its value is a name, a registry in choices.go listed in
// choices, and, when it applies only with some other setting, an entry in
// applicability.
type Config struct {
	// Problem: approximate N×N Toeplitz matrices of half-bandwidth InBand
	// by ones of half-bandwidth OutBand.
	N       int `yaml:"n" json:"n" group:"problem" doc:"matrix size N"`
	InBand  int `yaml:"in-band" json:"in_band" group:"problem" doc:"half-bandwidth K of the input matrices"`
	OutBand int `yaml:"out-band" json:"out_band" group:"problem" doc:"half-bandwidth K' of the approximation (K' <= K)"`

	// Loss is "probe", "frobenius" or "spectral".
	Loss string `yaml:"loss" json:"loss" group:"problem" doc:"training loss"`
	// Probes is the probe distribution ("notebook", "gaussian",
	// "rademacher") or the path of a CSV or .npy file of probes, one per row.
	Probes    string `yaml:"probes" json:"probes" group:"problem" doc:"probe distribution, or a CSV/.npy file of probes (one per row)"`
	NumProbes int    `yaml:"num-probes" json:"num_probes" group:"problem" doc:"number of probes drawn from the distribution"`
	// Normalize divides the Frobenius loss by N.
	Normalize bool `yaml:"normalize" json:"normalize" group:"problem" doc:"divide the Frobenius loss by N"`
	// Reduction over a batch: "mean" or "sum". LossScale multiplies the
	// training objective (0 means 1).
	Reduction string  `yaml:"reduction" json:"reduction" group:"problem" doc:"reduction of the loss over a batch"`
	LossScale float64 `yaml:"loss-scale" json:"loss_scale" group:"problem" doc:"factor on the training objective (0 means 1)"`

	// Data is a generator name ("notebook", "gaussian",
	// "notebook-symmetric", "gaussian-symmetric") or the path of a CSV or
	// .npy file of input generators.
	Data string `yaml:"data" json:"data" group:"data" doc:"training data: a generator, or a CSV/.npy file of input generators"`
	// TrainSize and ValSize are the numbers of generated training and
	// validation matrices. With a data file, ValFraction of its rows are
	// held out instead.
	TrainSize   int     `yaml:"train-size" json:"train_size" group:"data" doc:"number of generated training matrices"`
	ValSize     int     `yaml:"val-size" json:"val_size" group:"data" doc:"number of generated validation matrices"`
	ValFraction float64 `yaml:"val-fraction" json:"val_fraction" group:"data" doc:"fraction of a data file held out for validation"`

	// Network.
	Hidden      []int  `yaml:"hidden" json:"hidden" group:"network" doc:"hidden layer widths, comma-separated (e.g. 100,100)"`
	Activation  string `yaml:"activation" json:"activation" group:"network" doc:"activation after every hidden layer"`
	Standardize bool   `yaml:"standardize" json:"standardize" group:"network" doc:"standardise the inputs with the training data's mean and deviation"`
	// Architecture is "mlp" (or empty: the network maps the whole input,
	// the notebook's), "sphere" (exact by construction: the in-band
	// entries are copied, the network predicts the correction on the unit
	// sphere of the out-of-band ones) or, for the spectral loss, "symbol"
	// (the symbol's Chebyshev solution a_∞ plus a learned finite-N
	// correction on that sphere, (K/N)²·||x_out||·f(x_out/||x_out||)); see
	// package nn.
	Architecture string `yaml:"architecture" json:"architecture,omitempty" group:"network" doc:"mlp (the network maps the whole input; empty = mlp), sphere (exact by construction: x_I + ||x_out||·f(x_out/||x_out||)) or symbol (spectral: a_∞ + (K/N)²·||x_out||·f(x_out/||x_out||), a_∞ the symbol's Chebyshev solution)"`
	// Symmetry is the group a sphere or symbol approximator averages over: "none",
	// "odd", "odd+reverse+modulate", … or empty for the loss's own group
	// (odd+reverse+modulate for the 2-norm, odd otherwise).
	Symmetry string `yaml:"symmetry" json:"symmetry,omitempty" group:"network" doc:"sphere: group to average over (none, odd, odd+reverse+modulate, …; empty = the loss's own)"`
	// SphereFraction of the training rows of a sphere or symbol approximator get
	// out-of-band directions drawn on the sphere (their norm kept; see
	// data.CoverSphere), so that training covers every direction.
	SphereFraction float64 `yaml:"sphere-fraction" json:"sphere_fraction,omitempty" group:"data" doc:"sphere, symbol: fraction of training rows given out-of-band directions covering the sphere"`
	// SpectralSmoothing, when positive, trains the spectral loss through
	// its smooth upper bound loss.SmoothSpectral with this relative
	// temperature at the start, scaled with the learning rate's schedule
	// (τ_epoch = SpectralSmoothing · lr_epoch / LR); validation and
	// evaluation use the 2-norm itself.
	SpectralSmoothing float64 `yaml:"spectral-smoothing" json:"spectral_smoothing,omitempty" group:"problem" doc:"spectral: train through the smooth bound σ_1 + τ·log Σ exp((σ_i−σ_1)/τ), τ = this × σ_1, sharpened with the schedule (0 = off)"`
	// Precision is the arithmetic of training: "f64" (the default when
	// empty) or "f32", a float32 model as PyTorch trains one: float32
	// products, activations, training loss (loss.Quadratic.Float32),
	// gradients and, for Adagrad and Adam/AdamW without AMSGrad, optimizer
	// state and step (optim.New32), the parameters kept as float32 values
	// in float64 (see nn.Precision). Evaluation stays float64.
	Precision string `yaml:"precision" json:"precision,omitempty" group:"network" doc:"training arithmetic (f32: float32 network, loss, gradients and optimizer; empty = f64)"`

	// Optimizer: "adagrad", "sgd", "adam" or "adamw".
	Optimizer   string  `yaml:"optimizer" json:"optimizer" group:"optimizer" doc:"optimization algorithm (PyTorch update rules and defaults)"`
	LR          float64 `yaml:"lr" json:"lr" group:"optimizer" doc:"initial learning rate"`
	Momentum    float64 `yaml:"momentum" json:"momentum" group:"optimizer" doc:"SGD momentum"`
	Nesterov    bool    `yaml:"nesterov" json:"nesterov" group:"optimizer" doc:"SGD Nesterov momentum"`
	WeightDecay float64 `yaml:"weight-decay" json:"weight_decay" group:"optimizer" doc:"weight decay (L2 for adagrad/sgd/adam, decoupled for adamw)"`
	ClipNorm    float64 `yaml:"clip-norm" json:"clip_norm" group:"optimizer" doc:"clip the gradient's global norm to this (0 = off)"`

	// Schedule: "constant", "piecewise" (lr × DropFactor every DropPeriod
	// epochs, MATLAB's trainingOptions) or "cosine" (to MinLR).
	Schedule   string  `yaml:"schedule" json:"schedule" group:"schedule" doc:"learning-rate schedule"`
	DropFactor float64 `yaml:"drop-factor" json:"drop_factor" group:"schedule" doc:"piecewise: multiply the learning rate by this"`
	DropPeriod int     `yaml:"drop-period" json:"drop_period" group:"schedule" doc:"piecewise: every this many epochs"`
	MinLR      float64 `yaml:"min-lr" json:"min_lr" group:"schedule" doc:"cosine: final learning rate"`

	Epochs    int    `yaml:"epochs" json:"epochs" group:"schedule" doc:"number of epochs"`
	BatchSize int    `yaml:"batch-size" json:"batch_size" group:"optimizer" doc:"samples per batch"`
	Seed      uint64 `yaml:"seed" json:"seed" group:"run" doc:"random seed: the same seed and configuration give bit-identical weights"`

	// Early stopping on the validation loss: stop after Patience epochs
	// without an improvement larger than MinDelta (relative). 0 disables it.
	Patience int     `yaml:"patience" json:"patience" group:"schedule" doc:"early stopping: epochs without improvement of the validation loss (0 = off)"`
	MinDelta float64 `yaml:"min-delta" json:"min_delta" group:"schedule" doc:"early stopping: relative improvement that counts"`

	// WarmStart trains this many epochs first on the squared distance to
	// the exact optimum of the loss (supervised), then on the loss itself.
	WarmStart int `yaml:"warm-start" json:"warm_start" group:"schedule" doc:"epochs of supervised training on the exact optimum before the loss itself"`
	// WarmStartSize limits the warm start to the first this many training
	// rows (0 means all of them): the exact optima are computed only for
	// those, which matters for the spectral loss, whose optimum is an SDP
	// (about 5 ms a matrix at N = 11, 45 ms at N = 32).
	WarmStartSize int `yaml:"warm-start-size" json:"warm_start_size" group:"schedule" doc:"warm start on the first this many training rows only (0 = all)"`

	// Divergence stops training when a batch's per-sample loss exceeds this
	// many times the first batch's: 0 means DefaultDivergence, a negative
	// value turns the check off (a non-finite loss always stops training).
	Divergence float64 `yaml:"divergence" json:"divergence,omitempty" group:"schedule" doc:"stop when a batch's loss exceeds this many times the first batch's (0 = 1e6, negative = no check)"`
}

// DefaultDivergence is the growth of the loss that stops training when
// Config.Divergence is 0.
const DefaultDivergence = 1e6

// Bands returns the input and output bands.
func (c *Config) Bands() (in, out structure.Band) {
	return structure.Band{N: c.N, K: c.InBand}, structure.Band{N: c.N, K: c.OutBand}
}

// NetworkConfig returns the architecture: 2K+1 inputs, 2K'+1 outputs.
func (c *Config) NetworkConfig() (nn.Config, error) {
	o, ok := activations.Lookup(c.Activation)
	if !ok {
		return nn.Config{}, c.choiceError("activation", c.Activation)
	}
	in, out := c.Bands()
	return nn.Config{Inputs: in.Len(), Hidden: append([]int(nil), c.Hidden...), Outputs: out.Len(), Activation: o.Value}, nil
}

// OnSphere reports whether the architecture evaluates its network on the
// sphere of the out-of-band entries (sphere or symbol; nn.Kind.OnSphere):
// the keys symmetry and sphere-fraction apply to it.
func (c *Config) OnSphere() bool {
	a := strings.ToLower(c.Architecture)
	return a == string(nn.KindSphere) || a == string(nn.KindSymbol)
}

// ModelSymmetry returns the symmetry of a sphere or symbol approximator: Symmetry, or
// the group of the loss's optimum when it is empty.
func (c *Config) ModelSymmetry() (nn.Symmetry, error) {
	if c.Symmetry == "" {
		if c.Loss == "spectral" {
			return nn.SymmetryFull, nil
		}
		return nn.Odd, nil
	}
	return nn.ParseSymmetry(c.Symmetry)
}

// NetworkPrecision returns the network's arithmetic: float64 when Precision
// is empty.
func (c *Config) NetworkPrecision() (nn.Precision, error) {
	if c.Precision == "" {
		return nn.Float64, nil
	}
	o, ok := precisions.Lookup(c.Precision)
	if !ok {
		return 0, c.choiceError("precision", c.Precision)
	}
	return o.Value, nil
}

// OptimizerConfig returns the optimizer settings: PyTorch's defaults for
// the algorithm with the configured learning rate, momentum and weight decay.
func (c *Config) OptimizerConfig() (optim.Config, error) {
	o, ok := optimizers.Lookup(c.Optimizer)
	if !ok {
		return optim.Config{}, c.choiceError("optimizer", c.Optimizer)
	}
	oc, err := optim.Defaults(o.Value)
	if err != nil {
		return optim.Config{}, err
	}
	oc.LR = c.LR
	if c.WeightDecay != 0 {
		oc.WeightDecay = c.WeightDecay
	}
	if o.Value == optim.AlgSGD {
		oc.Momentum, oc.Nesterov = c.Momentum, c.Nesterov
	}
	return oc, oc.Validate()
}

// LRSchedule returns the learning-rate schedule.
func (c *Config) LRSchedule() (optim.Schedule, error) {
	name := c.Schedule
	if name == "" {
		name = "constant"
	}
	o, ok := schedules.Lookup(name)
	if !ok {
		return nil, c.choiceError("schedule", c.Schedule)
	}
	return o.Value(c)
}

// Reduce returns the batch reduction.
func (c *Config) Reduce() (loss.Reduction, error) {
	o, ok := reductions.Lookup(c.Reduction)
	if !ok {
		return 0, c.choiceError("reduction", c.Reduction)
	}
	return o.Value, nil
}

// ConfigError is an invalid configuration value. It names the key, the value
// as written, what is valid and, when the value came from a file or a flag,
// where; errors.Is(err, ErrConfig) holds for every ConfigError.
type ConfigError struct {
	Origin
	Key   string // the configuration key ("epochs"), or "preset"
	Value string // the value as written
	// Reason says what is wrong when that is more than being outside Want
	// ("not an integer", "does not apply: …", "unknown key").
	Reason string
	// Want describes the valid values ("an integer between 1 and 4096").
	Want string
	// Suggestion is the valid name closest to a misspelt one, or "".
	Suggestion string

	unknown bool // Key is not a configuration key
}

// Origin says where a configuration value was set: a file and line, or a
// command-line flag. The zero Origin is a preset or a program.
type Origin struct {
	File string
	Line int
	Flag bool
}

// Error formats the error as "FILE:LINE: key: value: reason; want …" for a
// file, "-key value: …" for a flag and "key: value: …" otherwise, with
// "(did you mean …?)" when there is a suggestion.
func (e *ConfigError) Error() string {
	var b strings.Builder
	value := e.Value
	if value == "" {
		value = `""`
	}
	if e.unknown {
		if e.File != "" {
			fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
		}
		fmt.Fprintf(&b, "unknown key %q", e.Key)
		if e.Suggestion != "" {
			fmt.Fprintf(&b, " (did you mean %s?)", e.Suggestion)
		}
		fmt.Fprintf(&b, "; %s", e.Want)
		return b.String()
	}
	switch {
	case e.Flag:
		fmt.Fprintf(&b, "-%s %s: ", e.Key, value)
	case e.Key == "":
		if e.File != "" {
			b.WriteString(e.File)
			if e.Line > 0 {
				fmt.Fprintf(&b, ":%d", e.Line)
			}
			b.WriteString(": ")
		}
	default:
		if e.File != "" {
			b.WriteString(e.File)
			if e.Line > 0 {
				fmt.Fprintf(&b, ":%d", e.Line)
			}
			b.WriteString(": ")
		}
		fmt.Fprintf(&b, "%s: %s: ", e.Key, value)
	}
	switch {
	case e.Reason != "" && e.Want != "":
		fmt.Fprintf(&b, "%s; want %s", e.Reason, e.Want)
	case e.Reason != "":
		b.WriteString(e.Reason)
	default:
		fmt.Fprintf(&b, "want %s", e.Want)
	}
	if e.Suggestion != "" {
		fmt.Fprintf(&b, " (did you mean %s?)", e.Suggestion)
	}
	return b.String()
}

// Is reports whether target is ErrConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrConfig }

var _ error = (*ConfigError)(nil)

// choiceError reports a name that is not in the key's registry.
func (c *Config) choiceError(key, value string) *ConfigError {
	names := choices[key].Names()
	want := "one of " + choice.List(names)
	if fileChoices[key] {
		want += ", or a .csv/.npy file"
	}
	return &ConfigError{Key: key, Value: value, Want: want, Suggestion: choice.Closest(value, names)}
}

// A rule checks one key's value given the whole configuration and describes
// its valid values.
type rule func(c *Config) (ok bool, want string)

func intIn(v *int, lo, hi int) (bool, string) {
	return *v >= lo && *v <= hi, fmt.Sprintf("an integer between %d and %d", lo, hi)
}

func nonNegative(v float64) (bool, string) {
	return finite(v) && v >= 0, "a finite number >= 0"
}

// rules holds the valid values of every key that has a range; Validate and
// the parser's type errors both read it.
var rules = map[string]rule{
	"architecture": func(c *Config) (bool, string) {
		switch c.Architecture {
		case "", "mlp":
			return true, ""
		case "sphere":
			return c.OutBand < c.InBand && !c.Standardize, "mlp, or sphere with out-band < in-band and standardize false (it takes unit directions)"
		case "symbol":
			return c.OutBand < c.InBand && !c.Standardize && c.Loss == "spectral", "mlp, sphere, or symbol with loss spectral, out-band < in-band and standardize false (a_∞ is the 2-norm's N → ∞ optimum; the network takes unit directions)"
		}
		return false, "mlp, sphere or symbol"
	},
	"symmetry": func(c *Config) (bool, string) {
		want := "none, odd, reverse, modulate joined by + (e.g. odd+reverse+modulate), or empty for the loss's own; sphere and symbol only"
		if !c.OnSphere() {
			return c.Symmetry == "", want
		}
		_, err := c.ModelSymmetry()
		return err == nil, want
	},
	"sphere-fraction": func(c *Config) (bool, string) {
		return c.SphereFraction >= 0 && c.SphereFraction <= 1 && (c.SphereFraction == 0 || c.OnSphere()), "a number in [0, 1], for architecture sphere or symbol"
	},
	"spectral-smoothing": func(c *Config) (bool, string) {
		return c.SpectralSmoothing >= 0 && c.SpectralSmoothing < 1 && (c.SpectralSmoothing == 0 || c.Loss == "spectral"), "a number in [0, 1), for loss spectral (0 = off)"
	},
	"n":       func(c *Config) (bool, string) { return intIn(&c.N, 1, MaxN) },
	"in-band": func(c *Config) (bool, string) { return intIn(&c.InBand, 0, max(c.N-1, 0)) },
	"out-band": func(c *Config) (bool, string) {
		return intIn(&c.OutBand, 0, max(c.InBand, 0))
	},
	"num-probes": func(c *Config) (bool, string) { return intIn(&c.NumProbes, 1, 1_000_000) },
	"loss-scale": func(c *Config) (bool, string) {
		ok, want := nonNegative(c.LossScale)
		return ok, want + " (0 means 1)"
	},
	"train-size": func(c *Config) (bool, string) { return intIn(&c.TrainSize, 1, 100_000_000) },
	"val-size":   func(c *Config) (bool, string) { return intIn(&c.ValSize, 0, 100_000_000) },
	"val-fraction": func(c *Config) (bool, string) {
		return c.ValFraction >= 0 && c.ValFraction < 1, "a number in [0, 1)"
	},
	"hidden": func(c *Config) (bool, string) {
		want := "at most 64 widths, each an integer between 1 and 65536 (e.g. [100, 100])"
		if len(c.Hidden) > 64 {
			return false, want
		}
		for _, h := range c.Hidden {
			if h < 1 || h > 1<<16 {
				return false, want
			}
		}
		return true, want
	},
	"lr": func(c *Config) (bool, string) {
		return finite(c.LR) && c.LR > 0, "a finite number > 0"
	},
	"momentum": func(c *Config) (bool, string) { return nonNegative(c.Momentum) },
	"nesterov": func(c *Config) (bool, string) {
		return !c.Nesterov || c.Momentum > 0, "false unless momentum > 0 (Nesterov momentum needs a momentum)"
	},
	"weight-decay": func(c *Config) (bool, string) { return nonNegative(c.WeightDecay) },
	"clip-norm": func(c *Config) (bool, string) {
		ok, want := nonNegative(c.ClipNorm)
		return ok, want + " (0 = off)"
	},
	"drop-factor": func(c *Config) (bool, string) {
		return c.DropFactor > 0 && c.DropFactor <= 1, "a number in (0, 1]"
	},
	"drop-period": func(c *Config) (bool, string) { return intIn(&c.DropPeriod, 1, 1_000_000) },
	"min-lr":      func(c *Config) (bool, string) { return nonNegative(c.MinLR) },
	"epochs":      func(c *Config) (bool, string) { return intIn(&c.Epochs, 1, 1_000_000) },
	"batch-size":  func(c *Config) (bool, string) { return intIn(&c.BatchSize, 1, 1<<20) },
	"seed": func(c *Config) (bool, string) {
		return true, "an integer between 0 and 18446744073709551615"
	},
	"patience": func(c *Config) (bool, string) { return intIn(&c.Patience, 0, 1_000_000) },
	"divergence": func(c *Config) (bool, string) {
		return finite(c.Divergence), "a finite number (0 = 1e6, negative = no check)"
	},
	"min-delta": func(c *Config) (bool, string) { return c.MinDelta >= 0 && c.MinDelta < 1, "a number in [0, 1)" },
	"warm-start": func(c *Config) (bool, string) {
		return intIn(&c.WarmStart, 0, max(c.Epochs, 0))
	},
	"warm-start-size": func(c *Config) (bool, string) {
		ok, want := intIn(&c.WarmStartSize, 0, 100_000_000)
		return ok, want + " (0 = all training rows)"
	},
}

// applicability says, for the keys that matter only with some other
// setting, whether they apply to c and, when not, why.
var applicability = map[string]func(c *Config) (bool, string){
	"probes": lossIs("probe"),
	"num-probes": func(c *Config) (bool, string) {
		return c.Loss == "probe" && isDistribution(c.Probes), numProbesReason(c)
	},
	"normalize":          lossIs("frobenius"),
	"spectral-smoothing": lossIs("spectral"),
	"symmetry":           onSphere,
	"sphere-fraction":    onSphere,
	"momentum":           optimizerIs(string(optim.AlgSGD)),
	"nesterov":           optimizerIs(string(optim.AlgSGD)),
	"drop-factor":        scheduleIs("piecewise"),
	"drop-period":        scheduleIs("piecewise"),
	"min-lr":             scheduleIs("cosine"),
	"train-size":         generated(true),
	"val-size":           generated(true),
	"val-fraction":       generated(false),
	"min-delta": func(c *Config) (bool, string) {
		return c.Patience > 0, "min-delta is for early stopping, which is off (patience is 0)"
	},
	"warm-start-size": func(c *Config) (bool, string) {
		return c.WarmStart > 0, "warm-start-size is for the warm start, which is off (warm-start is 0)"
	},
}

func lossIs(name string) func(c *Config) (bool, string) {
	return func(c *Config) (bool, string) {
		return c.Loss == name, fmt.Sprintf("it is for loss %s, and loss is %s", name, c.Loss)
	}
}

func numProbesReason(c *Config) string {
	if c.Loss != "probe" {
		return "it is for loss probe, and loss is " + c.Loss
	}
	return "the probes come from the file " + c.Probes
}

// onSphere is the applicability of the keys of the architectures on the
// sphere of the out-of-band entries (sphere and symbol).
func onSphere(c *Config) (bool, string) {
	if c.OnSphere() {
		return true, ""
	}
	arch := c.Architecture
	if arch == "" {
		arch = "mlp"
	}
	return false, "it is for architecture sphere or symbol, and architecture is " + arch
}

func optimizerIs(name string) func(c *Config) (bool, string) {
	return func(c *Config) (bool, string) {
		return c.Optimizer == name, fmt.Sprintf("it is for optimizer %s, and optimizer is %s", name, c.Optimizer)
	}
}

func scheduleIs(name string) func(c *Config) (bool, string) {
	return func(c *Config) (bool, string) {
		return c.Schedule == name, fmt.Sprintf("it is for schedule %s, and schedule is %s", name, c.Schedule)
	}
}

func generated(want bool) func(c *Config) (bool, string) {
	return func(c *Config) (bool, string) {
		if isGenerator(c.Data) {
			return want, "it is for a data file, and data is the generator " + c.Data
		}
		return !want, "it is for generated data, and data is the file " + c.Data
	}
}

// Applies reports whether key matters for c and, when it does not, why
// (momentum does not apply to Adam, drop-factor not to a cosine schedule).
func (c *Config) Applies(key string) (bool, string) {
	if f, ok := applicability[key]; ok {
		return f(c)
	}
	return true, ""
}

// Validate checks every key that applies and returns a *ConfigError naming
// the first invalid one, its value and its valid values. Keys that do not
// apply are not checked (a Builder rejects them when they were set). Names
// of choices are matched ignoring case, and Validate rewrites them as their
// registry spells them ("Adam" becomes "adam"), so that a valid Config
// compares equal to its canonical names.
func (c *Config) Validate() error {
	for _, k := range configKeys {
		if r, ok := choices[k.Name]; ok {
			if name, ok := r.canonical(k.Value(c)); ok {
				reflect.ValueOf(c).Elem().Field(k.field).SetString(name)
			}
		}
	}
	// Architecture and symmetry are checked by rules, not registries; their
	// names are lower case.
	c.Architecture, c.Symmetry = strings.ToLower(c.Architecture), strings.ToLower(c.Symmetry)
	for _, k := range configKeys {
		if ok, _ := c.Applies(k.Name); !ok {
			continue
		}
		if r, ok := choices[k.Name]; ok {
			v := k.Value(c)
			if v == "" && optionalChoices[k.Name] {
				continue
			}
			if fileChoices[k.Name] {
				if v == "" {
					return &ConfigError{Key: k.Name, Value: v, Reason: "no value", Want: c.choiceError(k.Name, v).Want}
				}
				if _, ok := r.canonical(v); ok || looksLikePath(v) {
					continue
				}
			} else if _, ok := r.canonical(v); ok {
				continue
			}
			return c.choiceError(k.Name, v)
		}
		if r, ok := rules[k.Name]; ok {
			if ok, want := r(c); !ok {
				return &ConfigError{Key: k.Name, Value: k.Value(c), Want: want}
			}
		}
	}
	if _, err := c.OptimizerConfig(); err != nil {
		return &ConfigError{Key: "optimizer", Value: c.Optimizer, Reason: err.Error()}
	}
	if _, err := c.LRSchedule(); err != nil {
		return &ConfigError{Key: "schedule", Value: c.Schedule, Reason: err.Error()}
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// presets are the named configurations; see Preset. scaled trains in
// float32 (docs/BENCHMARKS.md, "Precision of the presets"); seed stays
// float64, the notebook's reference run, and so do the sphere presets,
// whose figures in docs/SPECTRAL.md were measured in float64.
var presets = map[string]Config{
	// seed is the notebook exactly: 11×11, half-bandwidth 5 → 3, 100
	// all-positive probes, 3000 training rows with entries uniform in
	// [0, 11), an 11→100→100→7 tanh network, Adagrad with lr 0.25, 10
	// epochs of batches of 100, the loss summed over the batch. The
	// notebook's code multiplies by 3000 but the numbers it prints are
	// those of dividing by 3000; Adagrad is invariant to the scale, so
	// training is the same either way, and we divide, to print what the
	// notebook printed.
	"seed": {
		N: 11, InBand: 5, OutBand: 3,
		Loss: "probe", Probes: "notebook", NumProbes: 100, Reduction: "sum", LossScale: 1.0 / 3000,
		Data: "notebook", TrainSize: 3000, ValSize: 1000,
		Hidden: []int{100, 100}, Activation: "tanh",
		Optimizer: "adagrad", LR: 0.25, Schedule: "constant",
		Epochs: 10, BatchSize: 100, Seed: 1,
	},
	// default is the notebook's problem — the same sizes, data and probe
	// distribution — with the sphere architecture, exact by construction
	// (in-band entries copied, zero correction where the out-of-band ones
	// are zero, exact in scale and sign). The probe loss is quadratic, so
	// its optimum is exactly linear in the out-of-band entries and the best
	// network is a learned linear map: no hidden layer (the odd
	// symmetrisation cancels the bias). Half of the training rows get
	// directions covering the sphere. See docs/SPECTRAL.md, "Approximators
	// exact by construction".
	"default": {
		N: 11, InBand: 5, OutBand: 3,
		Loss: "probe", Probes: "notebook", NumProbes: 100, Reduction: "mean",
		Data: "notebook", TrainSize: 20000, ValSize: 1000,
		Hidden: []int{}, Activation: "tanh", Architecture: "sphere", SphereFraction: 0.5,
		Optimizer: "adam", LR: 3e-3, Schedule: "cosine", MinLR: 1e-5,
		Epochs: 30, BatchSize: 100, Seed: 1,
	},
	// spectral learns the operator-norm optimum at the notebook's size
	// with the sphere architecture, symmetrised over sign, reversal and
	// (−1)^d modulation (the 2-norm optimum's group); a quarter of the
	// training rows get directions covering the sphere (docs/SPECTRAL.md,
	// "Approximators exact by construction", for the figures). 120 epochs
	// of 40 000 rows (about three minutes) rather than 40 of 20 000 (half a
	// minute): the gap falls fourfold, in distribution and off it, which
	// is what lets the certifier check nearly every answer cheaply
	// (docs/BENCHMARKS.md, "Certification").
	"spectral": {
		N: 11, InBand: 5, OutBand: 3,
		Loss: "spectral", Reduction: "mean",
		Data: "notebook", TrainSize: 40000, ValSize: 1000,
		Hidden: []int{64, 64}, Activation: "tanh", Architecture: "sphere", SphereFraction: 0.25,
		Optimizer: "adam", LR: 5e-3, Schedule: "cosine", MinLR: 1e-5,
		Epochs: 120, BatchSize: 100, Seed: 1,
	},
	// spectral-32 is the same at N = 32, half-bandwidth 15 → 7, sized for
	// a run of about a minute: the sphere architecture (f 16→128→128→15,
	// symmetrised over sign, reversal and modulation), 12 epochs of 18 000
	// rows in batches of 25 at lr 1e-2, trained through the smoothed 2-norm
	// (loss.SmoothSpectral, τ = 3e-2·σ₁ sharpened with the schedule).
	// Small batches at a high learning rate are what leave the early
	// plateau in that budget; docs/SPECTRAL.md has the measured gap.
	"spectral-32": {
		N: 32, InBand: 15, OutBand: 7,
		Loss: "spectral", Reduction: "mean",
		Data: "notebook", TrainSize: 18000, ValSize: 1000,
		Hidden: []int{128, 128}, Activation: "tanh", Architecture: "sphere", SphereFraction: 0.25, SpectralSmoothing: 3e-2,
		Optimizer: "adam", LR: 1e-2, Schedule: "cosine", MinLR: 1e-5,
		Epochs: 12, BatchSize: 25, Seed: 1,
	},
	// spectral-1024 learns the operator-norm optimum at N = 1024,
	// half-bandwidth 5 → 3 (the notebook's bands), with the symbol
	// architecture: a_∞, the symbol's Chebyshev solution (the N → ∞
	// optimum, optimal.SolveSymbol), plus a learned finite-N correction
	// (K/N)²·ρ·f(x_out/ρ), f 4→64→64→7 symmetrised over sign, reversal and
	// modulation and zero at the start, so that training starts from a_∞.
	// Half of the training rows get directions covering the sphere (the
	// correction then holds off the training distribution too). 30 epochs
	// are supervised on the exact optima of the 2000 training rows
	// (optimal.Banded, certified), the last 10 on the 2-norm itself, at
	// the end of the cosine schedule. docs/SPECTRAL.md has the measured gap
	// against a_∞'s, and why.
	"spectral-1024": {
		N: 1024, InBand: 5, OutBand: 3,
		Loss: "spectral", Reduction: "mean",
		Data: "notebook", TrainSize: 2000, ValSize: 200,
		Hidden: []int{64, 64}, Activation: "tanh", Architecture: "symbol", SphereFraction: 0.5,
		Optimizer: "adam", LR: 3e-3, Schedule: "cosine", MinLR: 1e-5,
		Epochs: 40, WarmStart: 30, BatchSize: 25, Seed: 1,
	},
	// scaled is the benchmark size: N = 129, half-bandwidth 64 → 32, two
	// hidden layers of 512, batches of 256.
	"scaled": {
		N: 129, InBand: 64, OutBand: 32,
		Loss: "probe", Probes: "gaussian", NumProbes: 100, Reduction: "mean",
		Data: "notebook", TrainSize: 20000, ValSize: 1000,
		Hidden: []int{512, 512}, Activation: "tanh", Standardize: true,
		Optimizer: "adam", LR: 1e-3, Schedule: "cosine", MinLR: 1e-5,
		Epochs: 10, BatchSize: 256, Seed: 1, Precision: "f32",
	},
}

// Preset returns a copy of the named configuration; the name is matched
// ignoring case. An unknown name is a *ConfigError that lists the presets
// and suggests the closest.
func Preset(name string) (Config, error) {
	c, ok := presets[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		names := PresetNames()
		return Config{}, &ConfigError{Key: "preset", Value: name, Reason: "no such preset",
			Want: "one of " + choice.List(names), Suggestion: choice.Closest(name, names)}
	}
	c.Hidden = append([]int(nil), c.Hidden...)
	c.ValFraction = DefaultValFraction
	return c, nil
}

// PresetNames lists the preset names in order.
func PresetNames() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
