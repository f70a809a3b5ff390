package kernels

import (
	"unsafe"

	"gonum.org/v1/gonum/blas/gonum"
)

// Conv1D is the kernel of Kim's (2014) convolutional text encoder: for
// each filter width w, Maps filters slide over a [B, T, D] batch, and each
// filter's output is ReLU'd and max-pooled over the windows that start in
// the text, giving a [B, len(Widths)*Maps] batch of features, width i's
// in columns [i*Maps, (i+1)*Maps).
//
// The windows are PyTorch's Conv1d without padding over each row with its
// padding read as zeros: a row of n real tokens has max(n-w+1, 1) windows
// of width w (a text shorter than the widest filter is padded for the
// convolution only, and an empty one still has its bias). The real tokens
// are those up to the last one the mask marks; masked positions count as
// zeros.
//
// Forward copies every window of the widest filter out of x once (im2col:
// a window of w steps is the first w*D values of the widest window in
// step-major order), and each width is then one product of that buffer
// with its filters. Backward is sparse: the gradient of a max reaches one
// window per filter, so the weight and input gradients are sums over B
// rows per filter instead of products over every window.
type Conv1D[F Float] struct {
	// Widths are the filter widths, Maps the filters of each, Dim the
	// features of each step.
	Widths    []int
	Maps, Dim int

	b, t, span int // span: windows computed per row, max(T, widest)
	wmax       int
	col        []F     // [B*span, wmax*D] windows, step-major
	out        []F     // per width, [B*span, Maps] filter responses
	packed     []F     // per width, the filters as [Maps, w, D]
	dPacked    []F     // per width, their gradient as [Maps, w, D]
	best       []int32 // [B, len(Widths)*Maps] window of each maximum; -1 where ReLU cut it
	real       []int   // [B] real tokens of each row
	on         []bool  // [B, T] the mask
}

// NewConv1D makes the kernel of maps filters of each width over dim
// features.
func NewConv1D[F Float](dim, maps int, widths []int) *Conv1D[F] {
	c := &Conv1D[F]{Widths: append([]int(nil), widths...), Maps: maps, Dim: dim}
	for _, w := range widths {
		c.wmax = max(c.wmax, w)
	}
	return c
}

// Features is the width of the output: len(Widths)*Maps.
func (c *Conv1D[F]) Features() int { return len(c.Widths) * c.Maps }

// packedAt returns where width i's filters start in packed and dPacked.
func (c *Conv1D[F]) packedAt(i int) int {
	n := 0
	for _, w := range c.Widths[:i] {
		n += c.Maps * w * c.Dim
	}
	return n
}

// Forward computes y [B, Features] from x [B, T, Dim] and mask [B, T] (1
// for a real token); weights[i] is width i's [Maps, Dim, w] in PyTorch's
// Conv1d layout, biases[i] its [Maps]. It keeps what Backward needs.
func (c *Conv1D[F]) Forward(x, mask []F, B, T int, weights, biases [][]F, y []F) {
	D, M, wmax := c.Dim, c.Maps, c.wmax
	span := max(T, wmax)
	c.b, c.t, c.span = B, T, span
	rows := B * span
	c.col = resized(c.col, rows*wmax*D)
	c.out = resized(c.out, len(c.Widths)*rows*M)
	c.packed = resized(c.packed, c.packedAt(len(c.Widths)))
	if cap(c.best) < B*c.Features() {
		c.best = make([]int32, B*c.Features())
	}
	c.best = c.best[:B*c.Features()]
	if cap(c.real) < B {
		c.real = make([]int, B)
	}
	c.real = c.real[:B]
	if cap(c.on) < B*T {
		c.on = make([]bool, B*T)
	}
	c.on = c.on[:B*T]
	for i, v := range mask[:B*T] {
		c.on[i] = v != 0
	}

	for b := 0; b < B; b++ {
		m := mask[b*T : (b+1)*T]
		n := len(m)
		for n > 0 && m[n-1] == 0 {
			n--
		}
		c.real[b] = n
		for t := 0; t < span; t++ {
			row := c.col[(b*span+t)*wmax*D : (b*span+t+1)*wmax*D]
			for k := 0; k < wmax; k++ {
				dst := row[k*D : (k+1)*D]
				if p := t + k; p < n && m[p] != 0 {
					copy(dst, x[(b*T+p)*D:(b*T+p+1)*D])
				} else {
					clear(dst)
				}
			}
		}
	}
	for i, w := range c.Widths {
		p := c.packed[c.packedAt(i):][:M*w*D]
		wt := weights[i]
		for f := 0; f < M; f++ {
			for d := 0; d < D; d++ {
				for k := 0; k < w; k++ {
					p[(f*w+k)*D+d] = wt[(f*D+d)*w+k]
				}
			}
		}
		out := c.out[i*rows*M : (i+1)*rows*M]
		Gemm(false, true, rows, M, w*D, 1, c.col, wmax*D, p, w*D, 0, out, M)
		c.pool(i, w, biases[i], y)
	}
}

