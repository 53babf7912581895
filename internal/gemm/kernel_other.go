//go:build !amd64 || purego

package gemm

// haveAsm is false: there is no assembly micro-kernel for this architecture.
const haveAsm = false

// asmKernel is never selected where haveAsm is false.
var asmKernel = genericKernel
