package main

import (
	"time"

	"github.com/matapprox/matapprox/eval"
	"github.com/matapprox/matapprox/tbevent"
	"github.com/matapprox/matapprox/train"
)

// eventLog writes TensorBoard scalars; a nil *eventLog does nothing.
type eventLog struct{ w *tbevent.Writer }

func openEvents(dir string) (*eventLog, error) {
	w, err := tbevent.NewWriter(dir)
	if err != nil {
		return nil, err
	}
	return &eventLog{w}, nil
}

func (e *eventLog) epoch(s train.EpochStats) {
	if e == nil {
		return
	}
	now := time.Now()
	step := int64(s.Epoch)
	e.w.Scalar("loss/train", step, s.TrainLoss, now)
	e.w.Scalar("loss/val", step, s.ValLoss, now)
	e.w.Scalar("lr", step, s.LR, now)
	if !s.WarmStart && s.ValGap == s.ValGap {
		e.w.Scalar("gap/val", step, s.ValGap, now)
	}
	e.w.Flush()
}

// summary writes the final evaluation's statistics at step (the last
// epoch), under eval/<method>/<statistic>, the names of summary.json.
func (e *eventLog) summary(s *eval.Summary, step int64) {
	if e == nil {
		return
	}
	now := time.Now()
	e.w.Scalar("eval/rows", step, float64(s.Rows), now)
	e.w.Scalar("eval/exact_rows", step, float64(s.ExactRows), now)
	for _, m := range s.Methods {
		for _, v := range []struct {
			name string
			x    float64
		}{{"loss", m.Loss}, {"probe_loss", m.ProbeLoss}, {"frobenius", m.Frobenius}, {"spectral", m.Spectral},
			{"gap", m.Gap}, {"gap_mean", m.GapMean}, {"gap_median", m.GapMedian}, {"gap_p95", m.GapP95}, {"gap_max", m.GapMax}} {
			if v.x == v.x {
				e.w.Scalar("eval/"+m.Method+"/"+v.name, step, v.x, now)
			}
		}
	}
	e.w.Flush()
}

func (e *eventLog) Close() error {
	if e == nil {
		return nil
	}
	return e.w.Close()
}
