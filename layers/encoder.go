package layers

import (
	"fmt"
	"math"
	"math/rand"

	"github.com/classify/classify/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// EncoderConfig sizes a Transformer encoder (SPEC section 2b).
type EncoderConfig struct {
	// Layers is the number of blocks, Dim their width, Heads the heads of
	// each attention, FF the width of each feed-forward layer.
	Layers, Dim, Heads, FF int
	// Dropout is the rate of every dropout of a block, as PyTorch's
	// TransformerEncoderLayer(dropout=...) applies it: on the attention
	// weights, on the attention's output, after the GELU and on the
	// feed-forward output.
	Dropout float64
	// Rotary rotates every attention's queries and keys (RoPE); ALiBi
	// biases every attention's logits. Absolute and Shaw-style relative
	// positions are layers before the encoder instead.
	Rotary, ALiBi bool
	// FinalNorm adds a layer norm after the last block, "norm" in
	// nn.TransformerEncoder: pre-norm blocks leave their residual stream
	// unnormalised.
	FinalNorm bool
}

// Encoder is a stack of pre-layer-norm Transformer blocks, PyTorch's
// nn.TransformerEncoder of TransformerEncoderLayer(norm_first=True,
// activation="gelu", batch_first=True), with its optional final norm.
type Encoder struct {
	named
	Blocks []*EncoderBlock
	// Norm is the final layer norm, "<prefix>.norm", or nil.
	Norm *LayerNorm
}

// NewEncoder makes an encoder whose parameters carry PyTorch's names under
// prefix: "<prefix>.layers.0.self_attn.in_proj_weight", ...,
// "<prefix>.norm.weight". An empty prefix gives nn.TransformerEncoder's
// own state_dict names.
func NewEncoder(prefix string, cfg EncoderConfig, dt tensor.Dtype, rng *rand.Rand) (*Encoder, error) {
	if cfg.Layers <= 0 {
		return nil, fmt.Errorf("encoder: %d layers, want at least 1", cfg.Layers)
	}
	e := &Encoder{named: named{"transformer_encoder"}}
	for i := 0; i < cfg.Layers; i++ {
		b, err := NewEncoderBlock(joinName(prefix, fmt.Sprintf("layers.%d", i)), cfg, dt, rng)
		if err != nil {
			return nil, err
		}
		e.Blocks = append(e.Blocks, b)
	}
	if cfg.FinalNorm {
		e.Norm = NewLayerNorm(joinName(prefix, "norm"), cfg.Dim, dt)
	}
	return e, nil
}

// Params lists every block's parameters in order, then the final norm's.
func (e *Encoder) Params() []*Param {
	var ps []*Param
	for _, b := range e.Blocks {
		ps = append(ps, b.Params()...)
	}
	if e.Norm != nil {
		ps = append(ps, e.Norm.Params()...)
	}
	return ps
}

// Reseed restarts every block's dropout streams, each from its own seed
// derived from seed, as models.Sequential reseeds its random layers at
// every training step.
func (e *Encoder) Reseed(seed int64) {
	for i, b := range e.Blocks {
		b.reseed(seed, i)
	}
}

// Reseed restarts the block's dropout streams from seed.
func (b *EncoderBlock) Reseed(seed int64) { b.reseed(seed, 0) }

func (b *EncoderBlock) reseed(seed int64, i int) {
	mix := func(k uint64) int64 {
		z := uint64(seed) ^ k*0x9e3779b97f4a7c15
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		return int64(z ^ z>>31)
	}
	b.Attention.Reseed(mix(uint64(2*i + 1)))
	b.FeedForward.Reseed(mix(uint64(2*i + 2)))
}

// OutputShape is the input shape.
func (e *Encoder) OutputShape(in []int) []int { return append([]int{}, in...) }

// Forward runs x, [batch, time, dim], through the blocks with padding
// mask mask ([batch, time], nil for none) and the final norm.
func (e *Encoder) Forward(g *Graph, x, mask *G.Node) (*G.Node, error) {
	var err error
	for i, b := range e.Blocks {
		if x, err = b.Forward(g, x, mask); err != nil {
			return nil, fmt.Errorf("%s block %d: %w", e.name, i, err)
		}
	}
	if e.Norm != nil {
		return e.Norm.Forward(g, x, mask)
	}
	return x, nil
}

// EncoderBlock is one pre-layer-norm Transformer block (Xiong et al.
// 2020): x + MHA(LN1(x)), then that plus FFN(LN2(that)), FFN being
// linear2(GELU(linear1(·))).
type EncoderBlock struct {
	named
	Norm1       *LayerNorm
	Attention   *MultiHeadAttention
	Norm2       *LayerNorm
	FeedForward *FeedForward
}

// NewEncoderBlock makes a block whose parameters are PyTorch's
// TransformerEncoderLayer names under prefix ("self_attn.in_proj_weight",
// "linear1.weight", "norm1.weight", ...; an empty prefix gives them bare).
// cfg.Layers and cfg.FinalNorm are not used.
func NewEncoderBlock(prefix string, cfg EncoderConfig, dt tensor.Dtype, rng *rand.Rand) (*EncoderBlock, error) {
	if cfg.Dim <= 0 || cfg.FF <= 0 {
		return nil, fmt.Errorf("encoder block: width %d and feed-forward width %d, want positive", cfg.Dim, cfg.FF)
	}
	if cfg.Rotary && cfg.ALiBi {
		return nil, fmt.Errorf("encoder block: rotary and ALiBi positions together")
	}
	opts := []AttentionOption{WithAttentionDropout(cfg.Dropout, cfg.Dropout)}
	if cfg.Heads > 0 && cfg.Dim%cfg.Heads == 0 {
		if cfg.Rotary {
			opts = append(opts, WithRotary(NewRotary(cfg.Dim/cfg.Heads)))
		}
		if cfg.ALiBi {
			opts = append(opts, WithALiBi(NewALiBi(cfg.Heads)))
		}
	}
	attn, err := NewMultiHeadAttention(joinName(prefix, "self_attn"), cfg.Dim, cfg.Heads, dt, rng, opts...)
	if err != nil {
		return nil, err
	}
	ff, err := NewFeedForward(prefix, cfg.Dim, cfg.FF, cfg.Dropout, dt, rng)
	if err != nil {
		return nil, err
	}
	return &EncoderBlock{
		named:       named{"encoder_block"},
		Norm1:       NewLayerNorm(joinName(prefix, "norm1"), cfg.Dim, dt),
		Attention:   attn,
		Norm2:       NewLayerNorm(joinName(prefix, "norm2"), cfg.Dim, dt),
		FeedForward: ff,
	}, nil
}

// Params lists the parameters in the order of PyTorch's state_dict:
// self_attn, linear1, linear2, norm1, norm2.
func (b *EncoderBlock) Params() []*Param {
	ps := append([]*Param{}, b.Attention.Params()...)
	ps = append(ps, b.FeedForward.Params()...)
	ps = append(ps, b.Norm1.Params()...)
	return append(ps, b.Norm2.Params()...)
}

// OutputShape is the input shape.
func (b *EncoderBlock) OutputShape(in []int) []int { return append([]int{}, in...) }

// Forward applies the block to x, [batch, time, dim], with padding mask
// mask ([batch, time], nil for none). Each half of the block, its layer
// norm, sublayer and residual sum, is one fused node (preNorm).
func (b *EncoderBlock) Forward(g *Graph, x, mask *G.Node) (*G.Node, error) {
	k, inputs, diff, err := b.Attention.node(g, x, mask)
	if err != nil {
		return nil, err
	}
	if x, err = preNorm(g, "PreNormAttention", b.Norm1, k, inputs, diff); err != nil {
		return nil, fmt.Errorf("%s: %w", b.name, err)
	}
	if k, inputs, diff, err = b.FeedForward.node(g, x); err != nil {
		return nil, err
	}
	if x, err = preNorm(g, "PreNormFeedForward", b.Norm2, k, inputs, diff); err != nil {
		return nil, fmt.Errorf("%s: %w", b.name, err)
	}
	return x, nil
}

// forwardNodes is Forward as separate nodes, norm, sublayer and sum
// each: the simple path that the fused halves are tested against.
func (b *EncoderBlock) forwardNodes(g *Graph, x, mask *G.Node) (*G.Node, error) {
	h, err := b.Norm1.Forward(g, x, mask)
	if err != nil {
		return nil, err
	}
	if h, err = b.Attention.Forward(g, h, mask); err != nil {
		return nil, err
	}
	if x, err = G.Add(x, h); err != nil {
		return nil, fmt.Errorf("%s: %w", b.name, err)
	}
	if h, err = b.Norm2.Forward(g, x, mask); err != nil {
		return nil, err
	}
	if h, err = b.FeedForward.Forward(g, h, mask); err != nil {
		return nil, err
	}
	if x, err = G.Add(x, h); err != nil {
		return nil, fmt.Errorf("%s: %w", b.name, err)
	}
	return x, nil
}

// FeedForward is a Transformer block's position-wise feed-forward layer,
// dropout(linear2(dropout(GELU(linear1(x))))), as one fused node on the
// kernels' Gemm.
type FeedForward struct {
	named
	// Linear1Weight is "<prefix>.linear1.weight" [ff, dim], Linear1Bias
	// "<prefix>.linear1.bias" [ff], Linear2Weight "<prefix>.linear2.weight"
	// [dim, ff], Linear2Bias "<prefix>.linear2.bias" [dim].
	Linear1Weight, Linear1Bias, Linear2Weight, Linear2Bias *Param
	// Dropout is the rate of both dropouts, in training only.
	Dropout float64

	rng    *rand.Rand
	states *kernelStates
}

// NewFeedForward makes a feed-forward layer from dim to hidden and back,
// its weights and biases uniform in ±1/√fan_in as PyTorch's nn.Linear
// draws them, from rng; the dropout masks come from a source of the
// layer's own, seeded from rng.
func NewFeedForward(prefix string, dim, hidden int, dropout float64, dt tensor.Dtype, rng *rand.Rand) (*FeedForward, error) {
	if dropout < 0 || dropout >= 1 {
		return nil, fmt.Errorf("feed-forward: dropout rate %v, want [0, 1)", dropout)
	}
	l1, l2 := 1/math.Sqrt(float64(dim)), 1/math.Sqrt(float64(hidden))
	return &FeedForward{
		named:         named{"feed_forward"},
		Linear1Weight: NewParam(joinName(prefix, "linear1.weight"), fromFloat64s(dt, uniform(hidden, dim, l1, rng), hidden, dim), true),
		Linear1Bias:   NewParam(joinName(prefix, "linear1.bias"), fromFloat64s(dt, uniform(1, hidden, l1, rng), hidden), true),
		Linear2Weight: NewParam(joinName(prefix, "linear2.weight"), fromFloat64s(dt, uniform(dim, hidden, l2, rng), dim, hidden), true),
		Linear2Bias:   NewParam(joinName(prefix, "linear2.bias"), fromFloat64s(dt, uniform(1, dim, l2, rng), dim), true),
		Dropout:       dropout,
		rng:           rand.New(rand.NewSource(rng.Int63())),
		states:        &kernelStates{},
	}, nil
}

// Reseed restarts the stream the dropout masks are drawn from.
func (f *FeedForward) Reseed(seed int64) { f.rng.Seed(seed) }

// Params returns linear1's weight and bias, then linear2's.
func (f *FeedForward) Params() []*Param {
	return []*Param{f.Linear1Weight, f.Linear1Bias, f.Linear2Weight, f.Linear2Bias}
}

// OutputShape is the input shape.
func (f *FeedForward) OutputShape(in []int) []int { return append([]int{}, in...) }

// Forward applies the layer to the last axis of x, [..., dim]; mask is
// not used.
func (f *FeedForward) Forward(g *Graph, x, mask *G.Node) (*G.Node, error) {
	k, inputs, diff, err := f.node(g, x)
	if err != nil {
		return nil, err
	}
	y, err := applyFused("FeedForward", k, x.Shape(), diff, inputs...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.name, err)
	}
	return y, nil
}

