package loss

import (
	"errors"
	"fmt"

	"github.com/matapprox/matapprox/structure"
)

// ErrProbes reports an unusable probe set (wrong shape, zero or non-finite
// vectors).
var ErrProbes = errors.New("invalid probes")

// Loss is a loss of a banded approximation as a function of the input
// generator x (band In) and the approximation's generator a (band Out).
type Loss interface {
	// Bands returns the input and output bands.
	Bands() (in, out structure.Band)
	// Eval returns the sum over a batch of n samples of the per-sample loss.
	// x is n×(2K+1) and a is n×(2K'+1), both row-major. If grad is not nil
	// (length n×(2K'+1)) it receives ∂loss_b/∂a_b for every sample b.
	// Eval panics if the slice lengths do not match n and the bands.
	Eval(grad, x, a []float64, n int) float64
	// Name returns a short name: "probe", "frobenius" or "spectral".
	Name() string
}

// Reduction says how an Objective combines the losses of a batch.
type Reduction int

const (
	// Mean averages the per-sample losses.
	Mean Reduction = iota
	// Sum adds them, as the notebook does.
	Sum
)

// String returns "mean" or "sum".
func (r Reduction) String() string {
	switch r {
	case Mean:
		return "mean"
	case Sum:
		return "sum"
	}
	return fmt.Sprintf("Reduction(%d)", int(r))
}

// ParseReduction parses "mean" or "sum".
func ParseReduction(s string) (Reduction, error) {
	switch s {
	case "mean":
		return Mean, nil
	case "sum":
		return Sum, nil
	}
	return 0, fmt.Errorf("unknown reduction %q: use mean or sum", s)
}

// Objective is a Loss with a reduction over the batch and a scale factor:
// the value is Scale·Σ_b loss_b (Sum) or Scale·(1/n)·Σ_b loss_b (Mean). A zero
// Scale means 1.
type Objective struct {
	Loss      Loss
	Reduction Reduction
	Scale     float64
}

// Eval returns the reduced, scaled loss of a batch and, if grad is not nil,
// its gradient with respect to a.
func (o Objective) Eval(grad, x, a []float64, n int) float64 {
	s := o.Factor(n)
	v := o.Loss.Eval(grad, x, a, n)
	if grad != nil && s != 1 {
		for i := range grad[:n*outLen(o.Loss)] {
			grad[i] *= s
		}
	}
	return v * s
}

// Factor returns the multiplier Eval applies to the sum of the losses of a
// batch of n: Scale (1 if zero), divided by n for Mean.
func (o Objective) Factor(n int) float64 {
	s := o.Scale
	if s == 0 {
		s = 1
	}
	if o.Reduction == Mean && n > 0 {
		s /= float64(n)
	}
	return s
}

func outLen(l Loss) int {
	_, out := l.Bands()
	return out.Len()
}

func checkBatch(in, out structure.Band, grad, x, a []float64, n int) {
	if n < 0 || len(x) < n*in.Len() || len(a) < n*out.Len() || (grad != nil && len(grad) < n*out.Len()) {
		panic(fmt.Sprintf("loss: batch of %d with len(x)=%d, len(a)=%d, len(grad)=%d for bands %v → %v", n, len(x), len(a), len(grad), in, out))
	}
}

func checkBands(in, out structure.Band) error {
	if err := structure.CheckNested(in, out); err != nil {
		return fmt.Errorf("loss bands: %w", err)
	}
	return nil
}

// evalResiduals returns Σ_b f(g_b, r_b) over the residuals
// r_b = x_b − embed(a_b) of a batch, with r (length 2K+1) as workspace. f
// returns a per-sample loss and, when its first argument is not nil,
// writes its gradient with respect to the residual there; if grad is not
// nil, g (length 2K+1) receives it and grad the gradient with respect to
// a_b, its negated output-band part.
func evalResiduals(in, out structure.Band, r, g, grad, x, a []float64, n int, f func(g, r []float64) float64) float64 {
	checkBatch(in, out, grad, x, a, n)
	L, Lo := in.Len(), out.Len()
	off := in.K - out.K
	var gr []float64
	if grad != nil {
		gr = g
	}
	var s float64
	for b := 0; b < n; b++ {
		copy(r, x[b*L:(b+1)*L])
		for j, v := range a[b*Lo : (b+1)*Lo] {
			r[off+j] -= v
		}
		s += f(gr, r)
		if grad != nil {
			for j := range Lo {
				grad[b*Lo+j] = -gr[off+j]
			}
		}
	}
	return s
}
