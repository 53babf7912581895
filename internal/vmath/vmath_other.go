//go:build !amd64 || purego

package vmath

const best = Generic

func tanh64Vec(Path, []float64, []float64, []float64) int { return 0 }
func tanh32Vec(Path, []float32, []float32, []float32) int { return 0 }
func tanhDeriv64Vec(Path, []float64, []float64) int       { return 0 }
func tanhDeriv32Vec(Path, []float32, []float32) int       { return 0 }
func adagrad64Vec(Path, []float64, []float64, []float64, []float32, float64, float64, float64) int {
	return 0
}
func adam64Vec(Path, []float64, []float64, []float64, []float64, *AdamConsts) int { return 0 }

func toFloat32Vec(Path, []float32, []float64) int      { return 0 }
func toFloat64Vec(Path, []float64, []float32, int) int { return 0 }

func colSumVec(Path, []float64, []float32, int, int) int { return 0 }

func adagrad32Vec(Path, []float32, []float32, []float32, []float64, float32, float32, float32) int {
	return 0
}
func adam32Vec(Path, []float32, []float32, []float32, []float32, []float64, *AdamConsts32) int {
	return 0
}
func colSum32Vec(Path, []float32, []float32, int, int) int { return 0 }

func dotRowsVec(Path, []float64, []float64, int, []float64) int { return 0 }
