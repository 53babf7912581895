//go:build amd64 && !purego

package vmath

import "golang.org/x/sys/cpu"

var best = func() Path {
	switch {
	case cpu.X86.HasAVX512F && cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return AVX512
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return AVX2
	}
	return Generic
}()

// lanes returns the vector width of path p in elements of size bytes.
func lanes(p Path, size int) int {
	if p == AVX512 {
		return 64 / size
	}
	return 32 / size
}

// The tanh kernels handle every element, the last partial vector with
// masked loads and stores.

func tanh64Vec(p Path, dst, x, b []float64) int {
	n := len(dst)
	if p == Generic || n == 0 {
		return 0
	}
	var pb *float64
	if b != nil {
		pb = &b[0]
	}
	if p == AVX512 {
		tanh64AVX512(&dst[0], &x[0], pb, n)
	} else {
		tanh64AVX2(&dst[0], &x[0], pb, n)
	}
	return n
}

func tanh32Vec(p Path, dst, x, b []float32) int {
	n := len(dst)
	if p == Generic || n == 0 {
		return 0
	}
	var pb *float32
	if b != nil {
		pb = &b[0]
	}
	if p == AVX512 {
		tanh32AVX512(&dst[0], &x[0], pb, n)
	} else {
		tanh32AVX2(&dst[0], &x[0], pb, n)
	}
	return n
}

func tanhDeriv64Vec(p Path, d, y []float64) int {
	if p == Generic {
		return 0
	}
	n := len(d) &^ (lanes(p, 8) - 1)
	if n == 0 {
		return 0
	}
	if p == AVX512 {
		tanhDeriv64AVX512(&d[0], &y[0], n)
	} else {
		tanhDeriv64AVX2(&d[0], &y[0], n)
	}
	return n
}

func tanhDeriv32Vec(p Path, d, y []float32) int {
	if p == Generic {
		return 0
	}
	n := len(d) &^ (lanes(p, 4) - 1)
	if n == 0 {
		return 0
	}
	if p == AVX512 {
		tanhDeriv32AVX512(&d[0], &y[0], n)
	} else {
		tanhDeriv32AVX2(&d[0], &y[0], n)
	}
	return n
}

func adagrad64Vec(p Path, params, grads, sum []float64, r32 []float32, clr, eps, wd float64) int {
	n := len(params) &^ 3
	if p == Generic || n == 0 {
		return 0
	}
	var pr *float32
	if r32 != nil {
		pr = &r32[0]
	}
	adagrad64AVX2(&params[0], &grads[0], &sum[0], pr, n, clr, eps, wd)
	return n
}

type adamConsts = AdamConsts

func adam64Vec(p Path, params, grads, m, v []float64, c *AdamConsts) int {
	n := len(params) &^ 3
	if p == Generic || n == 0 {
		return 0
	}
	adam64AVX2(&params[0], &grads[0], &m[0], &v[0], n, c)
	return n
}

//go:noescape
func tanh64AVX2(dst, x, b *float64, n int)

//go:noescape
func tanh64AVX512(dst, x, b *float64, n int)

//go:noescape
func tanh32AVX2(dst, x, b *float32, n int)

//go:noescape
func tanh32AVX512(dst, x, b *float32, n int)

//go:noescape
func tanhDeriv64AVX2(d, y *float64, n int)

//go:noescape
func tanhDeriv64AVX512(d, y *float64, n int)

//go:noescape
func tanhDeriv32AVX2(d, y *float32, n int)

//go:noescape
func tanhDeriv32AVX512(d, y *float32, n int)

//go:noescape
func adagrad64AVX2(p, gr, s *float64, r32 *float32, n int, clr, eps, wd float64)

//go:noescape
func adam64AVX2(p, gr, m, v *float64, n int, c *adamConsts)

func toFloat32Vec(p Path, dst []float32, src []float64) int {
	n := len(dst) &^ 3
	if p == Generic || n == 0 {
		return 0
	}
	cvt64to32AVX2(&dst[0], &src[0], n)
	return n
}

