package gemm

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/blas"
)

func to32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

// checkS runs Sgemm on the float32 rounding of p and compares with the
// triple loop in float64 on the same rounded operands, element by element to
// (k+2)·2⁻²³ of Σ|alpha·a·b| + |beta·c|; the padding of C must be left
// alone.
func (p *problem) checkS(t *testing.T) {
	t.Helper()
	a, b, c0 := to32(p.a), to32(p.b), to32(p.c)
	alpha, beta := float32(p.alpha), float32(p.beta)
	c := append([]float32(nil), c0...)
	Sgemm(p.tA, p.tB, p.m, p.n, p.k, alpha, a, p.lda, b, p.ldb, beta, c, p.ldc)
	q := *p
	q.a, q.b = make([]float64, len(a)), make([]float64, len(b))
	for i, v := range a {
		q.a[i] = float64(v)
	}
	for i, v := range b {
		q.b[i] = float64(v)
	}
	tol := float64(p.k+2) * 0x1p-23
	for idx, v := range c {
		i, j := idx/p.ldc, idx%p.ldc
		if j >= p.n {
			if v != float32(pad) {
				t.Fatalf("S%v: padding C[%d] changed to %v", p, idx, v)
			}
			continue
		}
		var sum, mag float64
		for l := range p.k {
			x := q.opA(i, l) * q.opB(l, j)
			sum += x
			mag += math.Abs(x)
		}
		want := float64(alpha) * sum
		mag = math.Abs(float64(alpha)) * mag
		if beta != 0 {
			want += float64(beta) * float64(c0[idx])
			mag += math.Abs(float64(beta) * float64(c0[idx]))
		}
		if v != v || math.Abs(float64(v)-want) > tol*mag+1e-30 {
			t.Fatalf("S%v: C[%d,%d] = %v, want %v", p, i, j, v, want)
		}
	}
}

func TestSgemmShapes(t *testing.T) {
	dims := []int{0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100}
	for _, path := range modes() {
		t.Run(path.String(), func(t *testing.T) {
			withPath(t, path, func() {
				rng := rand.New(rand.NewPCG(11, 12))
				for _, tA := range transposes {
					for _, tB := range transposes {
						for _, m := range dims {
							for _, n := range dims {
								k := dims[rng.IntN(len(dims))]
								if m*n*k > 1<<20 {
									continue
								}
								extra := rng.IntN(3) * (1 + rng.IntN(5))
								newProblem(rng, tA, tB, m, n, k, extra, 1.5, 0.5).checkS(t)
							}
						}
					}
				}
			})
		})
	}
}

func TestSgemmAlphaBeta(t *testing.T) {
	cases := []struct{ alpha, beta float64 }{{1, 0}, {1, 1}, {-2.5, 0}, {0.75, -1.25}, {0, 0}, {0, 3}}
	shapes := [][3]int{{1, 1, 1}, {4, 16, 5}, {9, 17, 300}, {33, 17, 6}, {100, 7, 100}, {13, 100, 11}, {300, 33, 17}, {513, 17, 3}}
	for _, path := range modes() {
		withPath(t, path, func() {
			rng := rand.New(rand.NewPCG(13, 14))
			for _, cs := range cases {
				for _, s := range shapes {
					for _, tA := range transposes {
						for _, tB := range transposes {
							newProblem(rng, tA, tB, s[0], s[1], s[2], 2, cs.alpha, cs.beta).checkS(t)
						}
					}
				}
			}
		})
	}
}

// TestSgemmBetaZeroOverwritesNaN checks that beta = 0 ignores NaN and Inf in
// C on interior and edge tiles.
func TestSgemmBetaZeroOverwritesNaN(t *testing.T) {
	for _, path := range modes() {
		withPath(t, path, func() {
			for _, s := range [][3]int{{9, 19, 5}, {8, 16, 300}, {3, 3, 0}, {5, 33, 4}} {
				m, n, k := s[0], s[1], s[2]
				rng := rand.New(rand.NewPCG(5, 6))
				p := newProblem(rng, blas.NoTrans, blas.NoTrans, m, n, k, 1, 1, 0)
				for i := range m {
					for j := range n {
						p.c[i*p.ldc+j] = [2]float64{math.NaN(), math.Inf(-1)}[(i+j)%2]
					}
				}
				p.checkS(t)
			}
		})
	}
}

