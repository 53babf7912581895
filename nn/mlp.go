// Package nn implements the multilayer perceptron that matapprox trains: a
// stack of dense layers with a fixed elementwise activation after every
// hidden layer and a linear output layer. Parameters, gradients and the
// interface are float64; the arithmetic of Forward and Backward is float64
// or, after SetPrecision(Float32), float32 (see Precision).
//
// # Model
//
// With a₀ = x (optionally standardised, a₀ = (x−μ)/σ column by column) and
// layers l = 0..L−1 of weights W_l (out×in) and biases b_l,
//
//	z_l = a_l W_lᵀ + b_l,   a_{l+1} = f(z_l) for l < L−1,   y = z_{L−1}.
//
// A batch of n samples is processed as row-major n×width matrices, so each
// layer is one matrix product (internal/gemm.Dgemm).
//
// # Gradients
//
// Backward is reverse-mode differentiation (backpropagation; Rumelhart,
// Hinton & Williams, "Learning representations by back-propagating errors",
// Nature 323, 1986). Given δ_{L−1} = ∂E/∂y (n×Outputs),
//
//	∂E/∂W_l += δ_lᵀ a_l,   ∂E/∂b_l += Σ_rows δ_l,
//	δ_{l−1} = (δ_l W_l) ⊙ f'(z_{l−1}),
//
// where f' is evaluated from the stored output a_l = f(z_{l−1}): 1−a² for
// tanh and [a > 0] for ReLU.
//
// # Layout and initialisation
//
// All parameters live in one slice, MLP.Params, layer by layer, each layer's
// weight matrix (out×in, row-major, exactly as PyTorch's nn.Linear stores
// it) followed by its bias; MLP.Grads has the same layout. This is the order
// of PyTorch's model.parameters(), so optimizers and gradient clipping work
// on flat vectors and a state_dict maps onto Params without reordering.
// New draws every weight and bias uniformly from ±1/√fan_in, which is
// PyTorch's default nn.Linear initialisation (kaiming_uniform_ with
// a = √5, He et al., "Delving deep into rectifiers", ICCV 2015).
//
// # Model files
//
// Tensors names the parameters as PyTorch names the notebook's model, whose
// nn.Sequential (attribute net) holds the Linear layers at even indices and
// the activations at odd ones: net.0.weight [out, in], net.0.bias [out],
// net.2.weight, …, so a file written by Save loads into the notebook's class
// with load_state_dict(strict=True), and a PyTorch state_dict saved as
// safetensors loads with Load or FromTensors (which infers the architecture
// from the shapes). Save writes a directory with model.safetensors, which
// holds the whole model (ModelInfo, under the metadata key "matapprox":
// architecture, activation, symmetry, bands, standardisation), and
// config.json, a readable copy; a bare model.safetensors gives exactly the
// run's outputs, and scripts/matapprox_torch.py loads it into PyTorch.
//
// # Approximators
//
// An Approximator wraps an MLP as a map from input to output generators:
// KindMLP applies it to the whole input (the notebook's model), KindSphere
// makes the approximation exact by construction on the in-band part, in
// scale, sign and symmetry, and KindSymbol adds such a correction to the
// 2-norm's N → ∞ optimum a_∞ for large N (see Approximator for the
// mathematics).
//
// # Precision
//
// In Float32 mode (SetPrecision) Forward rounds the float64 parameters and
// the (standardised) inputs to float32 in its Workspace, runs every product
// (internal/gemm.Sgemm, twice the SIMD width of float64) and activation in
// float32, and returns the outputs widened to float64; Backward computes
// the deltas and weight gradients in float32 from the same rounded weights
// and adds them to the float64 Grads (bias gradients are summed in float64).
// Params, Grads and the optimizer state stay float64 (float64 master
// weights, as in mixed-precision training), so checkpoints, model files and
// optimizers are the same in both modes. Rows of 2 KiB (512 floats) of the
// rounded weights and hidden activations are padded, so that the products
// read them in place without L1 set conflicts. A training loop can save
// Forward its rounding pass by letting the optimizer write the rounding
// (Params32, SetParams32Current, optim.Rounder32), and Backward's passes
// over Grads by Gradient, which sets the gradients instead of adding to
// them: the weight gradients are then written in float64 by the products
// themselves (internal/gemm.Sgemm64). Fully in float32, as PyTorch trains
// a float32 model, Gradient32 returns the gradient in float32 (weights and
// biases) without touching Grads, and a float32 optimizer
// (optim.Stepper32) updates the float32 weights of Params32 from it as the
// master copy, writing Params as their widening. Float64 is the default
// and the one to use for parity with PyTorch's float64 and for exact
// evaluation.
//
// # Concurrency
//
// Forward only reads Params, Mean and Std, so several goroutines may call
// Forward concurrently on one MLP provided each uses its own Workspace and
// nothing modifies the parameters meanwhile. Backward and ZeroGrad write
// Grads and must not run concurrently with each other. Predict allocates its
// own Workspace and is safe for concurrent use under the same condition.
package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"

	"gonum.org/v1/gonum/blas"

	"github.com/matapprox/matapprox/internal/gemm"
	"github.com/matapprox/matapprox/internal/vmath"
)

