package kernels

import (
	"math/rand/v2"
	"testing"
)

// benchConv is Kim's CNN on a batch of 32 texts of 50 tokens, 100-d
// embeddings, widths 3, 4, 5 of 100 maps each.
func benchConv() (c *Conv1D[float32], x, mask []float32, ws, bs [][]float32, y []float32) {
	const B, T, D, M = 32, 50, 100, 100
	rng := rand.New(rand.NewPCG(1, 2))
	widths := []int{3, 4, 5}
	c = NewConv1D[float32](D, M, widths)
	x, mask = make([]float32, B*T*D), make([]float32, B*T)
	for i := range x {
		x[i] = rng.Float32() - 0.5
	}
	for b := 0; b < B; b++ {
		for t := 0; t < T-b%10; t++ {
			mask[b*T+t] = 1
		}
	}
	for _, w := range widths {
		wt := make([]float32, M*D*w)
		for i := range wt {
			wt[i] = (rng.Float32() - 0.5) * 0.1
		}
		ws, bs = append(ws, wt), append(bs, make([]float32, M))
	}
	return c, x, mask, ws, bs, make([]float32, B*c.Features())
}

func BenchmarkConv1DForward(b *testing.B) {
	c, x, mask, ws, bs, y := benchConv()
	for b.Loop() {
		c.Forward(x, mask, 32, 50, ws, bs, y)
	}
}

func BenchmarkConv1DBackward(b *testing.B) {
	c, x, mask, ws, bs, y := benchConv()
	c.Forward(x, mask, 32, 50, ws, bs, y)
	dy := make([]float32, len(y))
	for i := range dy {
		dy[i] = 1
	}
	dx := make([]float32, len(x))
	dws := [][]float32{make([]float32, len(ws[0])), make([]float32, len(ws[1])), make([]float32, len(ws[2]))}
	dbs := [][]float32{make([]float32, 100), make([]float32, 100), make([]float32, 100)}
	for b.Loop() {
		c.Backward(dy, dx, dws, dbs)
	}
}

// BenchmarkConv1DProducts is the forward pass's matrix products alone, over
// the same im2col buffer: what a step cannot cost less than.
func BenchmarkConv1DProducts(b *testing.B) {
	c, x, mask, ws, bs, y := benchConv()
	c.Forward(x, mask, 32, 50, ws, bs, y)
	rows := 32 * 50
	for b.Loop() {
		for i, w := range c.Widths {
			Gemm(false, true, rows, 100, w*100, 1, c.col, 5*100, c.packed[c.packedAt(i):], w*100, 0, c.out[i*rows*100:], 100)
		}
	}
}

// axpyLoop is axpy as a plain loop, what Conv1D's backward pass used
// before gonum's assembly one.
func axpyLoop(a float32, x, y []float32) {
	y = y[:len(x)]
	for j, v := range x {
		y[j] += a * v
	}
}

func TestAxpy(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5, 6, 7}
	y, want := make([]float32, 7), make([]float32, 7)
	for i := range y {
		y[i], want[i] = float32(i), float32(i)
	}
	axpy(0.5, x, y)
	axpyLoop(0.5, x, want)
	for i := range y {
		if y[i] != want[i] {
			t.Fatalf("axpy = %v, want %v", y, want)
		}
	}
}

// BenchmarkAxpy compares the two on the rows Conv1D's backward pass adds:
// a window of 5 steps of 100 values.
func BenchmarkAxpy(b *testing.B) {
	x, y := make([]float32, 500), make([]float32, 500)
	b.Run("loop", func(b *testing.B) {
		for b.Loop() {
			axpyLoop(0.5, x, y)
		}
	})
	b.Run("gonum", func(b *testing.B) {
		for b.Loop() {
			axpy(0.5, x, y)
		}
	})
}
