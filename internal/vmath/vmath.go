// Package vmath provides the vectorised elementwise kernels of training:
// the hyperbolic tangent (with a fused bias), its derivative from the stored
// output, the fused Adagrad and Adam parameter updates (Adagrad64Round32
// also writes the float32 rounding of the new parameters in the same pass),
// and the float64↔float32 conversions, in float64 and float32; and DotRows,
// the float64 dot products of one vector with the rows of a matrix.
//
// # Tanh, float64
//
// For a = |x| < 0.625 the odd rational approximation of Cephes (S. L.
// Moshier, Cephes Math Library, tanh.c)
//
//	tanh(a) = a + a·z·P(z)/Q(z),  z = a²,  deg P = 2, deg Q = 3,
//
// and otherwise tanh(a) = 1 − 2/(e^{2a} + 1), where e^y (y = min(2a, 40)) is
// evaluated by the reduction y = n·ln2 + r, |r| ≤ ln2/2 (ln2 in two parts,
// n by the round-to-nearest of y·log2e + 1.5·2⁵²) and the Taylor polynomial
// of degree 13 in r, scaled by 2ⁿ through the exponent bits. Both branches
// end in one shared division b + u/w. The sign of x is copied onto the
// result (tanh(−0) = −0), NaN is returned unchanged, ±Inf gives ±1. The
// maximum error against math.Tanh is stated and checked in vmath_test.go
// (Tanh64MaxULP: 2 ulp, reached near the branch point).
//
// # Tanh, float32
//
// Eigen's generic_fast_tanh_float (Eigen 3.4, MathFunctionsImpl.h): x is
// clamped to ±7.90531110763549805, tanh(x) ≈ x·P(x²)/Q(x²) with deg P = 6
// (in x², an odd polynomial of degree 13) and deg Q = 3, and x itself for
// |x| < 0.0004. Maximum error: 4 ulp of float32 (Tanh32MaxULP).
//
// # Paths
//
// Every kernel has three implementations chosen at run time: AVX-512F (zmm),
// AVX2+FMA (ymm) and pure Go. The two assembly paths perform the same
// operations in the same order and agree bit for bit; the pure-Go path uses
// math.FMA where they fuse and agrees bit for bit in float64 (in float32 its
// fused multiply-adds are rounded twice, through float64, and may differ in
// the last bit). The assembly handles whole vectors and the Go reference the
// remaining elements. The optimizer kernels have an AVX2 path only (AVX-512
// brings no throughput for square roots and divisions on the CPUs at hand)
// and use no fusion, so they match optim's scalar loops bit for bit.
// DotRows is the exception to both: its AVX2 kernel serves the AVX-512
// path too, and it fuses where its pure-Go path does not, since its
// contract allows any order of summation (see DotRows).
// SetPath forces a path (tests, benchmarks); the environment variable
// MATAPPROX_VMATH=generic|avx2 does so at start-up.
package vmath

import (
	"fmt"
	"os"
	"sync/atomic"
)

// Path is an implementation of the kernels.
type Path int32

// The implementations, from the most portable to the widest.
const (
	Generic Path = iota // pure Go
	AVX2                // AVX2 and FMA, 256-bit vectors
	AVX512              // AVX-512F, 512-bit vectors
)

func (p Path) String() string {
	switch p {
	case Generic:
		return "generic"
	case AVX2:
		return "avx2"
	case AVX512:
		return "avx512"
	}
	return fmt.Sprintf("Path(%d)", int32(p))
}

// path is the path in use; best is the widest the CPU supports.
var path atomic.Int32

func init() {
	p := best
	switch os.Getenv("MATAPPROX_VMATH") {
	case "generic":
		p = Generic
	case "avx2":
		p = min(p, AVX2)
	}
	path.Store(int32(p))
}

// Best returns the widest path this CPU supports.
func Best() Path { return best }

// Current returns the path in use.
func Current() Path { return Path(path.Load()) }

// SetPath selects path p, or the widest supported path below it, and
// returns the previous one. It is meant for tests and benchmarks and is safe
// for concurrent use.
func SetPath(p Path) (was Path) {
	return Path(path.Swap(int32(min(max(p, Generic), best))))
}
