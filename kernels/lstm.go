package kernels

import (
	"math"
	"unsafe"
)

// LSTMWeights are one direction's weights in PyTorch's layout, the gates
// stacked in the order i, f, g, o (Keras's i, f, c, o).
type LSTMWeights[F Float] struct {
	// In and Hidden are the input and state sizes.
	In, Hidden int
	// Wih is the input kernel, [4·Hidden, In] row-major.
	Wih []F
	// Whh is the recurrent kernel, [4·Hidden, Hidden] row-major.
	Whh []F
	// Bias is the one bias per gate, [4·Hidden] (PyTorch's bias_ih+bias_hh).
	Bias []F
}

// LSTM runs one direction of an LSTM over whole batches and keeps what its
// backward pass needs. The zero value is ready to use. Its buffers are
// reused from call to call and grow only when the shapes grow, so a
// training loop allocates nothing after its first batch.
//
// The arithmetic is Keras's and PyTorch's: z = x·Wihᵀ + h·Whhᵀ + Bias,
// i, f, o = sigmoid(z_i, z_f, z_o), g = tanh(z_g), c' = f*c + i*g,
// h' = o*tanh(c'), with h and c zero at the start of each row.
//
// An LSTM is not safe for concurrent use; run one per direction.
type LSTM[F Float] struct {
	batch, steps, in, hidden int
	stride                   int // T of the caller's [B,T,·] layouts; steps <= stride
	reverse                  bool
	ready                    bool // Forward ran and Backward may follow
	mask                     []F  // the caller's, [B,T]

	// Per step buffers live in a padded layout [B, T+1, ·]: row b has T+1
	// slots so that the state before step t and the state after it are
	// neighbours whichever way the direction runs. Going forward, step t
	// reads slot t and writes slot t+1; in reverse it reads slot t+1 and
	// writes slot t. The gate rows and the input copy sit in the slot the
	// step reads, so that one product over all B·(T+1) rows pairs every
	// gate gradient with the state it multiplied; the one spare slot per
	// row holds zeros there.
	x     []F // [B, T+1, In] copy of the input
	z     []F // [B, T+1, 4H] pre-activations, then gate values, then gate gradients
	hs    []F // [B, T+1, H] hidden states
	cs    []F // [B, T+1, H] cell states
	tc    []F // [B, T+1, H] tanh of the cell states (stored: recomputing costs more)
	dh    []F // [B, H] gradient reaching the carried hidden state
	dc    []F // [B, H] gradient reaching the carried cell state
	zeros []F // [H] zeros, a bias for activations that have none

	// Infer's row order, the time of each row's last real token, and the
	// number of rows each step of a chunk computes.
	order, last, active []int

	// With the Go micro-kernels, the recurrent weights are prepared once
	// per pass rather than once per step.
	whh packedB
	ws  gemmWorkspace
}

// grow returns s resized to n, reallocating only when its capacity is short.
func grow[F Float](s []F, n int) []F {
	if cap(s) < n {
		return make([]F, n)
	}
	return s[:n]
}

// slots returns the slot a step reads its state from (and where its gate
// rows are) and the slot it writes its state to.
func (l *LSTM[F]) slots(t int) (prev, next int) {
	if l.reverse {
		return t + 1, t
	}
	return t, t + 1
}

// layout returns the first slot that gate rows and inputs use (they use T
// slots from there) and the spare slot left over.
func (l *LSTM[F]) layout() (lo, spare int) {
	if l.reverse {
		return 1, 0
	}
	return 0, l.steps
}

// step returns the time index of the s-th step in reading order.
func (l *LSTM[F]) step(s int) int {
	if l.reverse {
		return l.steps - 1 - s
	}
	return s
}

