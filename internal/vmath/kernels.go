package vmath

import (
	"fmt"
	"math"
)

// Constants of the float64 tanh (see the package documentation).
const (
	tp0   = -9.64399179425052238628e-1
	tp1   = -9.92877231001918586564e1
	tp2   = -1.61468768441708447952e3
	tq0   = 1.12811678491632931402e2
	tq1   = 2.23548839060100448583e3
	tq2   = 4.84406305325125486048e3
	small = 0.625
	clamp = 40
	log2e = 1.4426950408889634
	magic = 6755399441055744 // 1.5·2⁵²
	ln2hi = 6.93147180369123816490e-01
	ln2lo = 1.90821492927058770002e-10
)

// expTaylor[i] is 1/(13−i)!, the Taylor coefficients from degree 13 down.
var expTaylor = func() (c [14]float64) {
	for i := range c {
		k := 13 - i
		f := 1.0
		for j := 2; j <= k; j++ {
			f *= float64(j)
		}
		c[i] = 1 / f
	}
	return c
}()

// tanh64 is the scalar reference of the float64 kernels: the same
// operations in the same order.
func tanh64(x float64) float64 {
	a := math.Abs(x)
	z := a * a
	p := math.FMA(z, math.FMA(z, tp0, tp1), tp2)
	q := math.FMA(z, math.FMA(z, z+tq0, tq1), tq2)
	us := a * z * p
	y := a + a
	if y > clamp {
		y = clamp
	}
	t := math.FMA(y, log2e, magic)
	n := t - magic
	r := math.FMA(-n, ln2hi, y)
	r = math.FMA(-n, ln2lo, r)
	e := expTaylor[0]
	for _, c := range expTaylor[1:] {
		e = math.FMA(r, e, c)
	}
	e *= math.Float64frombits(math.Float64bits(t)<<52 + 0x3ff0000000000000)
	e++
	b, u, w := 1.0, -2.0, e
	if a < small {
		b, u, w = a, us, q
	}
	res := b + u/w
	res = math.Float64frombits(math.Float64bits(res) | math.Float64bits(x)&(1<<63))
	if x != x {
		return x
	}
	return res
}

// Constants of the float32 tanh (Eigen's generic_fast_tanh_float).
const (
	fclamp = 7.90531110763549805
	ftiny  = 0.0004
	fa13   = -2.76076847742355e-16
	fa11   = 2.00018790482477e-13
	fa9    = -8.60467152213735e-11
	fa7    = 5.12229709037114e-08
	fa5    = 1.48572235717979e-05
	fa3    = 6.37261928875436e-04
	fa1    = 4.89352455891786e-03
	fb6    = 1.19825839466702e-06
	fb4    = 1.18534705686654e-04
	fb2    = 2.26843463243900e-03
	fb0    = 4.89352518554385e-03
)

func fma32(a, b, c float32) float32 {
	return float32(math.FMA(float64(a), float64(b), float64(c)))
}

// tanh32 is the scalar reference of the float32 kernels.
func tanh32(x float32) float32 {
	xc := x
	if xc < -fclamp {
		xc = -fclamp
	}
	if xc > fclamp {
		xc = fclamp
	}
	x2 := xc * xc
	p := float32(fa13)
	for _, c := range [...]float32{fa11, fa9, fa7, fa5, fa3, fa1} {
		p = fma32(x2, p, c)
	}
	p *= xc
	q := float32(fb6)
	for _, c := range [...]float32{fb4, fb2, fb0} {
		q = fma32(x2, q, c)
	}
	r := p / q
	if float32(math.Abs(float64(x))) < ftiny || x != x {
		return x
	}
	return r
}

func checkLen(what string, n int, lens ...int) {
	for _, l := range lens {
		if l < n {
			panic(fmt.Sprintf("vmath: %s: slice of %d elements, want at least %d", what, l, n))
		}
	}
}

// Tanh64 sets dst[i] = tanh(x[i]) for i < len(dst); dst may be x. It
// panics if x is shorter than dst.
func Tanh64(dst, x []float64) {
	checkLen("Tanh64", len(dst), len(x))
	done := tanh64Vec(Current(), dst, x, nil)
	for i := done; i < len(dst); i++ {
		dst[i] = tanh64(x[i])
	}
}

