package layers

import (
	"fmt"

	"github.com/chewxy/hm"
	"github.com/classify/classify/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Rotary is the `rope` position scheme, RoFormer's rotary position
// embedding (Su et al. 2021, eq. 34): queries and keys, cut into heads of
// HeadDim features, have each feature pair (2i, 2i+1) at position m turned
// by the angle m·θ_i, θ_i = Base^(-2i/HeadDim). A query-key product then
// depends on the positions only through their difference. Give it to a
// MultiHeadAttention (WithRotary), which rotates inside its fused node, or
// apply Forward to any model's queries and keys. It has no parameters.
type Rotary struct {
	named
	// HeadDim is the width of one head; it must be even.
	HeadDim int
	// Base is 10000 in the paper.
	Base float64
}

// NewRotary makes the rotary embedding of heads headDim wide, base 10000.
func NewRotary(headDim int) *Rotary {
	return &Rotary{named: named{"rotary"}, HeadDim: headDim, Base: 10000}
}

// Params returns nothing: the rotation is fixed.
func (r *Rotary) Params() []*Param { return nil }

// OutputShape is the input shape.
func (r *Rotary) OutputShape(in []int) []int { return append([]int{}, in...) }

// Forward rotates x, [batch, time, dim] with dim a multiple of HeadDim,
// step t by the angles of position t; mask is not used.
func (r *Rotary) Forward(g *Graph, x, mask *G.Node) (*G.Node, error) {
	s := x.Shape().Clone()
	if r.HeadDim <= 0 || r.HeadDim%2 != 0 {
		return nil, fmt.Errorf("%s: head width %d, want a positive even number", r.name, r.HeadDim)
	}
	if s.Dims() != 3 || s[2]%r.HeadDim != 0 {
		return nil, shapeError(r.name, s, fmt.Sprintf("[batch, time, a multiple of %d]", r.HeadDim))
	}
	y, err := G.ApplyOp(r.op(s), x)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.name, err)
	}
	return y, nil
}

func (r *Rotary) op(s tensor.Shape) *funcOp {
	b, t, d := s[0], s[1], s[2]
	rotate := func(v G.Value, inverse bool) (G.Value, error) {
		out := newTensor(v.Dtype(), s...)
		switch o := out.Data().(type) {
		case []float32:
			x, err := data[float32](v)
			if err != nil {
				return nil, err
			}
			copy(o, x)
			c, sn := kernels.RotaryTables[float32](t, r.HeadDim, r.Base)
			kernels.Rotate(o, b*t, d, d, t, r.HeadDim, c, sn, inverse)
		case []float64:
			x, err := data[float64](v)
			if err != nil {
				return nil, err
			}
			copy(o, x)
			c, sn := kernels.RotaryTables[float64](t, r.HeadDim, r.Base)
			kernels.Rotate(o, b*t, d, d, t, r.HeadDim, c, sn, inverse)
		default:
			return nil, dtypeError(r.name, v.Dtype())
		}
		return out, nil
	}
	return &funcOp{
		name:    "rotary",
		in:      []hm.Type{tensorType(3)},
		out:     tensorType(3),
		diff:    []bool{true},
		shape:   func(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil },
		forward: func(in []G.Value) (G.Value, error) { return rotate(in[0], false) },
		// The rotation is orthogonal: its gradient turns dy back.
		grad: func(_ int, _ []G.Value, _, dy G.Value) (G.Value, error) { return rotate(dy, true) },
	}
}