// Forward runs the LSTM over x, [B,T,In] batch-major, with mask [B,T] (1 for
// a real token, 0 for padding). reverse reads t = T-1 down to 0. After each
// step it writes h to out[(b*T+t)*ldOut + j] for j < w.Hidden and leaves
// the rest of out alone, so two directions can share one [B,T,2H] output.
//
// A masked step leaves h and c unchanged and outputs the carried h (zeros
// before the first real token). With padding at the end of each row the
// reverse direction thus starts at the row's last real token, as PyTorch's
// pack_padded_sequence does.
//
// Steps after the last real token of every row change no state: Forward
// and Backward skip them, filling in their outputs (the carried state, or
// zeros before the reverse direction's first real token) and gradients.
//
// Forward keeps mask (not a copy) for Backward: it must not change in
// between. x is copied.
func (l *LSTM[F]) Forward(w *LSTMWeights[F], x, mask []F, B, T int, reverse bool, out []F, ldOut int) {
	in, H := w.In, w.Hidden
	G := 4 * H
	stride := T
	T = realSteps(mask, B, stride)
	l.batch, l.steps, l.stride, l.in, l.hidden, l.reverse, l.mask = B, T, stride, in, H, reverse, mask
	l.ready = B > 0 && T > 0
	if !l.ready {
		for b := 0; b < B; b++ {
			for t := 0; t < stride; t++ {
				clear(out[(b*stride+t)*ldOut : (b*stride+t)*ldOut+H])
			}
		}
		return
	}
	S := T + 1 // slots per row
	l.x = grow(l.x, B*S*in)
	l.z = grow(l.z, B*S*G)
	l.hs = grow(l.hs, B*S*H)
	l.cs = grow(l.cs, B*S*H)
	l.tc = grow(l.tc, B*S*H)
	l.zeros = grow(l.zeros, H)
	clear(l.zeros)

	// Copy x into the slots the steps read; the spare slot stays zero, and
	// so do its rows of z after the product.
	lo, spare := l.layout()
	init, _ := l.slots(l.step(0))
	for b := 0; b < B; b++ {
		row := l.x[b*S*in : (b+1)*S*in]
		copy(row[lo*in:(lo+T)*in], x[b*stride*in:(b*stride+T)*in])
		clear(row[spare*in : (spare+1)*in])
		// The state before the first step is zero.
		clear(l.hs[(b*S+init)*H : (b*S+init+1)*H])
		clear(l.cs[(b*S+init)*H : (b*S+init+1)*H])
	}

	// All input projections at once: z = x·Wihᵀ.
	gemmWith(&l.ws, false, true, B*S, G, in, 1, l.x, in, w.Wih, in, 0, l.z, G)
	packed := l.packRecurrent(true, H, G, w.Whh)

	for s := 0; s < T; s++ {
		t := l.step(s)
		prev, next := l.slots(t)
		if s > 0 {
			// z_t += h_{t-1}·Whhᵀ for the whole batch; rows are S slots apart.
			if packed {
				sgemmPacked(&l.ws, false, B, 1, as32(l.hs[prev*H:]), S*H, &l.whh, 1, as32(l.z[prev*G:]), S*G)
			} else {
				Gemm(false, true, B, G, H, 1, l.hs[prev*H:], S*H, w.Whh, H, 1, l.z[prev*G:], S*G)
			}
		}
		for b := 0; b < B; b++ {
			p, n := (b*S+prev)*H, (b*S+next)*H
			hOut := out[(b*stride+t)*ldOut : (b*stride+t)*ldOut+H]
			if mask[b*stride+t] == 0 {
				copy(l.hs[n:n+H], l.hs[p:p+H])
				copy(l.cs[n:n+H], l.cs[p:p+H])
				copy(hOut, l.hs[p:p+H])
				continue
			}
			cellForward(l.z[(b*S+prev)*G:(b*S+prev+1)*G], w.Bias[:G], l.cs[p:p+H],
				l.cs[n:n+H], l.tc[n:n+H], l.hs[n:n+H], l.zeros)
			copy(hOut, l.hs[n:n+H])
		}
	}
	// The skipped steps: going forward they carry the final state, in
	// reverse they come before the first real token.
	for b := 0; b < B; b++ {
		final := l.hs[(b*S+T)*H : (b*S+T+1)*H]
		for t := T; t < stride; t++ {
			hOut := out[(b*stride+t)*ldOut : (b*stride+t)*ldOut+H]
			if reverse {
				clear(hOut)
			} else {
				copy(hOut, final)
			}
		}
	}
}

// realSteps returns one past the last time at which any row of mask [B,T]
// has a real token.
func realSteps[F Float](mask []F, B, T int) int {
	n := 0
	for b := 0; b < B; b++ {
		n = max(n, lastRealStep(mask[b*T:(b+1)*T])+1)
	}
	return n
}

// lastRealStep returns the last t with row[t] != 0, or -1 for a row of
// padding only.
func lastRealStep[F Float](row []F) int {
	for t := len(row) - 1; t >= 0; t-- {
		if row[t] != 0 {
			return t
		}
	}
	return -1
}

// inferChunk is the number of steps whose input projections Infer
// computes in one product: enough rows to keep the product efficient, few
// enough to keep the buffers small.
const inferChunk = 16

