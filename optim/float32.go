package optim

import (
	"fmt"
	"math"

	"github.com/matapprox/matapprox/internal/vmath"
)

// Stepper32 is implemented by the float32 optimizers of New32, which keep
// their state in float32 and update float32 parameters from float32
// gradients, as PyTorch's optimizers do for a float32 model: a network
// computing in float32 (nn.MLP in Float32 mode) whose float32 weights
// (nn.MLP.Params32) are the master copy, with the float64 parameters kept
// equal to their widening for everything else (checkpoints, model files,
// evaluation).
type Stepper32 interface {
	Optimizer
	// Step32 performs one update of the float32 parameters held as runs:
	// on entry dst[r] holds float32(params[off[r]+i]); on return it holds
	// the updated float32 parameters and params their widening. grads
	// holds the float32 gradient laid out as params. The runs must be
	// ascending and disjoint and cover params. The result is Step's with
	// the gradients widened to float64, bit for bit. Step32 does not
	// allocate; it panics on lengths or runs that break these rules.
	Step32(params []float64, grads []float32, off []int, dst [][]float32)
}

var (
	_ Stepper32 = (*Adagrad32)(nil)
	_ Stepper32 = (*Adam32)(nil)
)

// New32 returns the optimizer described by c for n parameters in float32
// arithmetic: Adagrad, and Adam and AdamW without AMSGrad, keep their state
// in float32 and step in float32 (Adagrad32, Adam32, which implement
// Stepper32); SGD and AMSGrad, which New32 leaves in float64, are New's.
// Step of a float32 optimizer rounds the float64 parameters and gradients
// to float32, updates them in float32 and stores the widened result, so
// the parameters it leaves are float32 values.
func New32(c Config, n int) (Optimizer, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, fmt.Errorf("optimizer for %d parameters: %w", n, ErrConfig)
	}
	switch {
	case c.Algorithm == AlgAdagrad:
		o := &Adagrad32{cfg: c, sum: make([]float32, n)}
		for i := range o.sum {
			o.sum[i] = float32(c.InitialAccumulatorValue)
		}
		return o, nil
	case (c.Algorithm == AlgAdam || c.Algorithm == AlgAdamW) && !c.AMSGrad:
		return &Adam32{cfg: c, m: make([]float32, n), v: make([]float32, n)}, nil
	}
	return New(c, n)
}

// chunk32 is the length of the scratch buffers with which the float32
// optimizers' Step rounds float64 parameters and gradients.
const chunk32 = 512

// scratch32 holds the rounded parameters and gradients of one chunk.
type scratch32 struct {
	p, g [chunk32]float32
}

// checkRuns32 panics unless the runs are ascending, disjoint and cover n
// parameters and grads has n values.
func checkRuns32(what string, n int, params []float64, grads []float32, off []int, dst [][]float32) {
	if len(params) != n || len(grads) != n {
		panic(fmt.Sprintf("optim: %s Step32 with %d parameters and %d gradients, want %d", what, len(params), len(grads), n))
	}
	checkRuns(n, off, dst)
	pos := 0
	for r, lo := range off {
		if lo != pos {
			panic(fmt.Sprintf("optim: %s Step32: run %d starts at %d, want %d (the runs must cover the parameters)", what, r, lo, pos))
		}
		pos += len(dst[r])
	}
	if pos != n {
		panic(fmt.Sprintf("optim: %s Step32: runs end at %d of %d parameters", what, pos, n))
	}
}

// restore32 is restore for float32 buffers: the state's float64 values
// are rounded to float32 (exact for a state that a float32 optimizer
// exported).
func restore32(st State, alg Algorithm, want map[string][]float32) error {
	tmp := make(map[string][]float64, len(want))
	for name, dst := range want {
		tmp[name] = make([]float64, len(dst))
	}
	if err := restore(st, alg, tmp); err != nil {
		return err
	}
	for name, dst := range want {
		vmath.ToFloat32(dst, tmp[name])
	}
	return nil
}

