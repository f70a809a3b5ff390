package layers

import (
	"fmt"
	"math"
	"math/rand"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Conv1D is the convolutional text encoder of Kim (2014), "Convolutional
// Neural Networks for Sentence Classification": for each filter width w,
// Maps filters of w steps slide over the embedded sequence; each filter's
// response is ReLU'd and max-pooled over the windows that start in the
// text, and the widths' features are concatenated, [batch, len(Widths) *
// Maps], width i's in columns [i*Maps, (i+1)*Maps). It is PyTorch's
//
//	max_t relu(Conv1d(dim, maps, w)(x.transpose(1, 2)))[:, :, t]
//
// over the windows t < max(n-w+1, 1) of a text of n real tokens, with the
// padding read as zeros: a text shorter than the widest filter is padded
// for the convolution only, and an empty one gives relu(bias). The layer
// runs as one fused node: every window is copied out of x once, each
// width is one matrix product with the kernels Gemm, and the backward
// pass, written by hand, touches only the window of each maximum.
type Conv1D struct {
	named
	// Widths are the filter widths, Maps the filters of each.
	Widths []int
	Maps   int
	// Weights[i] is width i's filters, "convs.i.weight" [Maps, dim,
	// Widths[i]] in PyTorch's Conv1d layout, Biases[i] their bias,
	// "convs.i.bias" [Maps].
	Weights, Biases []*Param

	dim int
}

// NewConv1D makes maps filters of each width over dim features, drawn as
// PyTorch's Conv1d draws them: weights and biases from U(-l, l), l =
// 1/sqrt(dim*w).
func NewConv1D(dim int, widths []int, maps int, dt tensor.Dtype, rng *rand.Rand) (*Conv1D, error) {
	if dim <= 0 || maps <= 0 || len(widths) == 0 {
		return nil, fmt.Errorf("conv1d: %d features, %d maps and widths %v: want positive sizes and at least one width", dim, maps, widths)
	}
	c := &Conv1D{named: named{"conv1d"}, Widths: append([]int(nil), widths...), Maps: maps, dim: dim}
	for i, w := range widths {
		if w <= 0 {
			return nil, fmt.Errorf("conv1d: filter width %d, want at least 1", w)
		}
		limit := 1 / math.Sqrt(float64(dim*w))
		c.Weights = append(c.Weights, NewParam(fmt.Sprintf("convs.%d.weight", i),
			fromFloat64s(dt, uniform(maps, dim*w, limit, rng), maps, dim, w), true))
		c.Biases = append(c.Biases, NewParam(fmt.Sprintf("convs.%d.bias", i),
			fromFloat64s(dt, uniform(1, maps, limit, rng), maps), true))
	}
	return c, nil
}

// Params lists every width's weights, then every width's biases.
func (c *Conv1D) Params() []*Param { return append(append([]*Param{}, c.Weights...), c.Biases...) }

// Features is the width of the output, len(Widths) * Maps.
func (c *Conv1D) Features() int { return len(c.Widths) * c.Maps }

// OutputShape drops the time axis: [batch, Features].
func (c *Conv1D) OutputShape(in []int) []int { return []int{in[0], c.Features()} }

// Forward encodes x, [batch, time, dim], whose real steps mask, [batch,
// time], marks with 1 (every step when mask is nil).
func (c *Conv1D) Forward(g *Graph, x, mask *G.Node) (*G.Node, error) {
	s := x.Shape()
	if s.Dims() != 3 || s[2] != c.dim {
		return nil, shapeError(c.name, s, fmt.Sprintf("[batch, time, %d]", c.dim))
	}
	if x.Dtype() != g.Dtype || c.Weights[0].Value.Dtype() != g.Dtype {
		return nil, fmt.Errorf("%s: weights of type %v and input of type %v in a %v graph", c.name, c.Weights[0].Value.Dtype(), x.Dtype(), g.Dtype)
	}
	if mask == nil {
		mask = onesMask(g.ExprGraph, g.Dtype, s[0], s[1])
	} else if ms := mask.Shape(); ms.Dims() != 2 || ms[0] != s[0] || ms[1] != s[1] {
		return nil, fmt.Errorf("%s: mask of shape %v for input %v", c.name, ms, s)
	}
	for i, w := range c.Widths {
		if ws := c.Weights[i].Value.Shape(); !ws.Eq(tensor.Shape{c.Maps, c.dim, w}) || !c.Biases[i].Value.Shape().Eq(tensor.Shape{c.Maps}) {
			return nil, fmt.Errorf("%s: width %d: weights %v and bias %v, want [%d %d %d] and [%d]",
				c.name, w, ws, c.Biases[i].Value.Shape(), c.Maps, c.dim, w, c.Maps)
		}
	}
	// Nothing trainable upstream (frozen embeddings, fixed positions):
	// the backward pass skips the gradient of x.
	inputGrad := !g.Training || trainableUpstream(g, x)
	params := make(G.Nodes, 0, 2*len(c.Widths))
	for _, p := range c.Params() {
		params = append(params, g.Param(p))
	}
	y, err := applyConv1D(x, mask, params, c.Widths, c.Maps, inputGrad)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.name, err)
	}
	return y, nil
}
