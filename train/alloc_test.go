package train

import (
	"context"
	"testing"
)

// TestNoAllocationPerBatch checks that an epoch of 100 batches allocates no
// more than an epoch of 10: nothing on the training hot path allocates.
func TestNoAllocationPerBatch(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	for _, prec := range []string{"f64", "f32"} {
		testNoAllocationPerBatch(t, prec)
	}
}

func testNoAllocationPerBatch(t *testing.T, prec string) {
	perEpoch := func(rows int) float64 {
		c, _ := Preset("default")
		c.Precision = prec
		c.TrainSize, c.ValSize, c.Epochs = rows, 100, 1_000_000
		tr, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		tr.History = make([]EpochStats, 0, 1000)
		return testing.AllocsPerRun(5, func() {
			tr.Cfg.Epochs = tr.epoch + 1
			if err := tr.Run(context.Background(), Callbacks{}); err != nil {
				t.Fatal(err)
			}
		})
	}
	few, many := perEpoch(1000), perEpoch(10000)
	t.Logf("%s: allocations per epoch: %v with 10 batches, %v with 100", prec, few, many)
	if many > few {
		t.Errorf("%s: an epoch of 100 batches allocates %v times, one of 10 batches %v: something allocates per batch", prec, many, few)
	}
}