// Infer runs the LSTM forward as Forward does, with the same arguments
// and the same output, but keeps nothing for a backward pass: it holds the
// gate rows of inferChunk steps and the carried states, O(B·(In+4H))
// memory instead of Forward's O(B·T·(In+7H)). It is the pass for
// prediction. A Backward after Infer does nothing.
//
// Like PyTorch's packed sequences, Infer computes at each step only the
// rows that have a real token there: it orders the rows by where their
// last real token is, longest first, and runs each step's products on
// the prefix of rows that covers every real token of that step.
func (l *LSTM[F]) Infer(w *LSTMWeights[F], x, mask []F, B, T int, reverse bool, out []F, ldOut int) {
	in, H := w.In, w.Hidden
	G := 4 * H
	l.ready = false
	if B <= 0 || T <= 0 {
		return
	}
	l.hidden, l.steps, l.reverse = H, T, reverse
	C := min(inferChunk, T)
	l.x = grow(l.x, C*B*in)
	l.z = grow(l.z, C*B*G)
	l.hs = grow(l.hs, B*H)
	l.cs = grow(l.cs, B*H)
	l.tc = grow(l.tc, H)
	l.zeros = grow(l.zeros, H)
	clear(l.hs)
	clear(l.cs)
	clear(l.zeros)
	h, c := l.hs, l.cs // row r holds the state of batch row l.order[r]
	l.orderRows(mask, B, T)
	order := l.order
	packed := l.packRecurrent(true, H, G, w.Whh)
	for s0 := 0; s0 < T; s0 += C {
		n := min(C, T-s0)
		// The inputs of the active rows of n steps, step after step, so
		// that z = x·Wihᵀ is one product for all of them.
		rows := 0
		for k := 0; k < n; k++ {
			t := l.step(s0 + k)
			m := l.activeRows(mask, t, T)
			l.active[k] = m
			for r := 0; r < m; r++ {
				b := order[r]
				copy(l.x[(rows+r)*in:(rows+r+1)*in], x[(b*T+t)*in:(b*T+t+1)*in])
			}
			rows += m
		}
		gemmWith(&l.ws, false, true, rows, G, in, 1, l.x, in, w.Wih, in, 0, l.z, G)
		rows = 0
		for k := 0; k < n; k++ {
			t, m := l.step(s0+k), l.active[k]
			z := l.z[rows*G : (rows+m)*G]
			rows += m
			if s0+k > 0 && m > 0 { // z += h·Whhᵀ
				if packed {
					sgemmPacked(&l.ws, false, m, 1, as32(h), H, &l.whh, 1, as32(z), G)
				} else {
					Gemm(false, true, m, G, H, 1, h, H, w.Whh, H, 1, z, G)
				}
			}
			for r := 0; r < B; r++ {
				b := order[r]
				hr, cr := h[r*H:(r+1)*H], c[r*H:(r+1)*H]
				if r < m && mask[b*T+t] != 0 {
					// In place: element j of the new state reads only
					// element j of the old one, and the product above
					// has read h.
					cellForward(z[r*G:(r+1)*G], w.Bias[:G], cr, cr, l.tc, hr, l.zeros)
				}
				copy(out[(b*T+t)*ldOut:(b*T+t)*ldOut+H], hr)
			}
		}
	}
}

// orderRows sets l.order to the batch rows sorted by the time of their
// last real token, latest first (ties in row order), and l.last to those
// times (-1 for a row of padding only).
func (l *LSTM[F]) orderRows(mask []F, B, T int) {
	if cap(l.order) < B {
		l.order, l.last = make([]int, B), make([]int, B)
	}
	if cap(l.active) < inferChunk {
		l.active = make([]int, inferChunk)
	}
	l.order, l.last = l.order[:B], l.last[:B]
	for b := range l.last {
		l.last[b] = lastRealStep(mask[b*T : (b+1)*T])
		l.order[b] = b
	}
	// Insertion sort: no allocation, and batches are small.
	for i := 1; i < B; i++ {
		for j := i; j > 0 && l.last[l.order[j]] > l.last[l.order[j-1]]; j-- {
			l.order[j], l.order[j-1] = l.order[j-1], l.order[j]
		}
	}
}

// activeRows returns how many rows, in l.order, cover every real token at
// time t: one past the last of them that has one.
func (l *LSTM[F]) activeRows(mask []F, t, T int) int {
	for r := len(l.order) - 1; r >= 0; r-- {
		b := l.order[r]
		if l.last[b] < t {
			continue // nothing real at t or after it
		}
		if mask[b*T+t] != 0 {
			return r + 1
		}
	}
	return 0
}

