//go:build !amd64 || purego

package gemm

// transpose16 packs nothing: there is no vector transpose on this
// architecture (see transpose_amd64.go).
func transpose16(d, b []float32, ldb, j, pc, kb int) int { return 0 }
