package optimal

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"

	"gonum.org/v1/gonum/mat"

	"github.com/matapprox/matapprox/safetensors"
)

// The dual file keeps a certifier's dual matrices for another run: a
// safetensors file with the tensors "x_out" (M × 2(K−K'), the out-of-band
// entries of the input each dual was found for, which place it in the
// cache's grid) and "y" (M × N × N, the dual matrices, float32), and the
// metadata format = DualFileFormat, n, in_band, out_band. Nothing in the
// file is trusted: ReadDuals recomputes each matrix's nuclear norm (an SVD)
// and its diagonal sums, so any matrix in the file gives a valid bound
// (dualVector), and a file that was edited or damaged can only make the
// bounds weaker, never wrong.

// DualFileFormat is the format name in a dual file's metadata.
const DualFileFormat = "matapprox-duals/1"

// ErrDualFile reports a dual file that cannot be used: not a dual file, or
// one for other bands.
var ErrDualFile = errors.New("invalid dual file")

// Recorded returns the number of dual matrices recorded for WriteDuals.
func (c *Certifier) Recorded() int {
	if c.cache == nil || c.record == 0 {
		return 0
	}
	c.dmu.Lock()
	defer c.dmu.Unlock()
	return len(c.recX) / c.cache.dim
}

// WriteDuals writes the dual matrices the certifier recorded
// (CertifyOptions.RecordDuals) to the file at path, atomically, and
// returns how many it wrote.
func (c *Certifier) WriteDuals(path string) (int, error) {
	if c.cache == nil || c.record == 0 {
		return 0, fmt.Errorf("optimal: WriteDuals: the certifier records no duals (CertifyOptions.DualCache and RecordDuals): %w", ErrOption)
	}
	c.dmu.Lock()
	dim, n := c.cache.dim, c.in.N
	m := len(c.recX) / dim
	ts := []safetensors.Tensor{
		{Name: "x_out", DType: "F64", Shape: []int{m, dim}, Data: append([]float64(nil), c.recX...)},
		{Name: "y", DType: "F32", Shape: []int{m, n, n}, Data: append([]float64(nil), c.recY...)},
	}
	c.dmu.Unlock()
	meta := map[string]string{"format": DualFileFormat, "n": strconv.Itoa(n),
		"in_band": strconv.Itoa(c.in.K), "out_band": strconv.Itoa(c.out.K)}
	if err := safetensors.WriteFile(path, ts, meta); err != nil {
		return 0, fmt.Errorf("optimal: writing duals: %w", err)
	}
	return m, nil
}

// ReadDuals adds the dual matrices of the file at path (written by
// WriteDuals for the same bands) to the certifier's cache, each verified
// as the file's documentation says and stored with its symmetry images,
// and returns how many it added: until the cache is full
// (CertifyOptions.DualCache; a full grid cell drops what falls in it); a
// matrix that is
// not finite, or whose bound is not positive on its own input, is skipped.
// A file larger than that room needs (or than MaxHeaderSize of metadata)
// is refused before it is read. Errors wrap ErrDualFile (or the file
// system's).
func (c *Certifier) ReadDuals(path string) (int, error) {
	if c.cache == nil {
		return 0, fmt.Errorf("optimal: ReadDuals: the certifier keeps no dual cache (CertifyOptions.DualCache): %w", ErrOption)
	}
	dim, n := c.cache.dim, c.in.N
	room := c.cache.max - c.cache.len()
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	// The file may hold more duals than there is room for; it may not
	// be larger than a file of 4·room of them (float64 y, generous header).
	if limit := float64(1<<20) + 4*float64(room)*8*float64(dim+n*n); float64(st.Size()) > limit {
		return 0, fmt.Errorf("optimal: dual file %s: %d bytes, more than %.0f for the %d duals there is room for: %w", path, st.Size(), limit, room, ErrDualFile)
	}
	ts, meta, err := safetensors.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("optimal: dual file: %w: %w", err, ErrDualFile)
	}
	want := map[string]string{"format": DualFileFormat, "n": strconv.Itoa(n),
		"in_band": strconv.Itoa(c.in.K), "out_band": strconv.Itoa(c.out.K)}
	for k, v := range want {
		if meta[k] != v {
			return 0, fmt.Errorf("optimal: dual file %s: %s is %q, want %q (a dual file for %v → K' = %d): %w", path, k, meta[k], v, c.in, c.out.K, ErrDualFile)
		}
	}
	var xs, ys *safetensors.Tensor
	for i := range ts {
		switch ts[i].Name {
		case "x_out":
			xs = &ts[i]
		case "y":
			ys = &ts[i]
		}
	}
	if xs == nil || ys == nil || len(xs.Shape) != 2 || len(ys.Shape) != 3 || xs.Shape[1] != dim ||
		ys.Shape[0] != xs.Shape[0] || ys.Shape[1] != n || ys.Shape[2] != n {
		return 0, fmt.Errorf("optimal: dual file %s: want tensors x_out (M×%d) and y (M×%d×%d): %w", path, dim, n, n, ErrDualFile)
	}
	m := min(xs.Shape[0], room)
	h, e := make([]float64, dim), make([]float64, dim)
	ymat := mat.NewDense(n, n, nil)
	var svd mat.SVD
	vals := make([]float64, n)
	added := 0
	c.dmu.Lock()
	defer c.dmu.Unlock()
	for i := 0; i < m; i++ {
		xo := xs.Data[i*dim : (i+1)*dim]
		y := ys.Data[i*n*n : (i+1)*n*n]
		if !finite(xo) || !finite(y) {
			continue
		}
		copy(ymat.RawMatrix().Data, y)
		if !svd.Factorize(ymat, mat.SVDNone) {
			continue
		}
		sv := svd.Values(vals)
		var nuc float64
		for _, v := range sv {
			nuc += v
		}
		// The computed singular values are within a few n·ε·σ₁ of the
		// exact ones (a backward-stable SVD).
		nuc += 8*epsilon*float64(n*n)*sv[0] + 8*epsilon*float64(n)*nuc
		if !dualVector(y, n, n, c.in.K, c.out.K, nuc, h, e) {
			continue
		}
		var s float64
		for d, v := range xo {
			s += h[d] * v
		}
		if !(math.Abs(s) > 0) {
			continue
		}
		before := c.cache.len()
		c.addImages(xo, h, e, nil)
		if c.cache.len() > before {
			added++
		}
		if c.cache.len() >= c.cache.max {
			break
		}
	}
	return added, nil
}
