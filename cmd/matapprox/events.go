package main

import (
	"time"

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
	e.w.Flush()
}

func (e *eventLog) Close() error {
	if e == nil {
		return nil
	}
	return e.w.Close()
}
