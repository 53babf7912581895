// Package optim implements first-order optimizers, learning-rate schedules
// and gradient clipping on flat parameter vectors, with the update rules and
// defaults of PyTorch's torch.optim (single-tensor code path, PyTorch 1.13 to
// 2.x) so that training runs can be compared with PyTorch step by step.
//
// Each optimizer updates params in place from grads, both of the length
// given at construction. Writing g for the gradient, p for a parameter, t for
// the 1-based step count and η for the learning rate at the time of the
// step:
//
// Adagrad (Duchi, Hazan & Singer, JMLR 12, 2011):
//
//	g ← g + λp                         (weight decay λ, if non-zero)
//	η_t = η / (1 + (t−1)·lr_decay)
//	s ← s + g²                         (s starts at initial_accumulator_value)
//	p ← p − η_t · g / (√s + ε)         (ε = 1e-10)
//
// SGD with momentum μ, dampening τ and optional Nesterov momentum
// (Sutskever et al., ICML 2013):
//
//	g ← g + λp
//	b ← g at t = 1, else b ← μb + (1−τ)g
//	g ← g + μb (Nesterov) or g ← b
//	p ← p − ηg
//
// Adam (Kingma & Ba, ICLR 2015) and AdamW (Loshchilov & Hutter, ICLR 2019):
//
//	p ← p(1 − ηλ)                      (AdamW only)
//	g ← g + λp                         (Adam only)
//	m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²
//	v̂ ← max(v̂, v) if AMSGrad, else v̂ = v
//	p ← p − (η/(1−β₁ᵗ)) · m / (√v̂/√(1−β₂ᵗ) + ε)
//
// The state of every optimizer (step count, learning rate and buffers) is
// exported by State and restored by SetState, exactly, so a trainer can
// checkpoint and resume bit for bit.
//
// New builds the optimizers in float64. New32 builds Adagrad and Adam/AdamW
// in float32, as PyTorch runs them on a float32 model: state, parameters,
// gradients and every elementwise operation in float32 (Stepper32 updates
// a network's float32 weights in place and writes their float64 widening);
// their State widens the float32 buffers, exactly.
package optim

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/matapprox/matapprox/internal/vmath"
)

// ErrConfig reports invalid hyperparameters or an unknown algorithm.
var ErrConfig = errors.New("invalid optimizer configuration")

// ErrState reports a state that does not fit the optimizer.
var ErrState = errors.New("invalid optimizer state")

// Algorithm names an optimization algorithm.
type Algorithm string

// The supported algorithms.
const (
	AlgAdagrad Algorithm = "adagrad"
	AlgSGD     Algorithm = "sgd"
	AlgAdam    Algorithm = "adam"
	AlgAdamW   Algorithm = "adamw"
)

// ParseAlgorithm returns the algorithm named s, ignoring case and
// surrounding space.
func ParseAlgorithm(s string) (Algorithm, error) {
	a := Algorithm(strings.ToLower(strings.TrimSpace(s)))
	switch a {
	case AlgAdagrad, AlgSGD, AlgAdam, AlgAdamW:
		return a, nil
	}
	return "", fmt.Errorf("optimizer %q: want adagrad, sgd, adam or adamw: %w", s, ErrConfig)
}

// Config holds the hyperparameters of every algorithm; each uses only its
// own fields. Start from Defaults, which gives PyTorch's defaults.
type Config struct {
	Algorithm   Algorithm `json:"algorithm"`
	LR          float64   `json:"lr"`
	WeightDecay float64   `json:"weight_decay"`

	// Adagrad.
	LRDecay                 float64 `json:"lr_decay,omitempty"`
	InitialAccumulatorValue float64 `json:"initial_accumulator_value,omitempty"`

	// SGD.
	Momentum  float64 `json:"momentum,omitempty"`
	Dampening float64 `json:"dampening,omitempty"`
	Nesterov  bool    `json:"nesterov,omitempty"`

	// Adam and AdamW.
	Beta1   float64 `json:"beta1,omitempty"`
	Beta2   float64 `json:"beta2,omitempty"`
	AMSGrad bool    `json:"amsgrad,omitempty"`

	// Eps is added to the denominator (Adagrad, Adam, AdamW).
	Eps float64 `json:"eps,omitempty"`
}

