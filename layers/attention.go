package layers

import (
	"fmt"
	"math"
	"math/rand"

	"github.com/classify/classify/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MultiHeadAttention is multi-head self-attention (Vaswani et al. 2017)
// as torch.nn.MultiheadAttention computes it with a key padding mask:
//
//	[q k v] = x·in_proj_weightᵀ + in_proj_bias
//	head_h  = softmax(q_h·k_hᵀ/√(dim/heads) + bias_h)·v_h   over real keys only
//	y       = [head_1 ... head_heads]·out_proj.weightᵀ + out_proj.bias
//
// with, as position schemes, queries and keys rotated (Rotary) or the
// ALiBi term in bias_h, or neither. Projections, scores, mask, softmax,
// dropout and values are one fused node with a hand-written backward pass
// on the kernels' Gemm. Output rows after a sequence's last real token are
// out_proj.bias: they are padding, and every later layer masks them.
type MultiHeadAttention struct {
	named
	// Heads is the number of heads; it divides the width.
	Heads int
	// InProjWeight is "<prefix>.in_proj_weight" [3·dim, dim], the query,
	// key and value projections stacked as PyTorch does; InProjBias
	// "<prefix>.in_proj_bias" [3·dim]; OutProjWeight
	// "<prefix>.out_proj.weight" [dim, dim]; OutProjBias
	// "<prefix>.out_proj.bias" [dim].
	InProjWeight, InProjBias, OutProjWeight, OutProjBias *Param
	// Rotary, when set, rotates queries and keys; ALiBi, when set, biases
	// the logits. At most one of them is set.
	Rotary *Rotary
	ALiBi  *ALiBi
	// Dropout is the rate of dropout on the attention weights
	// (MultiheadAttention's dropout), OutputDropout on the output (a
	// TransformerEncoderLayer's dropout1). Both apply in training only.
	Dropout, OutputDropout float64

	rng    *rand.Rand
	states *kernelStates
}

// AttentionOption configures a MultiHeadAttention.
type AttentionOption func(*MultiHeadAttention)

// WithRotary rotates queries and keys by r (RoPE).
func WithRotary(r *Rotary) AttentionOption { return func(a *MultiHeadAttention) { a.Rotary = r } }

// WithALiBi adds the ALiBi biases of al to the logits.
func WithALiBi(al *ALiBi) AttentionOption { return func(a *MultiHeadAttention) { a.ALiBi = al } }

// WithAttentionDropout drops attention weights at rate attn and outputs at
// rate out while training.
func WithAttentionDropout(attn, out float64) AttentionOption {
	return func(a *MultiHeadAttention) { a.Dropout, a.OutputDropout = attn, out }
}

// NewMultiHeadAttention makes the attention of heads heads over dim
// features, its parameters named prefix.in_proj_weight and so on
// ("self_attn" gives PyTorch's names in a TransformerEncoderLayer). As in
// PyTorch, in_proj_weight is Glorot-uniform over its [3·dim, dim] shape,
// out_proj.weight uniform in ±1/√dim, and the biases zero. The dropout
// masks come from a source of the layer's own, seeded from rng.
func NewMultiHeadAttention(prefix string, dim, heads int, dt tensor.Dtype, rng *rand.Rand, opts ...AttentionOption) (*MultiHeadAttention, error) {
	if dim <= 0 || heads <= 0 || dim%heads != 0 {
		return nil, fmt.Errorf("attention: %d heads over %d features, want heads dividing the width", heads, dim)
	}
	a := &MultiHeadAttention{
		named:         named{"multi_head_attention"},
		Heads:         heads,
		InProjWeight:  NewParam(prefix+".in_proj_weight", GlorotUniform(3*dim, dim, dt, rng), true),
		InProjBias:    NewParam(prefix+".in_proj_bias", newTensor(dt, 3*dim), true),
		OutProjWeight: NewParam(prefix+".out_proj.weight", fromFloat64s(dt, uniform(dim, dim, 1/math.Sqrt(float64(dim)), rng), dim, dim), true),
		OutProjBias:   NewParam(prefix+".out_proj.bias", newTensor(dt, dim), true),
		rng:           rand.New(rand.NewSource(rng.Int63())),
		states:        &kernelStates{},
	}
	for _, o := range opts {
		o(a)
	}
	if a.Rotary != nil && a.ALiBi != nil {
		return nil, fmt.Errorf("attention: rotary and ALiBi positions together")
	}
	if a.Rotary != nil && (a.Rotary.HeadDim != dim/heads || a.Rotary.HeadDim%2 != 0) {
		return nil, fmt.Errorf("attention: rotary head width %d, heads are %d wide: want equal and even", a.Rotary.HeadDim, dim/heads)
	}
	if a.ALiBi != nil && a.ALiBi.Heads != heads {
		return nil, fmt.Errorf("attention: ALiBi for %d heads, attention has %d", a.ALiBi.Heads, heads)
	}
	for _, r := range []float64{a.Dropout, a.OutputDropout} {
		if r < 0 || r >= 1 {
			return nil, fmt.Errorf("attention: dropout rate %v, want [0, 1)", r)
		}
	}
	return a, nil
}

// Reseed restarts the stream the dropout masks are drawn from, as
// Dropout.Reseed does, so that a model reseeded each step draws the same
// masks when its training resumes.
func (a *MultiHeadAttention) Reseed(seed int64) { a.rng.Seed(seed) }

// Dim is the width of the input and the output.
func (a *MultiHeadAttention) Dim() int { return a.OutProjWeight.Value.Shape()[0] }

// Params returns in_proj_weight, in_proj_bias, out_proj.weight and
// out_proj.bias.
func (a *MultiHeadAttention) Params() []*Param {
	return []*Param{a.InProjWeight, a.InProjBias, a.OutProjWeight, a.OutProjBias}
}

// OutputShape is the input shape.
func (a *MultiHeadAttention) OutputShape(in []int) []int { return append([]int{}, in...) }

// Forward attends x, [batch, time, dim], to itself; mask, [batch, time]
// with 1 for real tokens, keeps padded keys out of every head (nil: all
// real).
func (a *MultiHeadAttention) Forward(g *Graph, x, mask *G.Node) (*G.Node, error) {
	k, inputs, diff, err := a.node(g, x, mask)
	if err != nil {
		return nil, err
	}
	y, err := applyFused("MultiHeadAttention", k, x.Shape(), diff, inputs...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.name, err)
	}
	return y, nil
}

