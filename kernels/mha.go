package kernels

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Attention is multi-head self-attention over a [B, T, D] batch of fixed
// shape, PyTorch's nn.MultiheadAttention with a key padding mask, forward
// and backward by hand:
//
//	[Q K V] = x·Winᵀ + bin                  Win [3D, D], PyTorch's in_proj
//	Q, K    rotated per position (RoPE), when SetRotary was called
//	S_h     = Q_h·K_hᵀ/√dh - slope_h·|i-j|  the ALiBi term when SetSlopes was called
//	P_h     = softmax over the real keys j of S_h, then dropout
//	y       = dropout([P_1 V_1 ... P_H V_H]·Woutᵀ + bout)
//
// Padded keys get no weight. Query rows after the last real token of a
// sequence are not computed: their context is zero, so their output is
// bout. Padded queries before it are computed as PyTorch does.
//
// An Attention keeps what Backward needs. Its buffers grow with the shapes
// it is given and are reused, so one Attention serves batches of any
// shape, one pass at a time; it is not safe for concurrent use.
type Attention[F Float] struct {
	b, t, d, h, dh int
	slopes         []F     // per head; nil without ALiBi
	rotaryBase     float64 // 0 without RoPE
	cos, sin       []F     // [T, dh/2] for the shape of the last pass
	cosT, cosDH    int     // the shape cos and sin were made for

	real       []bool // [B*T] copy of the caller's mask
	span       []int  // per sequence: one past the last real token
	qkv        []F    // [B*T, 3D], Q and K rotated
	p          []F    // [B*H, T, T] attention weights
	pd         []F    // [B*H, T, T] the weights after dropout, when dropped
	dropped    bool
	ctx        []F       // [B*T, D]
	zeros      []float32 // [T] zeros, the bias of gates32
	keepY      []bool    // output dropout mask, when dropped
	outDropped bool
	scale      F // output dropout scale
	dyc        []F

	// DX, DWin, DBin, DWout, DBout hold the gradients after Backward. A
	// caller may set DX to a slice of B*T*D floats of its own before
	// Backward, which then writes the input's gradient there.
	DX, DWin, DBin, DWout, DBout []F
	dctx, dqkv                   []F
	scratch                      [][]F // [max(T*T, 2T)] per worker
}

// NewAttention makes the attention of heads heads.
func NewAttention[F Float](heads int) *Attention[F] { return &Attention[F]{h: heads} }

// SetRotary rotates queries and keys by their position, RoFormer's rotary
// position embedding (Su et al. 2021, eq. 34): in each head, the pair of
// features (2i, 2i+1) at position m turns by the angle m·base^(-2i/dh).
// The head width must be even. base 10000 is the paper's.
func (a *Attention[F]) SetRotary(base float64) { a.rotaryBase = base }

// RotaryTables returns cos(m·θ_i) and sin(m·θ_i), [t, dh/2] row-major,
// θ_i = base^(-2i/dh): the angles of SetRotary.
func RotaryTables[F Float](t, dh int, base float64) (cos, sin []F) {
	half := dh / 2
	cos, sin = make([]F, t*half), make([]F, t*half)
	for m := 0; m < t; m++ {
		for i := 0; i < half; i++ {
			ang := float64(m) * math.Pow(base, -2*float64(i)/float64(dh))
			cos[m*half+i], sin[m*half+i] = F(math.Cos(ang)), F(math.Sin(ang))
		}
	}
	return cos, sin
}

// Rotate turns each consecutive feature pair of the rows of x, [rows,
// width] with row stride ld and width a multiple of dh, by the angles of
// row r's position r mod t in the tables of RotaryTables; inverse turns
// the other way, which is the backward pass of the rotation.
func Rotate[F Float](x []F, rows, width, ld, t, dh int, cos, sin []F, inverse bool) {
	half := dh / 2
	for r := 0; r < rows; r++ {
		m := r % t
		c, s := cos[m*half:(m+1)*half], sin[m*half:(m+1)*half]
		row := x[r*ld : r*ld+width]
		for h := 0; h < width; h += dh {
			v := row[h : h+dh]
			for i := 0; i < half; i++ {
				x0, x1 := v[2*i], v[2*i+1]
				si := s[i]
				if inverse {
					si = -si
				}
				v[2*i] = x0*c[i] - x1*si
				v[2*i+1] = x0*si + x1*c[i]
			}
		}
	}
}