// packRecurrent prepares op(Whh), k×n, once for the per-step products
// when they run on the Go micro-kernels, and says whether they do.
func (l *LSTM[F]) packRecurrent(trans bool, k, n int, whh []F) bool {
	if unsafe.Sizeof(whh[0]) != 4 || !goKernel() {
		return false
	}
	l.whh.prepare(simd, trans, k, n, as32(whh), l.hidden)
	return true
}

// cellForward finishes one row of one step: z holds the row's four gate
// pre-activations without bias and gets the gate values; c, tc and h get
// the new cell state, its tanh and the new hidden state. zeros is H zeros.
func cellForward[F Float](z, bias, cPrev, c, tc, h, zeros []F) {
	if unsafe.Sizeof(z[0]) == 4 {
		cellForward32(as32(z), as32(bias), as32(cPrev), as32(c), as32(tc), as32(h), as32(zeros))
		return
	}
	H := len(c)
	zi, zf, zg, zo := z[:H], z[H:2*H], z[2*H:3*H], z[3*H:4*H]
	bi, bf, bg, bo := bias[:H], bias[H:2*H], bias[2*H:3*H], bias[3*H:4*H]
	cPrev, tc, h = cPrev[:H], tc[:H], h[:H]
	sigmoid := func(x F) F { return F(1 / (1 + math.Exp(-float64(x)))) }
	for j := range c {
		i := sigmoid(zi[j] + bi[j])
		f := sigmoid(zf[j] + bf[j])
		g := F(math.Tanh(float64(zg[j] + bg[j])))
		o := sigmoid(zo[j] + bo[j])
		zi[j], zf[j], zg[j], zo[j] = i, f, g, o
		cj := f*cPrev[j] + i*g
		t := F(math.Tanh(float64(cj)))
		c[j], tc[j], h[j] = cj, t, o*t
	}
}

// cellForward32 is cellForward in float32: on AVX-512 one pass of the
// assembly kernel, otherwise the activations a vector at a time by
// gates32 and the products in Go.
func cellForward32(z, bias, cPrev, c, tc, h, zeros []float32) {
	H := len(c)
	if simd == simdAVX512 && H > 0 {
		z, bias, cPrev, tc, h = z[:4*H], bias[:4*H], cPrev[:H], tc[:H], h[:H]
		cellForwardAVX512(&z[0], &bias[0], &cPrev[0], &c[0], &tc[0], &h[0], H)
		return
	}
	gates32(z[:2*H], z[:2*H], bias[:2*H], -1, 1, 0)           // i, f
	gates32(z[2*H:3*H], z[2*H:3*H], bias[2*H:3*H], -2, 2, -1) // g
	gates32(z[3*H:4*H], z[3*H:4*H], bias[3*H:4*H], -1, 1, 0)  // o
	zi, zf, zg, zo := z[:H], z[H:2*H], z[2*H:3*H], z[3*H:4*H]
	cPrev, tc, h = cPrev[:H], tc[:H], h[:H]
	for j := range c {
		c[j] = zf[j]*cPrev[j] + zi[j]*zg[j]
	}
	gates32(tc, c, zeros, -2, 2, -1)
	for j := range h {
		h[j] = zo[j] * tc[j]
	}
}

