package layers

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/blas"
	blasgonum "gonum.org/v1/gonum/blas/gonum"
)

// relFloat is the element type of the relative-attention kernel.
type relFloat interface{ float32 | float64 }

// relKernel computes relative-position self-attention (Shaw et al. 2018)
// on plain row-major slices, forward and backward. It keeps the forward
// pass's intermediates for the backward pass, so one kernel serves one
// graph node of a fixed shape.
//
// Per sequence, with s = 1/sqrt(D) and r(i,j) = clip(j-i, -k, k) + k:
//
//	Q = X Wq^T, K = X Wk^T, V = X Wv^T
//	e_ij = s q_i·(k_j + rK_r(i,j)), p_i = softmax over real j of e_ij
//	c_i = Σ_j p_ij (v_j + rV_r(i,j)) = (P V)_i + (W rV)_i, W_ir = Σ_{r(i,j)=r} p_ij
//	y_i = x_i + Wo c_i
//
// A padded query, or one with no real key, gets p_i = 0, so y_i = x_i.
type relKernel[F relFloat] struct {
	b, t, d, k int

	// forward intermediates
	real     []bool
	q, kk, v []F // [B*T, D]
	p        []F // [B, T, T] attention weights
	w        []F // [B*T, 2k+1] attention weights summed per clipped distance
	c        []F // [B*T, D] context before the output projection
	o        []F // [B*T, D] attention output

	// backward buffers
	dc, dq, dk, dv []F // [B*T, D]
	dx             []F // [B*T, D]
	h              []F // [B*T, 2k+1] s·dL/dE summed per clipped distance
	dwq, dwk       []F // [D, D]
	dwv, dwo       []F // [D, D]
	drk, drv       []F // [2k+1, D]

	// scratch, one per worker
	scratch []relScratch[F]
}

// relScratch is one worker's room for a sequence's [T, T] and [T, 2k+1]
// temporaries.
type relScratch[F relFloat] struct {
	tt, tr []F
}

func newRelKernel[F relFloat](b, t, d, k int) *relKernel[F] {
	r := 2*k + 1
	n := b * t * d
	kn := &relKernel[F]{
		b: b, t: t, d: d, k: k,
		real: make([]bool, b*t),
		q:    make([]F, n), kk: make([]F, n), v: make([]F, n),
		p: make([]F, b*t*t), w: make([]F, b*t*r),
		c: make([]F, n), o: make([]F, n),
		dc: make([]F, n), dq: make([]F, n), dk: make([]F, n), dv: make([]F, n), dx: make([]F, n),
		h:   make([]F, b*t*r),
		dwq: make([]F, d*d), dwk: make([]F, d*d), dwv: make([]F, d*d), dwo: make([]F, d*d),
		drk: make([]F, r*d), drv: make([]F, r*d),
	}
	kn.scratch = make([]relScratch[F], min(b, runtime.GOMAXPROCS(0)))
	for i := range kn.scratch {
		kn.scratch[i] = relScratch[F]{tt: make([]F, t*t), tr: make([]F, t*r)}
	}
	return kn
}

