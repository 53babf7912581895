package optimal

import (
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/matapprox/matapprox/loss"
	"github.com/matapprox/matapprox/structure"
)

func TestTmpGrid(t *testing.T) {
	if os.Getenv("TMPGRID") == "" {
		t.Skip()
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range [][3]int{{5, 2, 0}, {5, 3, 1}, {8, 4, 2}, {11, 5, 2}, {11, 7, 5}, {16, 7, 5}, {16, 15, 13}, {24, 11, 9}, {32, 15, 13}, {32, 15, 11}, {32, 31, 28}, {32, 31, 25}, {48, 23, 20}, {48, 23, 18}, {64, 31, 26}, {64, 31, 24}, {64, 31, 20}, {64, 40, 35}, {100, 40, 35}, {128, 63, 58}} {
		in, out := structure.Band{N: c[0], K: c[1]}, structure.Band{N: c[0], K: c[2]}
		l, _ := loss.NewSpectral(in, out)
		rows := 12
		xs := make([][]float64, rows)
		for i := range xs {
			xs[i] = make([]float64, in.Len())
			for j := range xs[i] {
				xs[i][j] = rng.Float64() * float64(in.Len())
			}
		}
		var ts [2]time.Duration
		var worst [2]float64
		var sum [2]float64
		for mi, m := range []string{MethodSDP, MethodBanded} {
			s, err := NewSolver(l, &Options{Method: m, Workers: 1})
			if err != nil {
				t.Fatal(err)
			}
			st := time.Now()
			for _, x := range xs {
				res, err := s.Solve(x)
				if err != nil {
					t.Fatal(err)
				}
				worst[mi] = max(worst[mi], (res.Value-res.Lower)/res.Value)
				sum[mi] += res.Value
			}
			ts[mi] = time.Since(st) / time.Duration(rows)
		}
		t.Logf("N=%d K=%d K'=%d auto=%v: sdp %v (gap %.1e) banded %v (gap %.1e) ratio %.2f, values differ %.1e", c[0], c[1], c[2], autoBanded(in, out), ts[0], worst[0], ts[1], worst[1], float64(ts[0])/float64(ts[1]), (sum[0]-sum[1])/sum[0])
	}
}
