package safetensors_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/matapprox/matapprox/safetensors"
)

func Example() {
	ts := []safetensors.Tensor{
		{Name: "layer0.weight", DType: "F32", Shape: []int{2, 3}, Data: []float64{1, 2, 3, 4, 5, 6}},
		{Name: "layer0.bias", DType: "F64", Shape: []int{2}, Data: []float64{0.5, -0.25}},
	}
	var buf bytes.Buffer
	if err := safetensors.Encode(&buf, ts, map[string]string{"format": "pt"}); err != nil {
		log.Fatal(err)
	}
	got, meta, err := safetensors.Decode(buf.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range got {
		fmt.Println(t.Name, t.DType, t.Shape, t.Data)
	}
	fmt.Println(meta)
	// Output:
	// layer0.bias F64 [2] [0.5 -0.25]
	// layer0.weight F32 [2 3] [1 2 3 4 5 6]
	// map[format:pt]
}
