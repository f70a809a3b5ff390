//go:build openblas

package kernels

import "github.com/classify/classify/kernels/internal/openblas"

// BLAS names the matrix-product implementation compiled in: "gonum" (pure
// Go, the default) or "openblas" (cgo, build tag openblas).
const BLAS = "openblas"

func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	openblas.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	openblas.Dgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
