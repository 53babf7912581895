package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// modes returns the kernel families to test: every one this CPU runs.
func modes() []Path {
	var ps []Path
	for p := Generic; p <= BestPath(); p++ {
		ps = append(ps, p)
	}
	return ps
}

// withPath runs f with the kernel family p.
func withPath(t testing.TB, p Path, f func()) {
	t.Helper()
	was := SetPath(p)
	defer SetPath(was)
	if got := CurrentPath(); got != p {
		t.Fatalf("CurrentPath() = %v after SetPath(%v)", got, p)
	}
	if Accelerated() != (p != Generic) {
		t.Fatalf("Accelerated() = %v with path %v", Accelerated(), p)
	}
	f()
}

// problem is one Dgemm call with padded leading dimensions.
type problem struct {
	tA, tB        blas.Transpose
	m, n, k       int
	alpha, beta   float64
	lda, ldb, ldc int
	a, b, c       []float64
}

const pad = -7.25 // value of elements outside the matrices

// newProblem returns random operands; extra is added to every leading
// dimension.
func newProblem(rng *rand.Rand, tA, tB blas.Transpose, m, n, k, extra int, alpha, beta float64) *problem {
	p := &problem{tA: tA, tB: tB, m: m, n: n, k: k, alpha: alpha, beta: beta}
	ar, ac := m, k
	if tA == blas.Trans {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB == blas.Trans {
		br, bc = n, k
	}
	p.lda, p.ldb, p.ldc = max(1, ac)+extra, max(1, bc)+extra, max(1, n)+extra
	p.a = fill(rng, ar, ac, p.lda)
	p.b = fill(rng, br, bc, p.ldb)
	p.c = fill(rng, m, n, p.ldc)
	return p
}

// fill returns an r×c matrix with stride ld and the exact minimal length,
// random inside and pad outside.
func fill(rng *rand.Rand, r, c, ld int) []float64 {
	if r == 0 {
		return nil
	}
	s := make([]float64, (r-1)*ld+c)
	for i := range s {
		if i%ld < c {
			s[i] = 2*rng.Float64() - 1
		} else {
			s[i] = pad
		}
	}
	return s
}

func (p *problem) opA(i, l int) float64 {
	if p.tA == blas.Trans {
		return p.a[l*p.lda+i]
	}
	return p.a[i*p.lda+l]
}

func (p *problem) opB(l, j int) float64 {
	if p.tB == blas.Trans {
		return p.b[j*p.ldb+l]
	}
	return p.b[l*p.ldb+j]
}

// check runs Dgemm on a copy of C and compares with the triple loop, element
// by element to relative accuracy 1e-12 of Σ|alpha·a·b| + |beta·c|; the
// padding of C must be left alone.
func (p *problem) check(t *testing.T) {
	t.Helper()
	c := append([]float64(nil), p.c...)
	Dgemm(p.tA, p.tB, p.m, p.n, p.k, p.alpha, p.a, p.lda, p.b, p.ldb, p.beta, c, p.ldc)
	for idx, v := range c {
		i, j := idx/p.ldc, idx%p.ldc
		if j >= p.n {
			if v != pad {
				t.Fatalf("%v: padding C[%d] changed to %v", p, idx, v)
			}
			continue
		}
		var sum, mag float64
		for l := range p.k {
			x := p.opA(i, l) * p.opB(l, j)
			sum += x
			mag += math.Abs(x)
		}
		want := p.alpha * sum
		mag = math.Abs(p.alpha) * mag
		if p.beta != 0 {
			want += p.beta * p.c[idx]
			mag += math.Abs(p.beta * p.c[idx])
		}
		if math.IsNaN(v) || math.Abs(v-want) > 1e-12*mag+1e-300 {
			t.Fatalf("%v: C[%d,%d] = %v, want %v", p, i, j, v, want)
		}
	}
}

func (p *problem) String() string {
	return fmt.Sprintf("Dgemm(%c,%c,m=%d,n=%d,k=%d,alpha=%g,lda=%d,ldb=%d,beta=%g,ldc=%d)",
		p.tA, p.tB, p.m, p.n, p.k, p.alpha, p.lda, p.ldb, p.beta, p.ldc)
}

var transposes = []blas.Transpose{blas.NoTrans, blas.Trans}

func TestDgemmShapes(t *testing.T) {
	small := []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 11, 13, 16, 17, 31, 64, 100}
	for _, path := range modes() {
		dims := small
		// The large shapes on the widest path only: the other assembly
		// path is bit-identical to it (TestAssemblyPathsAgree).
		if !testing.Short() && (path == BestPath() || path == Generic) {
			dims = append(dims[:len(dims):len(dims)], 129, 257, 300)
		}
		t.Run(path.String(), func(t *testing.T) {
			withPath(t, path, func() {
				rng := rand.New(rand.NewPCG(1, 2))
				for _, tA := range transposes {
					for _, tB := range transposes {
						// All small shapes, then a random sample of the large ones.
						for _, m := range dims {
							for _, n := range dims {
								for _, k := range dims {
									big := m*n*k > 40000
									if big && rng.IntN(40) != 0 {
										continue
									}
									extra := rng.IntN(3) * (1 + rng.IntN(5))
									newProblem(rng, tA, tB, m, n, k, extra, 1.5, 0.5).check(t)
								}
							}
						}
					}
				}
			})
		})
	}
}