// Backward runs backpropagation through time after a Forward on the same
// inputs and weights. dOut is the gradient of the loss with respect to out,
// in out's layout. It ADDS the gradients with respect to x ([B,T,In]; dx may
// be nil when not wanted), Wih, Whh and Bias into dx, dWih, dWhh and dBias.
// The gradient reaching a masked step flows on to the carried state, as the
// state does. Backward without a Forward before it does nothing.
//
// Backward overwrites the gate values Forward kept: run Forward again
// before a second Backward.
func (l *LSTM[F]) Backward(w *LSTMWeights[F], dOut []F, ldOut int, dx, dWih, dWhh, dBias []F) {
	if !l.ready {
		return
	}
	l.ready = false
	B, T, in, H := l.batch, l.steps, l.in, l.hidden
	G, S, stride := 4*H, T+1, l.stride
	l.dh = grow(l.dh, B*H)
	l.dc = grow(l.dc, B*H)
	clear(l.dh)
	clear(l.dc)
	if !l.reverse {
		// The skipped steps after the last real token output the final
		// state: their gradients reach it, in the order the masked steps
		// would have added them.
		for b := 0; b < B; b++ {
			dh := l.dh[b*H : (b+1)*H]
			for t := stride - 1; t >= T; t-- {
				for j, v := range dOut[(b*stride+t)*ldOut : (b*stride+t)*ldOut+H] {
					dh[j] += v
				}
			}
		}
	}
	packed := l.packRecurrent(false, G, H, w.Whh)

	for s := T - 1; s >= 0; s-- {
		t := l.step(s)
		prev, next := l.slots(t)
		for b := 0; b < B; b++ {
			dh, dc := l.dh[b*H:(b+1)*H], l.dc[b*H:(b+1)*H]
			d := dOut[(b*stride+t)*ldOut : (b*stride+t)*ldOut+H]
			z := l.z[(b*S+prev)*G : (b*S+prev+1)*G]
			if l.mask[b*stride+t] == 0 {
				// The step passed h and c through: so does their gradient.
				for j := range dh {
					dh[j] += d[j]
				}
				clear(z)
				continue
			}
			cellBackward(z, d, dh, dc, l.cs[(b*S+prev)*H:(b*S+prev+1)*H], l.tc[(b*S+next)*H:(b*S+next+1)*H], dBias[:G])
		}
		if s > 0 {
			// dh_{t-1} += dz_t·Whh; the gradient into the zero initial
			// state is not needed.
			if packed {
				sgemmPacked(&l.ws, false, B, 1, as32(l.z[prev*G:]), S*G, &l.whh, 1, as32(l.dh), H)
			} else {
				Gemm(false, false, B, H, G, 1, l.z[prev*G:], S*G, w.Whh, H, 1, l.dh, H)
			}
		}
	}
	// The spare slot's gate rows must not pair with the final state in the
	// dWhh product below.
	lo, spare := l.layout()
	for b := 0; b < B; b++ {
		clear(l.z[(b*S+spare)*G : (b*S+spare+1)*G])
	}

	gemmWith(&l.ws, true, false, G, in, B*S, 1, l.z, G, l.x, in, 1, dWih, in)
	gemmWith(&l.ws, true, false, G, H, B*S, 1, l.z, G, l.hs, H, 1, dWhh, H)
	if dx != nil {
		if packed { // prepare Wih once for the B products
			l.ws.b.prepare(simd, false, G, in, as32(w.Wih), in)
		}
		for b := 0; b < B; b++ {
			if packed {
				sgemmPacked(&l.ws, false, T, 1, as32(l.z[(b*S+lo)*G:]), G, &l.ws.b, 1, as32(dx[b*stride*in:]), in)
			} else {
				Gemm(false, false, T, in, G, 1, l.z[(b*S+lo)*G:], G, w.Wih, in, 1, dx[b*stride*in:], in)
			}
		}
	}
}

// f32p views a pointer to a 4-byte Float as *float32.
func f32p[F Float](p *F) *float32 { return (*float32)(unsafe.Pointer(p)) }

// cellBackward turns one row's gate values z into the gradients of the
// gate pre-activations, given the gradient d of the step's output, the
// gradients dh and dc reaching its new state from later steps, the cell
// state before the step and the tanh of the one after. It leaves in dc the
// gradient for the cell state before the step and zeroes dh for the
// recurrent product to fill. It adds the gate gradients into db, the bias
// gradient, while they are at hand.
func cellBackward[F Float](z, d, dh, dc, cPrev, tc, db []F) {
	H := len(dh)
	if unsafe.Sizeof(z[0]) == 4 && simd == simdAVX512 && H > 0 {
		z, d, dc, cPrev, tc, db = z[:4*H], d[:H], dc[:H], cPrev[:H], tc[:H], db[:4*H]
		cellBackwardAVX512(f32p(&z[0]), f32p(&d[0]), f32p(&dh[0]), f32p(&dc[0]), f32p(&cPrev[0]), f32p(&tc[0]), f32p(&db[0]), H)
		return
	}
	zi, zf, zg, zo := z[:H], z[H:2*H], z[2*H:3*H], z[3*H:4*H]
	d, dc, cPrev, tc = d[:H], dc[:H], cPrev[:H], tc[:H]
	bi, bf, bg, bo := db[:H], db[H:2*H], db[2*H:3*H], db[3*H:4*H]
	for j := range dh {
		i, f, g, o := zi[j], zf[j], zg[j], zo[j]
		dhj := dh[j] + d[j]
		t := tc[j]
		dcj := dc[j] + dhj*o*(1-t*t)
		zi[j] = dcj * g * i * (1 - i)
		zf[j] = dcj * cPrev[j] * f * (1 - f)
		zg[j] = dcj * i * (1 - g*g)
		zo[j] = dhj * t * o * (1 - o)
		bi[j] += zi[j]
		bf[j] += zf[j]
		bg[j] += zg[j]
		bo[j] += zo[j]
		dc[j] = dcj * f
		dh[j] = 0
	}
}
