package kernels

import (
	"math"
	"unsafe"
)

// GELU sets y[i] = x[i]·Φ(x[i]), Φ the standard normal distribution
// function: the exact (erf) GELU of Hendrycks & Gimpel (2016), torch's
// default (approximate="none"). float64 uses math.Erf; float32 uses
// Abramowitz & Stegun's 7.1.26 for erfc (absolute error below 1.5e-7,
// float32 precision) around exp32, which is several times faster. y may
// be x.
func GELU[F Float](x, y []F) {
	if unsafe.Sizeof(x[0]) == 4 {
		x32, y32 := as32(x), as32(y)
		for i, v := range x32 {
			p, _ := normal32(v)
			y32[i] = v * p
		}
		return
	}
	for i, v := range x {
		y[i] = F(float64(v) * 0.5 * math.Erfc(-float64(v)/math.Sqrt2))
	}
}

// GELUBackward sets dx[i] = dy[i]·GELU'(x[i]) = dy[i]·(Φ(x) + x·φ(x)), φ
// the standard normal density. dx may be dy.
func GELUBackward[F Float](x, dy, dx []F) {
	if unsafe.Sizeof(x[0]) == 4 {
		x32, dy32, dx32 := as32(x), as32(dy), as32(dx)
		for i, v := range x32 {
			p, d := normal32(v)
			dx32[i] = dy32[i] * (p + v*d)
		}
		return
	}
	const invSqrt2Pi = 0.3989422804014327
	for i, v := range x {
		xv := float64(v)
		p := 0.5 * math.Erfc(-xv/math.Sqrt2)
		dx[i] = F(float64(dy[i]) * (p + xv*invSqrt2Pi*math.Exp(-xv*xv/2)))
	}
}

// geluRows adds bias (n values; nil for none) to each of the rows [lo,
// hi) of pre, of width n, and then sets act = dropout(GELU(pre)) and
// dg = dact/dpre for them: GELU'(pre), scaled as the dropout scales, so that
// the backward pass is one product and evaluates no exponential. Row r's
// dropout decisions come from a stream of its own, so that the masks do
// not depend on how the rows are shared among workers.
func geluRows[F Float](pre, act, dg, bias []F, lo, hi, n int, drop Dropout) {
	scale := F(1)
	if drop.Rate > 0 {
		scale = F(1 / (1 - drop.Rate))
	}
	var sc geluScratch
	for r := lo; r < hi; r++ {
		x, y, d := pre[r*n:(r+1)*n], act[r*n:(r+1)*n], dg[r*n:(r+1)*n]
		if bias != nil {
			for j, b := range bias[:n] {
				x[j] += b
			}
		}
		if unsafe.Sizeof(x[0]) == 4 {
			sc.gelu32(as32(x), as32(y), as32(d))
		} else {
			geluGrad(x, y, d)
		}
		if drop.Rate <= 0 {
			continue
		}
		ks := newKeepStream(drop.Rate, drop.Seed^uint64(r+1)*0xd1b54a32d192ed03)
		for j := range y {
			if ks.keep() {
				y[j] *= scale
				d[j] *= scale
			} else {
				y[j], d[j] = 0, 0
			}
		}
	}
}

// geluScratch is room for a row of gelu32.
type geluScratch struct{ a, s, zeros []float32 }

// gelu32 is geluGrad in float32: all of it on 16 lanes on AVX-512
// (geluAVX512), otherwise with the exponentials of a whole row at once
// on gates32's vector code: for a = x²/2 >= 0, s = 1/(1 + e^a) is a
// sigmoid, and e^(-a) = s/(1 - s) with 1 - s >= 1/2, so nothing cancels.
func (sc *geluScratch) gelu32(x, y, d []float32) {
	if simd == simdAVX512 {
		geluAVX512(x, y[:len(x)], d[:len(x)])
		return
	}
	n := len(x)
	if cap(sc.a) < n {
		sc.a, sc.s, sc.zeros = make([]float32, n), make([]float32, n), make([]float32, n)
	}
	a, s := sc.a[:n], sc.s[:n]
	for i, v := range x {
		a[i] = 0.5 * v * v
	}
	gates32(s, a, sc.zeros[:n], 1, 1, 0)
	for i, v := range x {
		p, pd := normalFromExp32(v, s[i]/(1-s[i]))
		y[i] = v * p
		d[i] = p + v*pd
	}
}

// geluGrad sets y = GELU(x) and d = GELU'(x).
func geluGrad[F Float](x, y, d []F) {
	if unsafe.Sizeof(x[0]) == 4 {
		x32, y32, d32 := as32(x), as32(y), as32(d)
		for i, v := range x32 {
			p, pd := normal32(v)
			y32[i] = v * p
			d32[i] = p + v*pd
		}
		return
	}
	const invSqrt2Pi = 0.3989422804014327
	for i, v := range x {
		xv := float64(v)
		p := 0.5 * math.Erfc(-xv/math.Sqrt2)
		y[i] = F(xv * p)
		d[i] = F(p + xv*invSqrt2Pi*math.Exp(-xv*xv/2))
	}
}

// normal32 returns Φ(x) and φ(x) in float32. With z = |x|/√2,
// erfc(z) ≈ t·(a1 + t(a2 + t(a3 + t(a4 + t·a5))))·e^(-z²), t = 1/(1 + p·z)
// (Abramowitz & Stegun 7.1.26), and Φ(x) = erfc(-x/√2)/2, so the tail
// Φ(x) for x < 0 is computed without cancellation.
func normal32(x float32) (cdf, pdf float32) {
	return normalFromExp32(x, exp32(-x*x*0.5))
}