// Defaults returns PyTorch's default hyperparameters for alg: Adagrad
// lr 0.01, eps 1e-10; SGD lr 0.001 (PyTorch ≥ 2.2; older versions require
// it); Adam lr 0.001, betas (0.9, 0.999), eps 1e-8; AdamW the same with
// weight decay 0.01. All other values are zero.
func Defaults(alg Algorithm) (Config, error) {
	switch alg {
	case AlgAdagrad:
		return Config{Algorithm: alg, LR: 0.01, Eps: 1e-10}, nil
	case AlgSGD:
		return Config{Algorithm: alg, LR: 0.001}, nil
	case AlgAdam:
		return Config{Algorithm: alg, LR: 0.001, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}, nil
	case AlgAdamW:
		return Config{Algorithm: alg, LR: 0.001, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}, nil
	}
	return Config{}, fmt.Errorf("optimizer %q: want adagrad, sgd, adam or adamw: %w", string(alg), ErrConfig)
}

func finiteNonNeg(name string, v float64) error {
	if !(v >= 0) || math.IsInf(v, 0) {
		return fmt.Errorf("%s = %v: must be finite and non-negative: %w", name, v, ErrConfig)
	}
	return nil
}

// Validate checks c with PyTorch's rules: non-negative finite lr, eps,
// weight decay, lr_decay, initial accumulator and momentum; betas in [0, 1);
// Nesterov needs momentum > 0 and zero dampening.
func (c Config) Validate() error {
	if _, err := ParseAlgorithm(string(c.Algorithm)); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"lr", c.LR}, {"weight_decay", c.WeightDecay}, {"eps", c.Eps}} {
		if err := finiteNonNeg(f.name, f.v); err != nil {
			return err
		}
	}
	switch c.Algorithm {
	case AlgAdagrad:
		if err := finiteNonNeg("lr_decay", c.LRDecay); err != nil {
			return err
		}
		if err := finiteNonNeg("initial_accumulator_value", c.InitialAccumulatorValue); err != nil {
			return err
		}
	case AlgSGD:
		if err := finiteNonNeg("momentum", c.Momentum); err != nil {
			return err
		}
		if math.IsNaN(c.Dampening) || math.IsInf(c.Dampening, 0) {
			return fmt.Errorf("dampening = %v: must be finite: %w", c.Dampening, ErrConfig)
		}
		if c.Nesterov && (c.Momentum <= 0 || c.Dampening != 0) {
			return fmt.Errorf("nesterov momentum requires a momentum and zero dampening (have momentum %v, dampening %v): %w", c.Momentum, c.Dampening, ErrConfig)
		}
	case AlgAdam, AlgAdamW:
		for i, b := range []float64{c.Beta1, c.Beta2} {
			if !(b >= 0 && b < 1) {
				return fmt.Errorf("beta%d = %v: must be in [0, 1): %w", i+1, b, ErrConfig)
			}
		}
	}
	return nil
}

// Optimizer updates a flat parameter vector from its gradient.
type Optimizer interface {
	// Step performs one update of params from grads (not modified). Both
	// must have the length given at construction; Step panics otherwise.
	// Step does not allocate.
	Step(params, grads []float64)
	// SetLR sets the base learning rate used by the following steps.
	SetLR(lr float64)
	// LR returns the current base learning rate.
	LR() float64
	// Config returns the hyperparameters (with the current learning rate).
	Config() Config
	// State returns a deep copy of the optimizer's state.
	State() State
	// SetState restores a state returned by State of an optimizer of the
	// same algorithm and size.
	SetState(State) error
}

