package layers

import (
	"fmt"
	"math/rand"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Activation is the function a Dense layer applies to its output.
type Activation int

// The activations of Dense.
const (
	Linear Activation = iota
	Sigmoid
	Tanh
	ReLU
)

// String is the activation's Keras name.
func (a Activation) String() string {
	switch a {
	case Linear:
		return "linear"
	case Sigmoid:
		return "sigmoid"
	case Tanh:
		return "tanh"
	case ReLU:
		return "relu"
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// apply adds the activation to x's graph.
func (a Activation) apply(x *G.Node) (*G.Node, error) {
	switch a {
	case Linear:
		return x, nil
	case Sigmoid:
		return G.Sigmoid(x)
	case Tanh:
		return G.Tanh(x)
	case ReLU:
		return G.Rectify(x)
	}
	return nil, fmt.Errorf("unknown activation %v", a)
}

// Dense is a fully connected layer, y = activation(x·Wᵀ + b), with the
// weights in PyTorch's [out, in] layout.
type Dense struct {
	named
	// Weight is "dense.weight" [out, in], Bias "dense.bias" [out].
	Weight, Bias *Param
	Activation   Activation
}

// NewDense makes a Dense layer from in to out units, its weights drawn
// Glorot-uniform from rng and its bias zero, as Keras does.
func NewDense(in, out int, act Activation, dt tensor.Dtype, rng *rand.Rand) *Dense {
	return &Dense{
		named:      named{"dense"},
		Weight:     NewParam("dense.weight", GlorotUniform(out, in, dt, rng), true),
		Bias:       NewParam("dense.bias", newTensor(dt, out), true),
		Activation: act,
	}
}

// Params returns the weight and the bias.
func (d *Dense) Params() []*Param { return []*Param{d.Weight, d.Bias} }

func (d *Dense) in() int  { return d.Weight.Value.Shape()[1] }
func (d *Dense) out() int { return d.Weight.Value.Shape()[0] }

// OutputShape replaces the last dimension of in by the number of units.
func (d *Dense) OutputShape(in []int) []int {
	s := append([]int{}, in...)
	s[len(s)-1] = d.out()
	return s
}

// Forward applies the layer to the last axis of x, [batch, in] or
// [batch, time, in]; mask is not used.
func (d *Dense) Forward(g *Graph, x, mask *G.Node) (*G.Node, error) {
	s := x.Shape().Clone()
	if (s.Dims() != 2 && s.Dims() != 3) || s[s.Dims()-1] != d.in() {
		return nil, shapeError(d.name, s, fmt.Sprintf("[batch, (time,) %d]", d.in()))
	}
	if dt := d.Weight.Value.Dtype(); dt != g.Dtype || x.Dtype() != g.Dtype {
		return nil, fmt.Errorf("%s: weights of type %v and input of type %v in a %v graph", d.name, dt, x.Dtype(), g.Dtype)
	}
	flat := x
	var err error
	if s.Dims() == 3 {
		if flat, err = G.Reshape(x, tensor.Shape{s[0] * s[1], s[2]}); err != nil {
			return nil, fmt.Errorf("%s: %w", d.name, err)
		}
	}
	wt, err := G.Transpose(g.Param(d.Weight))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.name, err)
	}
	y, err := G.Mul(flat, wt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.name, err)
	}
	b, err := G.Reshape(g.Param(d.Bias), tensor.Shape{1, d.out()})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.name, err)
	}
	if y, err = G.BroadcastAdd(y, b, nil, []byte{0}); err != nil {
		return nil, fmt.Errorf("%s: %w", d.name, err)
	}
	if s.Dims() == 3 {
		if y, err = G.Reshape(y, tensor.Shape{s[0], s[1], d.out()}); err != nil {
			return nil, fmt.Errorf("%s: %w", d.name, err)
		}
	}
	if y, err = d.Activation.apply(y); err != nil {
		return nil, fmt.Errorf("%s: %w", d.name, err)
	}
	return y, nil
}