func TestDgemmAlphaBeta(t *testing.T) {
	cases := []struct{ alpha, beta float64 }{
		{1, 0}, {1, 1}, {-2.5, 0}, {0.75, -1.25}, {0, 0}, {0, 1}, {0, 3}, {1e-3, 1},
	}
	shapes := [][3]int{{1, 1, 1}, {4, 8, 5}, {7, 9, 300}, {33, 17, 6}, {100, 7, 100}, {13, 100, 11}}
	for _, path := range modes() {
		withPath(t, path, func() {
			rng := rand.New(rand.NewPCG(3, 4))
			for _, cs := range cases {
				for _, s := range shapes {
					for _, tA := range transposes {
						for _, tB := range transposes {
							newProblem(rng, tA, tB, s[0], s[1], s[2], 2, cs.alpha, cs.beta).check(t)
						}
					}
				}
			}
		})
	}
}

// TestDgemmBetaZeroOverwritesNaN checks that beta = 0 ignores NaN and Inf in C
// on every path: interior tiles, edge tiles, k = 0 and alpha = 0.
func TestDgemmBetaZeroOverwritesNaN(t *testing.T) {
	for _, path := range modes() {
		withPath(t, path, func() {
			for _, s := range [][3]int{{9, 11, 5}, {8, 8, 300}, {3, 3, 0}, {5, 17, 4}} {
				for _, alpha := range []float64{1, 0} {
					m, n, k := s[0], s[1], s[2]
					rng := rand.New(rand.NewPCG(5, 6))
					p := newProblem(rng, blas.NoTrans, blas.NoTrans, m, n, k, 1, alpha, 0)
					for i := range m {
						for j := range n {
							p.c[i*p.ldc+j] = [2]float64{math.NaN(), math.Inf(-1)}[(i+j)%2]
						}
					}
					p.check(t)
				}
			}
		})
	}
}

// TestDgemmDeterministic checks that the result is bit-identical whatever the
// number of goroutines, for both split directions and edge tiles.
func TestDgemmDeterministic(t *testing.T) {
	defer func(w int) { minPartWork = w }(minPartWork)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	shapes := [][3]int{{100, 100, 11}, {256, 65, 512}, {7, 129, 256}, {300, 31, 600}, {13, 301, 33}}
	for _, path := range modes() {
		withPath(t, path, func() {
			rng := rand.New(rand.NewPCG(7, 8))
			for _, s := range shapes {
				for _, tA := range transposes {
					for _, tB := range transposes {
						p := newProblem(rng, tA, tB, s[0], s[1], s[2], 3, 1.25, 0.5)
						run := func(procs, override, minWork int) []float64 {
							runtime.GOMAXPROCS(procs)
							partsOverride.Store(int32(override))
							defer partsOverride.Store(0)
							minPartWork = minWork
							c := append([]float64(nil), p.c...)
							Dgemm(p.tA, p.tB, p.m, p.n, p.k, p.alpha, p.a, p.lda, p.b, p.ldb, p.beta, c, p.ldc)
							return c
						}
						want := run(1, 0, 1<<18)
						for _, v := range [][3]int{{2, 0, 1 << 18}, {2, 0, 1}, {1, 3, 1}, {2, 5, 1}, {2, 16, 1}} {
							got := run(v[0], v[1], v[2])
							for i := range want {
								if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
									t.Fatalf("%v: GOMAXPROCS=%d parts=%d: C[%d] = %v, with one goroutine %v",
										p, v[0], v[1], i, got[i], want[i])
								}
							}
						}
					}
				}
			}
		})
	}
}

