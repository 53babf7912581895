package optim

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Schedule gives the learning rate of each epoch (0-based).
type Schedule interface {
	// LR returns the learning rate for epoch (0-based; negative epochs are
	// treated as 0).
	LR(epoch int) float64
	// String returns the schedule in the syntax of ParseSchedule.
	String() string
}

// Constant is a fixed learning rate.
type Constant struct {
	Rate float64
}

// LR returns c.Rate.
func (c Constant) LR(int) float64 { return c.Rate }

// String returns "constant:lr=…".
func (c Constant) String() string { return "constant:lr=" + ftoa(c.Rate) }

// Piecewise is MATLAB trainingOptions' "piecewise" schedule: the rate is
// multiplied by DropFactor every DropPeriod epochs,
//
//	lr(epoch) = Rate · DropFactor^⌊epoch/DropPeriod⌋.
//
// The notebook declares Rate 0.25, DropFactor 0.5, DropPeriod 5.
type Piecewise struct {
	Rate       float64
	DropFactor float64
	DropPeriod int
}

// LR returns the rate for epoch.
func (p Piecewise) LR(epoch int) float64 {
	if p.DropPeriod < 1 {
		return p.Rate
	}
	return p.Rate * math.Pow(p.DropFactor, float64(max(epoch, 0)/p.DropPeriod))
}

// String returns "piecewise:lr=…,factor=…,period=…".
func (p Piecewise) String() string {
	return fmt.Sprintf("piecewise:lr=%s,factor=%s,period=%d", ftoa(p.Rate), ftoa(p.DropFactor), p.DropPeriod)
}

// Cosine anneals from Rate to Min over Epochs epochs (Loshchilov & Hutter,
// "SGDR", ICLR 2017, without restarts) and stays at Min afterwards:
//
//	lr(e) = Min + (Rate − Min)·(1 + cos(π·e/Epochs))/2   for e < Epochs.
type Cosine struct {
	Rate, Min float64
	Epochs    int
}

// LR returns the rate for epoch.
func (c Cosine) LR(epoch int) float64 {
	e := max(epoch, 0)
	if c.Epochs < 1 || e >= c.Epochs {
		return c.Min
	}
	return c.Min + (c.Rate-c.Min)*(1+math.Cos(math.Pi*float64(e)/float64(c.Epochs)))/2
}

// String returns "cosine:lr=…,min=…,epochs=…".
func (c Cosine) String() string {
	return fmt.Sprintf("cosine:lr=%s,min=%s,epochs=%d", ftoa(c.Rate), ftoa(c.Min), c.Epochs)
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// ParseSchedule parses a schedule description "name" or "name:key=value,…"
// with the base learning rate lr used unless the description sets lr=:
//
//	constant                              lr
//	piecewise[:factor=F][,period=P]       defaults factor 0.5, period 5 (the notebook's)
//	cosine:epochs=E[,min=M]               min defaults to 0
//
// Every schedule accepts lr=. Rates must be finite and non-negative, the drop
// factor in (0, 1], periods and epochs positive. Errors wrap ErrConfig.
func ParseSchedule(s string, lr float64) (Schedule, error) {
	name, args, _ := strings.Cut(strings.TrimSpace(s), ":")
	name = strings.ToLower(strings.TrimSpace(name))
	kv := map[string]string{}
	if strings.TrimSpace(args) != "" {
		for _, part := range strings.Split(args, ",") {
			k, v, ok := strings.Cut(part, "=")
			k = strings.ToLower(strings.TrimSpace(k))
			if !ok || k == "" {
				return nil, fmt.Errorf("schedule %q: argument %q is not key=value: %w", s, part, ErrConfig)
			}
			if _, dup := kv[k]; dup {
				return nil, fmt.Errorf("schedule %q: %s given twice: %w", s, k, ErrConfig)
			}
			kv[k] = strings.TrimSpace(v)
		}
	}
	num := func(key string, def float64) (float64, error) {
		v, ok := kv[key]
		if !ok {
			return def, nil
		}
		delete(kv, key)
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("schedule %q: %s=%q is not a finite number: %w", s, key, v, ErrConfig)
		}
		return f, nil
	}
	integer := func(key string, def int) (int, error) {
		v, ok := kv[key]
		if !ok {
			return def, nil
		}
		delete(kv, key)
		i, err := strconv.Atoi(v)
		if err != nil || i < 1 {
			return 0, fmt.Errorf("schedule %q: %s=%q is not a positive integer: %w", s, key, v, ErrConfig)
		}
		return i, nil
	}
	rate, err := num("lr", lr)
	if err != nil {
		return nil, err
	}
	spec := ScheduleSpec{Name: name, Rate: rate}
	switch name {
	case "constant", "none", "":
		spec.Name = "constant"
	case "piecewise", "step":
		spec.Name = "piecewise"
		if spec.DropFactor, err = num("factor", 0.5); err != nil {
			return nil, err
		}
		if spec.DropPeriod, err = integer("period", 5); err != nil {
			return nil, err
		}
	case "cosine":
		if _, ok := kv["epochs"]; !ok {
			return nil, fmt.Errorf("schedule %q: cosine needs epochs=E: %w", s, ErrConfig)
		}
		if spec.Epochs, err = integer("epochs", 0); err != nil {
			return nil, err
		}
		if spec.Min, err = num("min", 0); err != nil {
			return nil, err
		}
	}
	out, err := NewSchedule(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", s, err)
	}
	for k := range kv {
		return nil, fmt.Errorf("schedule %q: unknown argument %q for %s: %w", s, k, name, ErrConfig)
	}
	return out, nil
}

