package kernels

import (
	"math"
	"unsafe"
)

// sigmoid is the logistic function 1/(1+e^-x). Float32 uses exp32, which
// is accurate to a few ulp and several times faster than math.Exp; float64
// uses the math package so that it matches a plain reference to 1e-15.
func sigmoid[F Float](x F) F {
	if unsafe.Sizeof(x) == 4 {
		return F(1 / (1 + exp32(-float32(x))))
	}
	return F(1 / (1 + math.Exp(-float64(x))))
}

// tanh is the hyperbolic tangent, fast in float32 as sigmoid is.
func tanh[F Float](x F) F {
	if unsafe.Sizeof(x) == 4 {
		return F(tanh32(float32(x)))
	}
	return F(math.Tanh(float64(x)))
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

// tanh32 is tanh(x) = sign(x)·(1-e)/(1+e) with e = e^(-2|x|), without
// branches (LSTM gate inputs change sign unpredictably). Near zero the
// quotient keeps an absolute error of about 1e-7, all a gate needs.
func tanh32(x float32) float32 {
	bits := math.Float32bits(x)
	a := math.Float32frombits(bits &^ (1 << 31))
	e := exp32(-2 * a)
	t := (1 - e) / (1 + e)
	return math.Float32frombits(math.Float32bits(t) | bits&(1<<31))
}
