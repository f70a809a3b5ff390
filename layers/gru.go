package layers

import (
	"fmt"
	"math"
	"math/rand"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// GRU is a gated recurrent unit layer (Cho et al. 2014) with PyTorch's
// semantics and weight layout, gates in the order r, z, n:
//
//	r = σ(W_ir x + b_ir + W_hr h + b_hr)
//	z = σ(W_iz x + b_iz + W_hz h + b_hz)
//	n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
//	h' = (1 - z) ⊙ n + z ⊙ h
//
// A masked step keeps h and outputs it, as LSTM does, so Bidirectional
// pairs two GRUs as it pairs two LSTMs. It is built from Gorgonia
// primitives, one set per step.
type GRU struct {
	named
	// WeightIH [3H, In], WeightHH [3H, H], BiasIH and BiasHH [3H]:
	// "gru.weight_ih_l0", "gru.weight_hh_l0", "gru.bias_ih_l0",
	// "gru.bias_hh_l0" (suffix "_reverse" going backwards).
	WeightIH, WeightHH, BiasIH, BiasHH *Param

	in, hidden      int
	returnSequences bool
	backwards       bool
}

// NewGRU makes a GRU from in features to hidden units with PyTorch's
// initialisation: every weight and bias from U(-1/sqrt(H), 1/sqrt(H)).
// Of the LSTM options it takes ReturnSequences and GoBackwards.
func NewGRU(in, hidden int, dt tensor.Dtype, rng *rand.Rand, opts ...LSTMOption) *GRU {
	var l LSTM
	for _, o := range opts {
		o(&l)
	}
	g := &GRU{named: named{"gru"}, in: in, hidden: hidden, returnSequences: l.returnSequences, backwards: l.backwards}
	suffix := "_l0"
	if g.backwards {
		suffix += "_reverse"
	}
	limit := 1 / math.Sqrt(float64(hidden))
	param := func(name string, shape ...int) *Param {
		n := 1
		for _, d := range shape {
			n *= d
		}
		return NewParam("gru."+name+suffix, fromFloat64s(dt, uniform(1, n, limit, rng), shape...), true)
	}
	g.WeightIH, g.WeightHH = param("weight_ih", 3*hidden, in), param("weight_hh", 3*hidden, hidden)
	g.BiasIH, g.BiasHH = param("bias_ih", 3*hidden), param("bias_hh", 3*hidden)
	return g
}

var _ Recurrent = (*GRU)(nil)

// Hidden is the number of units.
func (g *GRU) Hidden() int { return g.hidden }

// Backwards reports whether the layer reads its input from the end.
func (g *GRU) Backwards() bool { return g.backwards }

// Sequences reports whether the layer returns its output at every step.
func (g *GRU) Sequences() bool { return g.returnSequences }

// Params returns the input and recurrent kernels, then the two biases.
func (g *GRU) Params() []*Param { return []*Param{g.WeightIH, g.WeightHH, g.BiasIH, g.BiasHH} }

// OutputShape is [batch, time, hidden] with ReturnSequences, else
// [batch, hidden].
func (g *GRU) OutputShape(in []int) []int {
	if g.returnSequences {
		return []int{in[0], in[1], g.hidden}
	}
	return []int{in[0], g.hidden}
}

// Forward runs the layer over x, [batch, time, in], where mask, [batch,
// time], is 1 (every step when mask is nil).
func (g *GRU) Forward(gr *Graph, x, mask *G.Node) (*G.Node, error) {
	s := x.Shape()
	if s.Dims() != 3 || s[2] != g.in {
		return nil, shapeError(g.name, s, fmt.Sprintf("[batch, time, %d]", g.in))
	}
	if dt := g.WeightIH.Value.Dtype(); dt != gr.Dtype || x.Dtype() != gr.Dtype {
		return nil, fmt.Errorf("%s: weights of type %v and input of type %v in a %v graph", g.name, dt, x.Dtype(), gr.Dtype)
	}
	if mask != nil {
		if ms := mask.Shape(); ms.Dims() != 2 || ms[0] != s[0] || ms[1] != s[1] {
			return nil, fmt.Errorf("%s: mask of shape %v for input %v", g.name, ms, s)
		}
	}
	y, err := g.unroll(gr, x, mask)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", g.name, err)
	}
	return y, nil
}