// TestAssemblyPathsAgree checks that the AVX2 and AVX-512 kernels give
// bit-identical products in both precisions, on shapes with edge tiles in
// both dimensions, packed and in-place operands.
func TestAssemblyPathsAgree(t *testing.T) {
	if BestPath() < AVX512 {
		t.Skip("the CPU has no AVX-512")
	}
	rng := rand.New(rand.NewPCG(15, 16))
	shapes := [][3]int{{1, 1, 1}, {7, 9, 3}, {13, 17, 33}, {100, 100, 11}, {100, 7, 100}, {256, 65, 512}, {300, 129, 257}, {47, 300, 5}}
	for _, s := range shapes {
		for _, tA := range transposes {
			for _, tB := range transposes {
				p := newProblem(rng, tA, tB, s[0], s[1], s[2], 1, 1.25, 0.5)
				a, b := to32(p.a), to32(p.b)
				run := func(path Path) ([]float64, []float32) {
					defer SetPath(SetPath(path))
					c := append([]float64(nil), p.c...)
					Dgemm(p.tA, p.tB, p.m, p.n, p.k, p.alpha, p.a, p.lda, p.b, p.ldb, p.beta, c, p.ldc)
					c32 := to32(p.c)
					Sgemm(p.tA, p.tB, p.m, p.n, p.k, 1.25, a, p.lda, b, p.ldb, 0.5, c32, p.ldc)
					return c, c32
				}
				c2, s2 := run(AVX2)
				c5, s5 := run(AVX512)
				for i := range c2 {
					if math.Float64bits(c2[i]) != math.Float64bits(c5[i]) || math.Float32bits(s2[i]) != math.Float32bits(s5[i]) {
						t.Fatalf("%v: element %d: avx2 %v %v, avx512 %v %v", p, i, c2[i], s2[i], c5[i], s5[i])
					}
				}
			}
		}
	}
}

// TestSgemmDeterministic checks bit-identical results whatever the number of
// goroutines.
func TestSgemmDeterministic(t *testing.T) {
	defer func(w int) { minPartWork = w }(minPartWork)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, path := range modes() {
		withPath(t, path, func() {
			rng := rand.New(rand.NewPCG(17, 18))
			for _, s := range [][3]int{{100, 100, 11}, {256, 65, 512}, {13, 301, 33}} {
				p := newProblem(rng, blas.NoTrans, blas.Trans, s[0], s[1], s[2], 3, 1, 0)
				a, b := to32(p.a), to32(p.b)
				run := func(procs, override, minWork int) []float32 {
					runtime.GOMAXPROCS(procs)
					partsOverride.Store(int32(override))
					defer partsOverride.Store(0)
					minPartWork = minWork
					c := to32(p.c)
					Sgemm(p.tA, p.tB, p.m, p.n, p.k, 1, a, p.lda, b, p.ldb, 0, c, p.ldc)
					return c
				}
				want := run(1, 0, 1<<18)
				for _, v := range [][3]int{{2, 0, 1}, {1, 3, 1}, {2, 16, 1}} {
					got := run(v[0], v[1], v[2])
					for i := range want {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%v %v: GOMAXPROCS=%d parts=%d: C[%d] differs", path, p, v[0], v[1], i)
						}
					}
				}
			}
		})
	}
}

func TestSgemmNoAlloc(t *testing.T) {
	for _, path := range modes() {
		withPath(t, path, func() {
			rng := rand.New(rand.NewPCG(19, 20))
			for _, s := range [][3]int{{100, 100, 11}, {256, 512, 512}, {7, 100, 100}} {
				p := newProblem(rng, blas.Trans, blas.NoTrans, s[0], s[1], s[2], 0, 1, 1)
				a, b, c := to32(p.a), to32(p.b), to32(p.c)
				f := func() { Sgemm(p.tA, p.tB, p.m, p.n, p.k, 1, a, p.lda, b, p.ldb, 1, c, p.ldc) }
				f()
				if n := testing.AllocsPerRun(10, f); n != 0 {
					t.Errorf("%v %v: %v allocations per call", path, p, n)
				}
			}
		})
	}
}

