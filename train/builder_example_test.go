package train_test

import (
	"fmt"

	"github.com/matapprox/matapprox/train"
)

// A Builder resolves a preset, a YAML file and flags into one
// configuration; every error says where the value came from.
func ExampleBuilder() {
	base, _ := train.Preset("default")
	b := train.NewBuilder(base)
	if err := b.ReadYAML([]byte("epochs: 5\noptimizer: SGD\nmomentum: 0.9\n"), "run.yaml"); err != nil {
		fmt.Println(err)
	}
	b.Set("lr", "0.01", train.Origin{Flag: true})
	cfg, err := b.Config()
	fmt.Println(cfg.Optimizer, cfg.Momentum, cfg.LR, cfg.Epochs, err)

	b.Set("schedule", "piecewise", train.Origin{Flag: true})
	b.ReadYAML([]byte("n: 11\nout-band: 9\n"), "bad.yaml")
	_, err = b.Config()
	fmt.Println(err)
	fmt.Println(b.Set("epochs", "1.9", train.Origin{Flag: true}))
	fmt.Println(b.Set("optimizer", "adma", train.Origin{Flag: true}))
	// Output:
	// sgd 0.9 0.01 5 <nil>
	// bad.yaml:2: out-band: 9: want an integer between 0 and 5
	// -epochs 1.9: not an integer; want an integer between 1 and 1000000
	// -optimizer adma: want one of adagrad, sgd, adam or adamw (did you mean adam?)
}
