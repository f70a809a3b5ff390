package kernels

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// RelativeAttention computes the residual relative-position self-attention
// of Shaw, Uszkoreit & Vaswani 2018, y = x + Attn(x), over a batch of B
// sequences of T steps of width D on row-major slices, forward and
// backward, relative distances clipped at k. It keeps the forward pass's
// intermediates for the backward pass, so one value serves one shape and
// one pass at a time.
//
// Per sequence, with s = 1/sqrt(D) and r(i,j) = clip(j-i, -k, k) + k:
//
//	Q = X Wq^T, K = X Wk^T, V = X Wv^T
//	e_ij = s q_i·(k_j + rK_r(i,j)), p_i = softmax over real j of e_ij
//	c_i = Σ_j p_ij (v_j + rV_r(i,j)) = (P V)_i + (W rV)_i, W_ir = Σ_{r(i,j)=r} p_ij
//	y_i = x_i + Wo c_i
//
// A padded query, or one with no real key, gets p_i = 0, so y_i = x_i.
type RelativeAttention[F Float] struct {
	b, t, d, k int

	// forward intermediates
	real     []bool
	q, kk, v []F // [B*T, D]
	p        []F // [B, T, T] attention weights
	w        []F // [B*T, 2k+1] attention weights summed per clipped distance
	c        []F // [B*T, D] context before the output projection
	o        []F // [B*T, D] attention output

	// DX, DWq, DWk, DWv, DWo, DRK and DRV are the gradients of the loss
	// with respect to x [B*T, D], the projections [D, D] and the relative
	// tables rK, rV [2k+1, D] that the last Backward computed.
	DX                 []F
	DWq, DWk, DWv, DWo []F
	DRK, DRV           []F

	// backward buffers
	dc, dq, dk, dv []F // [B*T, D]
	h              []F // [B*T, 2k+1] s·dL/dE summed per clipped distance

	// scratch, one per worker
	scratch []relativeScratch[F]
}

// relativeScratch is one worker's room for a sequence's [T, T] and [T, 2k+1]
// temporaries.
type relativeScratch[F Float] struct {
	tt, tr []F
}

// NewRelativeAttention allocates the kernel and every buffer of its
// passes for B sequences of T steps of width D, distances clipped at k.
func NewRelativeAttention[F Float](b, t, d, k int) *RelativeAttention[F] {
	r := 2*k + 1
	n := b * t * d
	a := &RelativeAttention[F]{
		b: b, t: t, d: d, k: k,
		real: make([]bool, b*t),
		q:    make([]F, n), kk: make([]F, n), v: make([]F, n),
		p: make([]F, b*t*t), w: make([]F, b*t*r),
		c: make([]F, n), o: make([]F, n),
		dc: make([]F, n), dq: make([]F, n), dk: make([]F, n), dv: make([]F, n), DX: make([]F, n),
		h:   make([]F, b*t*r),
		DWq: make([]F, d*d), DWk: make([]F, d*d), DWv: make([]F, d*d), DWo: make([]F, d*d),
		DRK: make([]F, r*d), DRV: make([]F, r*d),
	}
	a.scratch = make([]relativeScratch[F], min(b, runtime.GOMAXPROCS(0)))
	for i := range a.scratch {
		a.scratch[i] = relativeScratch[F]{tt: make([]F, t*t), tr: make([]F, t*r)}
	}
	return a
}