// node checks x and returns the kernel of the layer's fused node, its
// inputs (x first) and which of them it differentiates.
func (f *FeedForward) node(g *Graph, x *G.Node) (fusedKernel, []*G.Node, []bool, error) {
	s := x.Shape().Clone()
	hidden, dim := f.Linear1Weight.Value.Shape()[0], f.Linear1Weight.Value.Shape()[1]
	if s.Dims() < 2 || s[s.Dims()-1] != dim {
		return nil, nil, nil, shapeError(f.name, s, fmt.Sprintf("[..., %d]", dim))
	}
	if dt := f.Linear1Weight.Value.Dtype(); dt != g.Dtype || x.Dtype() != g.Dtype {
		return nil, nil, nil, fmt.Errorf("%s: weights of type %v and input of type %v in a %v graph", f.name, dt, x.Dtype(), g.Dtype)
	}
	var drop float64
	if g.Training {
		drop = f.Dropout
	}
	if drop > 0 && f.rng == nil {
		return nil, nil, nil, fmt.Errorf("%s: dropout without a random source", f.name)
	}
	rows := s.TotalSize() / dim
	var k fusedKernel
	switch g.Dtype {
	case tensor.Float32:
		k = &feedForwardKernel[float32]{layer: f, dtype: g.Dtype, shape: s, rows: rows, in: dim, hidden: hidden, drop: drop, grads: make(gradTensors[float32], 5)}
	case tensor.Float64:
		k = &feedForwardKernel[float64]{layer: f, dtype: g.Dtype, shape: s, rows: rows, in: dim, hidden: hidden, drop: drop, grads: make(gradTensors[float64], 5)}
	default:
		return nil, nil, nil, dtypeError(f.name, g.Dtype)
	}
	inputs := []*G.Node{x, g.Param(f.Linear1Weight), g.Param(f.Linear1Bias), g.Param(f.Linear2Weight), g.Param(f.Linear2Bias)}
	diff := []bool{true, f.Linear1Weight.Trainable, f.Linear1Bias.Trainable, f.Linear2Weight.Trainable, f.Linear2Bias.Trainable}
	return k, inputs, diff, nil
}