// SetSlopes adds -slopes[h]·|i-j| to head h's logits for query i and key
// j: ALiBi (Press et al. 2022), made symmetric for an encoder that sees
// both sides, as bidirectional ALiBi models (MosaicBERT) do. It wants one
// slope per head.
func (a *Attention[F]) SetSlopes(slopes []float64) error {
	if len(slopes) != a.h {
		return fmt.Errorf("attention: %d ALiBi slopes for %d heads", len(slopes), a.h)
	}
	a.slopes = make([]F, a.h)
	for i, s := range slopes {
		a.slopes[i] = F(s)
	}
	return nil
}

// shape readies the buffers for [b, t, d] batches.
func (a *Attention[F]) shape(b, t, d int) {
	a.b, a.t, a.d, a.dh = b, t, d, d/a.h
	n := b * t
	a.real = growBool(a.real, n)
	if cap(a.span) < b {
		a.span = make([]int, b)
	}
	a.span = a.span[:b]
	a.qkv = grow(a.qkv, n*3*d)
	a.p = grow(a.p, b*a.h*t*t)
	a.ctx = grow(a.ctx, n*d)
	if len(a.zeros) < t {
		a.zeros = make([]float32, t)
	}
	if a.rotaryBase != 0 && (a.cosT != t || a.cosDH != a.dh) {
		a.cos, a.sin = RotaryTables[F](t, a.dh, a.rotaryBase)
		a.cosT, a.cosDH = t, a.dh
	}
	for i := range a.scratch {
		a.scratch[i] = grow(a.scratch[i], max(t*t, 2*t))
	}
}

// Forward computes y, [b*t, d], from x, [b*t, d], with real[s*t+i] true
// for real tokens; the heads must divide d (and the head width be even
// with RoPE). attnDrop drops attention weights, outDrop the output; a zero
// Rate drops nothing.
func (a *Attention[F]) Forward(x []F, real []bool, b, t, d int, win, bin, wout, bout []F, attnDrop, outDrop Dropout, y []F) {
	a.shape(b, t, d)
	h, dh := a.h, a.dh
	n := b * t
	copy(a.real, real)
	for s := range a.span {
		a.span[s] = 0
		for i := t; i > 0; i-- {
			if real[s*t+i-1] {
				a.span[s] = i
				break
			}
		}
	}
	parallelLinear(n, 3*d, d, x, win, bin, a.qkv)
	if a.rotaryBase != 0 {
		parallelChunks(b, 1, func(lo, hi int) {
			Rotate(a.qkv[lo*t*3*d:], (hi-lo)*t, 2*d, 3*d, t, dh, a.cos, a.sin, false)
		})
	}
	a.dropped = attnDrop.Rate > 0
	if a.dropped {
		a.pd = grow(a.pd, len(a.p))
	}
	clear(a.ctx)
	scale := F(1 / math.Sqrt(float64(dh)))
	a.parallelTasks(func(task int, sc []F) {
		s, hd := task/h, task%h
		m := a.span[s]
		if m == 0 {
			return
		}
		q := a.qkv[s*t*3*d+hd*dh:]
		k := q[d:]
		v := q[2*d:]
		p := a.p[task*t*t : (task+1)*t*t]
		Gemm(false, true, m, m, dh, scale, q, 3*d, k, 3*d, 0, p, t)
		mask := real[s*t : s*t+m]
		var slope F
		if a.slopes != nil {
			slope = a.slopes[hd]
		}
		for i := 0; i < m; i++ {
			softmaxRow(p[i*t:i*t+m], mask, slope, i, sc, a.zeros)
		}
		src := p
		if a.dropped {
			src = a.pd[task*t*t : (task+1)*t*t]
			keepScale := F(1 / (1 - attnDrop.Rate))
			ks := newKeepStream(attnDrop.Rate, attnDrop.Seed^uint64(task+1)*0xd1b54a32d192ed03)
			for i := 0; i < m; i++ {
				for j := 0; j < m; j++ {
					if ks.keep() {
						src[i*t+j] = p[i*t+j] * keepScale
					} else {
						src[i*t+j] = 0
					}
				}
			}
		}
		Gemm(false, false, m, dh, m, 1, src, t, v, 3*d, 0, a.ctx[s*t*d+hd*dh:], d)
	})
	parallelLinear(n, d, d, a.ctx, wout, bout, y)
	a.outDropped = outDrop.Rate > 0
	if a.outDropped {
		a.scale = F(1 / (1 - outDrop.Rate))
		a.keepY = drawKeep(growBool(a.keepY, n*d), outDrop.Rate, outDrop.Seed)
		applyKeep(y, a.keepY, a.scale)
	}
}

