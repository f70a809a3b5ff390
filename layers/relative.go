package layers

import (
	"fmt"
	"math/rand"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// RelativeAttention is the `relative` positional encoding: a residual
// single-head self-attention layer, y = x + Attn(x), whose logits and values
// carry learned relative-position vectors (Shaw, Uszkoreit & Vaswani 2018,
// "Self-Attention with Relative Position Representations"). For a query
// position i and key positions j, with clip(j-i) = max(-k, min(k, j-i)):
//
//	q_i = Wq x_i, key_j = Wk x_j, v_j = Wv x_j
//	e_ij = q_i·(key_j + aK[clip(j-i)]) / sqrt(D)
//	a_ij = softmax over the real positions j of e_ij
//	z_i  = Σ_j a_ij (v_j + aV[clip(j-i)])
//	y_i  = x_i + Wo z_i
//
// Padded keys are never attended, and a padded query's output is its input.
// Wo is the output projection W^O that the Transformer, and so Shaw et al.,
// apply to the attention heads' concatenation. No projection has a bias, as
// in the paper. The layer runs as one Gorgonia op with a hand-written
// backward pass.
type RelativeAttention struct {
	// Dim is the width D of the input, of each projection and of the output.
	Dim int
	// MaxRelative is k, the distance beyond which relative positions share
	// the end vectors of the tables.
	MaxRelative int
	// Query, Key, Value and Output are [D, D] projections in PyTorch's
	// [out, in] layout: "relpos.query.weight", "relpos.key.weight",
	// "relpos.value.weight", "relpos.output.weight".
	Query, Key, Value, Output *Param
	// KeyEmbedding and ValueEmbedding are the [2k+1, D] tables aK and aV,
	// row r for the clipped distance j-i = r-k: "relpos.key_embedding",
	// "relpos.value_embedding".
	KeyEmbedding, ValueEmbedding *Param
}

// NewRelativeAttention makes a relative attention layer of width dim with
// relative distances clipped at maxRelative, its weights of element type
// dt drawn Glorot-uniform from rng, the relative tables as [2k+1, D]
// matrices too. A negative maxRelative counts as 0: one vector for every
// distance, so no position information.
func NewRelativeAttention(dim, maxRelative int, dt tensor.Dtype, rng *rand.Rand) *RelativeAttention {
	maxRelative = max(maxRelative, 0)
	r := 2*maxRelative + 1
	return &RelativeAttention{
		Dim:            dim,
		MaxRelative:    maxRelative,
		Query:          NewParam("relpos.query.weight", GlorotUniform(dim, dim, dt, rng), true),
		Key:            NewParam("relpos.key.weight", GlorotUniform(dim, dim, dt, rng), true),
		Value:          NewParam("relpos.value.weight", GlorotUniform(dim, dim, dt, rng), true),
		Output:         NewParam("relpos.output.weight", GlorotUniform(dim, dim, dt, rng), true),
		KeyEmbedding:   NewParam("relpos.key_embedding", GlorotUniform(r, dim, dt, rng), true),
		ValueEmbedding: NewParam("relpos.value_embedding", GlorotUniform(r, dim, dt, rng), true),
	}
}

// Name is the layer's name in summaries.
func (a *RelativeAttention) Name() string { return "relative_attention" }

// Params lists the projections Wq, Wk, Wv, Wo, then the tables aK, aV.
func (a *RelativeAttention) Params() []*Param {
	return []*Param{a.Query, a.Key, a.Value, a.Output, a.KeyEmbedding, a.ValueEmbedding}
}

// OutputShape is the input shape: [batch, time, Dim].
func (a *RelativeAttention) OutputShape(in []int) []int {
	return append([]int(nil), in...)
}

// Forward adds the layer to g: x is [B, T, Dim], mask is [B, T] with 1 for
// real tokens and 0 for padding, of x's dtype, or nil when every token is
// real. The result is [B, T, Dim].
func (a *RelativeAttention) Forward(g *Graph, x, mask *G.Node) (*G.Node, error) {
	s := x.Shape()
	if len(s) != 3 || s[2] != a.Dim {
		return nil, shapeError(a.Name(), s, fmt.Sprintf("[batch, time, %d]", a.Dim))
	}
	b, t := s[0], s[1]
	dt := a.Query.Value.Dtype()
	if x.Dtype() != dt {
		return nil, fmt.Errorf("%s: input of dtype %v, weights %v", a.Name(), x.Dtype(), dt)
	}
	if mask == nil {
		mask = onesMask(g.ExprGraph, dt, b, t)
	} else if ms := mask.Shape(); len(ms) != 2 || ms[0] != b || ms[1] != t || mask.Dtype() != dt {
		return nil, fmt.Errorf("%s: mask %v %v, want %v [%d %d]", a.Name(), mask.Dtype(), ms, dt, b, t)
	}
	y, err := applyRelative(x, mask, [6]*G.Node{g.Param(a.Query), g.Param(a.Key), g.Param(a.Value), g.Param(a.Output),
		g.Param(a.KeyEmbedding), g.Param(a.ValueEmbedding)}, a.MaxRelative)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.Name(), err)
	}
	return y, nil
}
