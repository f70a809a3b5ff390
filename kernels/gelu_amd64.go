package kernels

// The Transformer's element-wise assembly kernels (gelu_amd64.s); callers
// check simd first.

// geluAVX512 sets y = x·Φ(x) and d = Φ(x) + x·φ(x), element by element,
// for all of x, by normalFromExp32's formula; y and d are as long as x.
//
//go:noescape
func geluAVX512(x, y, d []float32)

// expShiftAVX512 sets dst[i] = e^(x[i] - shift), x[i] <= shift, by
// exp32's formula, for all of x, and returns their sum; dst is as long
// as x and may be x.
//
//go:noescape
func expShiftAVX512(dst, x []float32, shift float32) float32
