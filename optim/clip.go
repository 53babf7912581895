package optim

import (
	"fmt"
	"math"
)

// ClipGlobalNorm scales grads in place so that their Euclidean norm is at
// most maxNorm, with the semantics of PyTorch's
// torch.nn.utils.clip_grad_norm_ (norm type 2): with ‖g‖ the norm over all
// entries, the coefficient c = maxNorm/(‖g‖ + 1e-6) is applied when c < 1, so
// a clipped vector ends slightly below maxNorm. It returns ‖g‖ before
// clipping. As in PyTorch, a NaN norm makes every gradient NaN and an
// infinite norm scales every gradient by 0 (infinite entries become NaN). It
// panics if maxNorm is negative or NaN.
func ClipGlobalNorm(grads []float64, maxNorm float64) (norm float64) {
	if !(maxNorm >= 0) {
		panic(fmt.Sprintf("optim: ClipGlobalNorm with max norm %v", maxNorm))
	}
	norm = Norm(grads)
	c := maxNorm / (norm + 1e-6)
	if c >= 1 {
		return norm
	}
	for i := range grads {
		grads[i] *= c
	}
	return norm
}

// Norm returns the Euclidean norm of v, without overflow or underflow for
// representable results.
func Norm(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x * x
	}
	if s > 0x1p-900 && s < 0x1p900 || s == 0 && allZero(v) {
		return math.Sqrt(s)
	}
	if math.IsNaN(s) {
		return s
	}
	// Rescale by the largest magnitude.
	var amax float64
	for _, x := range v {
		amax = math.Max(amax, math.Abs(x))
	}
	if math.IsInf(amax, 0) {
		return amax
	}
	s = 0
	for _, x := range v {
		y := x / amax
		s += y * y
	}
	return amax * math.Sqrt(s)
}

func allZero(v []float64) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}