func TestSgemmPanics(t *testing.T) {
	a := make([]float32, 12)
	for _, tc := range []struct {
		name string
		f    func()
		want string
	}{
		{"transA", func() { Sgemm('x', blas.NoTrans, 2, 2, 2, 1, a, 2, a, 2, 0, a, 2) }, badTranspose},
		{"shortC", func() { Sgemm(blas.NoTrans, blas.NoTrans, 7, 2, 1, 1, a, 1, a, 2, 0, a, 2) }, shortC},
		{"ldb", func() { Sgemm(blas.NoTrans, blas.NoTrans, 2, 3, 2, 1, a, 2, a, 2, 0, a, 3) }, badLdB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != tc.want {
					t.Errorf("panic %v, want %q", r, tc.want)
				}
			}()
			tc.f()
		})
	}
}

// TestPackBTransposed checks the packing of op(B) = Bᵀ into micro-panels
// (the AVX-512 16×16 transpose and the scalar rows around it) against the
// definition, element by element, on every path, for panel heights around
// multiples of 16, partial last micro-panels and offsets in k.
func TestPackBTransposed(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, path := range modes() {
		withPath(t, path, func() {
			nr := kernel32().nr
			for _, kb := range []int{1, 15, 16, 17, 31, 32, 33, 129, 256} {
				for _, nb := range []int{1, 16, 17, 40} {
					for _, pc := range []int{0, 3} {
						k, n := pc+kb, nb+5
						ldb := k + rng.IntN(4)
						b := make([]float32, n*ldb)
						for i := range b {
							b[i] = float32(rng.NormFloat64())
						}
						p := &params[float32]{bT: true, k: k, n: n, b: b, ldb: ldb, kern: kernel32()}
						var buf []float32
						got := packB(&buf, p, pc, kb, 2, nb, false)
						for q := 0; q < (nb+nr-1)/nr; q++ {
							for i := range kb {
								for jj := range nr {
									want := float32(0)
									if j := 2 + q*nr + jj; j < 2+nb {
										want = b[j*ldb+pc+i]
									}
									if v := got[q*kb*nr+i*nr+jj]; v != want {
										t.Fatalf("%v kb=%d nb=%d pc=%d: panel %d row %d col %d = %v, want %v", path, kb, nb, pc, q, i, jj, v, want)
									}
								}
							}
						}
					}
				}
			}
		})
	}
}