// softmaxRow turns row i of the logits into attention weights over the
// real keys, the ALiBi term added first. Masked keys are skipped rather
// than given a large negative logit.
func softmaxRow[F Float](e []F, real []bool, slope F, i int, scratch []F, zeros []float32) {
	if unsafe.Sizeof(e[0]) == 4 {
		softmaxRow32(as32(e), real, float32(slope), i, as32(scratch), zeros)
		return
	}
	maxE := math.Inf(-1)
	for j := range e {
		if !real[j] {
			continue
		}
		if slope != 0 {
			dist := i - j
			if dist < 0 {
				dist = -dist
			}
			e[j] -= slope * F(dist)
		}
		maxE = math.Max(maxE, float64(e[j]))
	}
	if math.IsInf(maxE, -1) {
		clear(e)
		return
	}
	sum := expShifted(e, real, maxE)
	inv := F(1 / sum)
	for j := range e {
		e[j] *= inv
	}
}

// expShifted replaces each real e[j] by exp(e[j] - maxE) and each padded
// one by 0, and returns the sum of the exponentials: the middle of a
// masked softmax row, shared by the attention kernels' float64 paths.
func expShifted[F Float](e []F, real []bool, maxE float64) float64 {
	var sum float64
	for j := range e {
		if real[j] {
			ex := math.Exp(float64(e[j]) - maxE)
			e[j] = F(ex)
			sum += ex
		} else {
			e[j] = 0
		}
	}
	return sum
}

// softmaxRow32 is softmaxRow in float32 arithmetic. A row whose keys are
// all real takes its exponentials on 16 lanes (expShiftAVX512) where the
// CPU has AVX-512; otherwise the exponentials of the row come at once
// from gates32's vector code: for a = max - e >= 0,
// s = 1/(1 + e^a) and e^(-a) = s/(1 - s). scratch holds 2·len(e) floats,
// zeros len(e) zeros.
func softmaxRow32(e []float32, real []bool, slope float32, i int, scratch, zeros []float32) {
	maxE := float32(math.Inf(-1))
	for j := range e {
		if !real[j] {
			continue
		}
		if slope != 0 {
			dist := i - j
			if dist < 0 {
				dist = -dist
			}
			e[j] -= slope * float32(dist)
		}
		if e[j] > maxE {
			maxE = e[j]
		}
	}
	if math.IsInf(float64(maxE), -1) {
		clear(e)
		return
	}
	n := len(e)
	if simd == simdAVX512 && allTrue(real) {
		inv := 1 / expShiftAVX512(e, e, maxE)
		for j := range e {
			e[j] *= inv
		}
		return
	}
	a, sg := scratch[:n], scratch[n:2*n]
	for j := range e {
		a[j] = maxE - e[j]
	}
	gates32(sg, a, zeros[:n], 1, 1, 0)
	var sum float32
	for j := range e {
		if real[j] {
			e[j] = sg[j] / (1 - sg[j])
			sum += e[j]
		} else {
			e[j] = 0
		}
	}
	inv := 1 / sum
	for j := range e {
		e[j] *= inv
	}
}

