package layers

import (
	"fmt"

	"github.com/classify/classify/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// preNorm adds x + f(norm(x)) to the graph as one fused node, f being the
// fused node of the attention or feed-forward layer whose kernel, inputs
// (x first) and differentiated inputs are k, inputs and diff: a
// pre-norm block's sublayer with its layer norm and its residual sum, so
// that neither they nor the sum of the residual stream's two gradients
// are nodes of their own. The node's inputs are x, the norm's weight and
// bias, then the sublayer's inputs after x.
func preNorm(g *Graph, name string, norm *LayerNorm, k fusedKernel, inputs []*G.Node, diff []bool) (*G.Node, error) {
	x := inputs[0]
	s := x.Shape().Clone()
	d := norm.Dim()
	if s.Dims() < 1 || s[s.Dims()-1] != d {
		return nil, shapeError(norm.name, s, fmt.Sprintf("[..., %d]", d))
	}
	if dt := norm.Weight.Value.Dtype(); dt != g.Dtype {
		return nil, fmt.Errorf("%s: weights of type %v in a %v graph", norm.name, dt, g.Dtype)
	}
	rows := s.TotalSize() / d
	var run fusedKernel
	switch g.Dtype {
	case tensor.Float32:
		run = &preNormKernel[float32]{normState: newNormState[float32](rows, d, norm.Eps, s), inner: k}
	case tensor.Float64:
		run = &preNormKernel[float64]{normState: newNormState[float64](rows, d, norm.Eps, s), inner: k}
	default:
		return nil, dtypeError(norm.name, g.Dtype)
	}
	in := append([]*G.Node{x, g.Param(norm.Weight), g.Param(norm.Bias)}, inputs[1:]...)
	df := append([]bool{true, norm.Weight.Trainable, norm.Bias.Trainable}, diff[1:]...)
	return applyFused(name, run, s, df, in...)
}

// preNormKernel runs y = x + f(LayerNorm(x)) for one node: the layer norm
// on the kernels, f through its own fused kernel, the sum in place.
// Backward runs f's backward pass, the norm's, and adds the residual's
// gradient dy.
type preNormKernel[F kernels.Float] struct {
	normState[F]
	inner   fusedKernel
	xn      *tensor.Dense // LayerNorm(x), f's input
	innerIn []G.Value
	out     *tensor.Dense
}

func (k *preNormKernel[F]) differentiated() { k.inner.differentiated() }

// innerInputs returns f's inputs: LayerNorm(x), then the node's inputs
// after the norm's parameters.
func (k *preNormKernel[F]) innerInputs(in []G.Value) []G.Value {
	k.innerIn = append(append(k.innerIn[:0], k.xn), in[3:]...)
	return k.innerIn
}

func (k *preNormKernel[F]) forward(in []G.Value) (G.Value, error) {
	v, err := floatsOf[F](in, 0, 1, 2)
	if err != nil {
		return nil, err
	}
	k.xn = reuse[F](k.xn, k.shape...)
	k.normalize(v[0], v[1], v[2], k.xn.Data().([]F))
	h, err := k.inner.forward(k.innerInputs(in))
	if err != nil {
		return nil, err
	}
	hv, err := data[F](h)
	if err != nil {
		return nil, err
	}
	k.out = reuse[F](k.out, k.shape...)
	y := k.out.Data().([]F)
	for i, x := range v[0] {
		y[i] = x + hv[i]
	}
	return k.out, nil
}

func (k *preNormKernel[F]) backward(in []G.Value, _, dy G.Value) error {
	v, err := floatsOf[F](in, 0, 1)
	if err != nil {
		return err
	}
	d, err := data[F](dy)
	if err != nil {
		return err
	}
	if err := k.inner.backward(k.innerInputs(in), nil, dy); err != nil {
		return err
	}
	gxn, err := k.inner.grad(0)
	if err != nil {
		return err
	}
	dxn, err := data[F](gxn)
	if err != nil {
		return err
	}
	dx := k.normGrad(dxn, v[0], v[1])
	for i, g := range d {
		dx[i] += g
	}
	return nil
}

// grad returns the gradient of input i: x and the norm's parameters are
// the node's own, the rest f's (input i of the node is f's input i-2).
func (k *preNormKernel[F]) grad(i int) (G.Value, error) {
	if i < 3 {
		return k.grads.get(i)
	}
	return k.inner.grad(i - 2)
}