func widen32(v []float32) []float64 {
	w := make([]float64, len(v))
	vmath.ToFloat64(w, v)
	return w
}

// Adagrad32 is torch.optim.Adagrad on a float32 model: the rule of Adagrad
// with the state sum, the parameters, the gradients and every operation in
// float32 (clr, eps and the weight decay rounded to float32).
type Adagrad32 struct {
	cfg  Config
	step int64
	sum  []float32
	tmp  scratch32
}

// consts advances the step count and returns the step's scalars.
func (o *Adagrad32) consts() (clr, eps, wd float32) {
	o.step++
	return float32(o.cfg.LR / (1 + float64(o.step-1)*o.cfg.LRDecay)), float32(o.cfg.Eps), float32(o.cfg.WeightDecay)
}

// Step performs one float32 Adagrad update of the float64 parameters.
func (o *Adagrad32) Step(params, grads []float64) {
	checkLens("Adagrad32", len(o.sum), params, grads)
	clr, eps, wd := o.consts()
	for lo := 0; lo < len(params); lo += chunk32 {
		hi := min(lo+chunk32, len(params))
		p, g := o.tmp.p[:hi-lo], o.tmp.g[:hi-lo]
		vmath.ToFloat32(p, params[lo:hi])
		vmath.ToFloat32(g, grads[lo:hi])
		vmath.Adagrad32(p, g, o.sum[lo:hi], params[lo:hi], clr, eps, wd)
	}
}

// Step32 performs one float32 Adagrad update of the float32 parameters
// (see Stepper32).
func (o *Adagrad32) Step32(params []float64, grads []float32, off []int, dst [][]float32) {
	checkRuns32("Adagrad32", len(o.sum), params, grads, off, dst)
	clr, eps, wd := o.consts()
	for r, lo := range off {
		hi := lo + len(dst[r])
		vmath.Adagrad32(dst[r], grads[lo:hi], o.sum[lo:hi], params[lo:hi], clr, eps, wd)
	}
}

// SetLR sets the learning rate.
func (o *Adagrad32) SetLR(lr float64) { o.cfg.LR = lr }

// LR returns the learning rate.
func (o *Adagrad32) LR() float64 { return o.cfg.LR }

// Config returns the hyperparameters.
func (o *Adagrad32) Config() Config { return o.cfg }

// State returns the step count, learning rate and the "sum" buffer
// (widened to float64, exactly).
func (o *Adagrad32) State() State {
	return State{Algorithm: AlgAdagrad, Step: o.step, LR: o.cfg.LR, Buffers: map[string][]float64{"sum": widen32(o.sum)}}
}

// SetState restores a state from State (of a float32 or a float64
// Adagrad; the buffer is rounded to float32).
func (o *Adagrad32) SetState(st State) error {
	if err := restore32(st, AlgAdagrad, map[string][]float32{"sum": o.sum}); err != nil {
		return err
	}
	o.step, o.cfg.LR = st.Step, st.LR
	return nil
}

// Adam32 is torch.optim.Adam or, with Algorithm AlgAdamW, torch.optim.AdamW
// without AMSGrad on a float32 model: the rule of Adam with the moments,
// the parameters, the gradients and every elementwise operation in float32
// (the per-step scalars computed in float64 and rounded, as PyTorch passes
// Python floats to its float32 kernels).
type Adam32 struct {
	cfg    Config
	step   int64
	m, v   []float32
	consts vmath.AdamConsts32
	tmp    scratch32
}

