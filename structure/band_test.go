package structure

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// The notebook prints row_to_matrix(0..10); this is that printout.
func TestRowToMatrixNotebook(t *testing.T) {
	row := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	want := [][]float64{
		{5, 6, 7, 8, 9, 10, 0, 0, 0, 0, 0},
		{4, 5, 6, 7, 8, 9, 10, 0, 0, 0, 0},
		{3, 4, 5, 6, 7, 8, 9, 10, 0, 0, 0},
		{2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 0},
		{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0},
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
		{0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8},
		{0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7},
		{0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6},
		{0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5},
	}
	m, err := RowToMatrix(row)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		for j := range want[i] {
			if m.At(i, j) != want[i][j] {
				t.Fatalf("M[%d][%d] = %v, want %v", i, j, m.At(i, j), want[i][j])
			}
		}
	}
	// The notebook's test matrix.
	x, _ := RowToMatrix([]float64{0, 0, 0, 1, 2, 4, 2, 1, 0, 0, 0})
	if x.At(0, 0) != 4 || x.At(0, 1) != 2 || x.At(0, 2) != 1 || x.At(0, 3) != 0 || x.At(3, 1) != 1 {
		t.Errorf("test matrix first rows wrong: %v", mat.Formatted(x))
	}
}

// notebookRowToMatrix transcribes the notebook's slicing loop literally.
func notebookRowToMatrix(row []float64) *mat.Dense {
	n := len(row)
	k := n / 2
	m := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		lo, hi := max(0, i-k), min(n, k+1+i)
		src := row[max(0, n-(k+i+1)):min(n+k-i, n)]
		for j := lo; j < hi; j++ {
			m.Set(i, j, src[j-lo])
		}
	}
	return m
}

func TestDenseMatchesNotebookLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for n := 1; n <= 41; n += 2 {
		row := make([]float64, n)
		for i := range row {
			row[i] = rng.NormFloat64()
		}
		got, err := RowToMatrix(row)
		if err != nil {
			t.Fatal(err)
		}
		if want := notebookRowToMatrix(row); !mat.Equal(got, want) {
			t.Errorf("n=%d: differs from the notebook's loop", n)
		}
	}
}

func randBands(rng *rand.Rand) []Band {
	bs := []Band{{1, 0}, {2, 0}, {2, 1}, {11, 5}, {11, 0}, {11, 10}, {64, 63}, {64, 0}}
	for i := 0; i < 20; i++ {
		n := 1 + rng.IntN(64)
		bs = append(bs, Band{n, rng.IntN(n)})
	}
	return bs
}

func TestFastPathsMatchDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, b := range randBands(rng) {
		t.Run(b.String(), func(t *testing.T) {
			g := make([]float64, b.Len())
			for i := range g {
				g[i] = rng.NormFloat64()
			}
			y := make([]float64, b.N)
			for i := range y {
				y[i] = rng.NormFloat64()
			}
			D := b.Dense(g)
			// Brute force: entry by entry from the definition.
			for i := 0; i < b.N; i++ {
				for j := 0; j < b.N; j++ {
					want := 0.0
					if d := j - i; d >= -b.K && d <= b.K {
						want = g[b.K+d]
					}
					if D.At(i, j) != want {
						t.Fatalf("Dense[%d][%d] = %v, want %v", i, j, D.At(i, j), want)
					}
				}
			}
			var want mat.VecDense
			want.MulVec(D, mat.NewVecDense(b.N, y))
			got := make([]float64, b.N)
			b.MulVec(got, g, y)
			for i := range got {
				if math.Abs(got[i]-want.AtVec(i)) > 1e-12 {
					t.Fatalf("MulVec[%d] = %v, want %v", i, got[i], want.AtVec(i))
				}
			}
			want.MulVec(D.T(), mat.NewVecDense(b.N, y))
			b.MulTransVec(got, g, y)
			for i := range got {
				if math.Abs(got[i]-want.AtVec(i)) > 1e-12 {
					t.Fatalf("MulTransVec[%d] = %v, want %v", i, got[i], want.AtVec(i))
				}
			}
			if f, w := b.Frobenius(g), mat.Norm(D, 2); math.Abs(f-w) > 1e-12*w {
				t.Errorf("Frobenius = %v, want %v", f, w)
			}
			back, err := FromDense(D, b.K, 0)
			if err != nil {
				t.Fatal(err)
			}
			for i := range g {
				if back[i] != g[i] {
					t.Fatalf("FromDense[%d] = %v, want %v", i, back[i], g[i])
				}
			}
		})
	}
}

