package train

import (
	"math/rand/v2"
	"path/filepath"
	"strings"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/internal/choice"
	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/nn"
	"github.com/matapprox/matapprox/optim"
	"github.com/matapprox/matapprox/structure"
)

// The registries: one per configuration choice. Each is the only list of
// its names; parsing, validation, error messages, help and the code that
// builds the object all read it. A name comes from the package that defines
// the object where that package has one (nn.Tanh.String(), optim.AlgAdam).

type lossBuilder func(cfg *Config) (loss.Loss, []float64, error)

var losses = choice.New(
	choice.Option[lossBuilder]{Name: "probe", Value: buildProbeLoss,
		Doc: "mean of rᵀQr over probe vectors, r = x − embed(a) (the notebook's loss)"},
	choice.Option[lossBuilder]{Name: "frobenius", Value: buildFrobeniusLoss,
		Doc: "‖T(x) − T(a)‖_F²"},
	choice.Option[lossBuilder]{Name: "spectral", Value: buildSpectralLoss,
		Doc: "‖T(x) − T(a)‖₂, the operator norm (exact optimum by SDP)"},
)

type probeDrawer func(rng *rand.Rand, p, n int) []float64

var probeDistributions = choice.New(
	choice.Option[probeDrawer]{Name: "notebook", Value: loss.NotebookProbes, Doc: "the notebook's all-positive probes"},
	choice.Option[probeDrawer]{Name: "gaussian", Value: loss.GaussianProbes, Doc: "standard normal entries"},
	choice.Option[probeDrawer]{Name: "rademacher", Value: loss.RademacherProbes, Doc: "±1 entries"},
)

type generatorBuilder func(b structure.Band) (data.Generator, error)

// generators are data's named generators (data.GeneratorNames).
var generators = func() *choice.Registry[generatorBuilder] {
	opts := make([]choice.Option[generatorBuilder], len(data.GeneratorNames))
	for i, n := range data.GeneratorNames {
		opts[i] = choice.Option[generatorBuilder]{Name: n, Value: func(b structure.Band) (data.Generator, error) {
			return data.GeneratorByName(n, b)
		}}
	}
	return choice.New(opts...)
}()

var optimizers = choice.New(
	choice.Option[optim.Algorithm]{Name: string(optim.AlgAdagrad), Value: optim.AlgAdagrad},
	choice.Option[optim.Algorithm]{Name: string(optim.AlgSGD), Value: optim.AlgSGD},
	choice.Option[optim.Algorithm]{Name: string(optim.AlgAdam), Value: optim.AlgAdam},
	choice.Option[optim.Algorithm]{Name: string(optim.AlgAdamW), Value: optim.AlgAdamW},
)

type scheduleBuilder func(c *Config) (optim.Schedule, error)

// scheduleFrom returns the builder of the named schedule: the configuration's
// settings passed to optim.NewSchedule, the one constructor and validator of
// schedules.
func scheduleFrom(name string) scheduleBuilder {
	return func(c *Config) (optim.Schedule, error) {
		return optim.NewSchedule(optim.ScheduleSpec{Name: name, Rate: c.LR,
			DropFactor: c.DropFactor, DropPeriod: c.DropPeriod, Min: c.MinLR, Epochs: c.Epochs})
	}
}

var schedules = choice.New(
	choice.Option[scheduleBuilder]{Name: "constant", Doc: "lr throughout", Value: scheduleFrom("constant")},
	choice.Option[scheduleBuilder]{Name: "piecewise", Doc: "lr × drop-factor every drop-period epochs",
		Value: scheduleFrom("piecewise")},
	choice.Option[scheduleBuilder]{Name: "cosine", Doc: "cosine from lr to min-lr over the epochs",
		Value: scheduleFrom("cosine")},
)

var activations = choice.New(
	choice.Option[nn.Activation]{Name: nn.Tanh.String(), Value: nn.Tanh},
	choice.Option[nn.Activation]{Name: nn.ReLU.String(), Value: nn.ReLU},
	choice.Option[nn.Activation]{Name: nn.Identity.String(), Value: nn.Identity},
)

var precisions = choice.New(
	choice.Option[nn.Precision]{Name: nn.Float64.String(), Value: nn.Float64, Doc: "float64 throughout"},
	choice.Option[nn.Precision]{Name: nn.Float32.String(), Value: nn.Float32, Doc: "float32 products and activations, float64 parameters"},
)

var reductions = choice.New(
	choice.Option[loss.Reduction]{Name: loss.Mean.String(), Value: loss.Mean},
	choice.Option[loss.Reduction]{Name: loss.Sum.String(), Value: loss.Sum},
)

func buildProbeLoss(cfg *Config) (loss.Loss, []float64, error) {
	in, out := cfg.Bands()
	probes, err := Probes(cfg)
	if err != nil {
		return nil, nil, err
	}
	l, err := loss.NewProbe(in, out, probes, len(probes)/in.N)
	return l, probes, err
}

func buildFrobeniusLoss(cfg *Config) (loss.Loss, []float64, error) {
	in, out := cfg.Bands()
	l, err := loss.NewFrobenius(in, out, cfg.Normalize)
	return l, nil, err
}

func buildSpectralLoss(cfg *Config) (loss.Loss, []float64, error) {
	in, out := cfg.Bands()
	l, err := loss.NewSpectral(in, out)
	return l, nil, err
}

// namedChoice is what Validate and the flag help need of a registry.
type namedChoice interface {
	Names() []string
	canonical(s string) (string, bool)
}

type registry[T any] struct{ *choice.Registry[T] }

func (r registry[T]) canonical(s string) (string, bool) {
	o, ok := r.Lookup(s)
	return o.Name, ok
}

// choices maps each key whose value is a name to its registry. For probes
// and data, a value that is not a name is the path of a file.
var choices = map[string]namedChoice{
	"loss":       registry[lossBuilder]{losses},
	"probes":     registry[probeDrawer]{probeDistributions},
	"data":       registry[generatorBuilder]{generators},
	"optimizer":  registry[optim.Algorithm]{optimizers},
	"schedule":   registry[scheduleBuilder]{schedules},
	"activation": registry[nn.Activation]{activations},
	"reduction":  registry[loss.Reduction]{reductions},
	"precision":  registry[nn.Precision]{precisions},
}

// optionalChoices are the keys whose empty value means a default.
var optionalChoices = map[string]bool{"precision": true}

// fileChoices are the keys whose value may also be a file path.
var fileChoices = map[string]bool{"probes": true, "data": true}

// Choices returns the valid names of a configuration key whose value is a
// name ("loss", "optimizer", …), in the order help lists them; nil for
// other keys.
func Choices(key string) []string {
	if r, ok := choices[key]; ok {
		return r.Names()
	}
	return nil
}

// looksLikePath reports whether a probes or data value names a file rather
// than a distribution or generator: it has a directory or an extension.
func looksLikePath(s string) bool {
	return strings.ContainsAny(s, `/\`) || filepath.Ext(s) != ""
}

// isDistribution reports whether s names a probe distribution.
func isDistribution(s string) bool {
	_, ok := probeDistributions.Lookup(s)
	return ok
}

// isGenerator reports whether s names a data generator.
func isGenerator(s string) bool {
	_, ok := generators.Lookup(s)
	return ok
}