// ScheduleNames lists the schedules NewSchedule builds.
var ScheduleNames = []string{"constant", "piecewise", "cosine"}

// ScheduleSpec names a schedule and holds its settings; each schedule reads
// only its own: Rate (all), DropFactor and DropPeriod (piecewise), Min and
// Epochs (cosine).
type ScheduleSpec struct {
	Name       string
	Rate       float64
	DropFactor float64
	DropPeriod int
	Min        float64
	Epochs     int
}

// NewSchedule checks spec and builds its schedule: the one place that maps
// a schedule name to a Schedule, used by ParseSchedule and by the training
// configuration. Rates must be finite and non-negative, the drop factor in
// (0, 1], the period and the epochs positive, the minimum between 0 and the
// rate. Errors name the setting and wrap ErrConfig.
func NewSchedule(spec ScheduleSpec) (Schedule, error) {
	if !(spec.Rate >= 0) || math.IsInf(spec.Rate, 0) {
		return nil, fmt.Errorf("learning rate %v must be finite and non-negative: %w", spec.Rate, ErrConfig)
	}
	switch spec.Name {
	case "constant":
		return Constant{Rate: spec.Rate}, nil
	case "piecewise":
		if !(spec.DropFactor > 0 && spec.DropFactor <= 1) {
			return nil, fmt.Errorf("drop factor %v must be in (0, 1]: %w", spec.DropFactor, ErrConfig)
		}
		if spec.DropPeriod < 1 {
			return nil, fmt.Errorf("drop period %d must be at least 1 epoch: %w", spec.DropPeriod, ErrConfig)
		}
		return Piecewise{Rate: spec.Rate, DropFactor: spec.DropFactor, DropPeriod: spec.DropPeriod}, nil
	case "cosine":
		if spec.Epochs < 1 {
			return nil, fmt.Errorf("cosine over %d epochs: must be at least 1: %w", spec.Epochs, ErrConfig)
		}
		if !(spec.Min >= 0 && spec.Min <= spec.Rate) {
			return nil, fmt.Errorf("minimum %v must be between 0 and the rate %v: %w", spec.Min, spec.Rate, ErrConfig)
		}
		return Cosine{Rate: spec.Rate, Min: spec.Min, Epochs: spec.Epochs}, nil
	}
	return nil, fmt.Errorf("unknown schedule %q, want %s: %w", spec.Name, strings.Join(ScheduleNames, ", "), ErrConfig)
}
