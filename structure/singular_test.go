package structure

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// denseSingular returns the singular values of T(g), decreasing, by a dense
// SVD.
func denseSingular(b Band, g []float64) []float64 {
	var svd mat.SVD
	if !svd.Factorize(b.Dense(g), mat.SVDNone) {
		panic("SVD failed")
	}
	return svd.Values(nil)
}

// checkTriplets verifies T v_i = σ_i u_i, orthonormality, the residuals and
// the values against a dense SVD.
func checkTriplets(t *testing.T, what string, b Band, g []float64, s *Singular, tol float64) {
	t.Helper()
	want := denseSingular(b, g)
	k := len(s.Values)
	scale := math.Max(want[0], math.SmallestNonzeroFloat64)
	for i := 0; i < k; i++ {
		if math.Abs(s.Values[i]-want[i]) > tol*scale {
			t.Errorf("%s: σ_%d = %v, dense SVD %v (diff %.3g relative)", what, i+1, s.Values[i], want[i], math.Abs(s.Values[i]-want[i])/scale)
		}
		if !(s.Residuals[i] <= 1e3*tol*scale) {
			t.Errorf("%s: residual %d = %v", what, i+1, s.Residuals[i])
		}
	}
	if !math.IsInf(s.Upper, 1) && !(s.Upper >= want[0] && s.Upper <= want[0]*(1+1e-9)+1e-300) {
		t.Errorf("%s: Upper = %v, σ_1 = %v", what, s.Upper, want[0])
	}
	// T v_i = σ_i u_i and orthonormal columns.
	tv := make([]float64, b.N)
	for i := 0; i < k; i++ {
		v, u := mat.Col(nil, i, s.V), mat.Col(nil, i, s.U)
		b.MulVec(tv, g, v)
		for j := range tv {
			if math.Abs(tv[j]-s.Values[i]*u[j]) > 1e-9*scale {
				t.Fatalf("%s: (T v_%d)[%d] = %v, σu = %v", what, i+1, j, tv[j], s.Values[i]*u[j])
			}
		}
	}
	for _, m := range []*mat.Dense{s.U, s.V} {
		var g mat.Dense
		g.Mul(m.T(), m)
		for i := 0; i < k; i++ {
			for j := 0; j < k; j++ {
				want := 0.0
				if i == j {
					want = 1
				}
				// Vectors of a tight cluster are orthonormal only to the
				// accuracy of the residuals.
				if math.Abs(g.At(i, j)-want) > 1e-6 {
					t.Fatalf("%s: (XᵀX)[%d,%d] = %v", what, i, j, g.At(i, j))
				}
			}
		}
	}
}

func TestTopSingularRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 21))
	for trial := 0; trial < 120; trial++ {
		n := 1 + rng.IntN(64)
		kb := rng.IntN(n)
		switch trial % 6 {
		case 0:
			kb = 0
		case 1:
			kb = n - 1
		}
		b := Band{N: n, K: kb}
		g := make([]float64, b.Len())
		for i := range g {
			g[i] = rng.NormFloat64()
		}
		k := 1 + rng.IntN(min(n, 6))
		ts, err := NewTopSingular(b, k, &TopSingularOptions{Seed: uint64(trial)})
		if err != nil {
			t.Fatal(err)
		}
		s, err := ts.Compute(g)
		if err != nil {
			t.Fatal(err)
		}
		if !s.Converged {
			t.Errorf("%v k=%d: not converged after %d products", b, k, s.Products)
		}
		checkTriplets(t, fmt.Sprintf("%v k=%d", b, k), b, g, s, 1e-10)
		// A second call starts from the first one's vectors.
		g[rng.IntN(len(g))] += 0.01
		s2, err := ts.Compute(g)
		if err != nil {
			t.Fatal(err)
		}
		checkTriplets(t, fmt.Sprintf("%v k=%d warm", b, k), b, g, s2, 1e-10)
	}
}