// eachSequence calls f for every sequence of the batch, spread over the
// workers. The per-sequence products are too small for the BLAS to spread
// them over the cores itself.
func (a *RelativeAttention[F]) eachSequence(f func(s int, sc *relativeScratch[F])) {
	if len(a.scratch) == 1 {
		for s := 0; s < a.b; s++ {
			f(s, &a.scratch[0])
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range a.scratch {
		wg.Add(1)
		go func(sc *relativeScratch[F]) {
			defer wg.Done()
			for s := int(next.Add(1) - 1); s < a.b; s = int(next.Add(1) - 1) {
				f(s, sc)
			}
		}(&a.scratch[w])
	}
	wg.Wait()
}

// bucket is r(i,j): the row of the relative tables for key j seen from
// query i.
func (a *RelativeAttention[F]) bucket(i, j int) int {
	r := j - i
	if r < -a.k {
		r = -a.k
	} else if r > a.k {
		r = a.k
	}
	return r + a.k
}

// Forward computes y = x + Attn(x) for x [B*T, D] and the weights Wq, Wk,
// Wv, Wo [D, D] (PyTorch's [out, in]) and rK, rV [2k+1, D]; real[b*T+t]
// tells whether a token is real. y may be the same slice as x.
func (a *RelativeAttention[F]) Forward(x []F, real []bool, wq, wk, wv, wo, rk, rv, y []F) {
	b, t, d, r := a.b, a.t, a.d, 2*a.k+1
	bt := b * t
	scale := F(1 / math.Sqrt(float64(d)))
	copy(a.real, real)
	Gemm(false, true, bt, d, d, 1, x, d, wq, d, 0, a.q, d)
	Gemm(false, true, bt, d, d, 1, x, d, wk, d, 0, a.kk, d)
	Gemm(false, true, bt, d, d, 1, x, d, wv, d, 0, a.v, d)
	clear(a.w)
	a.eachSequence(func(s int, sc *relativeScratch[F]) {
		q := a.q[s*t*d : (s+1)*t*d]
		key := a.kk[s*t*d : (s+1)*t*d]
		v := a.v[s*t*d : (s+1)*t*d]
		p := a.p[s*t*t : (s+1)*t*t]
		w := a.w[s*t*r : (s+1)*t*r]
		c := a.c[s*t*d : (s+1)*t*d]
		rel := sc.tr // s Q rK^T
		m := real[s*t : (s+1)*t]
		// Only the first n rows and columns of P can be nonzero.
		n := realSpan(m)
		clear(c[n*d:])
		if n == 0 {
			return
		}
		Gemm(false, true, n, n, d, scale, q, d, key, d, 0, p, t)
		Gemm(false, true, n, r, d, scale, q, d, rk, d, 0, rel, r)
		for i := 0; i < n; i++ {
			a.softmaxRow(p[i*t:i*t+n], rel[i*r:(i+1)*r], w[i*r:(i+1)*r], m[:n], i)
		}
		Gemm(false, false, n, d, n, 1, p, t, v, d, 0, c, d)
		Gemm(false, false, n, d, r, 1, w, r, rv, d, 1, c, d)
	})
	Gemm(false, true, bt, d, d, 1, a.c, d, wo, d, 0, a.o, d)
	for i, o := range a.o {
		y[i] = x[i] + o
	}
}

// softmaxRow turns row i of the logits, e_ij without its relative term,
// into attention weights over the real keys, and sums them per clipped
// distance into w. Masked keys are skipped rather than set to a large
// negative logit, so a row without real keys stays all zero instead of NaN.
func (a *RelativeAttention[F]) softmaxRow(e, rel, w []F, real []bool, i int) {
	if !real[i] {
		clear(e)
		return
	}
	maxE := math.Inf(-1)
	for j := range e {
		if real[j] {
			e[j] += rel[a.bucket(i, j)]
			maxE = math.Max(maxE, float64(e[j]))
		}
	}
	if math.IsInf(maxE, -1) {
		clear(e)
		return
	}
	sum := expShifted(e, real, maxE)
	inv := 1 / sum
	for j := range e {
		e[j] = F(float64(e[j]) * inv)
		w[a.bucket(i, j)] += e[j]
	}
}

// Backward takes dy, the gradient of the loss with respect to the last
// forward pass's output, and leaves the gradients with respect to x and
// every weight in DX, DWq, ..., DRV. It needs that forward pass's
// intermediates and its inputs.
func (a *RelativeAttention[F]) Backward(x []F, wq, wk, wv, wo, rk, rv, dy []F) {
	b, t, d, r := a.b, a.t, a.d, 2*a.k+1
	bt := b * t
	scale := F(1 / math.Sqrt(float64(d)))
	// y = x + C Wo^T
	Gemm(true, false, d, d, bt, 1, dy, d, a.c, d, 0, a.DWo, d)
	Gemm(false, false, bt, d, d, 1, dy, d, wo, d, 0, a.dc, d)
	// C = P V + W rV
	Gemm(true, false, r, d, bt, 1, a.w, r, a.dc, d, 0, a.DRV, d)
	clear(a.h)
	a.eachSequence(func(s int, sc *relativeScratch[F]) {
		q := a.q[s*t*d : (s+1)*t*d]
		key := a.kk[s*t*d : (s+1)*t*d]
		v := a.v[s*t*d : (s+1)*t*d]
		p := a.p[s*t*t : (s+1)*t*t]
		dc := a.dc[s*t*d : (s+1)*t*d]
		dq := a.dq[s*t*d : (s+1)*t*d]
		dk := a.dk[s*t*d : (s+1)*t*d]
		dv := a.dv[s*t*d : (s+1)*t*d]
		h := a.h[s*t*r : (s+1)*t*r]
		de, g := sc.tt, sc.tr // dP then s·dE; dC rV^T
		n := realSpan(a.real[s*t : (s+1)*t])
		clear(dq[n*d:])
		clear(dk[n*d:])
		clear(dv[n*d:])
		if n == 0 {
			return
		}
		Gemm(true, false, n, d, n, 1, p, t, dc, d, 0, dv, d)
		// dP_ij = dc_i·(v_j + rV_r(i,j))
		Gemm(false, true, n, n, d, 1, dc, d, v, d, 0, de, t)
		Gemm(false, true, n, r, d, 1, dc, d, rv, d, 0, g, r)
		for i := 0; i < n; i++ {
			a.softmaxBackRow(p[i*t:i*t+n], de[i*t:i*t+n], g[i*r:(i+1)*r], h[i*r:(i+1)*r], i, scale)
		}
		// e_ij = s q_i·(k_j + rK_r(i,j)); de and h already carry s.
		Gemm(false, false, n, d, n, 1, de, t, key, d, 0, dq, d)
		Gemm(false, false, n, d, r, 1, h, r, rk, d, 1, dq, d)
		Gemm(true, false, n, d, n, 1, de, t, q, d, 0, dk, d)
	})
	Gemm(true, false, r, d, bt, 1, a.h, r, a.q, d, 0, a.DRK, d)
	Gemm(true, false, d, d, bt, 1, a.dq, d, x, d, 0, a.DWq, d)
	Gemm(true, false, d, d, bt, 1, a.dk, d, x, d, 0, a.DWk, d)
	Gemm(true, false, d, d, bt, 1, a.dv, d, x, d, 0, a.DWv, d)
	copy(a.DX, dy)
	Gemm(false, false, bt, d, d, 1, a.dq, d, wq, d, 1, a.DX, d)
	Gemm(false, false, bt, d, d, 1, a.dk, d, wk, d, 1, a.DX, d)
	Gemm(false, false, bt, d, d, 1, a.dv, d, wv, d, 1, a.DX, d)
}

// softmaxBackRow turns dp, row i of dL/dP without its relative term, into
// s·dL/dE for row i and sums that per clipped distance into h.
func (a *RelativeAttention[F]) softmaxBackRow(p, dp, g, h []F, i int, scale F) {
	var dot F
	for j := range dp {
		dp[j] += g[a.bucket(i, j)]
		dot += p[j] * dp[j]
	}
	for j := range dp {
		dp[j] = scale * p[j] * (dp[j] - dot)
		h[a.bucket(i, j)] += dp[j]
	}
}

// realSpan is the number of tokens up to the last real one: padding that
// follows it can be left out of the attention's products.
func realSpan(real []bool) int {
	for n := len(real); n > 0; n-- {
		if real[n-1] {
			return n
		}
	}
	return 0
}
