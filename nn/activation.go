package nn

import (
	"fmt"
	"strings"

	"github.com/matapprox/matapprox/internal/vmath"
)

// Activation is the elementwise nonlinearity applied after every hidden
// layer. The output layer is always linear.
type Activation int

// The supported activations.
const (
	// Tanh is the hyperbolic tangent, the notebook's choice, evaluated by
	// the vectorised kernels of internal/vmath (within 2 ulp of math.Tanh
	// in float64, 4 ulp in float32); its derivative is computed from the
	// stored output y as 1−y².
	Tanh Activation = iota
	// ReLU is max(0, x); its derivative is 1 where the output is positive.
	ReLU
	// Identity leaves its input unchanged (a linear network).
	Identity
)

var activationNames = [...]string{Tanh: "tanh", ReLU: "relu", Identity: "identity"}

// String returns the lower-case name of a ("tanh", "relu", "identity").
func (a Activation) String() string {
	if a < 0 || int(a) >= len(activationNames) {
		return fmt.Sprintf("Activation(%d)", int(a))
	}
	return activationNames[a]
}

// valid reports whether a is one of the defined activations.
func (a Activation) valid() bool { return a >= 0 && int(a) < len(activationNames) }

// ParseActivation returns the activation named s, ignoring case and
// surrounding space. "linear" and "none" are accepted for Identity.
func ParseActivation(s string) (Activation, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "tanh":
		return Tanh, nil
	case "relu":
		return ReLU, nil
	case "identity", "linear", "none":
		return Identity, nil
	}
	return 0, fmt.Errorf("activation %q: want tanh, relu or identity: %w", s, ErrConfig)
}

// MarshalText encodes a by name, so that JSON holds "tanh" rather than 0.
func (a Activation) MarshalText() ([]byte, error) {
	if !a.valid() {
		return nil, fmt.Errorf("activation %d: %w", int(a), ErrConfig)
	}
	return []byte(a.String()), nil
}

// UnmarshalText decodes a name accepted by ParseActivation.
func (a *Activation) UnmarshalText(b []byte) error {
	v, err := ParseActivation(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// apply overwrites v[j] with f(v[j] + b[j]) for every row of the n×len(b)
// row-major matrix v: bias and activation in one pass over the output.
func (a Activation) apply(v, b []float64, n int) {
	w := len(b)
	for i := 0; i < n; i++ {
		row := v[i*w : i*w+w]
		switch a {
		case Tanh:
			vmath.AddTanh64(row, row, b)
		case ReLU:
			for j, bj := range b {
				row[j] = max(row[j]+bj, 0)
			}
		default:
			for j, bj := range b {
				row[j] += bj
			}
		}
	}
}

// apply32 is apply in float32 for a matrix v of n rows ld apart.
func (a Activation) apply32(v, b []float32, n, ld int) {
	w := len(b)
	for i := 0; i < n; i++ {
		row := v[i*ld : i*ld+w]
		switch a {
		case Tanh:
			vmath.AddTanh32(row, row, b)
		case ReLU:
			for j, bj := range b {
				row[j] = max(row[j]+bj, 0)
			}
		default:
			for j, bj := range b {
				row[j] += bj
			}
		}
	}
}

// backward multiplies d elementwise by f'(z), expressed through the stored
// output y = f(z): 1−y² for tanh, [y > 0] for ReLU, 1 for identity.
func (a Activation) backward(d, y []float64) {
	y = y[:len(d)]
	switch a {
	case Tanh:
		vmath.TanhDeriv64(d, y)
	case ReLU:
		for i, yi := range y {
			if !(yi > 0) {
				d[i] = 0
			}
		}
	}
}

// backward32 is backward in float32.
func (a Activation) backward32(d, y []float32) {
	y = y[:len(d)]
	switch a {
	case Tanh:
		vmath.TanhDeriv32(d, y)
	case ReLU:
		for i, yi := range y {
			if !(yi > 0) {
				d[i] = 0
			}
		}
	}
}
