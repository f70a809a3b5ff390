package models

import (
	"fmt"
	"math/rand"
	"reflect"

	"gorgonia.org/tensor"

	"github.com/classify/classify/layers"
)

// The attention kinds of a Sequential's checkpoint: multi_head_attention,
// encoder_block and encoder. Each keeps its width, heads, dropout rates
// and position scheme ("none", "rope" with its base, or "alibi", which
// live inside the attention), and the prefix of its parameter names.
// The blocks' layer norms and feed-forward layers are kinds of their own
// too (layer_norm, feed_forward), as are rotary and gelu.

// attentionSpec describes a, whose name sp holds.
func attentionSpec(sp layerSpec, a *layers.MultiHeadAttention) (layerSpec, error) {
	sp.Kind, sp.Dim, sp.Heads, sp.Rate, sp.OutputRate, sp.Positions = "multi_head_attention", a.Dim(), a.Heads, a.Dropout, a.OutputDropout, "none"
	switch {
	case a.Rotary != nil && a.ALiBi != nil:
		return sp, fmt.Errorf("rotary and ALiBi positions together")
	case a.Rotary != nil:
		sp.Positions, sp.Base = "rope", a.Rotary.Base
	case a.ALiBi != nil:
		sp.Positions = "alibi"
	}
	var err error
	sp.Prefix, err = prefixOf(a.InProjWeight.Name, "in_proj_weight")
	return sp, err
}

// blockSpec describes b, whose name sp holds: its attention's settings,
// its feed-forward width, and the one dropout rate and layer-norm epsilon
// that EncoderConfig gives all its parts.
func blockSpec(sp layerSpec, b *layers.EncoderBlock) (layerSpec, error) {
	sp, err := attentionSpec(sp, b.Attention)
	if err != nil {
		return sp, err
	}
	ff := b.FeedForward
	if sp.OutputRate != sp.Rate || ff.Dropout != sp.Rate {
		return sp, fmt.Errorf("dropout rates %v (attention), %v (attention output) and %v (feed-forward): a block is saved with one rate for all", sp.Rate, sp.OutputRate, ff.Dropout)
	}
	if b.Norm1.Eps != b.Norm2.Eps {
		return sp, fmt.Errorf("layer norms of eps %v and %v: a block is saved with one eps", b.Norm1.Eps, b.Norm2.Eps)
	}
	sp.Kind, sp.OutputRate, sp.FF, sp.Eps = "encoder_block", 0, ff.Linear1Weight.Value.Shape()[0], b.Norm1.Eps
	sp.Prefix, err = prefixOf(b.Norm1.Weight.Name, "norm1.weight")
	return sp, err
}

// encoderSpec describes e, whose name sp holds: its blocks, which must
// all be alike, and its final norm.
func encoderSpec(sp layerSpec, e *layers.Encoder) (layerSpec, error) {
	if len(e.Blocks) == 0 {
		return sp, fmt.Errorf("an encoder of no blocks")
	}
	name := sp.Name
	first, err := blockSpec(sp, e.Blocks[0])
	if err != nil {
		return sp, fmt.Errorf("block 0: %w", err)
	}
	for i, b := range e.Blocks[1:] {
		s, err := blockSpec(sp, b)
		if err != nil {
			return sp, fmt.Errorf("block %d: %w", i+1, err)
		}
		s.Prefix = first.Prefix
		if !reflect.DeepEqual(s, first) {
			return sp, fmt.Errorf("block %d differs from block 0 (%+v, %+v): an encoder is saved with one configuration for all its blocks", i+1, s, first)
		}
	}
	sp = first
	sp.Kind, sp.Name, sp.Blocks, sp.FinalNorm = "encoder", name, len(e.Blocks), e.Norm != nil
	if e.Norm != nil && e.Norm.Eps != sp.Eps {
		return sp, fmt.Errorf("final norm of eps %v, blocks of %v: an encoder is saved with one eps", e.Norm.Eps, sp.Eps)
	}
	sp.Prefix, err = prefixOf(e.Blocks[0].Norm1.Weight.Name, "layers.0.norm1.weight")
	return sp, err
}