func toFloat64Vec(p Path, dst []float64, src []float32, mode int) int {
	n := len(dst) &^ 3
	if p == Generic || n == 0 {
		return 0
	}
	switch mode {
	case cvtAdd:
		add32to64AVX2(&dst[0], &src[0], n)
	case cvtZeroAdd:
		zadd32to64AVX2(&dst[0], &src[0], n)
	default:
		cvt32to64AVX2(&dst[0], &src[0], n)
	}
	return n
}

// colSumVec adds the first rows rows (ld apart) of src to dst column by
// column for the first 16·⌊len(dst)/16⌋ columns (in blocks of 32, then 16)
// and returns how many.
func colSumVec(p Path, dst []float64, src []float32, ld, rows int) int {
	if p == Generic || len(dst) < 16 || rows == 0 {
		return 0
	}
	done := 0
	if b := len(dst) / 32; b > 0 {
		colsum32to64x2AVX2(&dst[0], &src[0], ld, rows, b)
		done = 32 * b
	}
	if len(dst)-done >= 16 {
		colsum32to64AVX2(&dst[done], &src[done], ld, rows, 1)
		done += 16
	}
	return done
}

//go:noescape
func colsum32to64AVX2(dst *float64, src *float32, ld, rows, blocks int)

//go:noescape
func colsum32to64x2AVX2(dst *float64, src *float32, ld, rows, blocks int)

//go:noescape
func zadd32to64AVX2(dst *float64, src *float32, n int)

//go:noescape
func cvt64to32AVX2(dst *float32, src *float64, n int)

//go:noescape
func cvt32to64AVX2(dst *float64, src *float32, n int)

//go:noescape
func add32to64AVX2(dst *float64, src *float32, n int)

func adagrad32Vec(p Path, params, grads, sum []float32, p64 []float64, clr, eps, wd float32) int {
	n := len(params) &^ 7
	if p == Generic || n == 0 {
		return 0
	}
	var pw *float64
	if p64 != nil {
		pw = &p64[0]
	}
	adagrad32AVX2(&params[0], &grads[0], &sum[0], pw, n, clr, eps, wd)
	return n
}

type adamConsts32 = AdamConsts32

func adam32Vec(p Path, params, grads, m, v []float32, p64 []float64, c *AdamConsts32) int {
	n := len(params) &^ 7
	if p == Generic || n == 0 {
		return 0
	}
	var pw *float64
	if p64 != nil {
		pw = &p64[0]
	}
	adam32AVX2(&params[0], &grads[0], &m[0], &v[0], pw, n, c)
	return n
}

// colSum32Vec adds the first rows rows (ld apart) of src to dst column by
// column for the first 8·⌊len(dst)/8⌋ columns (in blocks of 32, then 8)
// and returns how many.
func colSum32Vec(p Path, dst, src []float32, ld, rows int) int {
	if p == Generic || len(dst) < 8 || rows == 0 {
		return 0
	}
	done := 0
	if b := len(dst) / 32; b > 0 {
		colsum32x4AVX2(&dst[0], &src[0], ld, rows, b)
		done = 32 * b
	}
	if b := (len(dst) - done) / 8; b > 0 {
		colsum32AVX2(&dst[done], &src[done], ld, rows, b)
		done += 8 * b
	}
	return done
}

//go:noescape
func adagrad32AVX2(p, gr, s *float32, p64 *float64, n int, clr, eps, wd float32)

//go:noescape
func adam32AVX2(p, gr, m, v *float32, p64 *float64, n int, c *adamConsts32)

//go:noescape
func colsum32AVX2(dst, src *float32, ld, rows, blocks int)

//go:noescape
func colsum32x4AVX2(dst, src *float32, ld, rows, blocks int)

// dotRowsVec computes every row of DotRows on the assembly path and
// returns how many (all, or 0 on the generic path or for an empty x).
func dotRowsVec(p Path, dst, m []float64, ld int, x []float64) int {
	if p == Generic || len(dst) == 0 || len(x) == 0 {
		return 0
	}
	dotRowsAVX2(&dst[0], &m[0], ld, &x[0], len(x), len(dst))
	return len(dst)
}

//go:noescape
func dotRowsAVX2(dst, m *float64, ld int, x *float64, n, rows int)
