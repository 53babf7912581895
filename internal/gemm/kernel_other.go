//go:build !amd64 || purego

package gemm

// mr is the number of rows of a micro-tile.
const mr = 4

// haveAsm is false: there is no assembly micro-kernel for this architecture.
const haveAsm = false

// kernAsm is never selected where haveAsm is false.
var kernAsm = kernGeneric