// attentionWeights is weights for the attention kinds.
func (sp layerSpec) attentionWeights() int64 {
	c := func(n, most int) int64 { return int64(max(0, min(n, most))) }
	d, ff := c(sp.Dim, MaxDim), c(sp.FF, MaxFF)
	attention := 4*d*d + 4*d
	block := attention + 2*d*ff + ff + d + 4*d
	switch sp.Kind {
	case "multi_head_attention":
		return attention
	case "encoder_block":
		return block
	}
	n := c(sp.Blocks, MaxLayers) * block
	if sp.FinalNorm {
		n += 2 * d
	}
	return n
}

// checkAttention is check for the attention kinds. The attention weights
// of a sequence of maxLen tokens are bounded as a Transformer's are.
func (sp layerSpec) checkAttention(maxLen int) error {
	if err := firstError(checkSize("dim", sp.Dim, MaxDim), checkSize("heads", sp.Heads, MaxDim), checkRate("rate", sp.Rate)); err != nil {
		return err
	}
	if sp.Dim%sp.Heads != 0 {
		return fmt.Errorf("heads %d: want a divisor of dim %d", sp.Heads, sp.Dim)
	}
	switch sp.Positions {
	case "none", "alibi":
	case "rope":
		if w := sp.Dim / sp.Heads; w%2 != 0 {
			return fmt.Errorf("positions rope: heads %d of dim %d are %d wide, want an even width", sp.Heads, sp.Dim, w)
		}
		if err := checkPositive("base", sp.Base); err != nil {
			return err
		}
	default:
		return fmt.Errorf("positions %q: want none, rope or alibi", sp.Positions)
	}
	if cells := int64(sp.Heads) * int64(maxLen) * int64(maxLen); cells > MaxAttentionCells {
		return fmt.Errorf("heads %d and max_len %d make %d attention weights per sequence, over the limit of %d", sp.Heads, maxLen, cells, MaxAttentionCells)
	}
	switch sp.Kind {
	case "multi_head_attention":
		return checkRate("output_rate", sp.OutputRate)
	case "encoder":
		if err := checkSize("blocks", sp.Blocks, MaxLayers); err != nil {
			return err
		}
	}
	return firstError(checkSize("ff", sp.FF, MaxFF), checkPositive("eps", sp.Eps))
}

// attentionOf makes the layer a checked spec of an attention kind
// describes.
func attentionOf(sp layerSpec, rng *rand.Rand) (layers.Layer, error) {
	dt := tensor.Float32
	switch sp.Kind {
	case "multi_head_attention":
		opts := []layers.AttentionOption{layers.WithAttentionDropout(sp.Rate, sp.OutputRate)}
		switch sp.Positions {
		case "rope":
			r := layers.NewRotary(sp.Dim / sp.Heads)
			r.Base = sp.Base
			opts = append(opts, layers.WithRotary(r))
		case "alibi":
			opts = append(opts, layers.WithALiBi(layers.NewALiBi(sp.Heads)))
		}
		return layers.NewMultiHeadAttention(sp.Prefix, sp.Dim, sp.Heads, dt, rng, opts...)
	case "encoder_block":
		b, err := layers.NewEncoderBlock(sp.Prefix, sp.encoderConfig(), dt, rng)
		if err != nil {
			return nil, err
		}
		sp.tune(b)
		return b, nil
	}
	e, err := layers.NewEncoder(sp.Prefix, sp.encoderConfig(), dt, rng)
	if err != nil {
		return nil, err
	}
	for _, b := range e.Blocks {
		sp.tune(b)
	}
	if e.Norm != nil {
		e.Norm.Eps = sp.Eps
	}
	return e, nil
}

// encoderConfig is the EncoderConfig of an encoder or encoder_block spec.
func (sp layerSpec) encoderConfig() layers.EncoderConfig {
	return layers.EncoderConfig{Layers: sp.Blocks, Dim: sp.Dim, Heads: sp.Heads, FF: sp.FF, Dropout: sp.Rate,
		Rotary: sp.Positions == "rope", ALiBi: sp.Positions == "alibi", FinalNorm: sp.FinalNorm}
}

// tune sets what EncoderConfig does not: the layer norms' eps and the
// rotary base.
func (sp layerSpec) tune(b *layers.EncoderBlock) {
	b.Norm1.Eps, b.Norm2.Eps = sp.Eps, sp.Eps
	if b.Attention.Rotary != nil {
		b.Attention.Rotary.Base = sp.Base
	}
}
