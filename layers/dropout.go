package layers

import (
	"fmt"
	"math/rand"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Dropout zeroes each input element with probability Rate while training
// and scales the others by 1/(1-Rate) (inverted dropout), so that nothing
// changes at inference. Every run of a compiled graph draws a new mask from
// the layer's rng; Gorgonia's own dropout draws from a clock-seeded source.
type Dropout struct {
	named
	Rate float64
	rng  *rand.Rand
}

// NewDropout makes a dropout layer that draws its masks from rng.
func NewDropout(rate float64, rng *rand.Rand) *Dropout {
	return &Dropout{named: named{"dropout"}, Rate: rate, rng: rng}
}

// Reseed restarts the stream the masks are drawn from, so that a model
// can make each training step's masks depend on the step alone, and a
// resumed run draw the masks an uninterrupted one would.
func (d *Dropout) Reseed(seed int64) { d.rng.Seed(seed) }

// Params returns nothing: dropout has no weights.
func (d *Dropout) Params() []*Param { return nil }

// OutputShape is the input shape.
func (d *Dropout) OutputShape(in []int) []int { return append([]int{}, in...) }

// Forward returns x itself unless g.Training and Rate > 0.
func (d *Dropout) Forward(g *Graph, x, mask *G.Node) (*G.Node, error) {
	if !g.Training || d.Rate <= 0 {
		return x, nil
	}
	if d.Rate >= 1 {
		return nil, fmt.Errorf("%s: rate %v, want [0, 1)", d.name, d.Rate)
	}
	return G.ApplyOp(d.op(x.Dims()), x)
}

// op makes the dropout operation. The mask drawn by the forward pass is
// kept for the backward pass of the same run.
func (d *Dropout) op(dims int) *funcOp {
	var keep []bool
	scale := 1 / (1 - d.Rate)
	return &funcOp{
		name:  "dropout",
		in:    []hm.Type{tensorType(dims)},
		out:   tensorType(dims),
		diff:  []bool{true},
		shape: func(s []tensor.Shape) (tensor.Shape, error) { return s[0].Clone(), nil },
		forward: func(in []G.Value) (G.Value, error) {
			x := in[0].(*tensor.Dense)
			n := x.Shape().TotalSize()
			if len(keep) != n {
				keep = make([]bool, n)
			}
			for i := range keep {
				keep[i] = d.rng.Float64() >= d.Rate
			}
			out := x.Clone().(*tensor.Dense)
			return out, applyKeep(out, keep, scale)
		},
		grad: func(_ int, _ []G.Value, _, dy G.Value) (G.Value, error) {
			dx := dy.(*tensor.Dense).Clone().(*tensor.Dense)
			return dx, applyKeep(dx, keep, scale)
		},
	}
}

func applyKeep(t *tensor.Dense, keep []bool, scale float64) error {
	switch v := t.Data().(type) {
	case []float32:
		scaleKept(v, keep, float32(scale))
	case []float64:
		scaleKept(v, keep, scale)
	default:
		return dtypeError("dropout", t.Dtype())
	}
	return nil
}

func scaleKept[T float](v []T, keep []bool, scale T) {
	for i, k := range keep {
		if k {
			v[i] *= scale
		} else {
			v[i] = 0
		}
	}
}