// node checks x and mask and returns the kernel of the attention's fused
// node, its inputs (x first) and which of them it differentiates.
func (a *MultiHeadAttention) node(g *Graph, x, mask *G.Node) (fusedKernel, []*G.Node, []bool, error) {
	s := x.Shape().Clone()
	d := a.Dim()
	if s.Dims() != 3 || s[2] != d {
		return nil, nil, nil, shapeError(a.name, s, fmt.Sprintf("[batch, time, %d]", d))
	}
	if dt := a.InProjWeight.Value.Dtype(); dt != g.Dtype || x.Dtype() != g.Dtype {
		return nil, nil, nil, fmt.Errorf("%s: weights of type %v and input of type %v in a %v graph", a.name, dt, x.Dtype(), g.Dtype)
	}
	mask, err := maskOrOnes(g, a.name, mask, s[0], s[1])
	if err != nil {
		return nil, nil, nil, err
	}
	var drop, outDrop float64
	if g.Training {
		drop, outDrop = a.Dropout, a.OutputDropout
	}
	if (drop > 0 || outDrop > 0) && a.rng == nil {
		return nil, nil, nil, fmt.Errorf("%s: dropout without a random source", a.name)
	}
	var k fusedKernel
	switch g.Dtype {
	case tensor.Float32:
		k = newAttentionKernel[float32](a, s, g.Dtype, drop, outDrop)
	case tensor.Float64:
		k = newAttentionKernel[float64](a, s, g.Dtype, drop, outDrop)
	default:
		return nil, nil, nil, dtypeError(a.name, g.Dtype)
	}
	inputs := []*G.Node{x, mask, g.Param(a.InProjWeight), g.Param(a.InProjBias), g.Param(a.OutProjWeight), g.Param(a.OutProjBias)}
	diff := []bool{true, false, a.InProjWeight.Trainable, a.InProjBias.Trainable, a.OutProjWeight.Trainable, a.OutProjBias.Trainable}
	return k, inputs, diff, nil
}

