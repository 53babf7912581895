package optim_test

import (
	"fmt"

	"github.com/matapprox/matapprox/optim"
)

// The notebook's optimizer and declared schedule: Adagrad at 0.25, halved
// every 5 epochs.
func Example() {
	cfg, _ := optim.Defaults(optim.AlgAdagrad)
	cfg.LR = 0.25
	params := []float64{1, -2}
	opt, err := optim.New(cfg, len(params))
	if err != nil {
		panic(err)
	}
	sched, _ := optim.ParseSchedule("piecewise:factor=0.5,period=5", cfg.LR)
	for epoch := 0; epoch < 10; epoch++ {
		opt.SetLR(sched.LR(epoch))
		grads := []float64{2 * params[0], 2 * params[1]} // ∇ of p₀² + p₁²
		optim.ClipGlobalNorm(grads, 10)
		opt.Step(params, grads)
	}
	fmt.Printf("lr %.4g, params %.4f\n", opt.LR(), params)
	// Output:
	// lr 0.125, params [0.2283 -1.0829]
}

func ExampleParseSchedule() {
	s, err := optim.ParseSchedule("cosine:epochs=4,min=0.01", 0.1)
	if err != nil {
		panic(err)
	}
	for e := 0; e <= 4; e++ {
		fmt.Printf(" %.4f", s.LR(e))
	}
	fmt.Println()
	fmt.Println(s)
	// Output:
	//  0.1000 0.0868 0.0550 0.0232 0.0100
	// cosine:lr=0.1,min=0.01,epochs=4
}

func ExampleState() {
	cfg, _ := optim.Defaults(optim.AlgAdam)
	opt, _ := optim.New(cfg, 2)
	p := []float64{1, 1}
	opt.Step(p, []float64{0.5, -0.5})
	// Checkpoint the optimizer exactly and resume in another instance.
	b, _ := opt.State().MarshalBinary()
	var st optim.State
	if err := st.UnmarshalBinary(b); err != nil {
		panic(err)
	}
	resumed, _ := optim.New(cfg, 2)
	if err := resumed.SetState(st); err != nil {
		panic(err)
	}
	fmt.Println(st.Algorithm, st.Step, len(st.Buffers["exp_avg"]))
	// Output:
	// adam 1 2
}
