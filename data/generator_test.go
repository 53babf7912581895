package data

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/matapprox/matapprox/structure"
)

var band11 = structure.Band{N: 11, K: 5}

func TestGeneratorByName(t *testing.T) {
	for _, name := range GeneratorNames {
		g, err := GeneratorByName(name, band11)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if g.Name() != name {
			t.Errorf("GeneratorByName(%q).Name() = %q", name, g.Name())
		}
	}
	_, err := GeneratorByName("uniform", band11)
	if err == nil || !strings.Contains(err.Error(), "notebook, gaussian, notebook-symmetric, gaussian-symmetric") {
		t.Errorf("unknown name: error %v, want one listing the valid names", err)
	}
	if _, err := GeneratorByName("notebook", structure.Band{N: 3, K: 3}); !errors.Is(err, structure.ErrBand) {
		t.Errorf("invalid band: error %v, want ErrBand", err)
	}
}

// TestNotebook checks the notebook generator against its definition,
// rng.Float64()·N entry by entry, and the range [0, N).
func TestNotebook(t *testing.T) {
	g, _ := GeneratorByName("notebook", band11)
	rng, ref := rand.New(rand.NewPCG(3, 4)), rand.New(rand.NewPCG(3, 4))
	dst := make([]float64, 11)
	var sum float64
	const trials = 2000
	for range trials {
		g.Fill(dst, rng)
		for _, v := range dst {
			if want := ref.Float64() * 11; v != want {
				t.Fatalf("entry %v, want %v", v, want)
			}
			if v < 0 || v >= 11 {
				t.Fatalf("entry %v outside [0, 11)", v)
			}
			sum += v
		}
	}
	// Mean 5.5, standard deviation of the mean 11/√12/√(n).
	n := float64(trials * 11)
	if mean, sd := sum/n, 11/math.Sqrt(12*n); math.Abs(mean-5.5) > 5*sd {
		t.Errorf("mean %v, want 5.5 ± %v", mean, 5*sd)
	}
}

// maxSource makes rng.Float64 return its largest value, 1 − 2⁻⁵³.
type maxSource struct{}

func (maxSource) Uint64() uint64 { return math.MaxUint64 }

// TestNotebookUpperBound checks that the largest Float64 times Scale stays
// below Scale, so that entries lie in [0, Scale).
func TestNotebookUpperBound(t *testing.T) {
	rng := rand.New(maxSource{})
	if f := rng.Float64(); f != 1-0x1p-53 {
		t.Fatalf("Float64 = %v, test assumption broken", f)
	}
	dst := make([]float64, 1)
	for _, scale := range []float64{1, 3, 11, 12, 1 << 20, 1e300, 0x1.fffffffffffffp0, 0x1p-1000} {
		Notebook{Scale: scale}.Fill(dst, rng)
		if !(dst[0] < scale) {
			t.Errorf("scale %v: entry %v, want < scale", scale, dst[0])
		}
	}
}

func TestGaussian(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	dst := make([]float64, 20000)
	Gaussian{}.Fill(dst, rng)
	var s, s2 float64
	for _, v := range dst {
		s += v
		s2 += v * v
	}
	n := float64(len(dst))
	mean, variance := s/n, s2/n-(s/n)*(s/n)
	if math.Abs(mean) > 5/math.Sqrt(n) || math.Abs(variance-1) > 5*math.Sqrt(2/n) {
		t.Errorf("mean %v, variance %v, want 0, 1", mean, variance)
	}
}

func TestSymmetric(t *testing.T) {
	for _, base := range []Generator{Notebook{Scale: 11}, Gaussian{}} {
		rng, ref := rand.New(rand.NewPCG(7, 8)), rand.New(rand.NewPCG(7, 8))
		g := Symmetric{Base: base}
		for _, n := range []int{1, 3, 11} {
			dst := make([]float64, n)
			g.Fill(dst, rng)
			k := n / 2
			want := make([]float64, k+1)
			base.Fill(want, ref)
			if !slices.Equal(dst[k:], want) {
				t.Errorf("%s: central and upper entries %v, want %v", g.Name(), dst[k:], want)
			}
			for d := 1; d <= k; d++ {
				if dst[k-d] != dst[k+d] {
					t.Errorf("%s: g[K-%d] = %v ≠ g[K+%d] = %v", g.Name(), d, dst[k-d], d, dst[k+d])
				}
			}
			// The matrix is symmetric.
			b := structure.Band{N: n + 2, K: k}
			m := b.Dense(dst)
			for i := range b.N {
				for j := range b.N {
					if m.At(i, j) != m.At(j, i) {
						t.Fatalf("%s: matrix not symmetric at (%d,%d)", g.Name(), i, j)
					}
				}
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Fill of even length did not panic")
		}
	}()
	Symmetric{Gaussian{}}.Fill(make([]float64, 4), rand.New(rand.NewPCG(1, 1)))
}

func TestFamiliesAndCoverSphere(t *testing.T) {
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	base, _ := GeneratorByName("notebook", in)
	fams, err := Families(base, in, out)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range fams {
		if seen[f.Name()] || f.Describe() == "" {
			t.Fatalf("family %q repeated or undescribed", f.Name())
		}
		seen[f.Name()] = true
		s := f.Generate(in, 50, rand.New(rand.NewPCG(1, 2)))
		if err := s.Validate(in); err != nil {
			t.Fatalf("%s: %v", f.Name(), err)
		}
		zeroOut := true
		for i := 0; i < s.Rows; i++ {
			r := s.X[i*11 : (i+1)*11]
			if r[0] != 0 || r[1] != 0 || r[9] != 0 || r[10] != 0 {
				zeroOut = false
			}
		}
		if zeroOut != f.InBand() {
			t.Errorf("%s: InBand %v but rows in band: %v", f.Name(), f.InBand(), zeroOut)
		}
	}
	for _, want := range []string{"in-distribution", "scale-1e-3", "scale-1e3", "negated", "reversed", "gaussian", "in-band"} {
		if !seen[want] {
			t.Errorf("no family %q in %s", want, FamilyNames(fams))
		}
	}
	// CoverSphere keeps the in-band entries and the out-of-band norm, and
	// gives some rows negative out-of-band entries (notebook rows have none).
	s := Generate(base, in, 400, rand.New(rand.NewPCG(3, 4)))
	c := CoverSphere(s, in, out, 0.5, rand.New(rand.NewPCG(5, 6)))
	neg, changed := 0, 0
	for i := 0; i < s.Rows; i++ {
		a, b := s.X[i*11:(i+1)*11], c.X[i*11:(i+1)*11]
		var na, nb float64
		for j := range a {
			if j >= 2 && j <= 8 {
				if a[j] != b[j] {
					t.Fatalf("row %d: in-band entry %d changed", i, j)
				}
				continue
			}
			na, nb = math.Hypot(na, a[j]), math.Hypot(nb, b[j])
			if b[j] < 0 {
				neg++
			}
			if a[j] != b[j] {
				changed++
			}
		}
		if math.Abs(na-nb) > 1e-12*na {
			t.Fatalf("row %d: out-of-band norm %v became %v", i, na, nb)
		}
	}
	if neg == 0 || changed == 0 {
		t.Errorf("CoverSphere changed %d entries, %d negative", changed, neg)
	}
}