// TestTopSingularClustered covers exactly multiple and clustered top
// singular values: identity, a shift (all singular values 1 but one 0),
// symmetric ±1 generators whose spectra cluster near the symbol's maximum,
// and large N where the top gap is O(1/N²).
func TestTopSingularClustered(t *testing.T) {
	cases := []struct {
		name string
		b    Band
		g    []float64
		k    int
	}{
		{"identity", Band{N: 40, K: 0}, []float64{3}, 5},
		{"shift", Band{N: 30, K: 1}, []float64{0, 0, 1}, 6},
		{"two-shifts", Band{N: 50, K: 2}, []float64{1, 0, 0, 0, 1}, 8},
		{"laplacian", Band{N: 64, K: 1}, []float64{-1, 2, -1}, 6},
		{"tiny-scale", Band{N: 33, K: 2}, []float64{1e-300, -2e-300, 3e-300, 0, 1e-300}, 4},
		{"huge-scale", Band{N: 33, K: 2}, []float64{math.Nextafter(MaxEntry, 0), -MaxEntry / 3, 1, 0, MaxEntry / 2}, 4},
		{"dynamic-range", Band{N: 20, K: 3}, []float64{1e300, 1e-300, 0, 1, 0, 1e-300, 1e-10}, 3},
		{"zero", Band{N: 7, K: 2}, []float64{0, 0, 0, 0, 0}, 3},
		{"rank-one", Band{N: 1, K: 0}, []float64{-2}, 1},
		{"k=N", Band{N: 9, K: 3}, []float64{1, 2, 3, 4, 3, 2, 1}, 9},
	}
	for _, c := range cases {
		ts, err := NewTopSingular(c.b, c.k, nil)
		if err != nil {
			t.Fatal(err)
		}
		s, err := ts.Compute(c.g)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !s.Converged {
			t.Errorf("%s: not converged", c.name)
		}
		if c.name == "huge-scale" {
			// The dense SVD itself overflows here; check against the
			// scaled problem instead.
			gs := make([]float64, len(c.g))
			for i, v := range c.g {
				gs[i] = v / MaxEntry
			}
			want := denseSingular(c.b, gs)
			for i := range s.Values {
				got := math.Ldexp(s.Scaled[i], s.Exp-1023)
				if math.Abs(got-want[i]) > 1e-10*want[0] || (i == 0 && math.IsInf(s.Values[i], 1) != (got >= 2)) {
					t.Errorf("%s: σ_%d/max = %v, want %v", c.name, i+1, got, want[i])
				}
			}
			continue
		}
		checkTriplets(t, c.name, c.b, c.g, s, 1e-10)
	}
	// Large N: a Laplacian-like generator whose top gap is O(1/N²).
	b := Band{N: 3000, K: 2}
	g := []float64{0.5, -1, 2.2, -1, 0.5}
	ts, err := NewTopSingular(b, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ts.Compute(g)
	if err != nil {
		t.Fatal(err)
	}
	// The symbol's maximum bounds every singular value.
	var sup float64
	for i := 0; i <= 20000; i++ {
		th := math.Pi * float64(i) / 20000
		v := 2.2 - 2*math.Cos(th) + math.Cos(2*th)
		sup = math.Max(sup, math.Abs(v))
	}
	if !(s.Values[0] <= sup*(1+1e-12) && s.Values[0] >= sup*(1-1e-5)) {
		t.Errorf("N=3000: σ_1 = %v, symbol max %v", s.Values[0], sup)
	}
	for i := 1; i < 4; i++ {
		if s.Values[i] > s.Values[i-1]*(1+1e-12) {
			t.Errorf("N=3000: values not decreasing: %v", s.Values)
		}
	}
	if !(s.Upper >= s.Values[0] && s.Upper <= s.Values[0]*(1+1e-10)) {
		t.Errorf("N=3000: Upper = %v, σ_1 = %v", s.Upper, s.Values[0])
	}
	if s.Residuals[0] > 1e-8*s.Values[0] {
		t.Errorf("N=3000: residual %v after %d products", s.Residuals[0], s.Products)
	}
}

func TestTopSingularErrors(t *testing.T) {
	b := Band{N: 5, K: 1}
	for _, c := range []struct {
		b    Band
		k    int
		opts *TopSingularOptions
		want error
	}{
		{Band{N: 0, K: 0}, 1, nil, ErrBand},
		{b, 0, nil, ErrSingularOption},
		{b, 6, nil, ErrSingularOption},
		{b, 1, &TopSingularOptions{Tol: -1}, ErrSingularOption},
		{b, 1, &TopSingularOptions{Tol: math.NaN()}, ErrSingularOption},
		{b, 1, &TopSingularOptions{Block: -1}, ErrSingularOption},
		{Band{N: 100, K: 1}, 10, &TopSingularOptions{Basis: 12}, ErrSingularOption},
	} {
		if _, err := NewTopSingular(c.b, c.k, c.opts); !errors.Is(err, c.want) {
			t.Errorf("NewTopSingular(%v, %d, %+v) = %v, want %v", c.b, c.k, c.opts, err, c.want)
		}
	}
	ts, err := NewTopSingular(b, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Compute([]float64{1, 2}); !errors.Is(err, ErrLength) {
		t.Errorf("short generator: %v", err)
	}
	if _, err := ts.Compute([]float64{1, math.Inf(1), 2}); !errors.Is(err, ErrNonFinite) {
		t.Errorf("infinite entry: %v", err)
	}
}

func BenchmarkTopSingular(b *testing.B) {
	for _, c := range []struct{ n, k, trip int }{{1024, 5, 1}, {1024, 16, 8}, {4096, 16, 8}, {100000, 16, 8}} {
		b.Run(fmt.Sprintf("N=%d,K=%d,k=%d", c.n, c.k, c.trip), func(b *testing.B) {
			band := Band{N: c.n, K: c.k}
			rng := rand.New(rand.NewPCG(3, 3))
			g := make([]float64, band.Len())
			for i := range g {
				g[i] = rng.NormFloat64()
			}
			ts, err := NewTopSingular(band, c.trip, nil)
			if err != nil {
				b.Fatal(err)
			}
			var products int
			for i := 0; i < b.N; i++ {
				ts.Reset()
				s, err := ts.Compute(g)
				if err != nil {
					b.Fatal(err)
				}
				products += s.Products
			}
			b.ReportMetric(float64(products)/float64(b.N), "products/op")
		})
	}
}

// With Converge c < k only the leading c triplets are held to the
// tolerance; all k values are still Rayleigh–Ritz values (at most the true
// singular values), the vectors orthonormal, and Upper certified. Both the
// dense-basis and the shift-and-invert paths are covered.
func TestTopSingularConverge(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 22))
	for _, c := range []struct{ n, kb, k, conv int }{{40, 5, 8, 2}, {200, 6, 10, 3}, {300, 16, 12, 1}} {
		b := Band{N: c.n, K: c.kb}
		g := make([]float64, b.Len())
		for i := range g {
			g[i] = rng.NormFloat64()
		}
		ts, err := NewTopSingular(b, c.k, &TopSingularOptions{Block: c.k, Basis: min(c.n, 2*c.k+8), Converge: c.conv, Tol: 1e-10})
		if err != nil {
			t.Fatal(err)
		}
		s, err := ts.Compute(g)
		if err != nil {
			t.Fatal(err)
		}
		want := denseSingular(b, g)
		for i := 0; i < c.k; i++ {
			if s.Values[i] > want[i]*(1+1e-12) {
				t.Errorf("%v: Ritz value %d = %v above σ_%d = %v", b, i+1, s.Values[i], i+1, want[i])
			}
			if i < c.conv && math.Abs(s.Values[i]-want[i]) > 1e-9*want[0] {
				t.Errorf("%v: converged σ_%d = %v, dense %v", b, i+1, s.Values[i], want[i])
			}
		}
		if !(s.Upper >= want[0]) || s.Upper > want[0]*(1+1e-9) {
			t.Errorf("%v: Upper %v, σ_1 %v", b, s.Upper, want[0])
		}
		var gm mat.Dense
		gm.Mul(s.V.T(), s.V)
		for i := 0; i < c.k; i++ {
			for j := 0; j < c.k; j++ {
				w := 0.0
				if i == j {
					w = 1
				}
				if math.Abs(gm.At(i, j)-w) > 1e-8 {
					t.Fatalf("%v: VᵀV[%d,%d] = %v", b, i, j, gm.At(i, j))
				}
			}
		}
	}
	if _, err := NewTopSingular(Band{N: 10, K: 2}, 3, &TopSingularOptions{Converge: -1}); !errors.Is(err, ErrSingularOption) {
		t.Errorf("Converge -1: %v", err)
	}
}
