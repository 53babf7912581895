package train

import (
	"fmt"
	"os"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/nn"
	"github.com/matapprox/matapprox/optimal"
)

// DualsFile is the run directory's file of remembered dual certificates
// (optimal.Certifier.WriteDuals), which approx loads into its dual cache
// so that its fast check works from the first row of a file.
const DualsFile = "duals.safetensors"

// Limits of SaveDuals.
const (
	// dualsMaxDim is the largest number of out-of-band entries 2(K−K') for
	// which a run keeps duals: beyond it a remembered dual rarely lies
	// near a new input's direction (docs/BENCHMARKS.md, "Certification").
	dualsMaxDim = 4
	// dualsRecord is the number of duals kept (N×N float32 each).
	dualsRecord = 8192
	// dualsRows is the most training rows certified to find them.
	dualsRows = 40000
)

// SaveDuals certifies the network's answers on training rows of s with
// a dual cache (CertifyOptions{MaxGap: 0.01, DualCache, RecordDuals}),
// until dualsRecord duals are found or dualsRows rows are certified, and
// writes the duals to the run's DualsFile. It returns how many it wrote:
// 0, writing nothing, where the cache does not apply (a loss other than
// the 2-norm, N beyond the cache's sizes, more than dualsMaxDim out-of-band
// entries).
func (d *RunDir) SaveDuals(m *nn.Approximator, l loss.Loss, s *data.Set) (int, error) {
	in, out := l.Bands()
	if _, ok := l.(*loss.Spectral); !ok || optimal.DualCacheBytes(in, out, 1) == 0 || 2*(in.K-out.K) > dualsMaxDim || s == nil || s.Rows == 0 {
		return 0, nil
	}
	c, err := optimal.NewCertifier(l, &optimal.CertifyOptions{MaxGap: 0.01, DualCache: optimal.DefaultDualCache, RecordDuals: dualsRecord})
	if err != nil {
		return 0, fmt.Errorf("remembered duals: %w", err)
	}
	const chunk = 1024
	Lo := out.Len()
	ws := m.NewWorkspace(chunk)
	dst := make([]float64, chunk*Lo)
	res := make([]optimal.Certificate, chunk)
	rows := min(s.Rows, dualsRows)
	for lo := 0; lo < rows; lo += chunk {
		k := min(chunk, rows-lo)
		x := s.X[lo*s.Dim : (lo+k)*s.Dim]
		a := m.Forward(ws, x, k)
		if err := c.CertifyBatch(dst, res, x, a, k); err != nil {
			return 0, fmt.Errorf("remembered duals: %w", err)
		}
		if c.Recorded() >= dualsRecord {
			break
		}
	}
	if c.Recorded() == 0 {
		return 0, nil
	}
	path := d.File(DualsFile)
	n, err := c.WriteDuals(path)
	if err != nil {
		os.Remove(path)
		return 0, err
	}
	return n, nil
}