func TestDgemmNoAlloc(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	shapes := []struct {
		tA, tB  blas.Transpose
		m, n, k int
	}{
		{blas.NoTrans, blas.Trans, 100, 100, 11},
		{blas.NoTrans, blas.NoTrans, 100, 100, 7},
		{blas.Trans, blas.NoTrans, 7, 100, 100},
		{blas.NoTrans, blas.Trans, 256, 512, 512},
		{blas.Trans, blas.NoTrans, 512, 129, 256},
	}
	for _, procs := range []int{1, 2} {
		runtime.GOMAXPROCS(procs)
		for _, path := range modes() {
			withPath(t, path, func() {
				rng := rand.New(rand.NewPCG(9, 10))
				for _, s := range shapes {
					p := newProblem(rng, s.tA, s.tB, s.m, s.n, s.k, 0, 1, 1)
					f := func() {
						Dgemm(p.tA, p.tB, p.m, p.n, p.k, p.alpha, p.a, p.lda, p.b, p.ldb, p.beta, p.c, p.ldc)
					}
					f() // warm the buffers and the pool
					if n := testing.AllocsPerRun(20, f); n != 0 {
						t.Errorf("GOMAXPROCS=%d %s %v: %v allocations per call", procs, path.String(), p, n)
					}
				}
			})
		}
	}
}

func TestDgemmPanics(t *testing.T) {
	a := make([]float64, 12)
	cases := []struct {
		name          string
		tA, tB        blas.Transpose
		m, n, k       int
		lda, ldb, ldc int
		a, b, c       []float64
		want          string
	}{
		{"transA", 'x', blas.NoTrans, 2, 2, 2, 2, 2, 2, a, a, a, badTranspose},
		{"transB", blas.NoTrans, 'x', 2, 2, 2, 2, 2, 2, a, a, a, badTranspose},
		{"m", blas.NoTrans, blas.NoTrans, -1, 2, 2, 2, 2, 2, a, a, a, mLT0},
		{"n", blas.NoTrans, blas.NoTrans, 2, -1, 2, 2, 2, 2, a, a, a, nLT0},
		{"k", blas.NoTrans, blas.NoTrans, 2, 2, -1, 2, 2, 2, a, a, a, kLT0},
		{"lda", blas.NoTrans, blas.NoTrans, 2, 2, 3, 2, 2, 2, a, a, a, badLdA},
		{"ldaT", blas.Trans, blas.NoTrans, 3, 2, 2, 2, 2, 2, a, a, a, badLdA},
		{"ldb", blas.NoTrans, blas.NoTrans, 2, 3, 2, 2, 2, 3, a, a, a, badLdB},
		{"ldbT", blas.NoTrans, blas.Trans, 2, 2, 3, 3, 2, 2, a, a, a, badLdB},
		{"ldc", blas.NoTrans, blas.NoTrans, 2, 3, 2, 2, 3, 2, a, a, a, badLdC},
		{"shortA", blas.NoTrans, blas.NoTrans, 4, 2, 4, 4, 2, 2, a, a, a, shortA},
		{"shortB", blas.NoTrans, blas.NoTrans, 2, 2, 7, 7, 2, 2, make([]float64, 14), a, a, shortB},
		{"shortC", blas.NoTrans, blas.NoTrans, 7, 2, 1, 1, 2, 2, a, a, a, shortC},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != tc.want {
					t.Errorf("panic %v, want %q", r, tc.want)
				}
			}()
			Dgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 1, tc.a, tc.lda, tc.b, tc.ldb, 0, tc.c, tc.ldc)
		})
	}
}

