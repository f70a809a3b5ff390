package kernels

import "math"

// gates32 sets dst[i] = mul/(1 + e^(negScale·(x[i]+bias[i]))) + add, which
// is sigmoid(x+bias) with (negScale, mul, add) = (-1, 1, 0) and
// tanh(x+bias) = 2·sigmoid(2(x+bias)) - 1 with (-2, 2, -1). It runs
// sixteen lanes at a time on AVX-512 (the last ones masked), eight on
// AVX2 with the rest through exp32, or exp32 alone, all with the same
// formula. Absolute error is about 1e-7 in either function; dst may be x.
func gates32(dst, x, bias []float32, negScale, mul, add float32) {
	n := 0
	switch simd {
	case simdAVX512:
		gateAVX512(dst, x[:len(dst)], bias[:len(dst)], negScale, mul, add)
		return
	case simdAVX2:
		n = len(dst) &^ 7
		gateAVX2(dst[:n], x[:n], bias[:n], negScale, mul, add)
	}
	x, bias = x[:len(dst)], bias[:len(dst)]
	for i := n; i < len(dst); i++ {
		dst[i] = mul/(1+exp32(negScale*(x[i]+bias[i]))) + add
	}
}

// exp32 is e^x in float32 arithmetic: x = k·ln2 + r with |r| <= ln2/2, then
// e^r from the degree-7 minimax polynomial of Cephes's expf (S. Moshier)
// and 2^k put into the exponent bits. Relative error below 2e-7 on
// [-87, 88]; inputs outside are clamped (the results there are 0 or huge
// for sigmoid and tanh alike).
func exp32(x float32) float32 {
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
	)
	if x > 88 {
		x = 88
	} else if x < -87 {
		x = -87
	}
	// Adding 1.5·2^23 rounds to the nearest integer without a branch or
	// a conversion; the integer is then in the low mantissa bits.
	const magic = 12582912
	kf := x*log2e + magic
	k := int32(math.Float32bits(kf)) - int32(math.Float32bits(magic))
	fk := kf - magic
	r := x - fk*ln2hi - fk*ln2lo
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	p = p*r*r + r + 1
	return p * math.Float32frombits(uint32(k+127)<<23)
}