// MLP is a multilayer perceptron with contiguous parameters.
type MLP struct {
	// Config is the architecture. It must not be changed after New.
	Config Config
	// Params holds every weight and bias: for each layer, W (out×in,
	// row-major) then b (out).
	Params []float64
	// Grads accumulates ∂E/∂Params with the layout of Params.
	Grads []float64
	// Mean and Std, when non-nil (both of length Inputs), standardise the
	// input before layer 0: x_j ↦ (x_j − Mean[j]) / Std[j].
	Mean, Std []float64
	// Meta describes what the network approximates; Save and Load keep it.
	Meta Meta

	sizes []int
	off   []int // off[l] is the offset of W_l in Params; b_l follows at off[l]+out·in
	prec  Precision
	// threads is the number of row blocks of Forward and Backward
	// (SetThreads); 0 means 1.
	threads int
}

// Precision is the floating-point type of an MLP's arithmetic.
type Precision int

// The precisions.
const (
	// Float64 computes in float64 (the default).
	Float64 Precision = iota
	// Float32 computes the forward and backward passes in float32 with
	// float64 parameters and gradients (see the package documentation).
	Float32
)

// String returns "f64" or "f32".
func (p Precision) String() string {
	switch p {
	case Float64:
		return "f64"
	case Float32:
		return "f32"
	}
	return fmt.Sprintf("Precision(%d)", int(p))
}

// ParsePrecision returns the precision named s: "f64" or "float64", "f32"
// or "float32", ignoring case and surrounding space.
func ParsePrecision(s string) (Precision, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "f64", "float64":
		return Float64, nil
	case "f32", "float32":
		return Float32, nil
	}
	return 0, fmt.Errorf("precision %q: want f32 or f64: %w", s, ErrConfig)
}

// SetPrecision selects the arithmetic of the following Forward and Backward
// calls. It returns an error wrapping ErrConfig for an unknown precision.
// It must not be called concurrently with Forward or Backward.
func (m *MLP) SetPrecision(p Precision) error {
	if p != Float64 && p != Float32 {
		return fmt.Errorf("precision %d: %w", int(p), ErrConfig)
	}
	m.prec = p
	return nil
}

// Precision returns the arithmetic in use (Float64 unless SetPrecision
// changed it).
func (m *MLP) Precision() Precision { return m.prec }

// Layer gives access to one dense layer's parameters and gradients as
// subslices of MLP.Params and MLP.Grads (writes go through).
type Layer struct {
	In, Out int
	W, B    []float64 // W is Out×In row-major
	GW, GB  []float64 // gradients with the shapes of W and B
}

// New returns a network with architecture cfg whose parameters are drawn
// from rng as PyTorch's nn.Linear does: layer by layer, weights (row-major)
// then biases, each uniform in ±1/√in.
func New(cfg Config, rng *rand.Rand) (*MLP, error) {
	if rng == nil {
		return nil, fmt.Errorf("nn.New: nil random generator")
	}
	m, err := newZero(cfg)
	if err != nil {
		return nil, err
	}
	for l := 0; l < m.NumLayers(); l++ {
		ly := m.Layer(l)
		bound := 1 / math.Sqrt(float64(ly.In))
		for i := range ly.W {
			ly.W[i] = bound * (2*rng.Float64() - 1)
		}
		for i := range ly.B {
			ly.B[i] = bound * (2*rng.Float64() - 1)
		}
	}
	return m, nil
}

// newZero returns a network with all parameters zero.
func newZero(cfg Config) (*MLP, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Hidden = append([]int(nil), cfg.Hidden...)
	m := &MLP{Config: cfg, sizes: cfg.Sizes()}
	n := 0
	for l := 1; l < len(m.sizes); l++ {
		m.off = append(m.off, n)
		n += m.sizes[l] * (m.sizes[l-1] + 1)
	}
	m.Params = make([]float64, n)
	m.Grads = make([]float64, n)
	return m, nil
}

// NumLayers returns the number of dense layers, len(Hidden)+1.
func (m *MLP) NumLayers() int { return len(m.off) }

// Layer returns layer l, 0 <= l < NumLayers().
func (m *MLP) Layer(l int) Layer {
	in, out := m.sizes[l], m.sizes[l+1]
	w := m.off[l]
	b := w + out*in
	e := b + out
	return Layer{
		In: in, Out: out,
		W: m.Params[w:b:b], B: m.Params[b:e:e],
		GW: m.Grads[w:b:b], GB: m.Grads[b:e:e],
	}
}

// ZeroGrad sets every gradient to zero.
func (m *MLP) ZeroGrad() { clear(m.Grads) }