// New returns the optimizer described by c for n parameters.
func New(c Config, n int) (Optimizer, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, fmt.Errorf("optimizer for %d parameters: %w", n, ErrConfig)
	}
	switch c.Algorithm {
	case AlgAdagrad:
		o := &Adagrad{cfg: c, sum: make([]float64, n)}
		for i := range o.sum {
			o.sum[i] = c.InitialAccumulatorValue
		}
		return o, nil
	case AlgSGD:
		o := &SGD{cfg: c, n: n}
		if c.Momentum != 0 {
			o.buf = make([]float64, n)
		}
		return o, nil
	default:
		o := &Adam{cfg: c, m: make([]float64, n), v: make([]float64, n)}
		if c.AMSGrad {
			o.vmax = make([]float64, n)
		}
		return o, nil
	}
}

// State is the complete mutable state of an optimizer: the algorithm, the
// number of steps taken, the current learning rate and the named buffers
// ("sum" for Adagrad, "momentum_buffer" for SGD with momentum, "exp_avg",
// "exp_avg_sq" and "max_exp_avg_sq" for Adam, as PyTorch names them).
type State struct {
	Algorithm Algorithm            `json:"algorithm"`
	Step      int64                `json:"step"`
	LR        float64              `json:"lr"`
	Buffers   map[string][]float64 `json:"buffers"`
}

const stateMagic = "OPTST1\x00\x00"

// MarshalBinary encodes s exactly (IEEE-754 bits, little-endian) with buffer
// names in sorted order.
func (s State) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(stateMagic)
	putStr := func(v string) {
		binary.Write(&b, binary.LittleEndian, uint32(len(v)))
		b.WriteString(v)
	}
	putStr(string(s.Algorithm))
	binary.Write(&b, binary.LittleEndian, s.Step)
	binary.Write(&b, binary.LittleEndian, math.Float64bits(s.LR))
	names := sortedKeys(s.Buffers)
	binary.Write(&b, binary.LittleEndian, uint32(len(names)))
	for _, k := range names {
		putStr(k)
		v := s.Buffers[k]
		binary.Write(&b, binary.LittleEndian, uint64(len(v)))
		binary.Write(&b, binary.LittleEndian, v)
	}
	return b.Bytes(), nil
}

// UnmarshalBinary decodes what MarshalBinary produced, returning an error
// wrapping ErrState on malformed input.
func (s *State) UnmarshalBinary(data []byte) error {
	r := bytes.NewReader(data)
	bad := func(what string) error {
		return fmt.Errorf("decode optimizer state: %s: %w", what, ErrState)
	}
	magic := make([]byte, len(stateMagic))
	if _, err := r.Read(magic); err != nil || string(magic) != stateMagic {
		return bad("missing header")
	}
	getStr := func() (string, bool) {
		var n uint32
		if binary.Read(r, binary.LittleEndian, &n) != nil || int64(n) > int64(r.Len()) {
			return "", false
		}
		b := make([]byte, n)
		if _, err := r.Read(b); err != nil && n > 0 {
			return "", false
		}
		return string(b), true
	}
	alg, ok := getStr()
	if !ok {
		return bad("truncated algorithm")
	}
	var out State
	out.Algorithm = Algorithm(alg)
	var lr uint64
	if binary.Read(r, binary.LittleEndian, &out.Step) != nil || binary.Read(r, binary.LittleEndian, &lr) != nil {
		return bad("truncated step or learning rate")
	}
	out.LR = math.Float64frombits(lr)
	var nb uint32
	if binary.Read(r, binary.LittleEndian, &nb) != nil {
		return bad("truncated buffer count")
	}
	out.Buffers = make(map[string][]float64)
	for i := uint32(0); i < nb; i++ {
		name, ok := getStr()
		if !ok {
			return bad("truncated buffer name")
		}
		var n uint64
		if binary.Read(r, binary.LittleEndian, &n) != nil || n > uint64(r.Len())/8 {
			return bad(fmt.Sprintf("buffer %q: truncated", name))
		}
		if _, dup := out.Buffers[name]; dup {
			return bad(fmt.Sprintf("buffer %q repeated", name))
		}
		v := make([]float64, n)
		if err := binary.Read(r, binary.LittleEndian, v); err != nil {
			return bad(fmt.Sprintf("buffer %q: truncated", name))
		}
		out.Buffers[name] = v
	}
	if r.Len() != 0 {
		return bad(fmt.Sprintf("%d trailing bytes", r.Len()))
	}
	*s = out
	return nil
}