// AddTanh64 sets dst[i] = tanh(x[i] + b[i]) for i < len(dst): a bias and the
// activation in one pass. dst may be x. It panics if x or b is shorter than
// dst.
func AddTanh64(dst, x, b []float64) {
	checkLen("AddTanh64", len(dst), len(x), len(b))
	done := tanh64Vec(Current(), dst, x, b)
	for i := done; i < len(dst); i++ {
		dst[i] = tanh64(x[i] + b[i])
	}
}

// Tanh32 sets dst[i] = tanh(x[i]) for i < len(dst); dst may be x. It
// panics if x is shorter than dst.
func Tanh32(dst, x []float32) {
	checkLen("Tanh32", len(dst), len(x))
	done := tanh32Vec(Current(), dst, x, nil)
	for i := done; i < len(dst); i++ {
		dst[i] = tanh32(x[i])
	}
}

// AddTanh32 sets dst[i] = tanh(x[i] + b[i]) for i < len(dst). dst may be
// x. It panics if x or b is shorter than dst.
func AddTanh32(dst, x, b []float32) {
	checkLen("AddTanh32", len(dst), len(x), len(b))
	done := tanh32Vec(Current(), dst, x, b)
	for i := done; i < len(dst); i++ {
		dst[i] = tanh32(x[i] + b[i])
	}
}

// TanhDeriv64 multiplies d[i] by tanh′ expressed through the output
// y[i] = tanh(z): d[i] ·= 1 − y[i]², for i < len(d). It panics if y is
// shorter than d.
func TanhDeriv64(d, y []float64) {
	checkLen("TanhDeriv64", len(d), len(y))
	done := tanhDeriv64Vec(Current(), d, y)
	for i := done; i < len(d); i++ {
		d[i] *= 1 - y[i]*y[i]
	}
}

// TanhDeriv32 is TanhDeriv64 in float32.
func TanhDeriv32(d, y []float32) {
	checkLen("TanhDeriv32", len(d), len(y))
	done := tanhDeriv32Vec(Current(), d, y)
	for i := done; i < len(d); i++ {
		d[i] *= 1 - y[i]*y[i]
	}
}

// Adagrad64 performs torch.optim.Adagrad's update on every element:
//
//	g ← g + wd·p (when wd ≠ 0),  s ← s + g²,  p ← p − clr·g/(√s + eps),
//
// without modifying grads. It panics if grads or sum is shorter than params.
func Adagrad64(params, grads, sum []float64, clr, eps, wd float64) {
	checkLen("Adagrad64", len(params), len(grads), len(sum))
	adagrad64(params, grads, sum, nil, clr, eps, wd)
}

// Adagrad64Round32 is Adagrad64 that also sets r32[i] = float32(params[i])
// (round to nearest) to the updated parameters in the same pass. It panics
// if grads, sum or r32 is shorter than params.
func Adagrad64Round32(params, grads, sum []float64, r32 []float32, clr, eps, wd float64) {
	checkLen("Adagrad64Round32", len(params), len(grads), len(sum), len(r32))
	if len(params) == 0 {
		return
	}
	adagrad64(params, grads, sum, r32, clr, eps, wd)
}

func adagrad64(params, grads, sum []float64, r32 []float32, clr, eps, wd float64) {
	done := adagrad64Vec(Current(), params, grads, sum, r32, clr, eps, wd)
	for i := done; i < len(params); i++ {
		g, p := grads[i], params[i]
		if wd != 0 {
			g += wd * p
		}
		s := sum[i] + g*g
		sum[i] = s
		p -= clr * g / (math.Sqrt(s) + eps)
		params[i] = p
		if r32 != nil {
			r32[i] = float32(p)
		}
	}
}

// AdamConsts are the per-step scalars of an Adam or AdamW update.
type AdamConsts struct {
	Beta1, OneMinusBeta1 float64
	Beta2, OneMinusBeta2 float64
	BC2Sqrt              float64 // √(1 − β₂ᵗ)
	Eps                  float64
	StepSize             float64 // lr/(1 − β₁ᵗ)
	WeightDecay          float64 // L2 decay (Mode 1)
	Decay                float64 // factor 1 − lr·wd (Mode 2)
	// Mode is 0 without weight decay, 1 for L2 decay (g ← g + wd·p,
	// Adam), 2 for decoupled decay (p ← p·Decay, AdamW).
	Mode int64
}

