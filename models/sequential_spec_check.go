package models

import (
	"fmt"
	"math"
	"math/rand"

	"github.com/classify/classify/layers"
)

// The checks of a Sequential's configuration, which Load makes before it
// allocates anything and Save makes before it writes: each layer's
// settings within their limits, the weights within MaxWeights, and the
// parameters' names the ones a rebuilt model gives.

// check refuses a configuration out of range before anything is
// allocated: a size over its limit, a setting a layer does not take, more
// than MaxWeights weights in all.
func (cfg sequentialConfig) check() error {
	if cfg.MaxLen < 1 || cfg.MaxLen > MaxSeqLen {
		return fmt.Errorf("max_len %d: want 1 to %d", cfg.MaxLen, MaxSeqLen)
	}
	var total int64
	for _, spec := range cfg.Layers {
		total += spec.weights()
	}
	if total > MaxWeights {
		return fmt.Errorf("the layers hold %d weights, over the limit of %d (1 GiB of float32)", total, MaxWeights)
	}
	for i, spec := range cfg.Layers {
		if spec.SameAs != nil {
			if *spec.SameAs < 0 || *spec.SameAs >= i {
				return fmt.Errorf("layer %d: same_as %d, want an earlier layer", i, *spec.SameAs)
			}
			continue
		}
		if err := spec.check(cfg.MaxLen); err != nil {
			return fmt.Errorf("layer %d (%s): %w", i, spec.Name, err)
		}
	}
	return nil
}

// checkNames refuses a model whose parameters, params, would not be
// loaded under their names: the weights are restored by name, and the
// layers rebuilt from cfg take the names their constructors give them
// and the Sequential's numbering. Small copies of the layers say which.
func (cfg sequentialConfig) checkNames(params []*layers.Param) error {
	ls, err := cfg.build(rand.New(rand.NewSource(0)), true)
	if err != nil {
		return err
	}
	rebuilt := NewSequential(cfg.Name, cfg.MaxLen, nil, ls...).Params()
	if len(rebuilt) != len(params) {
		return fmt.Errorf("%d parameters, but the layers rebuilt from the checkpoint would hold %d", len(params), len(rebuilt))
	}
	for i, p := range params {
		if p.Name != rebuilt[i].Name {
			return fmt.Errorf("parameter %q would be loaded as %q: a checkpoint keeps only the names the layers' constructors and the Sequential's numbering give", p.Name, rebuilt[i].Name)
		}
	}
	return nil
}

// small is sp at the smallest sizes its kind takes (two features, one
// head, filters one wide); the parameter names do not depend on them.
func (sp layerSpec) small() layerSpec {
	s := sp
	s.In, s.Out, s.Vocab, s.Rows, s.MaxLen, s.MaxRelative, s.Maps, s.FF = 1, 1, 1, 1, 1, 1, 1, 1
	s.Dim, s.Heads, s.HeadDim = 2, 1, 2
	s.Widths = make([]int, len(sp.Widths))
	for i := range s.Widths {
		s.Widths[i] = 1
	}
	for _, d := range []**layerSpec{&s.Forward, &s.Backward} {
		if *d != nil {
			r := (*d).small()
			*d = &r
		}
	}
	return s
}

// weights is the number of values the layer holds, counted before it is
// built, so that a config.json cannot claim more than MaxWeights. Sizes
// are clamped to their limits first, so that nothing overflows; check
// refuses those out of range.
func (sp layerSpec) weights() int64 {
	c := func(n, most int) int64 { return int64(max(0, min(n, most))) }
	in, out, d := c(sp.In, MaxDim*8), c(sp.Out, MaxVocabSize), c(sp.Dim, MaxDim)
	switch sp.Kind {
	case "embedding":
		return c(sp.Vocab, MaxVocabSize) * d
	case "embedding_bag":
		return c(sp.Rows, MaxWeights) * d
	case "positional_encoding":
		return c(sp.MaxLen, MaxSeqLen) * d
	case "relative_attention":
		return 4*d*d + 2*(2*c(sp.MaxRelative, MaxSeqLen)+1)*d
	case "lstm":
		return 4 * out * (in + out + 1)
	case "gru":
		return 3 * out * (in + out + 2)
	case "bidirectional":
		var n int64
		for _, l := range []*layerSpec{sp.Forward, sp.Backward} {
			if l != nil && (l.Kind == "lstm" || l.Kind == "gru") {
				n += l.weights()
			}
		}
		return n
	case "conv1d":
		var n int64
		for _, w := range sp.Widths {
			if n += c(sp.Maps, MaxHidden) * (d*c(w, MaxSeqLen) + 1); n > MaxWeights {
				break
			}
		}
		return n
	case "dense":
		return out * (in + 1)
	case "layer_norm":
		return 2 * c(sp.Dim, MaxDim*8)
	case "feed_forward":
		ff := c(sp.FF, MaxFF)
		return 2*d*ff + ff + d
	case "multi_head_attention", "encoder_block", "encoder":
		return sp.attentionWeights()
	}
	return 0
}

