package train

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/matapprox/matapprox/internal/atomicfile"
)

// The metrics log (MetricsFile) holds one JSON object per finished epoch,
// one per line, in epoch order. It is append-only: each epoch adds one line
// (AppendMetrics), so that the cost of an epoch does not grow with the
// number of epochs. A process killed in the middle of an append leaves an
// unterminated last line, which ReadMetrics ignores; the checkpoint records
// how many lines belong to the run, and RunDir.Resume cuts the log back to
// them.

// metricsRecord is the JSON form of EpochStats; non-finite values are null.
type metricsRecord struct {
	Epoch     int      `json:"epoch"`
	TrainLoss *float64 `json:"train_loss"`
	ValLoss   *float64 `json:"val_loss"`
	ValGap    *float64 `json:"val_gap,omitempty"`
	LastBatch *float64 `json:"last_batch"`
	LR        *float64 `json:"lr"`
	Elapsed   *float64 `json:"elapsed_s"`
	WarmStart bool     `json:"warm_start,omitempty"`
}

func encodeStats(s EpochStats) []byte {
	f := func(v float64) *float64 {
		if !finite(v) {
			return nil
		}
		return &v
	}
	b, err := json.Marshal(metricsRecord{Epoch: s.Epoch, TrainLoss: f(s.TrainLoss), ValLoss: f(s.ValLoss), ValGap: f(s.ValGap),
		LastBatch: f(s.LastBatch), LR: f(s.LR), Elapsed: f(s.Elapsed), WarmStart: s.WarmStart})
	if err != nil {
		panic("train: encoding EpochStats cannot fail: " + err.Error())
	}
	return append(b, '\n')
}

// WriteMetrics writes a whole metrics log atomically.
func WriteMetrics(path string, h []EpochStats) error {
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		for _, s := range h {
			if _, err := w.Write(encodeStats(s)); err != nil {
				return err
			}
		}
		return nil
	})
}

// AppendMetrics appends one epoch's record to the metrics log at path and
// syncs it.
func AppendMetrics(path string, s EpochStats) error {
	return atomicfile.Append(path, encodeStats(s), 0o644)
}

// ReadMetrics reads a metrics log. An unterminated last line (an append
// cut short by a crash) is ignored; any other malformed line is an error
// naming it.
func ReadMetrics(path string) ([]EpochStats, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var h []EpochStats
	br := bufio.NewReader(f)
	get := func(v *float64) float64 {
		if v == nil {
			return nan
		}
		return *v
	}
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if err == io.EOF {
			return h, nil // b, if any, is an unterminated record
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		var m metricsRecord
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		h = append(h, EpochStats{Epoch: m.Epoch, TrainLoss: get(m.TrainLoss), ValLoss: get(m.ValLoss), ValGap: get(m.ValGap),
			LastBatch: get(m.LastBatch), LR: get(m.LR), Elapsed: get(m.Elapsed), WarmStart: m.WarmStart})
	}
}

// readBounded reads at most limit bytes of path, and fails if it holds
// more: a configuration or a small file cannot make the reader run forever
// (/dev/zero) or allocate much.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes: not a configuration file", path, limit)
	}
	return b, nil
}
