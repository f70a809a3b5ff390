package kernels

import "unsafe"

// Float is the element type of the kernels: float32 for training, float64
// for gradient checks.
type Float interface{ ~float32 | ~float64 }

// Gemm computes C = alpha*op(A)*op(B) + beta*C on row-major matrices, with
// the arguments of cblas_?gemm in row-major order: op(A) is m×k, op(B) is
// k×n, C is m×n, and lda, ldb, ldc are the row strides of a, b and c as
// stored. transA and transB say that a and b hold Aᵀ and Bᵀ.
//
// The product runs on the BLAS chosen at build time (see BLAS). Like cblas
// it trusts its arguments: slices too short for the strides they are given
// make it panic.
func Gemm[F Float](transA, transB bool, m, n, k int, alpha F, a []F, lda int, b []F, ldb int, beta F, c []F, ldc int) {
	if m <= 0 || n <= 0 {
		return
	}
	if k <= 0 || alpha == 0 {
		scaleRows(m, n, beta, c, ldc)
		return
	}
	if unsafe.Sizeof(alpha) == 4 {
		sgemm(transA, transB, m, n, k, float32(alpha), as32(a), lda, as32(b), ldb, float32(beta), as32(c), ldc)
		return
	}
	dgemm(transA, transB, m, n, k, float64(alpha), as64(a), lda, as64(b), ldb, float64(beta), as64(c), ldc)
}

// scaleRows sets C = beta*C for an m×n matrix with row stride ldc.
func scaleRows[F Float](m, n int, beta F, c []F, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// as32 views a slice of a 4-byte Float as []float32.
func as32[F Float](s []F) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// as64 views a slice of an 8-byte Float as []float64.
func as64[F Float](s []F) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}
