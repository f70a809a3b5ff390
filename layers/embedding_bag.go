package layers

import (
	"fmt"
	"math/rand"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// EmbeddingBag is the input layer of fastText's classifier (Joulin et al.
// 2017, "Bag of Tricks for Efficient Text Classification"): the mean of
// the table rows of a bag of ids, the text's words and its hashed word
// n-grams (data.WordNgrams), as PyTorch's nn.EmbeddingBag(mode="mean")
// with per-entry weights. Its table may have millions of rows, of which a
// batch reads a few thousand, so the backward pass is sparse: besides the
// gradient Gorgonia asks for, it leaves the gradient of just the rows the
// batch used in SparseGrad, for an optimizer that updates those rows only
// (train.SparseSGD, train.SparseAdam).
type EmbeddingBag struct {
	named
	// Table is the [rows, dim] matrix, "embedding_bag.weight": the word
	// rows, then the n-gram buckets.
	Table *Param

	sparse *SparseGrad
}

// SparseGrad is the gradient of a table over the rows one batch used:
// Values [len(Rows), dim] holds row Rows[i]'s gradient in row i. Every
// other row's gradient is zero.
type SparseGrad struct {
	Rows   []int
	Values *tensor.Dense
}

// NewEmbeddingBag makes a table of rows × dim drawn from U(-1/dim, 1/dim),
// as fastText draws its input matrix.
func NewEmbeddingBag(rows, dim int, dt tensor.Dtype, rng *rand.Rand, trainable bool) (*EmbeddingBag, error) {
	if rows <= 0 || dim <= 0 {
		return nil, fmt.Errorf("embedding bag: %d rows of %d values, want positive sizes", rows, dim)
	}
	t := fromFloat64s(dt, uniform(rows, dim, 1/float64(dim), rng), rows, dim)
	return &EmbeddingBag{named: named{"embedding_bag"}, Table: NewParam("embedding_bag.weight", t, trainable), sparse: new(SparseGrad)}, nil
}

// Rows is the number of rows of the table, Dim the width of a row.
func (e *EmbeddingBag) Rows() int { return e.Table.Value.Shape()[0] }

// Dim is the width of a row and of the output.
func (e *EmbeddingBag) Dim() int { return e.Table.Value.Shape()[1] }

// Params returns the table.
func (e *EmbeddingBag) Params() []*Param { return []*Param{e.Table} }

// OutputShape is [batch, dim] for ids of shape [batch, entries].
func (e *EmbeddingBag) OutputShape(in []int) []int { return []int{in[0], e.Dim()} }

// SparseGrad is the gradient of the table that the last backward pass of
// any graph the layer is built into computed, over the rows it used. It
// is overwritten by the next one.
func (e *EmbeddingBag) SparseGrad() *SparseGrad { return e.sparse }

// Forward averages the rows of ids, a [batch, entries] node of tensor.Int,
// weighted by weights, [batch, entries] of the graph's type: 1 for an
// entry, 0 for padding (nil: every entry counts). It returns [batch, dim].
// An id outside the table is an error when the graph runs.
func (e *EmbeddingBag) Forward(g *Graph, ids, weights *G.Node) (*G.Node, error) {
	s := ids.Shape()
	if s.Dims() != 2 || ids.Dtype() != tensor.Int {
		return nil, fmt.Errorf("%s: ids of shape %v and type %v, want [batch, entries] of int", e.name, s, ids.Dtype())
	}
	if e.Table.Value.Dtype() != g.Dtype {
		return nil, fmt.Errorf("%s: table of type %v in a %v graph", e.name, e.Table.Value.Dtype(), g.Dtype)
	}
	if weights == nil {
		weights = onesMask(g.ExprGraph, g.Dtype, s[0], s[1])
	} else if ws := weights.Shape(); ws.Dims() != 2 || ws[0] != s[0] || ws[1] != s[1] || weights.Dtype() != g.Dtype {
		return nil, fmt.Errorf("%s: weights %v of shape %v for ids %v", e.name, weights.Dtype(), ws, s)
	}
	y, err := applyEmbeddingBag(ids, weights, g.Param(e.Table), e.Table.Trainable, e.sparse)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.name, err)
	}
	return y, nil
}
