package train_test

import (
	"context"
	"fmt"

	"github.com/matapprox/matapprox/optimal"
	"github.com/matapprox/matapprox/train"
)

// Train the notebook's model (preset seed, shortened) and compare it with
// the exact optimum of its loss on the validation set.
func ExampleTrainer() {
	cfg, _ := train.Preset("seed") // 11→100→100→7 tanh, Adagrad 0.25, the notebook's probes and data
	cfg.Epochs, cfg.TrainSize = 3, 1000
	tr, err := train.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	err = tr.Run(context.Background(), train.Callbacks{
		Epoch: func(s train.EpochStats) error { fmt.Printf("epoch %d\n", s.Epoch); return nil },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The exact optimum of the same loss, a linear map of the input.
	opt, _ := optimal.NewSolver(tr.Loss, nil)
	in, out := cfg.Bands()
	a := make([]float64, tr.Val.Rows*out.Len())
	opt.SolveBatch(a, nil, tr.Val.X, tr.Val.Rows)
	best := tr.Loss.Eval(nil, tr.Val.X, a, tr.Val.Rows) / float64(tr.Val.Rows)
	fmt.Printf("network %.0f× the optimal loss on %d validation matrices of band %d\n",
		tr.History[2].ValLoss/best, tr.Val.Rows, in.K)
	// Output:
	// epoch 1
	// epoch 2
	// epoch 3
	// network 3× the optimal loss on 1000 validation matrices of band 5
}
