package vmath

import (
	"fmt"
	"math"
)

// sqrt32 is the correctly rounded float32 square root (the float64 root
// of a float32 rounds to the float32 root exactly: 53 ≥ 2·24 + 2 bits).
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// Adagrad32 performs Adagrad64's update in float32 arithmetic on every
// element (each operation rounded to float32, none fused):
//
//	g ← g + wd·p (when wd ≠ 0),  s ← s + g²,  p ← p − clr·g/(√s + eps),
//
// without modifying grads, and, when p64 is not nil, sets p64[i] =
// float64(params[i]) to the updated parameters in the same pass. It panics
// if grads, sum or a non-nil p64 is shorter than params.
func Adagrad32(params, grads, sum []float32, p64 []float64, clr, eps, wd float32) {
	checkLen("Adagrad32", len(params), len(grads), len(sum))
	if p64 != nil {
		checkLen("Adagrad32", len(params), len(p64))
	}
	done := adagrad32Vec(Current(), params, grads, sum, p64, clr, eps, wd)
	for i := done; i < len(params); i++ {
		g, p := grads[i], params[i]
		if wd != 0 {
			g += float32(wd * p)
		}
		s := sum[i] + float32(g*g)
		sum[i] = s
		p -= float32(clr*g) / (sqrt32(s) + eps)
		params[i] = p
		if p64 != nil {
			p64[i] = float64(p)
		}
	}
}

// AdamConsts32 are the per-step scalars of a float32 Adam or AdamW update
// (the fields of AdamConsts rounded to float32).
type AdamConsts32 struct {
	Beta1, OneMinusBeta1 float32
	Beta2, OneMinusBeta2 float32
	BC2Sqrt              float32 // √(1 − β₂ᵗ)
	Eps                  float32
	StepSize             float32 // lr/(1 − β₁ᵗ)
	WeightDecay          float32 // L2 decay (Mode 1)
	Decay                float32 // factor 1 − lr·wd (Mode 2)
	_                    float32
	// Mode is 0 without weight decay, 1 for L2 decay (g ← g + wd·p,
	// Adam), 2 for decoupled decay (p ← p·Decay, AdamW).
	Mode int64
}

// Adam32 performs Adam64's update in float32 arithmetic on every element
// (each operation rounded to float32, none fused) and, when p64 is not
// nil, sets p64[i] = float64(params[i]) to the updated parameters in the
// same pass. It panics if a slice is shorter than params or c.Mode is not
// 0, 1 or 2.
func Adam32(params, grads, m, v []float32, p64 []float64, c *AdamConsts32) {
	checkLen("Adam32", len(params), len(grads), len(m), len(v))
	if p64 != nil {
		checkLen("Adam32", len(params), len(p64))
	}
	if c.Mode < 0 || c.Mode > 2 {
		panic(fmt.Sprintf("vmath: Adam32 mode %d", c.Mode))
	}
	done := adam32Vec(Current(), params, grads, m, v, p64, c)
	for i := done; i < len(params); i++ {
		g, p := grads[i], params[i]
		switch c.Mode {
		case 1:
			g += float32(c.WeightDecay * p)
		case 2:
			p *= c.Decay
		}
		mi := float32(c.Beta1*m[i]) + float32(c.OneMinusBeta1*g)
		vi := float32(c.Beta2*v[i]) + float32(float32(c.OneMinusBeta2*g)*g)
		m[i], v[i] = mi, vi
		denom := sqrt32(vi)/c.BC2Sqrt + c.Eps
		p -= float32(c.StepSize*mi) / denom
		params[i] = p
		if p64 != nil {
			p64[i] = float64(p)
		}
	}
}

// SumColumns32 adds to dst[j] the sum in float32 of column j of the
// rows×len(dst) float32 matrix src whose rows are ld apart, for j <
// len(dst), the rows added one after another (a bias gradient from the
// deltas of a batch). It panics if ld < len(dst) or src is shorter than
// the matrix.
func SumColumns32(dst, src []float32, rows, ld int) {
	n := len(dst)
	if rows <= 0 || n == 0 {
		return
	}
	if ld < n {
		panic(fmt.Sprintf("vmath: SumColumns32: row stride %d below %d columns", ld, n))
	}
	checkLen("SumColumns32", (rows-1)*ld+n, len(src))
	done := colSum32Vec(Current(), dst, src, ld, rows)
	for j := done; j < n; j++ {
		s := dst[j]
		for i := range rows {
			s += src[i*ld+j]
		}
		dst[j] = s
	}
}