// next advances the step count and sets the step's scalars.
func (o *Adam32) next() *vmath.AdamConsts32 {
	o.step++
	c := o.cfg
	lr, wd, b1, b2 := c.LR, c.WeightDecay, c.Beta1, c.Beta2
	t := float64(o.step)
	bc1 := 1 - math.Pow(b1, t)
	bc2 := 1 - math.Pow(b2, t)
	k := &o.consts
	*k = vmath.AdamConsts32{Beta1: float32(b1), OneMinusBeta1: float32(1 - b1), Beta2: float32(b2), OneMinusBeta2: float32(1 - b2),
		BC2Sqrt: float32(math.Sqrt(bc2)), Eps: float32(c.Eps), StepSize: float32(lr / bc1),
		WeightDecay: float32(wd), Decay: float32(1 - lr*wd)}
	switch {
	case wd != 0 && c.Algorithm == AlgAdamW:
		k.Mode = 2
	case wd != 0:
		k.Mode = 1
	}
	return k
}

// Step performs one float32 Adam or AdamW update of the float64
// parameters.
func (o *Adam32) Step(params, grads []float64) {
	checkLens("Adam32", len(o.m), params, grads)
	k := o.next()
	for lo := 0; lo < len(params); lo += chunk32 {
		hi := min(lo+chunk32, len(params))
		p, g := o.tmp.p[:hi-lo], o.tmp.g[:hi-lo]
		vmath.ToFloat32(p, params[lo:hi])
		vmath.ToFloat32(g, grads[lo:hi])
		vmath.Adam32(p, g, o.m[lo:hi], o.v[lo:hi], params[lo:hi], k)
	}
}

// Step32 performs one float32 Adam or AdamW update of the float32
// parameters (see Stepper32).
func (o *Adam32) Step32(params []float64, grads []float32, off []int, dst [][]float32) {
	checkRuns32("Adam32", len(o.m), params, grads, off, dst)
	k := o.next()
	for r, lo := range off {
		hi := lo + len(dst[r])
		vmath.Adam32(dst[r], grads[lo:hi], o.m[lo:hi], o.v[lo:hi], params[lo:hi], k)
	}
}

// SetLR sets the learning rate.
func (o *Adam32) SetLR(lr float64) { o.cfg.LR = lr }

// LR returns the learning rate.
func (o *Adam32) LR() float64 { return o.cfg.LR }

// Config returns the hyperparameters.
func (o *Adam32) Config() Config { return o.cfg }

// State returns the step count, learning rate and the "exp_avg" and
// "exp_avg_sq" buffers (widened to float64, exactly).
func (o *Adam32) State() State {
	return State{Algorithm: o.cfg.Algorithm, Step: o.step, LR: o.cfg.LR, Buffers: map[string][]float64{
		"exp_avg": widen32(o.m), "exp_avg_sq": widen32(o.v),
	}}
}

// SetState restores a state from State (of a float32 or a float64 Adam
// without AMSGrad; the buffers are rounded to float32).
func (o *Adam32) SetState(st State) error {
	if err := restore32(st, o.cfg.Algorithm, map[string][]float32{"exp_avg": o.m, "exp_avg_sq": o.v}); err != nil {
		return err
	}
	o.step, o.cfg.LR = st.Step, st.LR
	return nil
}

// ClipGlobalNorm32 is ClipGlobalNorm for float32 gradients: the norm is
// computed in float64 (Norm of the widened values) and the coefficient
// applied in float32. It returns the norm before clipping and panics if
// maxNorm is negative or NaN.
func ClipGlobalNorm32(grads []float32, maxNorm float64) (norm float64) {
	if !(maxNorm >= 0) {
		panic(fmt.Sprintf("optim: ClipGlobalNorm32 with max norm %v", maxNorm))
	}
	norm = norm32(grads)
	c := maxNorm / (norm + 1e-6)
	if c >= 1 {
		return norm
	}
	c32 := float32(c)
	for i := range grads {
		grads[i] *= c32
	}
	return norm
}

// norm32 is Norm of the widened values of v, without allocating.
func norm32(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if !math.IsInf(s, 0) && !math.IsNaN(s) {
		return math.Sqrt(s) // float32 squares neither overflow nor underflow in float64 sums of any length here
	}
	if math.IsNaN(s) {
		return s
	}
	var amax float64
	for _, x := range v {
		amax = math.Max(amax, math.Abs(float64(x)))
	}
	return amax // an infinite entry
}
