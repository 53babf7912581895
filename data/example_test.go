package data_test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"strings"

	"github.com/matapprox/matapprox/data"
	"github.com/matapprox/matapprox/structure"
)

func ExampleGeneratorByName() {
	b := structure.Band{N: 5, K: 2}
	g, err := data.GeneratorByName("notebook-symmetric", b)
	if err != nil {
		log.Fatal(err)
	}
	s := data.Generate(g, b, 3, rand.New(rand.NewPCG(1, 2)))
	fmt.Println(s.Rows, "rows of", s.Dim, "values")
	r := s.Row(0)
	fmt.Println("symmetric:", r[0] == r[4] && r[1] == r[3])
	fmt.Println("valid:", s.Validate(b) == nil)
	_, err = data.GeneratorByName("uniform", b)
	fmt.Println(err)
	// Output:
	// 3 rows of 5 values
	// symmetric: true
	// valid: true
	// unknown generator "uniform": valid names are notebook, gaussian, notebook-symmetric, gaussian-symmetric
}

func ExampleReadCSV() {
	in := `# two generators of 3×3 tridiagonal Toeplitz matrices
1, 2, 3
0.5, -1, 2e-3
`
	s, err := data.ReadCSV(strings.NewReader(in), "gens.csv")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Rows, s.Dim, s.X)

	_, err = data.ReadCSV(strings.NewReader("1,2,3\n4,five,6\n"), "bad.csv")
	fmt.Println(err)
	// Output:
	// 2 3 [1 2 3 0.5 -1 0.002]
	// bad.csv:2:3: "five" is not a number: write decimal numbers such as 0.5, -3 or 1e-4 separated by commas: malformed data file
}

func ExampleReader() {
	// Write a .npy file row by row, then stream it back.
	var buf bytes.Buffer
	w, err := data.NewNPYWriter(&buf, 3, 2)
	if err != nil {
		log.Fatal(err)
	}
	for i := range 3 {
		w.Write([]float64{float64(i), float64(i) / 2})
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	r, err := data.NewReader(&buf, "rows.npy", "npy")
	if err != nil {
		log.Fatal(err)
	}
	row := make([]float64, r.Dim())
	for {
		err := r.Next(row)
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(row)
	}
	// Output:
	// [0 0]
	// [1 0.5]
	// [2 1]
}

func ExampleLoader() {
	s := &data.Set{Dim: 1, Rows: 5, X: []float64{10, 11, 12, 13, 14}}
	l, err := data.NewLoader(s, 2, false)
	if err != nil {
		log.Fatal(err)
	}
	batch := make([]float64, l.BatchSize()*s.Dim)
	rng := rand.New(rand.NewPCG(1, 2))
	for epoch := range 2 {
		l.Reset(rng) // draws this epoch's order from rng
		for n, ok := l.Next(batch); ok; n, ok = l.Next(batch) {
			fmt.Println("epoch", epoch, "batch", batch[:n*s.Dim])
		}
	}
	// Output:
	// epoch 0 batch [11 14]
	// epoch 0 batch [12 10]
	// epoch 0 batch [13]
	// epoch 1 batch [12 13]
	// epoch 1 batch [14 10]
	// epoch 1 batch [11]
}