// check refuses settings of the layer out of range for its kind; maxLen
// is the model's.
func (sp layerSpec) check(maxLen int) error {
	switch sp.Kind {
	case "embedding":
		return firstError(checkSize("vocab", sp.Vocab, MaxVocabSize), checkSize("dim", sp.Dim, MaxDim))
	case "embedding_bag":
		return firstError(checkSize("rows", sp.Rows, MaxWeights), checkSize("dim", sp.Dim, MaxDim))
	case "positional_encoding":
		return firstError(checkSize("max_len", sp.MaxLen, MaxSeqLen), checkSize("dim", sp.Dim, MaxDim))
	case "relative_attention":
		return firstError(checkSize("dim", sp.Dim, MaxDim), checkSize("max_relative", sp.MaxRelative, MaxRelativeDistance))
	case "lstm", "gru":
		return firstError(checkSize("in", sp.In, MaxDim), checkSize("out", sp.Out, MaxHidden))
	case "bidirectional":
		return sp.checkBidirectional()
	case "conv1d":
		if len(sp.Widths) < 1 || len(sp.Widths) > MaxFilters {
			return fmt.Errorf("widths %v: want 1 to %d filter widths", sp.Widths, MaxFilters)
		}
		for _, w := range sp.Widths {
			if err := checkSize("filter width", w, MaxSeqLen); err != nil {
				return err
			}
		}
		return firstError(checkSize("dim", sp.Dim, MaxDim), checkSize("maps", sp.Maps, MaxHidden))
	case "pooling":
		_, err := parseEnum("mode", sp.Mode, poolModes)
		return err
	case "dropout":
		return checkRate("rate", sp.Rate)
	case "dense":
		_, err := parseEnum("activation", sp.Activation, activations)
		return firstError(checkSize("in", sp.In, MaxDim*8), checkSize("out", sp.Out, MaxVocabSize), err)
	case "gelu":
		return nil
	case "layer_norm":
		return firstError(checkSize("dim", sp.Dim, MaxDim*8), checkPositive("eps", sp.Eps))
	case "feed_forward":
		return firstError(checkSize("dim", sp.Dim, MaxDim), checkSize("ff", sp.FF, MaxFF), checkRate("rate", sp.Rate))
	case "rotary":
		if err := firstError(checkSize("head_dim", sp.HeadDim, MaxDim), checkPositive("base", sp.Base)); err != nil {
			return err
		}
		if sp.HeadDim%2 != 0 {
			return fmt.Errorf("head_dim %d: want an even width", sp.HeadDim)
		}
		return nil
	case "multi_head_attention", "encoder_block", "encoder":
		return sp.checkAttention(maxLen)
	}
	return fmt.Errorf("kind %q: not a layer this program builds", sp.Kind)
}

// The options of the enumerated settings.
var (
	poolModes   = []layers.PoolMode{layers.PoolLast, layers.PoolMean, layers.PoolMax}
	activations = []layers.Activation{layers.Linear, layers.Sigmoid, layers.Tanh, layers.ReLU}
	mergeModes  = []layers.MergeMode{layers.MergeConcat, layers.MergeSum, layers.MergeAve, layers.MergeMul}
)

// checkSize bounds one size of a layer read from a checkpoint by the
// limits of Config.Validate.
func checkSize(what string, n, most int) error {
	if n < 1 || n > most {
		return fmt.Errorf("%s %d: want 1 to %d", what, n, most)
	}
	return nil
}

// checkRate refuses a dropout rate outside [0, 1).
func checkRate(what string, r float64) error {
	if !(r >= 0 && r < 1) {
		return fmt.Errorf("%s %v: want 0 <= %s < 1", what, r, what)
	}
	return nil
}

// checkPositive refuses a setting that is not a finite number above 0.
func checkPositive(what string, v float64) error {
	if !(v > 0 && v <= math.MaxFloat64) {
		return fmt.Errorf("%s %v: want a finite number above 0", what, v)
	}
	return nil
}
