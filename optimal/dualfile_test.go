package optimal

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/safetensors"
	"github.com/matapprox/matapprox/structure"
)

// dualFileRows returns near-optimal candidates for rows notebook inputs and
// their optima.
func dualFileRows(t testing.TB, in, out structure.Band, rows int, seed uint64) (x, a, opt []float64) {
	sdp := mustSpectral(t, in, out, nil)
	rng := rand.New(rand.NewPCG(seed, seed+1))
	L, Lo := in.Len(), out.Len()
	x, a, opt = make([]float64, rows*L), make([]float64, rows*Lo), make([]float64, rows)
	for i := 0; i < rows; i++ {
		copy(x[i*L:], notebookInput(rng, in))
		r, err := sdp.Solve(x[i*L : (i+1)*L])
		if err != nil {
			t.Fatal(err)
		}
		opt[i] = r.Value
		for j := range r.A {
			a[i*Lo+j] = r.A[j] + 1e-4*r.Value*rng.NormFloat64()
		}
	}
	return x, a, opt
}

// Duals written by one certifier certify the same rows in another from the
// first row on, with bounds below the optima; a file edited at random still
// gives only valid bounds; files for other bands, damaged files and files
// too large for the cache are refused.
func TestDualFile(t *testing.T) {
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	l, _ := loss.NewSpectral(in, out)
	const rows = 64
	x, a, opt := dualFileRows(t, in, out, rows, 31)
	L, Lo := in.Len(), out.Len()
	c1, err := NewCertifier(l, &CertifyOptions{MaxGap: 0.01, DualCache: 1000, RecordDuals: 1000})
	if err != nil {
		t.Fatal(err)
	}
	c1.block = 16
	dst := make([]float64, rows*Lo)
	if err := c1.CertifyBatch(dst, nil, x, a, rows); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "duals.safetensors")
	nw, err := c1.WriteDuals(path)
	if err != nil || nw < rows/4 {
		t.Fatalf("WriteDuals: %d, %v", nw, err)
	}
	c2, _ := NewCertifier(l, &CertifyOptions{MaxGap: 0.01, DualCache: 1000})
	nr, err := c2.ReadDuals(path)
	if err != nil || nr != nw {
		t.Fatalf("ReadDuals: %d of %d, %v", nr, nw, err)
	}
	res := make([]Certificate, rows)
	if err := c2.CertifyBatch(dst, res, x, a, rows); err != nil {
		t.Fatal(err)
	}
	reused := 0
	for i, r := range res {
		if r.Lower > opt[i]*(1+1e-9) {
			t.Errorf("row %d: bound %g above the optimum %g", i, r.Lower, opt[i])
		}
		if r.Reused {
			reused++
		}
	}
	if reused < nw/2 {
		t.Errorf("%d of %d rows reused a loaded dual (%d loaded)", reused, rows, nr)
	}

	// Edited at random: every loaded bound is still below the optimum.
	ts, meta, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range ts {
		if ts[i].Name == "y" {
			for j := range ts[i].Data {
				ts[i].Data[j] += 0.3 * rng.NormFloat64() * math.Abs(ts[i].Data[j])
				if j%97 == 0 {
					ts[i].Data[j] *= -50
				}
			}
		}
	}
	bad := filepath.Join(t.TempDir(), "edited.safetensors")
	if err := safetensors.WriteFile(bad, ts, meta); err != nil {
		t.Fatal(err)
	}
	c3, _ := NewCertifier(l, &CertifyOptions{MaxGap: 0.01, DualCache: 1000})
	if _, err := c3.ReadDuals(bad); err != nil {
		t.Fatal(err)
	}
	q, xo := make([]int, 4), make([]float64, 4)
	for i := 0; i < rows; i++ {
		c3.outside(xo, x[i*L:(i+1)*L])
		if lo := c3.cache.lower(xo, q, 0); lo > opt[i]*(1+1e-9) {
			t.Errorf("edited file, row %d: bound %g above the optimum %g", i, lo, opt[i])
		}
	}

	// Other bands, damage, size.
	l32, _ := loss.NewSpectral(structure.Band{N: 12, K: 5}, structure.Band{N: 12, K: 3})
	c4, _ := NewCertifier(l32, &CertifyOptions{DualCache: 1000})
	if _, err := c4.ReadDuals(path); !errors.Is(err, ErrDualFile) {
		t.Errorf("other bands: %v", err)
	}
	raw, _ := os.ReadFile(path)
	cut := filepath.Join(t.TempDir(), "cut.safetensors")
	os.WriteFile(cut, raw[:len(raw)/2], 0o644)
	if _, err := c2.ReadDuals(cut); !errors.Is(err, ErrDualFile) {
		t.Errorf("truncated file: %v", err)
	}
	tiny, _ := NewCertifier(l, &CertifyOptions{DualCache: 1})
	big := filepath.Join(t.TempDir(), "big.safetensors")
	os.WriteFile(big, append(raw, make([]byte, 2<<20)...), 0o644)
	if _, err := tiny.ReadDuals(big); !errors.Is(err, ErrDualFile) {
		t.Errorf("oversized file: %v", err)
	}
	if _, err := c2.WriteDuals(path); !errors.Is(err, ErrOption) {
		t.Errorf("WriteDuals without RecordDuals: %v", err)
	}
}

// ReadDuals never panics and never adds a bound above the optimum,
// whatever the bytes.
func FuzzReadDuals(f *testing.F) {
	in, out := structure.Band{N: 7, K: 3}, structure.Band{N: 7, K: 2}
	l, _ := loss.NewSpectral(in, out)
	x, a, _ := dualFileRows(f, in, out, 24, 5)
	c, _ := NewCertifier(l, &CertifyOptions{MaxGap: 0.01, DualCache: 100, RecordDuals: 100})
	c.block = 8
	dst := make([]float64, len(a))
	if err := c.CertifyBatch(dst, nil, x, a, 24); err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	path := filepath.Join(dir, "d.safetensors")
	if _, err := c.WriteDuals(path); err != nil {
		f.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	f.Add(raw)
	f.Add([]byte{})
	f.Add(raw[:20])
	sdp := mustSpectral(f, in, out, nil)
	probe := notebookInput(rand.New(rand.NewPCG(9, 9)), in)
	opt, err := sdp.Solve(probe)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "f.safetensors")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		c, _ := NewCertifier(l, &CertifyOptions{DualCache: 100})
		if _, err := c.ReadDuals(p); err != nil {
			return
		}
		xo, q := make([]float64, 2), make([]int, 2)
		c.outside(xo, probe)
		if lo := c.cache.lower(xo, q, 0); lo > opt.Value*(1+1e-9) {
			t.Errorf("bound %g above the optimum %g", lo, opt.Value)
		}
	})
}
