package vmath

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// dotRowFMA is the order DotRows documents, with the assembly's fusion:
// four lanes of math.FMA from zero, then (l0+l1)+(l2+l3).
func dotRowFMA(h, x []float64) float64 {
	var l [4]float64
	for d, v := range x {
		l[d%4] = math.FMA(h[d], v, l[d%4])
	}
	return (l[0] + l[1]) + (l[2] + l[3])
}

// exactDot returns the exact h·x and Σ|h_d x_d| as big.Floats (3 000
// bits hold every sum of products of float64 exactly).
func exactDot(h, x []float64) (dot, abs *big.Float) {
	const prec = 3000
	dot, abs = new(big.Float).SetPrec(prec), new(big.Float).SetPrec(prec)
	p := new(big.Float).SetPrec(prec)
	for d, v := range x {
		p.SetFloat64(h[d])
		p.Mul(p, new(big.Float).SetFloat64(v))
		dot.Add(dot, p)
		if p.Sign() < 0 {
			p.Neg(p)
		}
		abs.Add(abs, p)
	}
	return dot, abs
}

// dotMatrix returns rows rows of n entries ld apart (NaN between rows,
// where DotRows must not read) and x, with magnitudes per the scale: 0
// normal, 1 spread over 2^±400 within each vector (huge and tiny terms
// together), 2 near the largest products that cannot overflow a sum, 3
// tiny products, some subnormal.
func dotMatrix(rng *rand.Rand, rows, n, ld, scale int) (m, x []float64) {
	entry := func() float64 {
		v := rng.NormFloat64()
		switch scale {
		case 1:
			v *= math.Exp2(float64(rng.IntN(801) - 400))
		case 2:
			v *= 0x1p500
		case 3:
			v *= 0x1p-530
		}
		return v
	}
	m = make([]float64, max((rows-1)*ld+n, 0))
	for i := range m {
		if i%ld < n {
			m[i] = entry()
		} else {
			m[i] = math.NaN()
		}
	}
	x = make([]float64, n)
	for i := range x {
		x[i] = entry()
	}
	return m, x
}

// TestDotRows checks every path of DotRows against the exact dot products
// within the bound of its contract, γ_n Σ|h_d x_d| (plus n halves of the
// smallest subnormal for underflowing products), for every length 1…130,
// strides above it and odd row counts; the assembly bit for bit against
// the order it documents (dotRowFMA); each row alone against the batch;
// and that nothing outside dst and the rows' n entries is touched.
func TestDotRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	const u = 0x1p-53
	for n := 1; n <= 130; n++ {
		for _, pad := range []int{0, 1, 3} {
			ld := n + pad
			for _, rows := range []int{[]int{1, 2, 3, 4, 5, 7, 17, 31}[(n+pad)%8], 9} {
				scale := (n + pad + rows) % 4
				m, x := dotMatrix(rng, rows, n, ld, scale)
				gamma := float64(n) * u / (1 - float64(n)*u) * (1 + 1e-6)
				under := new(big.Float).SetMantExp(big.NewFloat(float64(n)), -1075)
				for _, p := range paths() {
					withPath(t, p, func() {
						buf := make([]float64, rows+2)
						buf[rows], buf[rows+1] = -7, -7
						DotRows(buf[:rows], m, ld, x)
						if buf[rows] != -7 || buf[rows+1] != -7 {
							t.Fatalf("%v n=%d ld=%d rows=%d: wrote past dst", p, n, ld, rows)
						}
						one := make([]float64, 1)
						for i, got := range buf[:rows] {
							h := m[i*ld : i*ld+n]
							if math.IsNaN(got) || math.IsInf(got, 0) {
								t.Fatalf("%v n=%d ld=%d scale %d: row %d = %v", p, n, ld, scale, i, got)
							}
							exact, abs := exactDot(h, x)
							err := new(big.Float).SetPrec(3000).SetFloat64(got)
							err.Sub(err, exact).Abs(err)
							bound := new(big.Float).SetPrec(3000).Mul(abs, big.NewFloat(gamma))
							bound.Add(bound, under)
							if err.Cmp(bound) > 0 {
								t.Fatalf("%v n=%d ld=%d scale %d: row %d error %.3g above the bound %.3g", p, n, ld, scale, i, err, bound)
							}
							if p != Generic {
								if want := dotRowFMA(h, x); math.Float64bits(got) != math.Float64bits(want) {
									t.Fatalf("%v n=%d ld=%d: row %d = %v, documented order %v", p, n, ld, i, got, want)
								}
							} else if want := dotRow(h, x); math.Float64bits(got) != math.Float64bits(want) {
								t.Fatalf("%v n=%d ld=%d: row %d = %v, dotRow %v", p, n, ld, i, got, want)
							}
							DotRows(one, m[i*ld:], ld, x)
							if math.Float64bits(one[0]) != math.Float64bits(got) {
								t.Fatalf("%v n=%d ld=%d: row %d alone %v, in the batch %v", p, n, ld, i, one[0], got)
							}
						}
					})
				}
			}
		}
	}
}

// TestDotRowsEdges: no rows, an empty x (zero sums), and the panics of a
// short stride or matrix.
func TestDotRowsEdges(t *testing.T) {
	for _, p := range paths() {
		withPath(t, p, func() {
			DotRows(nil, nil, 0, []float64{1})
			dst := []float64{7, 7, 7}
			DotRows(dst, nil, 0, nil)
			for i, v := range dst {
				if v != 0 {
					t.Fatalf("%v: empty x: dst[%d] = %v", p, i, v)
				}
			}
			for _, c := range []struct {
				name   string
				m      []float64
				ld, nx int
			}{{"stride", make([]float64, 20), 3, 4}, {"matrix", make([]float64, 10), 4, 4}} {
				func() {
					defer func() {
						if recover() == nil {
							t.Errorf("%v: %s: no panic", p, c.name)
						}
					}()
					DotRows(make([]float64, 3), c.m, c.ld, make([]float64, c.nx))
				}()
			}
		})
	}
}

// BenchmarkDotRows times the dual index's shapes: the leader pass (4 096
// centres of 16, dense) and one ball (32 vectors of 16 and a bound, ld
// 17), and a long row.
func BenchmarkDotRows(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range []struct{ rows, n, ld int }{{4096, 16, 16}, {32, 16, 17}, {256, 128, 128}} {
		m, x := dotMatrix(rng, s.rows, s.n, s.ld, 0)
		dst := make([]float64, s.rows)
		for _, p := range paths() {
			b.Run(fmt.Sprintf("%dx%d/ld%d/%v", s.rows, s.n, s.ld, p), func(b *testing.B) {
				withPath(b, p, func() {
					for b.Loop() {
						DotRows(dst, m, s.ld, x)
					}
				})
			})
		}
	}
}