func sortedKeys(m map[string][]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Insertion sort: a handful of names.
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// restore checks st against the algorithm alg and the wanted buffers (name →
// destination) and copies them. A buffer with a nil destination must be
// absent.
func restore(st State, alg Algorithm, want map[string][]float64) error {
	if st.Algorithm != alg {
		return fmt.Errorf("state of %q given to %q: %w", st.Algorithm, alg, ErrState)
	}
	if st.Step < 0 {
		return fmt.Errorf("step count %d: %w", st.Step, ErrState)
	}
	if !(st.LR >= 0) || math.IsInf(st.LR, 0) {
		return fmt.Errorf("learning rate %v: %w", st.LR, ErrState)
	}
	for name := range st.Buffers {
		if _, ok := want[name]; !ok {
			return fmt.Errorf("unexpected buffer %q for %s: %w", name, alg, ErrState)
		}
	}
	for name, dst := range want {
		src, ok := st.Buffers[name]
		if !ok {
			return fmt.Errorf("buffer %q missing for %s: %w", name, alg, ErrState)
		}
		if len(src) != len(dst) {
			return fmt.Errorf("buffer %q has %d values, want %d: %w", name, len(src), len(dst), ErrState)
		}
	}
	for name, dst := range want {
		copy(dst, st.Buffers[name])
	}
	return nil
}

// Rounder32 is implemented by optimizers whose update can also write the
// float32 rounding of the updated parameters in the same pass over them,
// for a network that computes in float32 from float64 master parameters
// (nn.MLP in Float32 mode, whose Params32 gives the runs): one pass instead
// of an update and a separate rounding pass.
type Rounder32 interface {
	Optimizer
	// StepRound32 performs Step and sets dst[r][i] =
	// float32(params[off[r]+i]) to the updated parameters for every run r.
	// The runs must be ascending and disjoint and lie within params;
	// parameters outside them are updated as by Step. The result is the
	// same as Step's, bit for bit. It panics on runs that break these
	// rules.
	StepRound32(params, grads []float64, off []int, dst [][]float32)
}

var _ Rounder32 = (*Adagrad)(nil)

// checkRuns panics unless the runs (off, dst) are ascending, disjoint and
// within n parameters.
func checkRuns(n int, off []int, dst [][]float32) {
	if len(off) != len(dst) {
		panic(fmt.Sprintf("optim: %d run offsets for %d runs", len(off), len(dst)))
	}
	pos := 0
	for r, lo := range off {
		if lo < pos || lo+len(dst[r]) > n {
			panic(fmt.Sprintf("optim: run %d [%d, %d) overlaps the previous one or lies beyond %d parameters", r, lo, lo+len(dst[r]), n))
		}
		pos = lo + len(dst[r])
	}
}

func checkLens(what string, n int, params, grads []float64) {
	if len(params) != n || len(grads) != n {
		panic(fmt.Sprintf("optim: %s Step with %d parameters and %d gradients, want %d", what, len(params), len(grads), n))
	}
}

func clone(v []float64) []float64 { return append([]float64(nil), v...) }

// Adagrad is torch.optim.Adagrad.
type Adagrad struct {
	cfg  Config
	step int64
	sum  []float64
}

// Step performs one Adagrad update.
func (o *Adagrad) Step(params, grads []float64) {
	checkLens("Adagrad", len(o.sum), params, grads)
	o.step++
	clr := o.cfg.LR / (1 + float64(o.step-1)*o.cfg.LRDecay)
	// One fused pass over the parameter slab (vectorised, the operations
	// of the scalar rule in the same order: bit-identical to it).
	vmath.Adagrad64(params, grads, o.sum, clr, o.cfg.Eps, o.cfg.WeightDecay)
}

// StepRound32 performs Step and writes the float32 rounding of the updated
// parameters into dst in the same pass (see Rounder32).
func (o *Adagrad) StepRound32(params, grads []float64, off []int, dst [][]float32) {
	checkLens("Adagrad", len(o.sum), params, grads)
	checkRuns(len(params), off, dst)
	o.step++
	clr := o.cfg.LR / (1 + float64(o.step-1)*o.cfg.LRDecay)
	eps, wd := o.cfg.Eps, o.cfg.WeightDecay
	pos := 0
	for r, lo := range off {
		hi := lo + len(dst[r])
		if lo > pos {
			vmath.Adagrad64(params[pos:lo], grads[pos:lo], o.sum[pos:lo], clr, eps, wd)
		}
		vmath.Adagrad64Round32(params[lo:hi], grads[lo:hi], o.sum[lo:hi], dst[r], clr, eps, wd)
		pos = hi
	}
	vmath.Adagrad64(params[pos:], grads[pos:], o.sum[pos:], clr, eps, wd)
}

// SetLR sets the learning rate.
func (o *Adagrad) SetLR(lr float64) { o.cfg.LR = lr }

// LR returns the learning rate.
func (o *Adagrad) LR() float64 { return o.cfg.LR }

// Config returns the hyperparameters.
func (o *Adagrad) Config() Config { return o.cfg }

// State returns the step count, learning rate and the "sum" buffer.
func (o *Adagrad) State() State {
	return State{Algorithm: AlgAdagrad, Step: o.step, LR: o.cfg.LR, Buffers: map[string][]float64{"sum": clone(o.sum)}}
}

// SetState restores a state from State.
func (o *Adagrad) SetState(st State) error {
	if err := restore(st, AlgAdagrad, map[string][]float64{"sum": o.sum}); err != nil {
		return err
	}
	o.step, o.cfg.LR = st.Step, st.LR
	return nil
}

// SGD is torch.optim.SGD.
type SGD struct {
	cfg  Config
	step int64
	buf  []float64 // momentum buffer; nil without momentum
	n    int       // number of parameters
}

// Step performs one SGD update.
func (o *SGD) Step(params, grads []float64) {
	checkLens("SGD", o.n, params, grads)
	o.step++
	lr, wd, mu := o.cfg.LR, o.cfg.WeightDecay, o.cfg.Momentum
	damp := 1 - o.cfg.Dampening
	first := o.step == 1
	for i, g := range grads {
		p := params[i]
		if wd != 0 {
			g += wd * p
		}
		if o.buf != nil {
			b := g
			if !first {
				b = mu*o.buf[i] + damp*g
			}
			o.buf[i] = b
			if o.cfg.Nesterov {
				g += mu * b
			} else {
				g = b
			}
		}
		params[i] = p - lr*g
	}
}

// SetLR sets the learning rate.
func (o *SGD) SetLR(lr float64) { o.cfg.LR = lr }

// LR returns the learning rate.
func (o *SGD) LR() float64 { return o.cfg.LR }

// Config returns the hyperparameters.
func (o *SGD) Config() Config { return o.cfg }

// State returns the step count, learning rate and, with momentum, the
// "momentum_buffer".
func (o *SGD) State() State {
	st := State{Algorithm: AlgSGD, Step: o.step, LR: o.cfg.LR, Buffers: map[string][]float64{}}
	if o.buf != nil {
		st.Buffers["momentum_buffer"] = clone(o.buf)
	}
	return st
}

// SetState restores a state from State.
func (o *SGD) SetState(st State) error {
	want := map[string][]float64{}
	if o.buf != nil {
		want["momentum_buffer"] = o.buf
	}
	if err := restore(st, AlgSGD, want); err != nil {
		return err
	}
	o.step, o.cfg.LR = st.Step, st.LR
	return nil
}

// Adam is torch.optim.Adam or, with Algorithm AlgAdamW, torch.optim.AdamW.
type Adam struct {
	cfg  Config
	step int64
	m, v []float64
	vmax []float64 // AMSGrad only

	consts vmath.AdamConsts // scratch of the vector kernel, kept to avoid an allocation
}

// Step performs one Adam or AdamW update.
func (o *Adam) Step(params, grads []float64) {
	checkLens(string(o.cfg.Algorithm), len(o.m), params, grads)
	o.step++
	c := o.cfg
	lr, wd, b1, b2, eps := c.LR, c.WeightDecay, c.Beta1, c.Beta2, c.Eps
	t := float64(o.step)
	bc1 := 1 - math.Pow(b1, t)
	bc2 := 1 - math.Pow(b2, t)
	stepSize := lr / bc1
	bc2Sqrt := math.Sqrt(bc2)
	decoupled := c.Algorithm == AlgAdamW
	if o.vmax == nil {
		// One fused, vectorised pass with the scalar rule's operations.
		k := &o.consts
		*k = vmath.AdamConsts{Beta1: b1, OneMinusBeta1: 1 - b1, Beta2: b2, OneMinusBeta2: 1 - b2,
			BC2Sqrt: bc2Sqrt, Eps: eps, StepSize: stepSize, WeightDecay: wd, Decay: 1 - lr*wd}
		switch {
		case wd != 0 && decoupled:
			k.Mode = 2
		case wd != 0:
			k.Mode = 1
		}
		vmath.Adam64(params, grads, o.m, o.v, k)
		return
	}
	for i, g := range grads {
		p := params[i]
		if wd != 0 {
			if decoupled {
				p *= 1 - lr*wd
			} else {
				g += wd * p
			}
		}
		m := b1*o.m[i] + (1-b1)*g
		v := b2*o.v[i] + (1-b2)*g*g
		o.m[i], o.v[i] = m, v
		if o.vmax != nil {
			v = math.Max(o.vmax[i], v)
			o.vmax[i] = v
		}
		denom := math.Sqrt(v)/bc2Sqrt + eps
		params[i] = p - stepSize*m/denom
	}
}

// SetLR sets the learning rate.
func (o *Adam) SetLR(lr float64) { o.cfg.LR = lr }

// LR returns the learning rate.
func (o *Adam) LR() float64 { return o.cfg.LR }

// Config returns the hyperparameters.
func (o *Adam) Config() Config { return o.cfg }

// State returns the step count, learning rate and the "exp_avg",
// "exp_avg_sq" and, with AMSGrad, "max_exp_avg_sq" buffers.
func (o *Adam) State() State {
	st := State{Algorithm: o.cfg.Algorithm, Step: o.step, LR: o.cfg.LR, Buffers: map[string][]float64{
		"exp_avg": clone(o.m), "exp_avg_sq": clone(o.v),
	}}
	if o.vmax != nil {
		st.Buffers["max_exp_avg_sq"] = clone(o.vmax)
	}
	return st
}

// SetState restores a state from State.
func (o *Adam) SetState(st State) error {
	want := map[string][]float64{"exp_avg": o.m, "exp_avg_sq": o.v}
	if o.vmax != nil {
		want["max_exp_avg_sq"] = o.vmax
	}
	if err := restore(st, o.cfg.Algorithm, want); err != nil {
		return err
	}
	o.step, o.cfg.LR = st.Step, st.LR
	return nil
}