// pool takes, for width i and each row and filter, the largest response
// over the row's windows, adds the bias and applies ReLU.
func (c *Conv1D[F]) pool(i, w int, bias, y []F) {
	M, nf, span := c.Maps, c.Features(), c.span
	out := c.out[i*c.b*span*M:]
	for b := 0; b < c.b; b++ {
		windows := max(c.real[b]-w+1, 1)
		yb := y[b*nf+i*M : b*nf+(i+1)*M]
		best := c.best[b*nf+i*M : b*nf+(i+1)*M]
		rowAt := out[b*span*M:]
		copy(yb, rowAt[:M])
		for f := range best {
			best[f] = 0
		}
		for t := 1; t < windows; t++ {
			r := rowAt[t*M : (t+1)*M]
			for f, v := range r {
				if v > yb[f] {
					yb[f], best[f] = v, int32(t)
				}
			}
		}
		for f := range yb {
			if v := yb[f] + bias[f]; v > 0 {
				yb[f] = v
			} else {
				yb[f], best[f] = 0, -1
			}
		}
	}
}

// Backward takes dy [B, Features], the gradient of the loss with respect
// to the last Forward's y, and writes the gradients of the weights and
// biases (in Forward's layouts) into dWeights and dBiases, and that of x
// into dx unless dx is nil.
func (c *Conv1D[F]) Backward(dy, dx []F, dWeights, dBiases [][]F) {
	B, T, D, M, span, wmax, nf := c.b, c.t, c.Dim, c.Maps, c.span, c.wmax, c.Features()
	c.dPacked = resized(c.dPacked, c.packedAt(len(c.Widths)))
	clear(c.dPacked)
	if dx != nil {
		clear(dx[:B*T*D])
	}
	for i, w := range c.Widths {
		p := c.packed[c.packedAt(i):][:M*w*D]
		dp := c.dPacked[c.packedAt(i):][:M*w*D]
		db := dBiases[i][:M]
		clear(db)
		for b := 0; b < B; b++ {
			n := c.real[b]
			for f := 0; f < M; f++ {
				t := int(c.best[b*nf+i*M+f])
				if t < 0 {
					continue
				}
				g := dy[b*nf+i*M+f]
				db[f] += g
				axpy(g, c.col[(b*span+t)*wmax*D:][:w*D], dp[f*w*D:(f+1)*w*D])
				if dx == nil {
					continue
				}
				for k := 0; k < w && t+k < n; k++ {
					if !c.on[b*T+t+k] {
						continue // read as zeros: no gradient
					}
					axpy(g, p[(f*w+k)*D:(f*w+k+1)*D], dx[(b*T+t+k)*D:(b*T+t+k+1)*D])
				}
			}
		}
		dw := dWeights[i]
		for f := 0; f < M; f++ {
			for d := 0; d < D; d++ {
				for k := 0; k < w; k++ {
					dw[(f*D+d)*w+k] = dp[(f*w+k)*D+d]
				}
			}
		}
	}
}

// resized returns s resized to n, reallocating only when its capacity is
// short.
func resized[F Float](s []F, n int) []F {
	if cap(s) < n {
		return make([]F, n)
	}
	return s[:n]
}

// axpy adds a*x to y, on gonum's assembly loop.
func axpy[F Float](a F, x, y []F) {
	if unsafe.Sizeof(a) == 4 {
		gonum.Implementation{}.Saxpy(len(x), float32(a), as32(x), 1, as32(y), 1)
		return
	}
	gonum.Implementation{}.Daxpy(len(x), float64(a), as64(x), 1, as64(y), 1)
}