// feedForwardKernel runs kernels.FeedForward for one node, on a state
// borrowed from the layer for each pass.
type feedForwardKernel[F kernels.Float] struct {
	layer            *FeedForward
	dtype            tensor.Dtype
	k                *kernels.FeedForward[F] // borrowed, or nil
	training         bool                    // a backward pass follows the forward pass
	shape            tensor.Shape
	rows, in, hidden int
	drop             float64
	out              *tensor.Dense
	grads            gradTensors[F]
}

func (k *feedForwardKernel[F]) differentiated() { k.training = true }

func (k *feedForwardKernel[F]) giveBack() {
	if k.layer.states.put(k.dtype, k.k) {
		k.k = nil
	}
}

func (k *feedForwardKernel[F]) forward(in []G.Value) (G.Value, error) {
	v, err := floatsOf[F](in, 0, 1, 2, 3, 4)
	if err != nil {
		return nil, err
	}
	if k.k == nil {
		if s, ok := k.layer.states.get(k.dtype).(*kernels.FeedForward[F]); ok {
			k.k = s
		} else {
			k.k = new(kernels.FeedForward[F])
		}
	}
	var drop kernels.Dropout
	if k.drop > 0 {
		drop = kernels.Dropout{Rate: k.drop, Seed: k.layer.rng.Uint64()}
	}
	k.out = reuse[F](k.out, k.shape...)
	k.k.Forward(v[0], v[1], v[2], v[3], v[4], k.rows, k.in, k.hidden, drop, k.out.Data().([]F))
	if !k.training {
		k.giveBack()
	}
	return k.out, nil
}

func (k *feedForwardKernel[F]) backward(in []G.Value, _, dy G.Value) error {
	if k.k == nil {
		return fmt.Errorf("backward pass without its forward pass")
	}
	v, err := floatsOf[F](in, 0, 1, 3)
	if err != nil {
		return err
	}
	d, err := data[F](dy)
	if err != nil {
		return err
	}
	// The kernel writes dx straight into the node's gradient tensor.
	k.grads[0] = reuse[F](k.grads[0], k.shape...)
	k.k.DX = k.grads[0].Data().([]F)
	k.k.Backward(v[0], v[1], v[2], d)
	k.k.DX = nil
	k.grads.set(1, k.k.DW1, tensor.Shape{k.hidden, k.in})
	k.grads.set(2, k.k.DB1, tensor.Shape{k.hidden})
	k.grads.set(3, k.k.DW2, tensor.Shape{k.in, k.hidden})
	k.grads.set(4, k.k.DB2, tensor.Shape{k.in})
	k.giveBack()
	return nil
}

func (k *feedForwardKernel[F]) grad(i int) (G.Value, error) { return k.grads.get(i) }

// joinName joins a parameter name to its prefix with a dot, PyTorch's
// module path; an empty prefix leaves the name bare.
func joinName(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}
