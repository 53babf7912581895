//go:build amd64 && !purego

package gemm

// transpose16AVX512F32 transposes blocks 16×16 blocks of float32 (see
// transpose_amd64.s). It needs AVX-512F.
//
//go:noescape
func transpose16AVX512F32(dst, src *float32, ld, blocks int)

// transpose16 packs the first 16·⌊kb/16⌋ rows of the micro-panel of 16
// columns of op(B) = Bᵀ that starts at row j of b (elements pc…) into d,
// with the AVX-512 kernel when the path in use is AVX512, and returns how
// many rows it packed (0 otherwise).
func transpose16(d, b []float32, ldb, j, pc, kb int) int {
	blocks := kb / 16
	if CurrentPath() != AVX512 || blocks == 0 {
		return 0
	}
	_ = d[blocks*256-1]
	_ = b[(j+15)*ldb+pc+blocks*16-1]
	transpose16AVX512F32(&d[0], &b[j*ldb+pc], ldb, blocks)
	return blocks * 16
}