// attentionKernel runs kernels.Attention for one node, on a state
// borrowed from the layer for each pass.
type attentionKernel[F kernels.Float] struct {
	layer         *MultiHeadAttention
	dtype         tensor.Dtype
	b, t, d       int
	k             *kernels.Attention[F] // borrowed, or nil
	training      bool                  // a backward pass follows the forward pass
	real          []bool
	drop, outDrop float64
	out           *tensor.Dense
	grads         gradTensors[F]
}

func newAttentionKernel[F kernels.Float](a *MultiHeadAttention, s tensor.Shape, dt tensor.Dtype, drop, outDrop float64) *attentionKernel[F] {
	return &attentionKernel[F]{layer: a, dtype: dt, b: s[0], t: s[1], d: s[2], real: make([]bool, s[0]*s[1]),
		drop: drop, outDrop: outDrop, grads: make(gradTensors[F], 6)}
}

func (k *attentionKernel[F]) differentiated() { k.training = true }

// borrow gives the node a kernel state, unless it holds one from a forward
// pass whose backward pass never came.
func (k *attentionKernel[F]) borrow() error {
	if k.k != nil {
		return nil
	}
	if v, ok := k.layer.states.get(k.dtype).(*kernels.Attention[F]); ok {
		k.k = v
		return nil
	}
	a := kernels.NewAttention[F](k.layer.Heads)
	if k.layer.Rotary != nil {
		a.SetRotary(k.layer.Rotary.Base)
	}
	if k.layer.ALiBi != nil {
		if err := a.SetSlopes(k.layer.ALiBi.Slopes()); err != nil {
			return err
		}
	}
	k.k = a
	return nil
}

func (k *attentionKernel[F]) giveBack() {
	if k.layer.states.put(k.dtype, k.k) {
		k.k = nil
	}
}

func (k *attentionKernel[F]) forward(in []G.Value) (G.Value, error) {
	v, err := floatsOf[F](in, 0, 2, 3, 4, 5)
	if err != nil {
		return nil, err
	}
	if err := realMask(in[1], k.real); err != nil {
		return nil, err
	}
	if err := k.borrow(); err != nil {
		return nil, err
	}
	k.out = reuse[F](k.out, k.b, k.t, k.d)
	var drop, outDrop kernels.Dropout
	if k.drop > 0 {
		drop = kernels.Dropout{Rate: k.drop, Seed: k.layer.rng.Uint64()}
	}
	if k.outDrop > 0 {
		outDrop = kernels.Dropout{Rate: k.outDrop, Seed: k.layer.rng.Uint64()}
	}
	k.k.Forward(v[0], k.real, k.b, k.t, k.d, v[1], v[2], v[3], v[4], drop, outDrop, k.out.Data().([]F))
	if !k.training {
		k.giveBack()
	}
	return k.out, nil
}

func (k *attentionKernel[F]) backward(in []G.Value, _, dy G.Value) error {
	if k.k == nil {
		return fmt.Errorf("backward pass without its forward pass")
	}
	v, err := floatsOf[F](in, 0, 2, 4)
	if err != nil {
		return err
	}
	d, err := data[F](dy)
	if err != nil {
		return err
	}
	dm := k.d
	// The kernel writes dx straight into the node's gradient tensor.
	k.grads[0] = reuse[F](k.grads[0], k.b, k.t, dm)
	k.k.DX = k.grads[0].Data().([]F)
	k.k.Backward(v[0], v[1], v[2], d)
	k.k.DX = nil
	k.grads.set(2, k.k.DWin, tensor.Shape{3 * dm, dm})
	k.grads.set(3, k.k.DBin, tensor.Shape{3 * dm})
	k.grads.set(4, k.k.DWout, tensor.Shape{dm, dm})
	k.grads.set(5, k.k.DBout, tensor.Shape{dm})
	k.giveBack()
	return nil
}

func (k *attentionKernel[F]) grad(i int) (G.Value, error) { return k.grads.get(i) }