// Clone returns a deep copy of m (parameters, gradients and
// standardisation).
func (m *MLP) Clone() *MLP {
	c, err := newZero(m.Config)
	if err != nil {
		panic("nn: Clone of an invalid MLP: " + err.Error())
	}
	copy(c.Params, m.Params)
	copy(c.Grads, m.Grads)
	c.prec, c.threads = m.prec, m.threads
	if m.Mean != nil {
		c.Mean = append([]float64(nil), m.Mean...)
	}
	if m.Std != nil {
		c.Std = append([]float64(nil), m.Std...)
	}
	c.Meta = m.Meta
	if m.Meta.In != nil {
		in := *m.Meta.In
		c.Meta.In = &in
	}
	if m.Meta.Out != nil {
		out := *m.Meta.Out
		c.Meta.Out = &out
	}
	if m.Meta.Extra != nil {
		c.Meta.Extra = make(map[string]string, len(m.Meta.Extra))
		for k, v := range m.Meta.Extra {
			c.Meta.Extra[k] = v
		}
	}
	return c
}

// Check reports whether m is consistent: parameter and gradient lengths
// match the configuration, all parameters are finite, and the
// standardisation, if any, has Inputs finite means and positive finite
// deviations.
func (m *MLP) Check() error {
	if err := m.Config.Validate(); err != nil {
		return err
	}
	n := m.Config.NumParams()
	if len(m.Params) != n || len(m.Grads) != n || len(m.sizes) != len(m.Config.Hidden)+2 {
		return fmt.Errorf("network %v has %d parameters and %d gradients, want %d: %w", m.Config, len(m.Params), len(m.Grads), n, ErrConfig)
	}
	for i, v := range m.Params {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("parameter %d is %v: %w", i, v, ErrConfig)
		}
	}
	if (m.Mean == nil) != (m.Std == nil) {
		return fmt.Errorf("standardisation needs both mean and std: %w", ErrConfig)
	}
	if m.Mean != nil {
		if len(m.Mean) != m.Config.Inputs || len(m.Std) != m.Config.Inputs {
			return fmt.Errorf("standardisation has %d means and %d deviations, want %d: %w", len(m.Mean), len(m.Std), m.Config.Inputs, ErrConfig)
		}
		for j := range m.Mean {
			if math.IsNaN(m.Mean[j]) || math.IsInf(m.Mean[j], 0) {
				return fmt.Errorf("standardisation mean %d is %v: %w", j, m.Mean[j], ErrConfig)
			}
			if !(m.Std[j] > 0) || math.IsInf(m.Std[j], 0) {
				return fmt.Errorf("standardisation deviation %d is %v, want positive and finite: %w", j, m.Std[j], ErrConfig)
			}
		}
	}
	return nil
}

