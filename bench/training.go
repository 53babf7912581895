package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/matapprox/matapprox/train"
)

// measureTraining returns the training throughput of matapprox in samples
// per second: train.New with the size's configuration, then train.Run
// stopped by a context deadline after the given duration (the trainer stops
// at the batch boundary after the deadline). A first Run of a quarter of
// the duration (at most one second) warms the caches and the gemm worker
// pool and is not counted. What is timed is the trainer's loop as users run
// it: gather of the shuffled batch, forward, probe loss and gradient by the
// quadratic form, backward, Adagrad step, the per-epoch shuffle and weight
// check.
//
// precision is the configuration's precision key, "f64" or "f32"; the
// network splits each batch over threads goroutines (nn.MLP.SetThreads).
//
// It also returns the fastest single batch (gather, forward, loss, backward,
// optimizer step: the time between two batch callbacks within an epoch),
// which other load on the machine can only lengthen.
func measureTraining(s size, d time.Duration, precision string, threads int) (rate float64, bestStep time.Duration, err error) {
	cfg, err := s.config()
	if err != nil {
		return 0, 0, fmt.Errorf("size %s: %w", s.Name, err)
	}
	cfg.Precision = precision
	t, err := train.New(cfg)
	if err != nil {
		return 0, 0, fmt.Errorf("size %s: %w", s.Name, err)
	}
	if err := t.Model.Net.SetThreads(threads); err != nil {
		return 0, 0, err
	}
	if _, _, _, err := runFor(t, min(d/4, time.Second)); err != nil {
		return 0, 0, err
	}
	samples, elapsed, best, err := runFor(t, d)
	if err != nil {
		return 0, 0, err
	}
	if samples == 0 {
		return 0, 0, fmt.Errorf("size %s: no batch finished in %v", s.Name, d)
	}
	return float64(samples) / elapsed.Seconds(), best, nil
}

// runFor runs the trainer for about d and returns the samples trained, the
// time taken and the shortest time between two batch callbacks of one epoch
// (0 if there were none).
func runFor(t *train.Trainer, d time.Duration) (int, time.Duration, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	// Batches start at multiples of the batch size within an epoch, so the
	// batch that ends at done holds done − ⌊(done−1)/bs⌋·bs samples.
	bs, samples := t.Cfg.BatchSize, 0
	var best time.Duration
	last, lastEpoch := time.Time{}, -1
	cb := train.Callbacks{Batch: func(epoch, done, _ int) {
		samples += done - (done-1)/bs*bs
		now := time.Now()
		if epoch == lastEpoch && (best == 0 || now.Sub(last) < best) {
			best = now.Sub(last)
		}
		last, lastEpoch = now, epoch
	}}
	start := time.Now()
	err := t.Run(ctx, cb)
	elapsed := time.Since(start)
	if err != nil && !errors.Is(err, train.ErrInterrupted) {
		return 0, 0, 0, fmt.Errorf("training: %w", err)
	}
	return samples, elapsed, best, nil
}
