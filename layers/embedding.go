package layers

import (
	"fmt"

	"github.com/chewxy/hm"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Embedding maps token ids to rows of a [vocab, dim] matrix. Frozen (the
// default for pretrained vectors) it gets no gradient and the optimizer
// never sees it; trainable, its gradient is a scatter-add of the output's
// gradient into the rows that were read.
type Embedding struct {
	named
	// Weight is the [vocab, dim] matrix, "embedding.weight".
	Weight *Param
}

// NewEmbedding makes an Embedding from a [vocab, dim] matrix, which it
// keeps (not a copy), trainable or frozen.
func NewEmbedding(weights *tensor.Dense, trainable bool) *Embedding {
	return &Embedding{named: named{"embedding"}, Weight: NewParam("embedding.weight", weights, trainable)}
}

// Vocab is the number of rows, Dim the width of a row.
func (e *Embedding) Vocab() int { return e.Weight.Value.Shape()[0] }

// Dim is the width of an embedding row.
func (e *Embedding) Dim() int { return e.Weight.Value.Shape()[1] }

// Params returns the embedding matrix.
func (e *Embedding) Params() []*Param { return []*Param{e.Weight} }

// OutputShape is [batch, time, dim] for ids of shape [batch, time].
func (e *Embedding) OutputShape(in []int) []int {
	return append(append([]int{}, in...), e.Dim())
}

// Forward looks up ids, a [batch, time] node of tensor.Int, and returns
// the [batch, time, dim] embedded sequence. mask is not used: padding
// (id 0) reads the zero row, and the mask travels separately.
func (e *Embedding) Forward(g *Graph, ids, mask *G.Node) (*G.Node, error) {
	if ids.Dims() != 2 || ids.Dtype() != tensor.Int {
		return nil, fmt.Errorf("embedding: ids of shape %v and type %v, want [batch, time] of int", ids.Shape(), ids.Dtype())
	}
	if e.Weight.Value.Dtype() != g.Dtype {
		return nil, fmt.Errorf("embedding: weights of type %v in a %v graph", e.Weight.Value.Dtype(), g.Dtype)
	}
	return G.ApplyOp(gatherOp(), g.Param(e.Weight), ids)
}

// PaddingMask returns the [rows, cols] mask of ids, row-major: 1 where the
// id is a real token, 0 where it is padding (id 0).
func PaddingMask(ids []int, rows, cols int, dt tensor.Dtype) *tensor.Dense {
	m := make([]float64, rows*cols)
	for i, id := range ids[:rows*cols] {
		if id != 0 {
			m[i] = 1
		}
	}
	return fromFloat64s(dt, m, rows, cols)
}

// gatherOp reads rows of a [vocab, dim] matrix at [batch, time] ids. Its
// gradient with respect to the matrix is a scatter-add; Gorgonia's
// ByIndices differentiates correctly on the TapeMachine only and wants a
// vector of ids.
func gatherOp() *funcOp {
	// The [vocab, dim] gradient is reused from run to run: allocating and
	// zeroing a fresh one costs more than clearing it.
	var dw *tensor.Dense
	return &funcOp{
		name: "embedding.gather",
		in:   []hm.Type{tensorType(2), intTensorType(2)},
		out:  tensorType(3),
		diff: []bool{true, false},
		shape: func(s []tensor.Shape) (tensor.Shape, error) {
			if len(s) != 2 || s[0].Dims() != 2 || s[1].Dims() != 2 {
				return nil, fmt.Errorf("embedding: shapes %v, want [vocab, dim] and [batch, time]", s)
			}
			return tensor.Shape{s[1][0], s[1][1], s[0][1]}, nil
		},
		forward: func(in []G.Value) (G.Value, error) {
			ids, ok := in[1].Data().([]int)
			if !ok {
				return nil, fmt.Errorf("embedding: ids of type %v, want int", in[1].Dtype())
			}
			s, dim := in[1].Shape(), in[0].Shape()[1]
			out := newTensor(in[0].Dtype(), s[0], s[1], dim)
			switch w := in[0].Data().(type) {
			case []float32:
				return out, gather(out.Data().([]float32), w, ids, dim)
			case []float64:
				return out, gather(out.Data().([]float64), w, ids, dim)
			}
			return nil, dtypeError("embedding", in[0].Dtype())
		},
		grad: func(_ int, in []G.Value, _, dy G.Value) (G.Value, error) {
			ids := in[1].Data().([]int)
			dim := in[0].Shape()[1]
			if dw == nil || !dw.Shape().Eq(in[0].Shape()) || dw.Dtype() != in[0].Dtype() {
				dw = newTensor(in[0].Dtype(), in[0].Shape()...)
			} else {
				dw.Zero()
			}
			switch d := dw.Data().(type) {
			case []float32:
				g, err := data[float32](dy)
				if err != nil {
					return nil, err
				}
				scatterAdd(d, g, ids, dim)
			case []float64:
				g, err := data[float64](dy)
				if err != nil {
					return nil, err
				}
				scatterAdd(d, g, ids, dim)
			default:
				return nil, dtypeError("embedding", in[0].Dtype())
			}
			return dw, nil
		},
	}
}

func gather[T float](out, w []T, ids []int, dim int) error {
	vocab := len(w) / dim
	for i, id := range ids {
		if id < 0 || id >= vocab {
			return fmt.Errorf("embedding: id %d outside the vocabulary of %d", id, vocab)
		}
		copy(out[i*dim:(i+1)*dim], w[id*dim:(id+1)*dim])
	}
	return nil
}

func scatterAdd[T float](dw, dy []T, ids []int, dim int) {
	for i, id := range ids {
		row, g := dw[id*dim:(id+1)*dim], dy[i*dim:(i+1)*dim]
		for j := range row {
			row[j] += g[j]
		}
	}
}
