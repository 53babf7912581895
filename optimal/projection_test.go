package optimal

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/structure"
)

func randVec(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

type projCase struct {
	name    string
	in, out structure.Band
	probes  string
	p       int
}

func projCases() []projCase {
	var cs []projCase
	for _, b := range [][3]int{{11, 5, 3}, {11, 5, 0}, {11, 5, 5}, {1, 0, 0}, {2, 1, 0}, {33, 16, 8}, {64, 63, 10}} {
		in, out := structure.Band{N: b[0], K: b[1]}, structure.Band{N: b[0], K: b[2]}
		for _, pr := range []struct {
			kind string
			p    int
		}{{"notebook", 100}, {"gaussian", 100}, {"gaussian", 2}, {"frobenius", 0}} {
			cs = append(cs, projCase{fmt.Sprintf("%v→K'=%d/%s/P=%d", in, out.K, pr.kind, pr.p), in, out, pr.kind, pr.p})
		}
	}
	return cs
}

func (c projCase) loss(rng *rand.Rand) *loss.Quadratic {
	var l *loss.Quadratic
	var err error
	switch c.probes {
	case "notebook":
		l, err = loss.NewProbe(c.in, c.out, loss.NotebookProbes(rng, c.p, c.in.N), c.p)
	case "gaussian":
		l, err = loss.NewProbe(c.in, c.out, loss.GaussianProbes(rng, c.p, c.in.N), c.p)
	default:
		l, err = loss.NewFrobenius(c.in, c.out, false)
	}
	if err != nil {
		panic(err)
	}
	return l
}

// TestProjectionIsOptimal checks the normal equations and that no random
// perturbation of the projection lowers the loss.
func TestProjectionIsOptimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range projCases() {
		t.Run(c.name, func(t *testing.T) {
			l := c.loss(rng)
			p, err := NewProjection(l)
			if err != nil {
				t.Fatal(err)
			}
			Lo := c.out.Len()
			grad := make([]float64, Lo)
			for trial := 0; trial < 5; trial++ {
				x := randVec(rng, c.in.Len())
				a, err := p.Solve(x)
				if err != nil {
					t.Fatal(err)
				}
				best := l.Eval(grad, x, a, 1)
				scale := math.Max(1, best)
				for i, g := range grad {
					if math.Abs(g) > 1e-8*scale {
						t.Fatalf("gradient at the optimum [%d] = %v, want 0", i, g)
					}
				}
				b := make([]float64, Lo)
				for k := 0; k < 200; k++ {
					s := math.Pow(10, -float64(rng.IntN(6)))
					for i := range b {
						b[i] = a[i] + s*rng.NormFloat64()
					}
					if v := l.Eval(nil, x, b, 1); v < best-1e-12*scale {
						t.Fatalf("perturbation %v beats the projection: %v < %v", s, v, best)
					}
				}
			}
		})
	}
}

// TestProjectionMatchesDenseLeastSquares compares with the least-squares
// problem written densely: the probe loss is (1/P) Σ ||(X−A) y_p||²/||y_p||²,
// linear in a, solved by gonum's QR on the stacked system.
func TestProjectionMatchesDenseLeastSquares(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	const p = 40
	probes := loss.GaussianProbes(rng, p, in.N)
	l, _ := loss.NewProbe(in, out, probes, p)
	proj, _ := NewProjection(l)
	x := randVec(rng, in.Len())
	// Rows: for each probe, (T(E e_j) y)/||y|| as columns j; right side T(x)y/||y||.
	n, Lo := in.N, out.Len()
	A := mat.NewDense(p*n, Lo, nil)
	rhs := mat.NewVecDense(p*n, nil)
	e := make([]float64, Lo)
	g := make([]float64, in.Len())
	col := make([]float64, n)
	for k := 0; k < p; k++ {
		y := probes[k*n : (k+1)*n]
		ny := math.Sqrt(mat.Dot(mat.NewVecDense(n, y), mat.NewVecDense(n, y)))
		in.MulVec(col, x, y)
		for i := 0; i < n; i++ {
			rhs.SetVec(k*n+i, col[i]/ny)
		}
		for j := 0; j < Lo; j++ {
			clear(e)
			e[j] = 1
			structure.Embed(g, in, e, out)
			in.MulVec(col, g, y)
			for i := 0; i < n; i++ {
				A.Set(k*n+i, j, col[i]/ny)
			}
		}
	}
	var want mat.VecDense
	if err := want.SolveVec(A, rhs); err != nil {
		t.Fatal(err)
	}
	got, _ := proj.Solve(x)
	for j := range got {
		if math.Abs(got[j]-want.AtVec(j)) > 1e-9*(1+math.Abs(want.AtVec(j))) {
			t.Errorf("a[%d] = %v, dense least squares %v", j, got[j], want.AtVec(j))
		}
	}
}

func TestFrobeniusProjectionIsTruncation(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	in, out := structure.Band{N: 20, K: 9}, structure.Band{N: 20, K: 4}
	p, err := FrobeniusProjection(in, out)
	if err != nil {
		t.Fatal(err)
	}
	for trial := 0; trial < 10; trial++ {
		x := randVec(rng, in.Len())
		a, _ := p.Solve(x)
		tr, _ := Truncate(x, in, out)
		for i := range a {
			if math.Abs(a[i]-tr[i]) > 1e-13 {
				t.Fatalf("Frobenius optimum %v differs from truncation %v", a, tr)
			}
		}
	}
}

func TestApplyBatchMatchesSolve(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	l, _ := loss.NewProbe(in, out, loss.NotebookProbes(rng, 100, 11), 100)
	p, _ := NewProjection(l)
	const n = 17
	x := randVec(rng, n*in.Len())
	dst := make([]float64, n*out.Len())
	p.Apply(dst, x, n)
	for b := 0; b < n; b++ {
		a, _ := p.Solve(x[b*in.Len() : (b+1)*in.Len()])
		for j := range a {
			if math.Abs(a[j]-dst[b*out.Len()+j]) > 1e-12 {
				t.Fatalf("row %d differs", b)
			}
		}
	}
}

func TestValidation(t *testing.T) {
	in, out := structure.Band{N: 11, K: 5}, structure.Band{N: 11, K: 3}
	p, _ := FrobeniusProjection(in, out)
	if _, err := p.Solve([]float64{1, 2}); !errors.Is(err, structure.ErrLength) {
		t.Errorf("short input: %v", err)
	}
	x := make([]float64, 11)
	x[3] = math.NaN()
	if _, err := p.Solve(x); !errors.Is(err, structure.ErrNonFinite) {
		t.Errorf("NaN input: %v", err)
	}
	if _, err := Truncate(make([]float64, 11), in, structure.Band{N: 11, K: 6}); !errors.Is(err, structure.ErrBand) {
		t.Errorf("wider output: %v", err)
	}
}
