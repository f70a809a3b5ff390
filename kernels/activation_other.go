//go:build !amd64

package kernels

const hasAVX2 = false

func gateAVX2(dst, x, bias []float32, negScale, mul, add float32) {}

func sgemmKernel6x16(k int, a, b, c *float32, ldc int) {}
