package layers

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Param is a named weight tensor of a layer. Its Value is shared by every
// graph the layer is built into (one graph per batch shape), so an optimizer
// that updates Value in place updates them all.
type Param struct {
	// Name is the tensor's name in checkpoints, PyTorch style
	// ("lstm.weight_ih_l0", "dense.bias").
	Name string
	// Value holds the weights, float32 for training, float64 in gradient checks.
	Value *tensor.Dense
	// Grad holds the gradient of the loss with respect to Value after a
	// backward pass; it is nil for a parameter that is not Trainable.
	Grad *tensor.Dense
	// Trainable is false for frozen weights: they get no gradient node and
	// the optimizer never sees them.
	Trainable bool
	// Copies is the number of PyTorch tensors whose sum this parameter
	// stands for, when more than one: an LSTM's one bias (Keras) is
	// PyTorch's bias_ih + bias_hh. PyTorch hands each copy the same
	// gradient and steps each separately, so an optimizer that trains as
	// PyTorch does moves the sum Copies times as far and counts its
	// gradient Copies times in a global norm. 0 means 1.
	Copies int
}

// CopyCount is Copies, with 0 read as 1.
func (p *Param) CopyCount() int { return max(1, p.Copies) }

// NewParam makes a parameter holding value, with a gradient buffer of the
// same shape when it is trainable.
func NewParam(name string, value *tensor.Dense, trainable bool) *Param {
	p := &Param{Name: name, Value: value, Trainable: trainable}
	if trainable {
		p.Grad = tensor.New(tensor.WithShape(value.Shape().Clone()...), tensor.Of(value.Dtype()))
	}
	return p
}

// Size is the number of scalars in the parameter.
func (p *Param) Size() int { return p.Value.Shape().TotalSize() }

// Graph is one Gorgonia graph of a model, built for one batch shape, with
// the nodes that stand for the layers' parameters in it. Gorgonia graphs
// have fixed shapes, so a model keeps one Graph per (batch, length) bucket
// and reuses it for every batch of that shape.
type Graph struct {
	*G.ExprGraph
	// Training switches on training-only behaviour such as dropout.
	Training bool
	// Dtype is the element type of every node (Float32, or Float64 in
	// gradient checks).
	Dtype tensor.Dtype

	nodes  map[*Param]*G.Node
	params []*Param
}

// NewGraph makes an empty graph of element type dtype.
func NewGraph(dtype tensor.Dtype, training bool) *Graph {
	return &Graph{ExprGraph: G.NewGraph(), Training: training, Dtype: dtype, nodes: map[*Param]*G.Node{}}
}

// Param returns the node of p in this graph, creating it on first use. The
// node's value is p.Value itself, not a copy.
func (g *Graph) Param(p *Param) *G.Node {
	if n, ok := g.nodes[p]; ok {
		return n
	}
	n := G.NodeFromAny(g.ExprGraph, p.Value, G.WithName(p.Name))
	g.nodes[p] = n
	g.params = append(g.params, p)
	return n
}

// Params lists the parameters used in this graph, in the order they were
// first used.
func (g *Graph) Params() []*Param { return g.params }

// Trainable returns the trainable parameters used in the graph with their
// nodes, in a fixed order: the arguments for gorgonia.Grad.
func (g *Graph) Trainable() ([]*Param, G.Nodes) {
	var ps []*Param
	var ns G.Nodes
	for _, p := range g.params {
		if p.Trainable {
			ps = append(ps, p)
			ns = append(ns, g.nodes[p])
		}
	}
	return ps, ns
}

// Layer is one stage of a model, in the spirit of a Keras layer: it owns
// its parameters and adds its computation to a graph.
type Layer interface {
	// Name is the layer's name in summaries ("embedding", "bidirectional").
	Name() string
	// Params lists the layer's weights, trainable or not, in a fixed order.
	Params() []*Param
	// OutputShape is the shape the layer gives for an input of shape in;
	// -1 stands for a size known only at run time (batch, time).
	OutputShape(in []int) []int
	// Forward adds the layer to g and returns its output. mask is
	// [batch, time] with 1 for real tokens and 0 for padding, or nil.
	Forward(g *Graph, x, mask *G.Node) (*G.Node, error)
}

// CountParams returns the number of trainable and non-trainable scalars in
// params, as Keras's summary counts them.
func CountParams(params []*Param) (trainable, frozen int) {
	for _, p := range params {
		if p.Trainable {
			trainable += p.Size()
		} else {
			frozen += p.Size()
		}
	}
	return trainable, frozen
}

func shapeError(layer string, got []int, want string) error {
	return fmt.Errorf("%s: input shape %v, want %s", layer, got, want)
}

// ReadGrads copies the gradient of every trainable parameter of the graph
// into its Param.Grad, after a machine compiled with the backward pass
// (gorgonia.Grad on the nodes of Trainable) has run. The TapeMachine adds
// each run's gradient into the dual values that gorgonia.BindDualValues
// binds, so ReadGrads reads the gradient nodes' own values and zeroes the
// dual values, keeping every run's gradients its own.
func (g *Graph) ReadGrads() error {
	for _, p := range g.params {
		if !p.Trainable {
			continue
		}
		n := g.nodes[p]
		var v G.Value
		if d := n.Deriv(); d != nil {
			v = d.Value()
		}
		if v == nil {
			return fmt.Errorf("%s: no gradient: compile the graph with gorgonia.Grad", p.Name)
		}
		d, ok := v.(*tensor.Dense)
		if !ok || d.Shape().TotalSize() != p.Grad.Shape().TotalSize() {
			return fmt.Errorf("%s: gradient %v of shape %v, want %v", p.Name, v.Dtype(), v.Shape(), p.Grad.Shape())
		}
		if err := tensor.Copy(p.Grad, d); err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		if dv, err := n.Grad(); err == nil && dv != d {
			if t, ok := dv.(*tensor.Dense); ok {
				t.Zero()
			}
		}
	}
	return nil
}
