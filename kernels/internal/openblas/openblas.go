//go:build openblas

// Package openblas calls OpenBLAS's cblas_sgemm and cblas_dgemm through
// cgo, one thread per call. It is its own package because a package that
// uses cgo cannot also hold Go assembly, which kernels does; kernels
// imports it under the build tag openblas. Linking needs libopenblas
// (Debian: libopenblas-dev).
package openblas

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
*/
import "C"

import (
	"sync"
	"unsafe"
)

// oneThread keeps OpenBLAS to one thread per call: the two directions of a
// bidirectional LSTM already run on two goroutines, and OpenBLAS's own
// thread pool would fight them for the same cores.
var oneThread sync.Once

func singleThreaded() { oneThread.Do(func() { C.openblas_set_num_threads(1) }) }

func transpose(t bool) C.enum_CBLAS_TRANSPOSE {
	if t {
		return C.CblasTrans
	}
	return C.CblasNoTrans
}

// lengths checks what cblas cannot: that a, b and c hold the matrices
// their strides describe. It panics like the pure-Go path does.
func lengths(transA, transB bool, m, n, k, lenA, lda, lenB, ldb, lenC, ldc int) {
	rowsA, colsA := m, k
	if transA {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if transB {
		rowsB, colsB = n, k
	}
	if lda < max(1, colsA) || lenA < (rowsA-1)*lda+colsA {
		panic("kernels: Gemm: a is too short or lda too small")
	}
	if ldb < max(1, colsB) || lenB < (rowsB-1)*ldb+colsB {
		panic("kernels: Gemm: b is too short or ldb too small")
	}
	if ldc < max(1, n) || lenC < (m-1)*ldc+n {
		panic("kernels: Gemm: c is too short or ldc too small")
	}
}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C on row-major float32
// matrices, as cblas_sgemm with CblasRowMajor does. It panics, like gonum's
// Sgemm, when a slice is too short for its shape and stride.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	lengths(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	singleThreaded()
	C.cblas_sgemm(C.CblasRowMajor, transpose(transA), transpose(transB),
		C.blasint(m), C.blasint(n), C.blasint(k),
		C.float(alpha), (*C.float)(unsafe.Pointer(&a[0])), C.blasint(lda),
		(*C.float)(unsafe.Pointer(&b[0])), C.blasint(ldb),
		C.float(beta), (*C.float)(unsafe.Pointer(&c[0])), C.blasint(ldc))
}

// Dgemm is Sgemm for float64.
func Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	lengths(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	singleThreaded()
	C.cblas_dgemm(C.CblasRowMajor, transpose(transA), transpose(transB),
		C.blasint(m), C.blasint(n), C.blasint(k),
		C.double(alpha), (*C.double)(unsafe.Pointer(&a[0])), C.blasint(lda),
		(*C.double)(unsafe.Pointer(&b[0])), C.blasint(ldb),
		C.double(beta), (*C.double)(unsafe.Pointer(&c[0])), C.blasint(ldc))
}