// Backward takes dy, the gradient with respect to the last Forward's
// output, and that call's x and weights, and leaves every gradient in DX,
// DWin, DBin, DWout and DBout.
func (a *Attention[F]) Backward(x, win, wout, dy []F) {
	b, t, d, h, dh := a.b, a.t, a.d, a.h, a.dh
	n := b * t
	a.DX = grow(a.DX, n*d)
	a.DWin, a.DBin = grow(a.DWin, 3*d*d), grow(a.DBin, 3*d)
	a.DWout, a.DBout = grow(a.DWout, d*d), grow(a.DBout, d)
	a.dctx, a.dqkv = grow(a.dctx, n*d), grow(a.dqkv, n*3*d)
	if a.outDropped {
		a.dyc = grow(a.dyc, n*d)
		copy(a.dyc, dy[:n*d])
		applyKeep(a.dyc, a.keepY, a.scale)
		dy = a.dyc
	}
	sumRows(a.DBout, dy, n, d)
	parallelGemm(true, false, d, d, n, 1, dy, d, a.ctx, d, 0, a.DWout, d)
	parallelGemm(false, false, n, d, d, 1, dy, d, wout, d, 0, a.dctx, d)
	clear(a.dqkv)
	scale := F(1 / math.Sqrt(float64(dh)))
	a.parallelTasks(func(task int, ds []F) {
		s, hd := task/h, task%h
		m := a.span[s]
		if m == 0 {
			return
		}
		off := s*t*3*d + hd*dh
		q, k, v := a.qkv[off:], a.qkv[off+d:], a.qkv[off+2*d:]
		dq, dk, dv := a.dqkv[off:], a.dqkv[off+d:], a.dqkv[off+2*d:]
		dc := a.dctx[s*t*d+hd*dh:]
		p := a.p[task*t*t : (task+1)*t*t]
		src := p
		if a.dropped {
			src = a.pd[task*t*t : (task+1)*t*t]
		}
		Gemm(true, false, m, dh, m, 1, src, t, dc, d, 0, dv, 3*d)
		// ds = dL/d(dropped weights), then dL/dS: with the dropped weights
		// p' = p·keep/(1-r), Σ_j p_j·dp_j = Σ_j p'_j·dp'_j and
		// dS_j = p_j(dp_j - Σ p·dp) = p'_j·dp'_j - p_j·Σ p'·dp'.
		Gemm(false, true, m, m, dh, 1, dc, d, v, 3*d, 0, ds, t)
		for i := 0; i < m; i++ {
			pr, sr, dr := p[i*t:i*t+m], src[i*t:i*t+m], ds[i*t:i*t+m]
			var dot F
			for j := range dr {
				dot += sr[j] * dr[j]
			}
			for j := range dr {
				dr[j] = sr[j]*dr[j] - pr[j]*dot
			}
		}
		Gemm(false, false, m, dh, m, scale, ds, t, k, 3*d, 0, dq, 3*d)
		Gemm(true, false, m, dh, m, scale, ds, t, q, 3*d, 0, dk, 3*d)
	})
	if a.rotaryBase != 0 {
		parallelChunks(b, 1, func(lo, hi int) {
			Rotate(a.dqkv[lo*t*3*d:], (hi-lo)*t, 2*d, 3*d, t, dh, a.cos, a.sin, true)
		})
	}
	sumRows(a.DBin, a.dqkv, n, 3*d)
	parallelGemm(true, false, 3*d, d, n, 1, a.dqkv, 3*d, x, d, 0, a.DWin, d)
	parallelGemm(false, false, n, d, 3*d, 1, a.dqkv, 3*d, win, d, 0, a.DX, d)
}

