//go:build openblas

package kernels

import "github.com/classify/classify/kernels/internal/openblas"

// BLAS names the matrix-product implementation in use: "go-avx512" or
// "go-avx2" (pure Go with an assembly micro-kernel for float32 on machines
// with AVX-512F, or AVX2 and FMA3, gonum for float64), "gonum" (pure Go
// elsewhere, or with CLASSIFY_SIMD=purego) or "openblas" (cgo, build tag
// openblas).
func BLAS() string { return "openblas" }

// goKernel says whether float32 products run on the Go micro-kernel.
func goKernel() bool { return false }

func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	openblas.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	openblas.Dgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