// normalFromExp32 is normal32 given e = e^(-x²/2).
func normalFromExp32(x, e float32) (cdf, pdf float32) {
	const (
		p          = 0.3275911
		a1         = 0.254829592
		a2         = -0.284496736
		a3         = 1.421413741
		a4         = -1.453152027
		a5         = 1.061405429
		invSqrt2   = 0.70710678118654752
		invSqrt2Pi = 0.3989422804014327
	)
	z := x * invSqrt2
	if z < 0 {
		z = -z
	}
	t := 1 / (1 + p*z)
	half := 0.5 * t * (a1 + t*(a2+t*(a3+t*(a4+t*a5)))) * e // erfc(z)/2
	if x < 0 {
		cdf = half
	} else {
		cdf = 1 - half
	}
	return cdf, invSqrt2Pi * e
}

// FeedForward is the position-wise feed-forward half of a Transformer
// block over rows of width In, as PyTorch's TransformerEncoderLayer writes
// it: h = dropout(GELU(x·W1ᵀ + b1)), y = dropout(h·W2ᵀ + b2), W1 [Hidden,
// In] and W2 [In, Hidden] in PyTorch's [out, in] layout, both dropouts
// inverted. It keeps what Backward needs; its buffers grow with the rows
// and are reused. A FeedForward is not safe for concurrent use.
type FeedForward[F Float] struct {
	rows, in, hidden int
	pre, act, dgelu  []F    // [rows, Hidden]: x·W1ᵀ + b1, the dropped GELU, its derivative
	keepY            []bool // the output's dropout mask
	dropped          bool   // the last Forward dropped units
	scale            F      // 1/(1 - rate)

	// DX, DW1, DB1, DW2, DB2 hold the gradients after Backward. A caller
	// may set DX to a slice of rows*in floats of its own before Backward,
	// which then writes the input's gradient there.
	DX, DW1, DB1, DW2, DB2 []F
	dact                   []F
	dy                     []F
}

// Forward computes y, [rows, in], from x for weights w1 [hidden, in], b1
// [hidden], w2 [in, hidden], b2 [in]. drop's Rate zero means no dropout.
func (f *FeedForward[F]) Forward(x, w1, b1, w2, b2 []F, rows, in, hidden int, drop Dropout, y []F) {
	f.rows, f.in, f.hidden = rows, in, hidden
	f.pre = grow(f.pre, rows*hidden)
	f.act = grow(f.act, rows*hidden)
	f.dgelu = grow(f.dgelu, rows*hidden)
	// The bias goes in with the GELU, which reads pre anyway, rather than
	// into pre before the product, which then reads it again.
	parallelGemm(false, true, rows, hidden, in, 1, x, in, w1, in, 0, f.pre, hidden)
	parallelChunks(rows, max(1, 4096/hidden), func(lo, hi int) { geluRows(f.pre, f.act, f.dgelu, b1, lo, hi, hidden, drop) })
	parallelLinear(rows, in, hidden, f.act, w2, b2, y)
	f.dropped = drop.Rate > 0
	if f.dropped {
		f.scale = F(1 / (1 - drop.Rate))
		f.keepY = drawKeep(growBool(f.keepY, rows*in), drop.Rate, drop.Seed^0x9e3779b97f4a7c15)
		applyKeep(y, f.keepY, f.scale)
	}
}

// Backward takes dy, the gradient with respect to the last Forward's
// output, and that call's x and weights, and leaves every gradient in DX,
// DW1, DB1, DW2 and DB2.
func (f *FeedForward[F]) Backward(x, w1, w2, dy []F) {
	rows, in, hidden := f.rows, f.in, f.hidden
	f.DX = grow(f.DX, rows*in)
	f.DW1, f.DB1 = grow(f.DW1, hidden*in), grow(f.DB1, hidden)
	f.DW2, f.DB2 = grow(f.DW2, in*hidden), grow(f.DB2, in)
	f.dact = grow(f.dact, rows*hidden)
	if f.dropped {
		f.dy = grow(f.dy, rows*in)
		copy(f.dy, dy[:rows*in])
		applyKeep(f.dy, f.keepY, f.scale)
		dy = f.dy
	}
	sumRows(f.DB2, dy, rows, in)
	parallelGemm(true, false, in, hidden, rows, 1, dy, in, f.act, hidden, 0, f.DW2, hidden)
	parallelGemm(false, false, rows, hidden, in, 1, dy, in, w2, hidden, 0, f.dact, hidden)
	parallelChunks(len(f.dact), 4096, func(lo, hi int) {
		d, g := f.dact[lo:hi], f.dgelu[lo:hi]
		for i := range d {
			d[i] *= g[i]
		}
	})
	sumRows(f.DB1, f.dact, rows, hidden)
	parallelGemm(true, false, hidden, in, rows, 1, f.dact, hidden, x, in, 0, f.DW1, in)
	parallelGemm(false, false, rows, in, hidden, 1, f.dact, hidden, w1, in, 0, f.DX, in)
}

// broadcastRows sets each of the rows of c to b.
func broadcastRows[F Float](c, b []F, rows int) {
	n := len(b)
	for r := 0; r < rows; r++ {
		copy(c[r*n:(r+1)*n], b)
	}
}

// sumRows sets dst to the sum of the rows of src, [rows, n].
func sumRows[F Float](dst, src []F, rows, n int) {
	clear(dst[:n])
	for r := 0; r < rows; r++ {
		for j, v := range src[r*n : (r+1)*n] {
			dst[j] += v
		}
	}
}