// Standardize sets Mean and Std to the column means and (population)
// standard deviations of the rows×Inputs row-major data x. Columns with zero
// spread get Std 1, so they are only centred. It panics if
// len(x) < rows·Inputs or rows < 1.
func (m *MLP) Standardize(x []float64, rows int) {
	d := m.Config.Inputs
	if rows < 1 || len(x) < rows*d {
		panic(fmt.Sprintf("nn: Standardize with %d rows of %d values, have %d", rows, d, len(x)))
	}
	mean := make([]float64, d)
	std := make([]float64, d)
	for i := 0; i < rows; i++ {
		for j, v := range x[i*d : i*d+d] {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(rows)
	}
	for i := 0; i < rows; i++ {
		for j, v := range x[i*d : i*d+d] {
			e := v - mean[j]
			std[j] += e * e
		}
	}
	for j := range std {
		std[j] = math.Sqrt(std[j] / float64(rows))
		if !(std[j] > 0) || math.IsInf(std[j], 0) {
			std[j] = 1
		}
	}
	m.Mean, m.Std = mean, std
}

// Workspace holds the activations of one batch between Forward and
// Backward, for batches of at most MaxBatch rows. A Workspace belongs to one
// MLP (or to networks of the same Config) and one goroutine at a time.
type Workspace struct {
	maxBatch int
	sizes    []int
	n        int         // rows of the last Forward, -1 before any
	x        []float64   // layer-0 input of the last Forward
	in       []float64   // standardised input, maxBatch×Inputs
	act      [][]float64 // act[l] = output of layer l, maxBatch×sizes[l+1]
	d0, d1   []float64   // backward deltas, maxBatch×(widest hidden layer)
	f32      *workspace32
	last32   bool      // whether the last Forward ran in float32
	raw      []float64 // the unstandardised input during Forward
	cur      []float64 // the input of the pass being split (parallel)
	parts    []*part   // blocks 1… of a split batch (SetThreads)
	wg       sync.WaitGroup
	// setGrads makes block 0 of a float32 Backward set Grads rather than
	// add to them (Gradient).
	setGrads bool
	// only32 makes a float32 Backward write float32 gradients only
	// (Gradient32).
	only32 bool
}

// workspace32 holds the float32 copies of one batch's operands.
//
// The rounded weights of layer l are an out×ldW[l] row-major matrix at
// params[woff[l]:] followed by the out biases, and the activations act[l]
// are maxBatch×ldA[l]: a row length of a multiple of 2 KiB is padded
// (pad32) so that the products read these matrices in place without L1 set
// conflicts instead of packing them.
type workspace32 struct {
	params    []float32 // rounded parameters, padded layout
	woff, ldW []int     // offset and row stride of each layer's weights in params
	ldA       []int     // row stride of act[l]
	grads     []float32 // weight gradients of one Backward, laid out as Grads
	in        []float32 // input, maxBatch×Inputs
	act       [][]float32
	d0, d1    []float32
	dout      []float32
	out       []float64 // outputs widened, maxBatch×Outputs
	// runOff and runDst describe params as runs of Params (Params32);
	// current says that params holds the rounding of Params now
	// (SetParams32Current).
	runOff  []int
	runDst  [][]float32
	current *MLP // the network whose Params params holds, or nil
}

// pad32 returns the row stride of a float32 matrix with rows of w elements:
// w, or w+16 when 4w bytes are a multiple of 2 KiB (rows that far apart
// share L1 sets, so gemm packs such operands rather than reading them in
// place).
func pad32(w int) int {
	if (4*w)%2048 == 0 {
		return w + 16
	}
	return w
}

// ensure32 returns the float32 buffers of ws, allocating them on first use.
func (ws *Workspace) ensure32(m *MLP) *workspace32 {
	if ws.f32 != nil {
		return ws.f32
	}
	b := ws.maxBatch
	w := &workspace32{
		grads: make([]float32, len(m.Params)),
		in:    make([]float32, b*m.Config.Inputs),
		dout:  make([]float32, b*m.Config.Outputs),
		out:   make([]float64, b*m.Config.Outputs),
	}
	size := 0
	for l := range m.NumLayers() {
		in, out := m.sizes[l], m.sizes[l+1]
		w.woff = append(w.woff, size)
		w.ldW = append(w.ldW, pad32(in))
		size += out*pad32(in) + out
	}
	w.params = make([]float32, size)
	for l := range m.NumLayers() {
		in, out := m.sizes[l], m.sizes[l+1]
		ld, src, dst := w.ldW[l], m.off[l], w.woff[l]
		if ld == in {
			w.runOff = append(w.runOff, src)
			w.runDst = append(w.runDst, w.params[dst:dst+out*in+out])
			continue
		}
		for i := range out {
			w.runOff = append(w.runOff, src+i*in)
			w.runDst = append(w.runDst, w.params[dst+i*ld:dst+i*ld+in])
		}
		w.runOff = append(w.runOff, src+out*in)
		w.runDst = append(w.runDst, w.params[dst+out*ld:dst+out*ld+out])
	}
	widest := 0 // the widest padded hidden row: the deltas share the activations' strides
	for l := 1; l < len(m.sizes); l++ {
		ld := m.sizes[l]
		if l < len(m.sizes)-1 {
			ld = pad32(ld)
			widest = max(widest, ld)
		}
		w.ldA = append(w.ldA, ld)
		w.act = append(w.act, make([]float32, b*ld))
	}
	w.d0 = make([]float32, b*widest)
	w.d1 = make([]float32, b*widest)
	ws.f32 = w
	return w
}

// NewWorkspace returns a workspace for batches of up to maxBatch rows. It
// panics if maxBatch < 1.
func (m *MLP) NewWorkspace(maxBatch int) *Workspace {
	if maxBatch < 1 {
		panic(fmt.Sprintf("nn: NewWorkspace(%d): batch must be positive", maxBatch))
	}
	ws := &Workspace{maxBatch: maxBatch, sizes: append([]int(nil), m.sizes...), n: -1}
	ws.in = make([]float64, maxBatch*m.Config.Inputs)
	widest := 0
	for l := 1; l < len(m.sizes); l++ {
		ws.act = append(ws.act, make([]float64, maxBatch*m.sizes[l]))
		if l < len(m.sizes)-1 {
			widest = max(widest, m.sizes[l])
		}
	}
	ws.d0 = make([]float64, maxBatch*widest)
	ws.d1 = make([]float64, maxBatch*widest)
	if m.prec == Float32 {
		ws.ensure32(m)
	}
	return ws
}

// MaxBatch returns the largest batch ws accepts.
func (ws *Workspace) MaxBatch() int { return ws.maxBatch }

func (m *MLP) checkWorkspace(ws *Workspace) {
	if len(ws.sizes) != len(m.sizes) {
		panic("nn: workspace belongs to a network of another architecture")
	}
	for i, s := range m.sizes {
		if ws.sizes[i] != s {
			panic("nn: workspace belongs to a network of another architecture")
		}
	}
}

// Forward evaluates the network on the n×Inputs row-major batch x and
// returns the n×Outputs outputs, a view into ws valid until the next
// Forward with ws. Without standardisation ws keeps a reference to x, which
// must not change before the matching Backward. Forward does not allocate
// (in Float32 mode, after its first call with ws when ws was made in Float64
// mode). It panics if n is negative or exceeds ws.MaxBatch(), if len(x) < n·Inputs,
// or if ws was made for another architecture.
func (m *MLP) Forward(ws *Workspace, x []float64, n int) []float64 {
	m.checkWorkspace(ws)
	d := m.Config.Inputs
	if n < 0 || n > ws.maxBatch {
		panic(fmt.Sprintf("nn: Forward batch of %d rows, workspace holds 0..%d", n, ws.maxBatch))
	}
	if len(x) < n*d {
		panic(fmt.Sprintf("nn: Forward input has %d values, want %d×%d", len(x), n, d))
	}
	x = x[:n*d]
	if m.Mean != nil && (len(m.Mean) != d || len(m.Std) != d) {
		panic(fmt.Sprintf("nn: standardisation has %d means and %d deviations, want %d", len(m.Mean), len(m.Std), d))
	}
	ws.last32 = m.prec == Float32
	if ws.last32 {
		return m.forward32(ws, x, n)
	}
	ws.raw = x
	if m.Mean != nil {
		x = ws.in[:n*d]
	}
	ws.x, ws.n = x, n
	ws.cur = x
	m.parallel(ws, n, kindForward64)
	ws.raw, ws.cur = nil, nil
	out := m.Config.Outputs
	return ws.act[m.NumLayers()-1][:n*out]
}

// forward64 computes rows [r0, r1) of the float64 forward pass; with
// standardisation, x is ws.in, filled here from ws's raw input rows.
func (m *MLP) forward64(ws *Workspace, x []float64, r0, r1 int) {
	d := m.Config.Inputs
	if m.Mean != nil {
		raw := ws.raw
		for i := r0; i < r1; i++ {
			src, dst := raw[i*d:i*d+d], x[i*d:i*d+d]
			for j, v := range src {
				dst[j] = (v - m.Mean[j]) / m.Std[j]
			}
		}
	}
	rows := r1 - r0
	L := m.NumLayers()
	a := x[r0*d : r1*d]
	for l := 0; l < L; l++ {
		in, out := m.sizes[l], m.sizes[l+1]
		w := m.Params[m.off[l] : m.off[l]+out*in]
		b := m.Params[m.off[l]+out*in : m.off[l]+out*in+out]
		z := ws.act[l][r0*out : r1*out]
		if rows > 0 {
			// z = a·Wᵀ, then z ← f(z + b) in one pass.
			gemm.Dgemm(blas.NoTrans, blas.Trans, rows, out, in, 1, a, in, w, in, 0, z, out)
		}
		act := m.Config.Activation
		if l == L-1 {
			act = Identity
		}
		act.apply(z, b, rows)
		a = z
	}
}

// Backward adds to Grads the gradient of a scalar E with respect to the
// parameters, given dOut = ∂E/∂y for the outputs y of the last Forward
// with ws (n×Outputs row-major; it is not modified). Backward does not
// allocate. It panics if Forward has not been called with ws or dOut is too
// short.
func (m *MLP) Backward(ws *Workspace, dOut []float64) {
	m.backward(ws, dOut, false)
}

// Gradient sets Grads to the gradient of E with respect to the parameters
// for the last Forward with ws: the same as ZeroGrad followed by Backward,
// bit for bit, with one pass fewer over Grads in Float32 mode. Its
// conditions are Backward's.
func (m *MLP) Gradient(ws *Workspace, dOut []float64) {
	m.backward(ws, dOut, true)
}

// Gradient32 computes, for the last Forward with ws, which must have run in
// Float32 mode, the float32 gradient of E with respect to the parameters:
// weights and biases in float32, laid out as Params, in a buffer of ws
// that it returns (valid until the next Gradient32 or Backward with ws).
// It leaves Grads unchanged: a float32 optimizer (optim.Stepper32) steps
// the float32 weights (Params32) from it directly. With SetThreads(t > 1)
// the blocks' gradients are summed in block order. Gradient32 does not
// allocate (after its first call with ws for t > 1). It panics if Forward
// has not been called with ws, if the last Forward ran in float64, or if
// dOut is too short.
func (m *MLP) Gradient32(ws *Workspace, dOut []float64) []float32 {
	m.checkWorkspace(ws)
	n := ws.n
	if n < 0 {
		panic("nn: Gradient32 before Forward")
	}
	if !ws.last32 {
		panic("nn: Gradient32 after a float64 Forward")
	}
	if len(dOut) < n*m.Config.Outputs {
		panic(fmt.Sprintf("nn: Gradient32 gradient has %d values, want %d×%d", len(dOut), n, m.Config.Outputs))
	}
	g := ws.f32.grads
	if n == 0 {
		clear(g)
		return g
	}
	ws.cur, ws.only32 = dOut, true
	m.parallel(ws, n, kindBackward32)
	ws.cur, ws.only32 = nil, false
	t := min(m.Threads(), n)
	for p := 1; p < t; p++ {
		for i, v := range ws.parts[p-1].grads32 {
			g[i] += v
		}
	}
	return g
}

// backward is Backward, or Gradient when set is true.
func (m *MLP) backward(ws *Workspace, dOut []float64, set bool) {
	m.checkWorkspace(ws)
	n := ws.n
	if n < 0 {
		panic("nn: Backward before Forward")
	}
	if len(dOut) < n*m.Config.Outputs {
		panic(fmt.Sprintf("nn: Backward gradient has %d values, want %d×%d", len(dOut), n, m.Config.Outputs))
	}
	if set && (n == 0 || !ws.last32) {
		m.ZeroGrad()
	}
	if n == 0 {
		return
	}
	if ws.last32 {
		ws.setGrads = set
		m.backward32(ws, dOut, n)
		ws.setGrads = false
		return
	}
	ws.cur = dOut
	m.parallel(ws, n, kindBackward64)
	ws.cur = nil
	m.reduceParts(ws, n)
}

// backward64 computes the float64 backward pass of rows [r0, r1): it sets
// (beta = 0) or adds to (beta = 1) g, laid out as Grads, the gradient of
// those rows.
func (m *MLP) backward64(ws *Workspace, dOut []float64, r0, r1 int, g []float64, beta float64) {
	rows := r1 - r0
	Lo := m.Config.Outputs
	delta := dOut[r0*Lo : r1*Lo]
	next, spare := ws.d0, ws.d1
	for l := m.NumLayers() - 1; l >= 0; l-- {
		in, out := m.sizes[l], m.sizes[l+1]
		var aPrev []float64
		if l > 0 {
			aPrev = ws.act[l-1][r0*in : r1*in]
		} else {
			aPrev = ws.x[r0*in : r1*in]
		}
		wOff := m.off[l]
		gw := g[wOff : wOff+out*in]
		gb := g[wOff+out*in : wOff+out*in+out]
		if beta == 0 {
			clear(gb)
		}
		// ∂E/∂W += δᵀ·a_prev.
		gemm.Dgemm(blas.Trans, blas.NoTrans, out, in, rows, 1, delta, out, aPrev, in, beta, gw, in)
		for i := 0; i < rows; i++ {
			for j, v := range delta[i*out : i*out+out] {
				gb[j] += v
			}
		}
		if l == 0 {
			break
		}
		// δ_prev = (δ·W) ⊙ f'(a_prev).
		w := m.Params[wOff : wOff+out*in]
		dp := next[r0*in : r1*in]
		gemm.Dgemm(blas.NoTrans, blas.NoTrans, rows, in, out, 1, delta, out, w, in, 0, dp, in)
		m.Config.Activation.backward(dp, aPrev)
		delta = dp
		next, spare = spare, next
	}
}

// Predict returns the n×Outputs outputs for the n×Inputs batch x in a new
// slice. It allocates a workspace; use Forward in loops.
func (m *MLP) Predict(x []float64, n int) []float64 {
	if n == 0 {
		return []float64{}
	}
	ws := m.NewWorkspace(n)
	return append([]float64(nil), m.Forward(ws, x, n)...)
}

// forward32 is Forward in float32; x has been checked.
func (m *MLP) forward32(ws *Workspace, x []float64, n int) []float64 {
	w := ws.ensure32(m)
	if w.current != m {
		m.round32(w)
	}
	w.current = nil
	ws.x, ws.n, ws.cur = nil, n, x
	m.parallel(ws, n, kindForward32)
	ws.cur = nil
	out := m.Config.Outputs
	return w.out[:n*out]
}

// Params32 returns the float32 copy of the parameters that Forward with ws
// computes from in Float32 mode, as runs: dst[r] holds the rounding of
// Params[off[r] : off[r]+len(dst[r])]; the runs are ascending and disjoint
// and cover Params. An optimizer that writes this rounding while it updates
// Params (optim.Rounder32), followed by SetParams32Current(ws, true), saves
// Forward its own pass over the parameters. Params32 returns nil slices in
// Float64 mode; the slices are views into ws, the same on every call.
func (m *MLP) Params32(ws *Workspace) (off []int, dst [][]float32) {
	m.checkWorkspace(ws)
	if m.prec != Float32 {
		return nil, nil
	}
	w := ws.ensure32(m)
	return w.runOff, w.runDst
}

// SetParams32Current declares (current == true) that the float32
// parameters of ws (Params32) hold the rounding of m's current Params, so
// that the next Forward of m with ws in Float32 mode uses them as they are
// instead of rounding Params again; the next Forward with ws (of any
// network) consumes the declaration.
// Whoever declares it must not change Params before that Forward.
// SetParams32Current(ws, false) withdraws it.
func (m *MLP) SetParams32Current(ws *Workspace, current bool) {
	m.checkWorkspace(ws)
	if ws.f32 == nil {
		return
	}
	ws.f32.current = nil
	if current && m.prec == Float32 {
		ws.f32.current = m
	}
}

// round32 rounds the parameters into w.params (the padded layout of
// workspace32).
func (m *MLP) round32(w *workspace32) {
	for l := range m.NumLayers() {
		in, out := m.sizes[l], m.sizes[l+1]
		src := m.Params[m.off[l] : m.off[l]+out*in+out]
		ld := w.ldW[l]
		dst := w.params[w.woff[l] : w.woff[l]+out*ld+out]
		if ld == in {
			vmath.ToFloat32(dst, src)
			continue
		}
		for i := range out {
			vmath.ToFloat32(dst[i*ld:i*ld+in], src[i*in:i*in+in])
		}
		vmath.ToFloat32(dst[out*ld:], src[out*in:])
	}
}

// forward32Rows computes rows [r0, r1) of the float32 forward pass from
// the float64 input x.
func (m *MLP) forward32Rows(ws *Workspace, x []float64, r0, r1 int) {
	w := ws.f32
	d := m.Config.Inputs
	in := w.in[r0*d : r1*d]
	if m.Mean != nil {
		for i := r0; i < r1; i++ {
			src, dst := x[i*d:i*d+d], w.in[i*d:i*d+d]
			for j, v := range src {
				dst[j] = float32((v - m.Mean[j]) / m.Std[j])
			}
		}
	} else {
		vmath.ToFloat32(in, x[r0*d:r1*d])
	}
	rows := r1 - r0
	L := m.NumLayers()
	a, lda := in, d
	for l := 0; l < L; l++ {
		in, out := m.sizes[l], m.sizes[l+1]
		ldw, ldz := w.ldW[l], w.ldA[l]
		wt := w.params[w.woff[l] : w.woff[l]+out*ldw]
		b := w.params[w.woff[l]+out*ldw : w.woff[l]+out*ldw+out]
		z := w.act[l][r0*ldz : r1*ldz]
		if rows > 0 {
			gemm.Sgemm(blas.NoTrans, blas.Trans, rows, out, in, 1, a, lda, wt, ldw, 0, z, ldz)
		}
		act := m.Config.Activation
		if l == L-1 {
			act = Identity
		}
		act.apply32(z, b, rows, ldz)
		a, lda = z, ldz
	}
	Lo := m.Config.Outputs
	if lda == Lo { // the output layer is never padded (pad32)
		vmath.ToFloat64(w.out[r0*Lo:r1*Lo], a[:rows*Lo])
		return
	}
	for i := range rows {
		vmath.ToFloat64(w.out[(r0+i)*Lo:(r0+i+1)*Lo], a[i*lda:i*lda+Lo])
	}
}

// backward32 is Backward in float32 for a Forward in float32 of n > 0 rows.
func (m *MLP) backward32(ws *Workspace, dOut []float64, n int) {
	ws.cur = dOut
	m.parallel(ws, n, kindBackward32)
	ws.cur = nil
	m.reduceParts(ws, n)
}

// backward32Rows computes the float32 backward pass of rows [r0, r1) and
// adds their gradient to g (laid out as Grads), or sets g to it (set ==
// true: the result of clearing g first, bit for bit), using g32 for the
// float32 weight gradients.
func (m *MLP) backward32Rows(ws *Workspace, dOut []float64, r0, r1 int, g []float64, g32 []float32, set bool) {
	w := ws.f32
	rows := r1 - r0
	Lo := m.Config.Outputs
	delta, ldd := w.dout[r0*Lo:r1*Lo], Lo // δ of the layer, rows ldd apart
	vmath.ToFloat32(delta, dOut[r0*Lo:r1*Lo])
	next, spare := w.d0, w.d1
	for l := m.NumLayers() - 1; l >= 0; l-- {
		in, out := m.sizes[l], m.sizes[l+1]
		var aPrev []float32
		lda := in
		if l > 0 {
			lda = w.ldA[l-1]
			aPrev = w.act[l-1][r0*lda : r1*lda]
		} else {
			aPrev = w.in[r0*in : r1*in]
		}
		wOff := m.off[l]
		if g == nil {
			// Float32 only (Gradient32): weights and biases into g32.
			gemm.Sgemm(blas.Trans, blas.NoTrans, out, in, rows, 1, delta, ldd, aPrev, lda, 0, g32[wOff:wOff+out*in], in)
			gb := g32[wOff+out*in : wOff+out*in+out]
			clear(gb)
			vmath.SumColumns32(gb, delta, rows, ldd)
		} else {
			gb := g[wOff+out*in : wOff+out*in+out]
			if set {
				// The float32 product widened straight into g (the
				// same bits as Sgemm into g32 and SetFloat32).
				gemm.Sgemm64(blas.Trans, blas.NoTrans, out, in, rows, 1, delta, ldd, aPrev, lda, g[wOff:wOff+out*in], in)
				clear(gb)
			} else {
				gw := g32[wOff : wOff+out*in]
				gemm.Sgemm(blas.Trans, blas.NoTrans, out, in, rows, 1, delta, ldd, aPrev, lda, 0, gw, in)
				vmath.AddFloat32(g[wOff:wOff+out*in], gw)
			}
			// gb[j] += float64(δ[i][j]), row after row, in one pass.
			vmath.AddColumns32(gb, delta, rows, ldd)
		}
		if l == 0 {
			break
		}
		// δ_prev has the row stride of the activations (padded alike).
		dp := next[r0*lda : r1*lda]
		ldw := w.ldW[l]
		gemm.Sgemm(blas.NoTrans, blas.NoTrans, rows, in, out, 1, delta, ldd, w.params[w.woff[l]:w.woff[l]+out*ldw], ldw, 0, dp, lda)
		if lda == in {
			m.Config.Activation.backward32(dp, aPrev)
		} else {
			for i := range rows {
				m.Config.Activation.backward32(dp[i*lda:i*lda+in], aPrev[i*lda:i*lda+in])
			}
		}
		delta, ldd = dp, lda
		next, spare = spare, next
	}
}

// maxThreads bounds SetThreads.
const maxThreads = 64

// SetThreads sets how many goroutines Forward and Backward split a batch
// over: the rows are cut into t contiguous blocks, block 0 computed by the
// caller and the others by a persistent pool. Forward's outputs do not
// depend on t; Backward sums the blocks' gradients in block order, so its
// result is bit-identical for a fixed t (and in general differs in the last
// bits between values of t). With t > 1 a Workspace allocates its per-block
// gradient buffers on its first Backward. The default is 1. It returns an
// error wrapping ErrConfig unless 1 <= t <= 64, and must not be called
// concurrently with Forward or Backward.
func (m *MLP) SetThreads(t int) error {
	if t < 1 || t > maxThreads {
		return fmt.Errorf("threads = %d: want 1 to %d: %w", t, maxThreads, ErrConfig)
	}
	m.threads = t
	return nil
}

// Threads returns the number of blocks Forward and Backward split a batch
// into (SetThreads).
func (m *MLP) Threads() int { return max(m.threads, 1) }

// part holds what block p > 0 of a split batch needs of its own.
type part struct {
	grads   []float64 // gradient of the block, laid out as Grads
	grads32 []float32 // float32 weight gradients of the block
	task    partTask
}

// partTask is one block handed to the pool.
type partTask struct {
	m      *MLP
	ws     *Workspace
	kind   int
	p      int
	r0, r1 int
}

// The passes parallel runs.
const (
	kindForward64 = iota
	kindBackward64
	kindForward32
	kindBackward32
)

// runPart computes block p, rows [r0, r1), of pass kind; ws.cur holds the
// pass's input (x for Forward, dOut for Backward).
func (m *MLP) runPart(ws *Workspace, kind, p, r0, r1 int) {
	switch kind {
	case kindForward64:
		m.forward64(ws, ws.cur, r0, r1)
	case kindBackward64:
		g, beta := m.Grads, 1.0
		if p > 0 {
			g, beta = ws.parts[p-1].grads, 0
		}
		m.backward64(ws, ws.cur, r0, r1, g, beta)
	case kindForward32:
		m.forward32Rows(ws, ws.cur, r0, r1)
	case kindBackward32:
		g, g32, set := m.Grads, ws.f32.grads, ws.setGrads
		if p > 0 {
			pt := ws.parts[p-1]
			g, g32, set = pt.grads, pt.grads32, true
		}
		if ws.only32 {
			g = nil
		}
		m.backward32Rows(ws, ws.cur, r0, r1, g, g32, set)
	}
}

// partPool is the persistent set of goroutines computing blocks.
var partPool struct {
	mu      sync.Mutex
	started int
	ch      chan *partTask
}

func ensurePartHelpers(n int) {
	partPool.mu.Lock()
	defer partPool.mu.Unlock()
	if partPool.ch == nil {
		partPool.ch = make(chan *partTask, maxThreads)
	}
	for partPool.started < n {
		go func() {
			for t := range partPool.ch {
				t.m.runPart(t.ws, t.kind, t.p, t.r0, t.r1)
				t.ws.wg.Done()
			}
		}()
		partPool.started++
	}
}

// parallel runs pass kind on the Threads() contiguous row blocks of an
// n-row batch, block 0 on the calling goroutine, and waits for all.
func (m *MLP) parallel(ws *Workspace, n int, kind int) {
	t := min(m.Threads(), max(n, 1))
	if t == 1 {
		m.runPart(ws, kind, 0, 0, n)
		return
	}
	if len(ws.parts) < t-1 {
		for len(ws.parts) < t-1 {
			ws.parts = append(ws.parts, &part{})
		}
	}
	for _, pt := range ws.parts[:t-1] {
		if len(pt.grads) != len(m.Params) {
			pt.grads = make([]float64, len(m.Params))
			pt.grads32 = make([]float32, len(m.Params))
		}
	}
	ensurePartHelpers(t - 1)
	for p := 1; p < t; p++ {
		tk := &ws.parts[p-1].task
		*tk = partTask{m: m, ws: ws, kind: kind, p: p, r0: p * n / t, r1: (p + 1) * n / t}
		ws.wg.Add(1)
		partPool.ch <- tk
	}
	m.runPart(ws, kind, 0, 0, n/t)
	ws.wg.Wait()
	for _, pt := range ws.parts[:t-1] {
		pt.task = partTask{}
	}
}

// reduceParts adds the gradients of blocks 1… of the last split Backward
// to Grads, in block order.
func (m *MLP) reduceParts(ws *Workspace, n int) {
	t := min(m.Threads(), max(n, 1))
	for p := 1; p < t; p++ {
		g := ws.parts[p-1].grads
		for i, v := range g {
			m.Grads[i] += v
		}
	}
}