// parallelTasks runs f for each (sequence, head) pair over the workers,
// each with its own [T*T] scratch.
func (a *Attention[F]) parallelTasks(f func(task int, scratch []F)) {
	tasks := a.b * a.h
	w := min(tasks, runtime.GOMAXPROCS(0))
	for len(a.scratch) < w {
		a.scratch = append(a.scratch, make([]F, max(a.t*a.t, 2*a.t)))
	}
	if w == 1 {
		for i := 0; i < tasks; i++ {
			f(i, a.scratch[0])
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for k := 0; k < w; k++ {
		wg.Add(1)
		go func(sc []F) {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < tasks; i = int(next.Add(1) - 1) {
				f(i, sc)
			}
		}(a.scratch[k])
	}
	wg.Wait()
}

// Dropout says how a kernel drops units while training: each is zeroed
// with probability Rate and the others scaled by 1/(1-Rate) (inverted
// dropout). Seed chooses the masks: one seed, one set of masks, whatever
// the number of workers. A zero Rate drops nothing.
type Dropout struct {
	Rate float64
	Seed uint64
}

// splitmix is SplitMix64 (Steele, Lea & Flood 2014), a fast generator
// whose streams from different seeds are independent enough for dropout.
func splitmix(s *uint64) uint64 {
	*s += 0x9e3779b97f4a7c15
	z := *s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// keepStream draws dropout decisions from one SplitMix64 stream, four
// from each 64-bit output: a unit is kept when its 16 bits reach the rate
// rounded to a multiple of 1/65536.
type keepStream struct {
	state, bits, thr uint64
	left             int
}

func newKeepStream(rate float64, seed uint64) keepStream {
	return keepStream{state: seed, thr: uint64(math.Round(rate * 65536))}
}

// keep draws one decision: true with probability 1 - rate.
func (k *keepStream) keep() bool {
	if k.left == 0 {
		k.bits, k.left = splitmix(&k.state), 4
	}
	v := k.bits & 0xffff
	k.bits >>= 16
	k.left--
	return v >= k.thr
}

// drawKeep fills keep with a dropout mask: true with probability 1-rate.
func drawKeep(keep []bool, rate float64, seed uint64) []bool {
	ks := newKeepStream(rate, seed)
	for i := range keep {
		keep[i] = ks.keep()
	}
	return keep
}

// applyKeep scales the kept elements of v by scale and zeroes the rest.
func applyKeep[F Float](v []F, keep []bool, scale F) {
	for i, k := range keep {
		if k {
			v[i] *= scale
		} else {
			v[i] = 0
		}
	}
}

// allTrue reports whether every element of b is true.
func allTrue(b []bool) bool {
	for _, v := range b {
		if !v {
			return false
		}
	}
	return true
}

func growBool(s []bool, n int) []bool {
	if cap(s) < n {
		return make([]bool, n)
	}
	return s[:n]
}

// parallelChunks calls f on [lo, hi) chunks of [0, n) of at least minChunk
// elements, spread over the workers.
func parallelChunks(n, minChunk int, f func(lo, hi int)) {
	w := min(runtime.GOMAXPROCS(0), max(1, n/max(1, minChunk)))
	if w <= 1 {
		f(0, n)
		return
	}
	chunk := (n + w - 1) / w
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += chunk {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			f(lo, hi)
		}(lo, min(n, lo+chunk))
	}
	wg.Wait()
}

// parallelLinear sets y = x·wᵀ + bias for x [m, k], w [n, k] (PyTorch's
// [out, in]) and y [m, n], the rows split over the workers as
// parallelGemm splits them, each worker copying the bias into its own
// rows of y before its product.
func parallelLinear[F Float](m, n, k int, x, w, bias, y []F) {
	parallelGemmRows(m, func(i0, rows int) {
		broadcastRows(y[i0*n:], bias, rows)
		Gemm(false, true, rows, n, k, 1, x[i0*k:], k, w, k, 1, y[i0*n:], n)
	})
}

// parallelGemm is Gemm with the rows of C split over the workers: one
// product of a transformer's projections is large enough to share, and
// Gemm runs on one core.
func parallelGemm[F Float](transA, transB bool, m, n, k int, alpha F, a []F, lda int, b []F, ldb int, beta F, c []F, ldc int) {
	parallelGemmRows(m, func(i0, rows int) {
		ao := i0 * lda
		if transA {
			ao = i0
		}
		Gemm(transA, transB, rows, n, k, alpha, a[ao:], lda, b, ldb, beta, c[i0*ldc:], ldc)
	})
}

// parallelGemmRows calls f(i0, rows) on chunks of [0, m) over the workers,
// one chunk when m is under 96 rows.
func parallelGemmRows(m int, f func(i0, rows int)) {
	w := min(runtime.GOMAXPROCS(0), m/48)
	if w <= 1 {
		f(0, m)
		return
	}
	// Chunks of a multiple of both micro-kernels' rows (6 and 8) keep
	// every chunk but the last free of edge blocks.
	chunk := ((m+w-1)/w + 23) / 24 * 24
	var wg sync.WaitGroup
	for i0 := 0; i0 < m; i0 += chunk {
		wg.Add(1)
		go func(i0 int) {
			defer wg.Done()
			f(i0, min(chunk, m-i0))
		}(i0)
	}
	wg.Wait()
}