// unroll adds every step: the input projections of all steps as one
// product, then per step the recurrent product and the gates.
func (g *GRU) unroll(gr *Graph, x, mask *G.Node) (*G.Node, error) {
	s := x.Shape()
	batch, steps, H := s[0], s[1], g.hidden
	x2, err := G.Reshape(x, tensor.Shape{batch * steps, g.in})
	if err != nil {
		return nil, err
	}
	project := func(m *G.Node, w, b *Param) (*G.Node, error) {
		wt, err := G.Transpose(gr.Param(w))
		if err != nil {
			return nil, err
		}
		p, err := G.Mul(m, wt)
		if err != nil {
			return nil, err
		}
		bias, err := G.Reshape(gr.Param(b), tensor.Shape{1, 3 * H})
		if err != nil {
			return nil, err
		}
		return G.BroadcastAdd(p, bias, nil, []byte{0})
	}
	xw, err := project(x2, g.WeightIH, g.BiasIH)
	if err != nil {
		return nil, err
	}
	if xw, err = G.Reshape(xw, tensor.Shape{batch, steps, 3 * H}); err != nil {
		return nil, err
	}
	h := G.NodeFromAny(gr.ExprGraph, newTensor(gr.Dtype, batch, H), G.WithName(fmt.Sprintf("%s.h0.%p", g.name, g)))
	outputs := make([]*G.Node, steps)
	for i := 0; i < steps; i++ {
		t := i
		if g.backwards {
			t = steps - 1 - i
		}
		xt, err := G.Slice(xw, nil, G.S(t))
		if err != nil {
			return nil, err
		}
		hw, err := project(h, g.WeightHH, g.BiasHH)
		if err != nil {
			return nil, err
		}
		hNew, err := g.cell(xt, hw, h)
		if err != nil {
			return nil, err
		}
		if mask != nil {
			m, err := G.Slice(mask, nil, G.S(t))
			if err != nil {
				return nil, err
			}
			if m, err = G.Reshape(m, tensor.Shape{batch, 1}); err != nil {
				return nil, err
			}
			if hNew, err = keepMasked(h, hNew, m); err != nil {
				return nil, err
			}
		}
		h = hNew
		outputs[t] = h
	}
	if !g.returnSequences {
		return h, nil
	}
	for t, o := range outputs {
		if outputs[t], err = G.Reshape(o, tensor.Shape{batch, 1, H}); err != nil {
			return nil, err
		}
	}
	if steps == 1 {
		return outputs[0], nil
	}
	return G.Concat(1, outputs...)
}

// cell computes h' from the step's input projection xt, recurrent
// projection hw (both [batch, 3H], biases included) and h.
func (g *GRU) cell(xt, hw, h *G.Node) (*G.Node, error) {
	H := g.hidden
	part := func(n *G.Node, k int) (*G.Node, error) { return G.Slice(n, nil, G.S(k*H, (k+1)*H)) }
	gate := func(k int) (*G.Node, error) {
		a, err := part(xt, k)
		if err != nil {
			return nil, err
		}
		b, err := part(hw, k)
		if err != nil {
			return nil, err
		}
		sum, err := G.Add(a, b)
		if err != nil {
			return nil, err
		}
		return G.Sigmoid(sum)
	}
	r, err := gate(0)
	if err != nil {
		return nil, err
	}
	z, err := gate(1)
	if err != nil {
		return nil, err
	}
	xn, err := part(xt, 2)
	if err != nil {
		return nil, err
	}
	hn, err := part(hw, 2)
	if err != nil {
		return nil, err
	}
	rh, err := G.HadamardProd(r, hn)
	if err != nil {
		return nil, err
	}
	pre, err := G.Add(xn, rh)
	if err != nil {
		return nil, err
	}
	n, err := G.Tanh(pre)
	if err != nil {
		return nil, err
	}
	// h' = n + z ⊙ (h - n)
	d, err := G.Sub(h, n)
	if err != nil {
		return nil, err
	}
	zd, err := G.HadamardProd(z, d)
	if err != nil {
		return nil, err
	}
	return G.Add(n, zd)
}
