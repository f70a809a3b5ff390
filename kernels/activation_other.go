//go:build !amd64

package kernels

// Stubs of the assembly kernels: simd is simdNone off amd64, so none is
// called.

func gateAVX2(dst, x, bias []float32, negScale, mul, add float32) {}

func gateAVX512(dst, x, bias []float32, negScale, mul, add float32) {}

func sgemmKernel6x16(k int, a *float32, rsa, csa int, b, c *float32, ldc int) {}

func sgemmKernel8x32(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc, rows int, mask uint32, alpha float32, acc bool) {
}

func sgemmKernel8x16(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc, rows int, mask uint32, alpha float32, acc bool) {
}

func cellForwardAVX512(z, bias, cPrev, c, tc, h *float32, n int) {}

func cellBackwardAVX512(z, d, dh, dc, cPrev, tc, db *float32, n int) {}