// Adam64 performs torch.optim.Adam's (or AdamW's) update without AMSGrad
// on every element:
//
//	m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  p ← p − step·m/(√v/bc2 + eps),
//
// after the weight decay of c.Mode. It panics if a slice is shorter than
// params or c.Mode is not 0, 1 or 2.
func Adam64(params, grads, m, v []float64, c *AdamConsts) {
	checkLen("Adam64", len(params), len(grads), len(m), len(v))
	if c.Mode < 0 || c.Mode > 2 {
		panic(fmt.Sprintf("vmath: Adam64 mode %d", c.Mode))
	}
	done := adam64Vec(Current(), params, grads, m, v, c)
	for i := done; i < len(params); i++ {
		g, p := grads[i], params[i]
		switch c.Mode {
		case 1:
			g += c.WeightDecay * p
		case 2:
			p *= c.Decay
		}
		mi := c.Beta1*m[i] + c.OneMinusBeta1*g
		vi := c.Beta2*v[i] + c.OneMinusBeta2*g*g
		m[i], v[i] = mi, vi
		denom := math.Sqrt(vi)/c.BC2Sqrt + c.Eps
		params[i] = p - c.StepSize*mi/denom
	}
}

// ToFloat32 sets dst[i] = float32(src[i]) (round to nearest) for
// i < len(dst). It panics if src is shorter than dst.
func ToFloat32(dst []float32, src []float64) {
	checkLen("ToFloat32", len(dst), len(src))
	done := toFloat32Vec(Current(), dst, src)
	for i := done; i < len(dst); i++ {
		dst[i] = float32(src[i])
	}
}

// ToFloat64 sets dst[i] = float64(src[i]) for i < len(dst). It panics if
// src is shorter than dst.
func ToFloat64(dst []float64, src []float32) {
	checkLen("ToFloat64", len(dst), len(src))
	done := toFloat64Vec(Current(), dst, src, cvtSet)
	for i := done; i < len(dst); i++ {
		dst[i] = float64(src[i])
	}
}

// AddFloat32 sets dst[i] += float64(src[i]) for i < len(dst). It panics if
// src is shorter than dst.
func AddFloat32(dst []float64, src []float32) {
	checkLen("AddFloat32", len(dst), len(src))
	done := toFloat64Vec(Current(), dst, src, cvtAdd)
	for i := done; i < len(dst); i++ {
		dst[i] += float64(src[i])
	}
}

// SetFloat32 sets dst[i] = 0 + float64(src[i]) for i < len(dst): what
// clear(dst) then AddFloat32(dst, src) leave, bit for bit (a −0 becomes +0),
// in one pass. It panics if src is shorter than dst.
func SetFloat32(dst []float64, src []float32) {
	checkLen("SetFloat32", len(dst), len(src))
	done := toFloat64Vec(Current(), dst, src, cvtZeroAdd)
	for i := done; i < len(dst); i++ {
		dst[i] = 0 + float64(src[i])
	}
}

// AddColumns32 adds to dst[j] the float64 values of column j of the
// rows×len(dst) float32 matrix src whose rows are ld apart, for j <
// len(dst): the sums of AddFloat32(dst, row) for each row in order, bit for
// bit, in one pass (a bias gradient from the deltas of a batch). It panics
// if ld < len(dst) or src is shorter than the matrix.
func AddColumns32(dst []float64, src []float32, rows, ld int) {
	n := len(dst)
	if rows <= 0 || n == 0 {
		return
	}
	if ld < n {
		panic(fmt.Sprintf("vmath: AddColumns32: row stride %d below %d columns", ld, n))
	}
	checkLen("AddColumns32", (rows-1)*ld+n, len(src))
	done := colSumVec(Current(), dst, src, ld, rows)
	for j := done; j < n; j++ {
		s := dst[j]
		for i := range rows {
			s += float64(src[i*ld+j])
		}
		dst[j] = s
	}
}

// Modes of toFloat64Vec.
const (
	cvtSet     = iota // dst = float64(src)
	cvtAdd            // dst += float64(src)
	cvtZeroAdd        // dst = 0 + float64(src)
)