// TestSgemm64 checks Sgemm64 on every path against Sgemm with beta = 0
// followed by widening (0 + float64), bit for bit, on shapes with partial
// tiles in both dimensions (tiles of at most 8 columns included), both
// transposes, k beyond one panel (the float32-buffer route), NaN in C and
// padding of C left alone; with GOMAXPROCS-independent results and no
// allocations.
func TestSgemm64(t *testing.T) {
	shapes := [][3]int{{1, 1, 1}, {8, 16, 5}, {7, 9, 3}, {13, 17, 33}, {9, 8, 256}, {100, 7, 100}, {65, 129, 256}, {256, 65, 40}, {33, 40, 257}, {5, 3, 0}}
	for m := 1; m <= 9; m++ { // every tile height, masked tiles of both widths
		for _, n := range []int{5, 8, 12, 23} {
			shapes = append(shapes, [3]int{m, n, 3})
		}
	}
	for _, path := range modes() {
		withPath(t, path, func() {
			rng := rand.New(rand.NewPCG(19, 20))
			for _, s := range shapes {
				for _, tA := range transposes {
					for _, tB := range transposes {
						for _, alpha := range []float32{1, -1.5} {
							p := newProblem(rng, tA, tB, s[0], s[1], s[2], 1+rng.IntN(3), 1, 0)
							a, b := to32(p.a), to32(p.b)
							if alpha < 0 {
								// Zero rows of op(A) (tA = NoTrans): −0 products, which must become +0.
								clear(a[:len(a)/2])
							}
							want := make([]float32, p.m*p.ldc)
							Sgemm(p.tA, p.tB, p.m, p.n, p.k, alpha, a, p.lda, b, p.ldb, 0, want, p.ldc)
							// C with 16 guard elements after its end.
							buf := append(append([]float64(nil), p.c...), make([]float64, 16)...)
							for i := len(p.c); i < len(buf); i++ {
								buf[i] = pad
							}
							got := buf[:len(p.c)]
							for i := range p.m {
								got[i*p.ldc] = math.NaN()
							}
							Sgemm64(p.tA, p.tB, p.m, p.n, p.k, alpha, a, p.lda, b, p.ldb, got, p.ldc)
							for i, v := range buf[len(p.c):] {
								if v != pad {
									t.Fatalf("%v %v α=%v: wrote %v at %d past the end of C", path, p, alpha, v, i)
								}
							}
							for idx, v := range got {
								i, j := idx/p.ldc, idx%p.ldc
								if j >= p.n {
									if v != pad {
										t.Fatalf("%v %v α=%v: padding C[%d] changed to %v", path, p, alpha, idx, v)
									}
									continue
								}
								w := 0 + float64(want[i*p.ldc+j])
								if math.Float64bits(v) != math.Float64bits(w) {
									t.Fatalf("%v %v α=%v: C[%d,%d] = %v, Sgemm widened %v", path, p, alpha, i, j, v, w)
								}
							}
						}
					}
				}
			}
		})
	}
	// Split over goroutines: the same bits.
	rng := rand.New(rand.NewPCG(21, 22))
	p := newProblem(rng, blas.Trans, blas.NoTrans, 256, 512, 200, 0, 1, 0)
	a, b := to32(p.a), to32(p.b)
	ref := make([]float64, len(p.c))
	Sgemm64(p.tA, p.tB, p.m, p.n, p.k, 1, a, p.lda, b, p.ldb, ref, p.ldc)
	for _, parts := range []int32{2, 3, 5} {
		was := partsOverride.Swap(parts)
		old := minPartWork
		minPartWork = 1
		got := make([]float64, len(p.c))
		Sgemm64(p.tA, p.tB, p.m, p.n, p.k, 1, a, p.lda, b, p.ldb, got, p.ldc)
		minPartWork = old
		partsOverride.Store(was)
		for i := range got {
			if math.Float64bits(got[i]) != math.Float64bits(ref[i]) {
				t.Fatalf("%d parts: element %d = %v, one part %v", parts, i, got[i], ref[i])
			}
		}
	}
	for _, path := range modes() {
		withPath(t, path, func() {
			for _, k := range []int{200, 300} {
				q := newProblem(rng, blas.Trans, blas.NoTrans, 64, 40, k, 0, 1, 0)
				a, b := to32(q.a), to32(q.b)
				c := make([]float64, len(q.c))
				f := func() { Sgemm64(q.tA, q.tB, q.m, q.n, q.k, 1, a, q.lda, b, q.ldb, c, q.ldc) }
				f()
				if n := testing.AllocsPerRun(5, f); n != 0 {
					t.Errorf("%v k=%d: Sgemm64 allocates %v times per call", path, k, n)
				}
			}
		})
	}
}

// TestSgemmPolicies forces each packing choice (B packed or read in place,
// Aᵀ packed or read in place) on float32 shapes with edge tiles and compares
// with the triple loop, and checks the default rule on a wide product with
// an aliasing and a non-aliasing stride of Aᵀ.
func TestSgemmPolicies(t *testing.T) {
	origB, origA := directB, packA
	defer func() { directB, packA = origB, origA }()
	shapes := [][3]int{{6, 8, 3}, {7, 9, 300}, {31, 65, 64}, {200, 130, 20}, {5, 300, 257}}
	for _, path := range modes() {
		withPath(t, path, func() {
			rng := rand.New(rand.NewPCG(23, 24))
			for _, db := range []bool{false, true} {
				for _, pa := range []bool{false, true} {
					directB = func(int, int) bool { return db }
					packA = func(int, int, int, int) bool { return pa }
					for _, s := range shapes {
						for _, tA := range transposes {
							for _, tB := range transposes {
								newProblem(rng, tA, tB, s[0], s[1], s[2], rng.IntN(3), 0.5, -1).checkS(t)
							}
						}
					}
				}
			}
		})
	}
	directB, packA = origB, origA
	rng := rand.New(rand.NewPCG(25, 26))
	for _, extra := range []int{0, 16} { // lda 512 (packed) and 528 (in place)
		newProblem(rng, blas.Trans, blas.NoTrans, 512, 130, 40, extra, 1, 0).checkS(t)
	}
}
