package layers

import (
	"fmt"

	"github.com/chewxy/hm"
	"github.com/classify/classify/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// GELU is the Gaussian error linear unit, y = x·Φ(x) with Φ the standard
// normal distribution function (Hendrycks & Gimpel 2016), the exact erf
// form that is torch.nn.GELU's default and Keras's gelu(approximate=False).
type GELU struct{ named }

// NewGELU makes a GELU layer.
func NewGELU() *GELU { return &GELU{named{"gelu"}} }

// Params returns nothing: GELU has no weights.
func (a *GELU) Params() []*Param { return nil }

// OutputShape is the input shape.
func (a *GELU) OutputShape(in []int) []int { return append([]int{}, in...) }

// Forward applies GELU to every element of x; mask is not used.
func (a *GELU) Forward(g *Graph, x, mask *G.Node) (*G.Node, error) {
	y, err := G.ApplyOp(geluOp(x.Dims()), x)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.name, err)
	}
	return y, nil
}

func geluOp(dims int) *funcOp {
	return &funcOp{
		name:  "gelu",
		in:    []hm.Type{tensorType(dims)},
		out:   tensorType(dims),
		diff:  []bool{true},
		shape: func(s []tensor.Shape) (tensor.Shape, error) { return s[0].Clone(), nil },
		forward: func(in []G.Value) (G.Value, error) {
			out := newTensor(in[0].Dtype(), in[0].Shape()...)
			switch y := out.Data().(type) {
			case []float32:
				x, err := data[float32](in[0])
				if err != nil {
					return nil, err
				}
				kernels.GELU(x, y)
			case []float64:
				x, err := data[float64](in[0])
				if err != nil {
					return nil, err
				}
				kernels.GELU(x, y)
			default:
				return nil, dtypeError("gelu", in[0].Dtype())
			}
			return out, nil
		},
		grad: func(_ int, in []G.Value, _, dy G.Value) (G.Value, error) {
			out := newTensor(in[0].Dtype(), in[0].Shape()...)
			switch dx := out.Data().(type) {
			case []float32:
				x, err := data[float32](in[0])
				if err != nil {
					return nil, err
				}
				d, err := data[float32](dy)
				if err != nil {
					return nil, err
				}
				kernels.GELUBackward(x, d, dx)
			case []float64:
				x, err := data[float64](in[0])
				if err != nil {
					return nil, err
				}
				d, err := data[float64](dy)
				if err != nil {
					return nil, err
				}
				kernels.GELUBackward(x, d, dx)
			default:
				return nil, dtypeError("gelu", in[0].Dtype())
			}
			return out, nil
		},
	}
}