func TestEmbedRestrict(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, outer := range randBands(rng) {
		inner := Band{outer.N, rng.IntN(outer.K + 1)}
		a := make([]float64, inner.Len())
		for i := range a {
			a[i] = rng.NormFloat64()
		}
		g := make([]float64, outer.Len())
		Embed(g, outer, a, inner)
		if !mat.Equal(outer.Dense(g), inner.Dense(a)) {
			t.Errorf("%v in %v: embedded matrix differs", inner, outer)
		}
		back := make([]float64, inner.Len())
		Restrict(back, g, outer, inner)
		for i := range a {
			if back[i] != a[i] {
				t.Errorf("%v in %v: restrict∘embed not identity", inner, outer)
			}
		}
	}
	// The notebook: 7 outputs padded by 2 on each side.
	g := make([]float64, 11)
	Embed(g, Band{11, 5}, []float64{1, 2, 3, 4, 5, 6, 7}, Band{11, 3})
	if fmt.Sprint(g) != "[0 0 1 2 3 4 5 6 7 0 0]" {
		t.Errorf("notebook padding: %v", g)
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		b    Band
		g    []float64
		want error
	}{
		{"ok", Band{3, 1}, []float64{1, 2, 3}, nil},
		{"short", Band{3, 1}, []float64{1, 2}, ErrLength},
		{"long", Band{3, 1}, []float64{1, 2, 3, 4}, ErrLength},
		{"nan", Band{3, 1}, []float64{1, math.NaN(), 3}, ErrNonFinite},
		{"inf", Band{3, 1}, []float64{math.Inf(1), 2, 3}, ErrNonFinite},
		{"K too big", Band{3, 3}, make([]float64, 7), ErrBand},
		{"K negative", Band{3, -1}, nil, ErrBand},
		{"N zero", Band{0, 0}, []float64{0}, ErrBand},
	} {
		if err := c.b.Validate(c.g); !errors.Is(err, c.want) {
			t.Errorf("%s: Validate = %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := RowToMatrix([]float64{1, 2}); !errors.Is(err, ErrLength) {
		t.Errorf("even row: %v", err)
	}
	if err := CheckNested(Band{5, 1}, Band{5, 2}); !errors.Is(err, ErrBand) {
		t.Errorf("CheckNested wider inner: %v", err)
	}
	if err := CheckNested(Band{5, 2}, Band{6, 1}); !errors.Is(err, ErrBand) {
		t.Errorf("CheckNested different N: %v", err)
	}
	if _, err := FromDense(mat.NewDense(2, 3, nil), 0, 0); !errors.Is(err, ErrBand) {
		t.Errorf("FromDense non-square: %v", err)
	}
	if _, err := FromDense(mat.NewDense(2, 2, []float64{1, 2, 3, 1}), 0, 0); !errors.Is(err, ErrBand) {
		t.Errorf("FromDense outside the band: %v", err)
	}
}

func FuzzValidate(f *testing.F) {
	f.Add(3, 1, 1.0, 2.0, 3.0)
	f.Add(0, 0, math.NaN(), 0.0, 0.0)
	f.Add(1, 0, math.Inf(1), 0.0, 0.0)
	f.Fuzz(func(t *testing.T, n, k int, a, b, c float64) {
		band := Band{n, k}
		g := []float64{a, b, c}[:min(3, max(0, 2*k+1))]
		err := band.Validate(g)
		if err != nil {
			if !errors.Is(err, ErrBand) && !errors.Is(err, ErrLength) && !errors.Is(err, ErrNonFinite) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		// A valid generator must be usable without panics.
		if band.N <= 64 {
			y, dst := make([]float64, band.N), make([]float64, band.N)
			for i := range y {
				y[i] = 1
			}
			band.MulVec(dst, g, y)
			var want mat.VecDense
			want.MulVec(band.Dense(g), mat.NewVecDense(band.N, y))
			for i := range dst {
				if w := want.AtVec(i); math.Abs(dst[i]-w) > 1e-12*(1+math.Abs(w)) && !math.IsInf(dst[i], 0) && !math.IsNaN(dst[i]) {
					t.Fatalf("MulVec[%d] = %v, dense %v", i, dst[i], want.AtVec(i))
				}
			}
		}
	})
}

// TestFrobeniusScaled checks ||T(g)||_F for entries whose squares overflow
// or underflow although the norm is representable (a first version gave
// +Inf for 1e160 and 0 for 1e-300).
func TestFrobeniusScaled(t *testing.T) {
	b := Band{N: 11, K: 2}
	w := 0.0
	for _, v := range b.Weights() {
		w += v
	}
	for _, s := range []float64{1e160, 1e-300, 1, 3e-320, 1e300} {
		g := []float64{s, -s, s, s, -s}
		want := s * math.Sqrt(w)
		if got := b.Frobenius(g); math.Abs(got-want) > 1e-14*want && !(s < 1e-310 && math.Abs(got-want) <= 1e-3*want) {
			t.Errorf("entries %g: Frobenius %g, want %g", s, got, want)
		}
	}
	if got := b.Frobenius(make([]float64, 5)); got != 0 {
		t.Errorf("zero generator: %g", got)
	}
	if got := b.Frobenius([]float64{0, math.Inf(1), 0, 0, 0}); !math.IsInf(got, 1) {
		t.Errorf("infinite entry: %g", got)
	}
}

// TestValidateRange checks that entries of magnitude 2^1023 or more, whose
// sums overflow (they crashed the spectral solver), are refused.
func TestValidateRange(t *testing.T) {
	b := Band{N: 3, K: 1}
	for _, v := range []float64{0x1p1023, -math.MaxFloat64} {
		if err := b.Validate([]float64{1, v, 1}); !errors.Is(err, ErrRange) {
			t.Errorf("%g: %v, want ErrRange", v, err)
		}
	}
	if err := b.Validate([]float64{1, math.Nextafter(0x1p1023, 0), 1}); err != nil {
		t.Errorf("largest allowed entry: %v", err)
	}
}
