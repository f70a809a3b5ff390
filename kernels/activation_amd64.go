package kernels

// The assembly kernels; callers check simd first.

//go:noescape
func gateAVX2(dst, x, bias []float32, negScale, mul, add float32)

//go:noescape
func gateAVX512(dst, x, bias []float32, negScale, mul, add float32)

// sgemmKernel6x16 adds the product of a 6×k panel of A, element (i, p)
// at a[i*rsa+p*csa], and a packed k×16 panel of B to a 6×16 block of C
// whose rows are ldc floats apart.
//
//go:noescape
func sgemmKernel6x16(k int, a *float32, rsa, csa int, b, c *float32, ldc int)

// sgemmKernel8x32 sets or adds alpha times the product of an 8×k panel of
// A, element (i, p) at a[i*rsa+p*csa], and a k×32 panel of B, rows ldb
// apart, to the first rows rows of an 8×32 block of C whose rows are ldc
// floats apart, in the columns whose bit is set in mask.
//
//go:noescape
func sgemmKernel8x32(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc, rows int, mask uint32, alpha float32, acc bool)

// sgemmKernel8x16 is sgemmKernel8x32 for a k×16 panel of B.
//
//go:noescape
func sgemmKernel8x16(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc, rows int, mask uint32, alpha float32, acc bool)

// cellForwardAVX512 is cellForward32 on n units, 16 at a time: z holds
// 4n values, bias 4n, the others n; c may be cPrev.
//
//go:noescape
func cellForwardAVX512(z, bias, cPrev, c, tc, h *float32, n int)

// cellBackwardAVX512 is cellBackward for float32 on n units, 16 at a
// time: z and db hold 4n values, the others n.
//
//go:noescape
func cellBackwardAVX512(z, d, dh, dc, cPrev, tc, db *float32, n int)
