package nn

import (
	"errors"
	"fmt"
)

// Sentinel errors, returned wrapped; test with errors.Is.
var (
	// ErrConfig reports an invalid network configuration.
	ErrConfig = errors.New("invalid network configuration")
	// ErrTensor reports a model tensor with an unexpected name, type or
	// shape.
	ErrTensor = errors.New("invalid model tensor")
)

// Config describes a multilayer perceptron: Inputs features, one dense layer
// per entry of Hidden followed by Activation, and a linear output layer of
// Outputs units. It encodes to JSON as
//
//	{"inputs":11,"hidden":[100,100],"outputs":7,"activation":"tanh"}
type Config struct {
	Inputs     int        `json:"inputs"`
	Hidden     []int      `json:"hidden"`
	Outputs    int        `json:"outputs"`
	Activation Activation `json:"activation"`
}

// NotebookConfig returns the notebook's network: 11 inputs (the generator of
// an 11×11 Toeplitz matrix of half-bandwidth 5), two tanh layers of 100 units
// and 7 outputs (the generator of half-bandwidth 3, which the notebook
// zero-pads by 2 on each side into the 11-wide input band).
func NotebookConfig() Config {
	return Config{Inputs: 11, Hidden: []int{100, 100}, Outputs: 7, Activation: Tanh}
}

// maxWidth bounds every layer width so that parameter counts cannot
// overflow; it is far above anything trainable here.
const maxWidth = 1 << 24

// Validate reports whether c describes a network: positive widths, a known
// activation and a parameter count that fits in memory indexing.
func (c Config) Validate() error {
	if c.Inputs < 1 || c.Inputs > maxWidth {
		return fmt.Errorf("inputs = %d: must be between 1 and %d: %w", c.Inputs, maxWidth, ErrConfig)
	}
	if c.Outputs < 1 || c.Outputs > maxWidth {
		return fmt.Errorf("outputs = %d: must be between 1 and %d: %w", c.Outputs, maxWidth, ErrConfig)
	}
	for i, h := range c.Hidden {
		if h < 1 || h > maxWidth {
			return fmt.Errorf("hidden layer %d has width %d: must be between 1 and %d: %w", i, h, maxWidth, ErrConfig)
		}
	}
	if !c.Activation.valid() {
		return fmt.Errorf("activation %d: want tanh, relu or identity: %w", int(c.Activation), ErrConfig)
	}
	const maxParams = 1 << 40
	total := 0
	sizes := c.Sizes()
	for l := 1; l < len(sizes); l++ {
		total += sizes[l] * (sizes[l-1] + 1)
		if total > maxParams {
			return fmt.Errorf("network has more than %d parameters: %w", maxParams, ErrConfig)
		}
	}
	return nil
}

// Sizes returns the layer widths Inputs, Hidden..., Outputs.
func (c Config) Sizes() []int {
	s := make([]int, 0, len(c.Hidden)+2)
	s = append(s, c.Inputs)
	s = append(s, c.Hidden...)
	return append(s, c.Outputs)
}

// NumParams returns the number of weights and biases, Σ out·(in+1) over the
// layers. c must be valid.
func (c Config) NumParams() int {
	s := c.Sizes()
	n := 0
	for l := 1; l < len(s); l++ {
		n += s[l] * (s[l-1] + 1)
	}
	return n
}

// String describes c compactly, e.g. "11-100-100-7 tanh".
func (c Config) String() string {
	s := fmt.Sprint(c.Inputs)
	for _, h := range c.Hidden {
		s += fmt.Sprintf("-%d", h)
	}
	return fmt.Sprintf("%s-%d %v", s, c.Outputs, c.Activation)
}
