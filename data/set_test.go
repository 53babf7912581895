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

func TestGenerate(t *testing.T) {
	g := Gaussian{}
	s := Generate(g, band11, 7, rand.New(rand.NewPCG(1, 2)))
	if s.Dim != 11 || s.Rows != 7 || len(s.X) != 77 {
		t.Fatalf("Generate: Dim %d, Rows %d, len(X) %d", s.Dim, s.Rows, len(s.X))
	}
	ref := rand.New(rand.NewPCG(1, 2))
	row := make([]float64, 11)
	for i := range 7 {
		g.Fill(row, ref)
		if !slices.Equal(s.Row(i), row) {
			t.Errorf("row %d = %v, want %v", i, s.Row(i), row)
		}
	}
	if err := s.Validate(band11); err != nil {
		t.Error(err)
	}
}

func TestSplit(t *testing.T) {
	s := Generate(Gaussian{}, band11, 10, rand.New(rand.NewPCG(1, 2)))
	for _, tc := range []struct {
		frac       float64
		nval, ntrn int
	}{{0.2, 2, 8}, {0.01, 1, 9}, {0.99, 9, 1}, {0.5, 5, 5}} {
		train, val, err := s.Split(tc.frac, rand.New(rand.NewPCG(9, 9)))
		if err != nil {
			t.Fatal(err)
		}
		if val.Rows != tc.nval || train.Rows != tc.ntrn || train.Dim != 11 || val.Dim != 11 {
			t.Errorf("Split(%v): %d train, %d val rows, want %d, %d", tc.frac, train.Rows, val.Rows, tc.ntrn, tc.nval)
		}
		// Together the parts hold each original row exactly once (the
		// Gaussian rows are distinct).
		var got [][]float64
		for _, p := range []*Set{train, val} {
			for i := range p.Rows {
				got = append(got, p.Row(i))
			}
		}
		for i := range s.Rows {
			k := slices.IndexFunc(got, func(r []float64) bool { return slices.Equal(r, s.Row(i)) })
			if k < 0 {
				t.Fatalf("Split(%v): row %d missing", tc.frac, i)
			}
			got = slices.Delete(got, k, k+1)
		}
		again, _, _ := s.Split(tc.frac, rand.New(rand.NewPCG(9, 9)))
		if !slices.Equal(again.X, train.X) {
			t.Errorf("Split(%v) not reproducible from the seed", tc.frac)
		}
	}
	for _, frac := range []float64{0, 1, -0.5, math.NaN()} {
		if _, _, err := s.Split(frac, rand.New(rand.NewPCG(1, 1))); err == nil {
			t.Errorf("Split(%v): no error", frac)
		}
	}
	one := &Set{Dim: 11, Rows: 1, X: make([]float64, 11)}
	if _, _, err := one.Split(0.5, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("Split of one row: no error")
	}
}

func TestValidate(t *testing.T) {
	nan := make([]float64, 22)
	nan[13] = math.NaN()
	tests := []struct {
		name string
		s    Set
		b    structure.Band
		err  error
		msg  string
	}{
		{"ok", Set{Dim: 11, Rows: 2, X: make([]float64, 22)}, band11, nil, ""},
		{"band", Set{Dim: 11, Rows: 2, X: make([]float64, 22)}, structure.Band{N: 0, K: 0}, structure.ErrBand, "N = 0"},
		{"dim", Set{Dim: 9, Rows: 2, X: make([]float64, 18)}, band11, structure.ErrLength, "9 values per row but band N=11,K=5 needs 2K+1 = 11"},
		{"empty", Set{Dim: 11}, band11, structure.ErrLength, "no rows"},
		{"len", Set{Dim: 11, Rows: 2, X: make([]float64, 21)}, band11, structure.ErrLength, "holds 21 values"},
		{"nan", Set{Dim: 11, Rows: 2, X: nan}, band11, structure.ErrNonFinite, "row 2, column 3"},
	}
	for _, tc := range tests {
		err := tc.s.Validate(tc.b)
		if tc.err == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %v, want %v containing %q", tc.name, err, tc.err, tc.msg)
		}
	}
}
