package data

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// indexSet returns a set of rows of dim values whose row i is all i.
func indexSet(rows, dim int) *Set {
	s := &Set{Dim: dim, Rows: rows, X: make([]float64, rows*dim)}
	for i := range s.X {
		s.X[i] = float64(i / dim)
	}
	return s
}

// epoch runs one epoch and returns the row indices served, batch by batch,
// checking that the copied rows match Indices.
func epoch(t *testing.T, l *Loader, rng *rand.Rand) [][]int {
	t.Helper()
	l.Reset(rng)
	dim := l.set.Dim
	dst := make([]float64, l.BatchSize()*dim)
	var batches [][]int
	for {
		n, ok := l.Next(dst)
		if !ok {
			break
		}
		idx := l.Indices()
		if len(idx) != n {
			t.Fatalf("Indices has %d entries for a batch of %d", len(idx), n)
		}
		for i, r := range idx {
			for j := range dim {
				if dst[i*dim+j] != float64(r) {
					t.Fatalf("batch row %d holds %v, want row %d", i, dst[i*dim+j], r)
				}
			}
		}
		batches = append(batches, slices.Clone(idx))
	}
	return batches
}

func TestLoaderEpoch(t *testing.T) {
	s := indexSet(10, 3)
	for _, tc := range []struct {
		batch    int
		dropLast bool
		sizes    []int
	}{
		{4, false, []int{4, 4, 2}},
		{4, true, []int{4, 4}},
		{5, true, []int{5, 5}},
		{1, false, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
		{10, true, []int{10}},
		{32, false, []int{10}},
	} {
		l, err := NewLoader(s, tc.batch, tc.dropLast)
		if err != nil {
			t.Fatal(err)
		}
		if l.Batches() != len(tc.sizes) {
			t.Errorf("batch %d drop %v: Batches() = %d, want %d", tc.batch, tc.dropLast, l.Batches(), len(tc.sizes))
		}
		rng := rand.New(rand.NewPCG(1, 2))
		var prev []int
		for e := 1; e <= 3; e++ {
			batches := epoch(t, l, rng)
			var sizes, all []int
			for _, b := range batches {
				sizes = append(sizes, len(b))
				all = append(all, b...)
			}
			if !slices.Equal(sizes, tc.sizes) {
				t.Errorf("batch %d drop %v: sizes %v, want %v", tc.batch, tc.dropLast, sizes, tc.sizes)
			}
			if !tc.dropLast {
				sorted := slices.Sorted(slices.Values(all))
				for i, r := range sorted {
					if r != i {
						t.Fatalf("epoch does not serve every row once: %v", all)
					}
				}
			}
			if slices.Equal(all, prev) {
				t.Errorf("epochs %d and %d served the same order", e-1, e)
			}
			prev = all
			if l.Epoch() != e || l.Pos() != len(all) {
				t.Errorf("Epoch %d, Pos %d, want %d, %d", l.Epoch(), l.Pos(), e, len(all))
			}
		}
	}
}

func TestLoaderNoShuffle(t *testing.T) {
	l, _ := NewLoader(indexSet(5, 2), 2, false)
	dst := make([]float64, 4)
	if _, ok := l.Next(dst); ok {
		t.Error("Next before Reset served a batch")
	}
	batches := epoch(t, l, nil)
	if want := [][]int{{0, 1}, {2, 3}, {4}}; !slices.EqualFunc(batches, want, slices.Equal) {
		t.Errorf("unshuffled batches %v, want %v", batches, want)
	}
}

// TestLoaderUniform checks that the six orders of three rows are about
// equally likely.
func TestLoaderUniform(t *testing.T) {
	l, _ := NewLoader(indexSet(3, 1), 3, false)
	rng := rand.New(rand.NewPCG(3, 4))
	count := map[[3]int]int{}
	const trials = 6000
	dst := make([]float64, 3)
	for range trials {
		l.Reset(rng)
		l.Next(dst)
		count[[3]int(l.Indices())]++
	}
	if len(count) != 6 {
		t.Fatalf("%d distinct orders, want 6", len(count))
	}
	// Each count is Binomial(6000, 1/6): mean 1000, sd ≈ 28.9.
	for p, c := range count {
		if c < 1000-5*29 || c > 1000+5*29 {
			t.Errorf("order %v drawn %d times of %d", p, c, trials)
		}
	}
}

// TestLoaderResume checks the checkpoint contract: restoring the random
// source's state at an epoch boundary reproduces the later epochs, and
// State/Restore resumes mid-epoch.
func TestLoaderResume(t *testing.T) {
	s := indexSet(17, 2)
	src := rand.NewPCG(5, 6)
	rng := rand.New(src)
	l, _ := NewLoader(s, 5, false)
	epoch(t, l, rng)
	saved, err := src.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := [][][]int{epoch(t, l, rng), epoch(t, l, rng)}

	src2 := rand.NewPCG(0, 0)
	if err := src2.UnmarshalBinary(saved); err != nil {
		t.Fatal(err)
	}
	rng2 := rand.New(src2)
	l2, _ := NewLoader(s, 5, false)
	for e := range want {
		if got := epoch(t, l2, rng2); !slices.EqualFunc(got, want[e], slices.Equal) {
			t.Errorf("resumed epoch %d = %v, want %v", e, got, want[e])
		}
	}

	// Mid-epoch: serve two batches, checkpoint, serve the rest; a fresh
	// loader restored from the checkpoint serves the same rest.
	l.Reset(rng)
	dst := make([]float64, 10)
	l.Next(dst)
	l.Next(dst)
	st := l.State()
	var rest, rest2 []int
	for n, ok := l.Next(dst); ok; n, ok = l.Next(dst) {
		rest = append(rest, l.Indices()[:n]...)
	}
	l3, _ := NewLoader(s, 5, false)
	if err := l3.Restore(st); err != nil {
		t.Fatal(err)
	}
	for _, ok := l3.Next(dst); ok; _, ok = l3.Next(dst) {
		rest2 = append(rest2, l3.Indices()...)
	}
	if !slices.Equal(rest, rest2) || len(rest) != 7 || l3.Epoch() != l.Epoch() {
		t.Errorf("restored loader served %v, want %v", rest2, rest)
	}

	for _, bad := range []LoaderState{
		{Perm: []int{0, 1}},
		{Pos: 18, Perm: st.Perm},
		{Pos: -1, Perm: st.Perm},
		{Perm: append(slices.Repeat([]int{0}, 16), 1)},
	} {
		if err := l3.Restore(bad); err == nil {
			t.Errorf("Restore(%+v): no error", bad)
		}
	}
}

func TestLoaderAllocs(t *testing.T) {
	l, _ := NewLoader(indexSet(1000, 11), 32, false)
	rng := rand.New(rand.NewPCG(1, 1))
	dst := make([]float64, 32*11)
	allocs := testing.AllocsPerRun(100, func() {
		l.Reset(rng)
		for _, ok := l.Next(dst); ok; _, ok = l.Next(dst) {
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per epoch, want 0", allocs)
	}
}

func TestNewLoaderErrors(t *testing.T) {
	s := indexSet(4, 2)
	for _, tc := range []struct {
		s        *Set
		batch    int
		dropLast bool
		want     string
	}{
		{nil, 1, false, "at least one row"},
		{&Set{Dim: 2}, 1, false, "at least one row"},
		{&Set{Dim: 2, Rows: 2, X: make([]float64, 3)}, 1, false, "holds 3 values"},
		{s, 0, false, "batch size 0"},
		{s, 5, true, "no batch would be served"},
	} {
		if _, err := NewLoader(tc.s, tc.batch, tc.dropLast); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewLoader: error %v, want one containing %q", err, tc.want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Next with a short buffer did not panic")
		}
	}()
	l, _ := NewLoader(s, 2, false)
	l.Reset(nil)
	l.Next(make([]float64, 3))
}

func BenchmarkLoader(b *testing.B) {
	l, _ := NewLoader(indexSet(100000, 11), 256, false)
	rng := rand.New(rand.NewPCG(1, 1))
	dst := make([]float64, 256*11)
	for b.Loop() {
		l.Reset(rng)
		for _, ok := l.Next(dst); ok; _, ok = l.Next(dst) {
		}
	}
}