// eachSequence calls f for every sequence of the batch, spread over the
// workers. The per-sequence products are too small for gonum to spread
// them over the cores itself.
func (kn *relKernel[F]) eachSequence(f func(s int, sc *relScratch[F])) {
	if len(kn.scratch) == 1 {
		for s := 0; s < kn.b; s++ {
			f(s, &kn.scratch[0])
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range kn.scratch {
		wg.Add(1)
		go func(sc *relScratch[F]) {
			defer wg.Done()
			for s := int(next.Add(1) - 1); s < kn.b; s = int(next.Add(1) - 1) {
				f(s, sc)
			}
		}(&kn.scratch[w])
	}
	wg.Wait()
}

// bucket is r(i,j): the row of the relative tables for key j seen from
// query i.
func (kn *relKernel[F]) bucket(i, j int) int {
	r := j - i
	if r < -kn.k {
		r = -kn.k
	} else if r > kn.k {
		r = kn.k
	}
	return r + kn.k
}

// forward computes y = x + Attn(x). real[b*T+t] tells whether a token is
// real. y may be the same slice as x.
func (kn *relKernel[F]) forward(x []F, real []bool, wq, wk, wv, wo, rk, rv, y []F) {
	b, t, d, r := kn.b, kn.t, kn.d, 2*kn.k+1
	bt := b * t
	scale := F(1 / math.Sqrt(float64(d)))
	copy(kn.real, real)
	relGemm(false, true, bt, d, d, 1, x, d, wq, d, 0, kn.q, d)
	relGemm(false, true, bt, d, d, 1, x, d, wk, d, 0, kn.kk, d)
	relGemm(false, true, bt, d, d, 1, x, d, wv, d, 0, kn.v, d)
	clear(kn.w)
	kn.eachSequence(func(s int, sc *relScratch[F]) {
		q := kn.q[s*t*d : (s+1)*t*d]
		key := kn.kk[s*t*d : (s+1)*t*d]
		v := kn.v[s*t*d : (s+1)*t*d]
		p := kn.p[s*t*t : (s+1)*t*t]
		w := kn.w[s*t*r : (s+1)*t*r]
		c := kn.c[s*t*d : (s+1)*t*d]
		rel := sc.tr // s Q rK^T
		m := real[s*t : (s+1)*t]
		// Only the first n rows and columns of P can be nonzero.
		n := relSpan(m)
		clear(c[n*d:])
		if n == 0 {
			return
		}
		relGemm(false, true, n, n, d, scale, q, d, key, d, 0, p, t)
		relGemm(false, true, n, r, d, scale, q, d, rk, d, 0, rel, r)
		for i := 0; i < n; i++ {
			kn.softmaxRow(p[i*t:i*t+n], rel[i*r:(i+1)*r], w[i*r:(i+1)*r], m[:n], i)
		}
		relGemm(false, false, n, d, n, 1, p, t, v, d, 0, c, d)
		relGemm(false, false, n, d, r, 1, w, r, rv, d, 1, c, d)
	})
	relGemm(false, true, bt, d, d, 1, kn.c, d, wo, d, 0, kn.o, d)
	for i, o := range kn.o {
		y[i] = x[i] + o
	}
}

// softmaxRow turns row i of the logits, e_ij without its relative term,
// into attention weights over the real keys, and sums them per clipped
// distance into w. Masked keys are skipped rather than set to a large
// negative logit, so a row without real keys stays all zero instead of NaN.
func (kn *relKernel[F]) softmaxRow(e, rel, w []F, real []bool, i int) {
	if !real[i] {
		clear(e)
		return
	}
	maxE := math.Inf(-1)
	for j := range e {
		if real[j] {
			e[j] += rel[kn.bucket(i, j)]
			maxE = math.Max(maxE, float64(e[j]))
		}
	}
	if math.IsInf(maxE, -1) {
		clear(e)
		return
	}
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
	inv := 1 / sum
	for j := range e {
		e[j] = F(float64(e[j]) * inv)
		w[kn.bucket(i, j)] += e[j]
	}
}

// backward takes dy, the gradient of the loss with respect to the last
// forward pass's output, and leaves the gradients with respect to x and
// every weight in kn.dx, kn.dwq, ..., kn.drv. It needs that forward pass's
// intermediates and its inputs.
func (kn *relKernel[F]) backward(x []F, wq, wk, wv, wo, rk, rv, dy []F) {
	b, t, d, r := kn.b, kn.t, kn.d, 2*kn.k+1
	bt := b * t
	scale := F(1 / math.Sqrt(float64(d)))
	// y = x + C Wo^T
	relGemm(true, false, d, d, bt, 1, dy, d, kn.c, d, 0, kn.dwo, d)
	relGemm(false, false, bt, d, d, 1, dy, d, wo, d, 0, kn.dc, d)
	// C = P V + W rV
	relGemm(true, false, r, d, bt, 1, kn.w, r, kn.dc, d, 0, kn.drv, d)
	clear(kn.h)
	kn.eachSequence(func(s int, sc *relScratch[F]) {
		q := kn.q[s*t*d : (s+1)*t*d]
		key := kn.kk[s*t*d : (s+1)*t*d]
		v := kn.v[s*t*d : (s+1)*t*d]
		p := kn.p[s*t*t : (s+1)*t*t]
		dc := kn.dc[s*t*d : (s+1)*t*d]
		dq := kn.dq[s*t*d : (s+1)*t*d]
		dk := kn.dk[s*t*d : (s+1)*t*d]
		dv := kn.dv[s*t*d : (s+1)*t*d]
		h := kn.h[s*t*r : (s+1)*t*r]
		de, g := sc.tt, sc.tr // dP then s·dE; dC rV^T
		n := relSpan(kn.real[s*t : (s+1)*t])
		clear(dq[n*d:])
		clear(dk[n*d:])
		clear(dv[n*d:])
		if n == 0 {
			return
		}
		relGemm(true, false, n, d, n, 1, p, t, dc, d, 0, dv, d)
		// dP_ij = dc_i·(v_j + rV_r(i,j))
		relGemm(false, true, n, n, d, 1, dc, d, v, d, 0, de, t)
		relGemm(false, true, n, r, d, 1, dc, d, rv, d, 0, g, r)
		for i := 0; i < n; i++ {
			kn.softmaxBackRow(p[i*t:i*t+n], de[i*t:i*t+n], g[i*r:(i+1)*r], h[i*r:(i+1)*r], i, scale)
		}
		// e_ij = s q_i·(k_j + rK_r(i,j)); de and h already carry s.
		relGemm(false, false, n, d, n, 1, de, t, key, d, 0, dq, d)
		relGemm(false, false, n, d, r, 1, h, r, rk, d, 1, dq, d)
		relGemm(true, false, n, d, n, 1, de, t, q, d, 0, dk, d)
	})
	relGemm(true, false, r, d, bt, 1, kn.h, r, kn.q, d, 0, kn.drk, d)
	relGemm(true, false, d, d, bt, 1, kn.dq, d, x, d, 0, kn.dwq, d)
	relGemm(true, false, d, d, bt, 1, kn.dk, d, x, d, 0, kn.dwk, d)
	relGemm(true, false, d, d, bt, 1, kn.dv, d, x, d, 0, kn.dwv, d)
	copy(kn.dx, dy)
	relGemm(false, false, bt, d, d, 1, kn.dq, d, wq, d, 1, kn.dx, d)
	relGemm(false, false, bt, d, d, 1, kn.dk, d, wk, d, 1, kn.dx, d)
	relGemm(false, false, bt, d, d, 1, kn.dv, d, wv, d, 1, kn.dx, d)
}

// softmaxBackRow turns dp, row i of dL/dP without its relative term, into
// s·dL/dE for row i and sums that per clipped distance into h.
func (kn *relKernel[F]) softmaxBackRow(p, dp, g, h []F, i int, scale F) {
	var dot F
	for j := range dp {
		dp[j] += g[kn.bucket(i, j)]
		dot += p[j] * dp[j]
	}
	for j := range dp {
		dp[j] = scale * p[j] * (dp[j] - dot)
		h[kn.bucket(i, j)] += dp[j]
	}
}

// relSpan is the number of tokens up to the last real one: padding that
// follows it can be left out of the attention's products.
func relSpan(real []bool) int {
	for n := len(real); n > 0; n-- {
		if real[n-1] {
			return n
		}
	}
	return 0
}

// relGemm computes c = alpha op(a) op(b) + beta c for row-major matrices,
// op(a) being m×k and op(b) k×n, with gonum's BLAS.
func relGemm[F relFloat](transA, transB bool, m, n, k int, alpha F, a []F, lda int, b []F, ldb int, beta F, c []F, ldc int) {
	tA, tB := blas.NoTrans, blas.NoTrans
	if transA {
		tA = blas.Trans
	}
	if transB {
		tB = blas.Trans
	}
	switch a := any(a).(type) {
	case []float32:
		blasgonum.Implementation{}.Sgemm(tA, tB, m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		blasgonum.Implementation{}.Dgemm(tA, tB, m, n, k, float64(alpha), a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}