// FuzzDgemm compares both kernels with the triple loop on fuzzed shapes,
// transposes, leading-dimension padding and coefficients.
func FuzzDgemm(f *testing.F) {
	f.Add(uint8(0), uint16(100), uint16(100), uint16(11), uint8(0), int8(2), int8(0), uint64(1))
	f.Add(uint8(3), uint16(7), uint16(129), uint16(300), uint8(5), int8(-3), int8(1), uint64(2))
	f.Add(uint8(1), uint16(1), uint16(1), uint16(0), uint8(1), int8(0), int8(4), uint64(3))
	f.Fuzz(func(t *testing.T, trans uint8, m, n, k uint16, extra uint8, alpha, beta int8, seed uint64) {
		mm, nn, kk := int(m%160), int(n%160), int(k%300)
		if mm*nn*kk > 1<<20 {
			t.Skip()
		}
		tA, tB := transposes[trans&1], transposes[(trans>>1)&1]
		for _, path := range modes() {
			withPath(t, path, func() {
				rng := rand.New(rand.NewPCG(seed, uint64(trans)))
				newProblem(rng, tA, tB, mm, nn, kk, int(extra%9), float64(alpha)/2, float64(beta)/2).check(t)
			})
		}
	})
}

func ExampleDgemm() {
	// C = A·Bᵀ for A 2×3 and B 2×3 (rows are the columns of Bᵀ).
	a := []float64{
		1, 2, 3,
		4, 5, 6,
	}
	b := []float64{
		1, 0, 1,
		0, 1, 0,
	}
	c := make([]float64, 4)
	Dgemm(blas.NoTrans, blas.Trans, 2, 2, 3, 1, a, 3, b, 3, 0, c, 2)
	fmt.Println(c)
	// Output: [4 2 10 5]
}

// TestDgemmPolicies forces each packing choice (B packed or read in place, Aᵀ
// packed or read in place) on shapes with edge tiles, whatever the default
// rules would pick, and compares with the triple loop.
func TestDgemmPolicies(t *testing.T) {
	defer func(d func(int, int) bool, a func(int, int, int, int) bool) { directB, packA = d, a }(directB, packA)
	shapes := [][3]int{{1, 1, 1}, {6, 8, 3}, {7, 9, 300}, {13, 17, 5}, {31, 65, 64}, {200, 130, 20}, {5, 300, 257}}
	for _, path := range modes() {
		withPath(t, path, func() {
			rng := rand.New(rand.NewPCG(11, 12))
			for _, db := range []bool{false, true} {
				for _, pa := range []bool{false, true} {
					directB = func(int, int) bool { return db }
					packA = func(int, int, int, int) bool { return pa }
					for _, s := range shapes {
						for _, tA := range transposes {
							for _, tB := range transposes {
								newProblem(rng, tA, tB, s[0], s[1], s[2], rng.IntN(3), 0.5, -1).check(t)
							}
						}
					}
				}
			}
		})
	}
}

// TestDgemmConcurrent calls Dgemm from several goroutines at once (the
// primary worker, pooled workers and the helper pool all in use) and checks
// each result against a serial run.
func TestDgemmConcurrent(t *testing.T) {
	defer func(w int) { minPartWork = w }(minPartWork)
	minPartWork = 1
	rng := rand.New(rand.NewPCG(13, 14))
	const callers = 6
	var probs [callers]*problem
	var want [callers][]float64
	for g := range probs {
		probs[g] = newProblem(rng, transposes[g%2], transposes[g/2%2], 37+g, 70-g, 50+3*g, 1, 1, 0.5)
		p := probs[g]
		want[g] = append([]float64(nil), p.c...)
		Dgemm(p.tA, p.tB, p.m, p.n, p.k, p.alpha, p.a, p.lda, p.b, p.ldb, p.beta, want[g], p.ldc)
	}
	var got [callers][]float64
	done := make(chan int)
	for g := range callers {
		go func() {
			p := probs[g]
			for range 20 {
				got[g] = append(got[g][:0], p.c...)
				Dgemm(p.tA, p.tB, p.m, p.n, p.k, p.alpha, p.a, p.lda, p.b, p.ldb, p.beta, got[g], p.ldc)
			}
			done <- g
		}()
	}
	for range callers {
		<-done
	}
	for g := range callers {
		for i := range want[g] {
			if math.Float64bits(got[g][i]) != math.Float64bits(want[g][i]) {
				t.Fatalf("%v: concurrent C[%d] = %v, serial %v", probs[g], i, got[g][i], want[g][i])
			}
		}
	}
}
