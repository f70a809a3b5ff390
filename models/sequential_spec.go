package models

import (
	"fmt"
	"math/rand"
	"strings"

	"gorgonia.org/tensor"

	"github.com/classify/classify/layers"
	"github.com/classify/classify/train"
)

// layerSpec is one layer of a Sequential as a checkpoint keeps it: its
// kind, its name and the settings its constructor takes (the weights go to
// model.safetensors under the layer's parameter names). Each layer type
// of package layers that a Sequential can save has a case in specOf,
// check, weights and layerOf (the checks are in sequential_spec_check.go,
// the recurrent kinds' cases in sequential_spec_recurrent.go, the
// attention kinds' in sequential_spec_attention.go).
type layerSpec struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	// SameAs is the index of an earlier layer this one is (weights shared),
	// and then the only setting.
	SameAs *int `json:"same_as,omitempty"`
	// Prefix begins the parameter names of the kinds whose constructor
	// takes one (layer_norm, feed_forward, multi_head_attention,
	// encoder_block, encoder), as the Sequential numbered them.
	Prefix string `json:"prefix,omitempty"`

	In              int        `json:"in,omitempty"`
	Out             int        `json:"out,omitempty"`
	Vocab           int        `json:"vocab,omitempty"`
	Rows            int        `json:"rows,omitempty"`
	Dim             int        `json:"dim,omitempty"`
	MaxLen          int        `json:"max_len,omitempty"`
	MaxRelative     int        `json:"max_relative,omitempty"`
	Widths          []int      `json:"widths,omitempty"`
	Maps            int        `json:"maps,omitempty"`
	Heads           int        `json:"heads,omitempty"`
	HeadDim         int        `json:"head_dim,omitempty"`
	FF              int        `json:"ff,omitempty"`
	Blocks          int        `json:"blocks,omitempty"`
	Trainable       bool       `json:"trainable,omitempty"`
	Learned         bool       `json:"learned,omitempty"`
	ReturnSequences bool       `json:"return_sequences,omitempty"`
	Backwards       bool       `json:"backwards,omitempty"`
	FinalNorm       bool       `json:"final_norm,omitempty"`
	Rate            float64    `json:"rate,omitempty"`
	OutputRate      float64    `json:"output_rate,omitempty"`
	Eps             float64    `json:"eps,omitempty"`
	Base            float64    `json:"base,omitempty"`
	Mode            string     `json:"mode,omitempty"`
	Activation      string     `json:"activation,omitempty"`
	Merge           string     `json:"merge,omitempty"`
	Positions       string     `json:"positions,omitempty"`
	Forward         *layerSpec `json:"forward,omitempty"`
	Backward        *layerSpec `json:"backward,omitempty"`
}

// sequentialConfig is the configuration of a Sequential assembled in Go,
// config.json's "model" for the architecture "sequential".
type sequentialConfig struct {
	Name   string      `json:"name"`
	MaxLen int         `json:"max_len"`
	Layers []layerSpec `json:"layers"`
}

// sequentialSpec describes s layer by layer, for a checkpoint. It refuses
// what Load would refuse, so that no checkpoint is written that cannot be
// read back.
func (s *Sequential) sequentialSpec() (Spec, error) {
	cfg := sequentialConfig{Name: s.Name, MaxLen: s.maxLen}
	for i, l := range s.layers {
		same := -1
		for j, o := range s.layers[:i] {
			if o == l {
				same = j
				break
			}
		}
		if same >= 0 {
			cfg.Layers = append(cfg.Layers, layerSpec{Kind: cfg.Layers[same].Kind, Name: l.Name(), SameAs: &same})
			continue
		}
		ls, err := specOf(l)
		if err != nil {
			return Spec{}, fmt.Errorf("%s: layer %d (%s): %w", s.Name, i, l.Name(), err)
		}
		cfg.Layers = append(cfg.Layers, ls)
	}
	if err := cfg.check(); err != nil {
		return Spec{}, fmt.Errorf("%s: %w", s.Name, err)
	}
	if err := cfg.checkNames(s.Params()); err != nil {
		return Spec{}, fmt.Errorf("%s: %w", s.Name, err)
	}
	return NewSpec(SequentialArchitecture, cfg)
}

// specOf describes one layer.
func specOf(l layers.Layer) (layerSpec, error) {
	sp := layerSpec{Name: l.Name()}
	var err error
	switch l := l.(type) {
	case *layers.Embedding:
		sp.Kind, sp.Vocab, sp.Dim, sp.Trainable = "embedding", l.Vocab(), l.Dim(), l.Weight.Trainable
	case *layers.EmbeddingBag:
		// As a Sequential's first layer it reads the ids and, as its
		// entries' weights, the padding mask: the mean of the real
		// tokens' rows.
		sp.Kind, sp.Rows, sp.Dim, sp.Trainable = "embedding_bag", l.Rows(), l.Dim(), l.Table.Trainable
	case *layers.PositionalEncoding:
		sp.Kind, sp.MaxLen, sp.Dim, sp.Learned = "positional_encoding", l.MaxLen(), l.Dim(), l.Table != nil
	case *layers.RelativeAttention:
		sp.Kind, sp.Dim, sp.MaxRelative = "relative_attention", l.Dim, l.MaxRelative
	case *layers.LSTM:
		sp.Kind, sp.In, sp.Out = "lstm", l.WeightIH.Value.Shape()[1], l.Hidden()
		sp.ReturnSequences, sp.Backwards = l.Sequences(), l.Backwards()
	case *layers.GRU:
		sp.Kind, sp.In, sp.Out = "gru", l.WeightIH.Value.Shape()[1], l.Hidden()
		sp.ReturnSequences, sp.Backwards = l.Sequences(), l.Backwards()
	case *layers.Bidirectional:
		sp, err = bidirectionalSpec(sp, l)
	case *layers.Conv1D:
		sp.Kind, sp.Dim, sp.Widths, sp.Maps = "conv1d", l.Weights[0].Value.Shape()[1], append([]int(nil), l.Widths...), l.Maps
	case *layers.Pooling:
		sp.Kind, sp.Mode = "pooling", l.Mode.String()
	case *layers.Dropout:
		sp.Kind, sp.Rate = "dropout", l.Rate
	case *layers.Dense:
		s := l.Weight.Value.Shape()
		sp.Kind, sp.In, sp.Out, sp.Activation = "dense", s[1], s[0], l.Activation.String()
	case *layers.GELU:
		sp.Kind = "gelu"
	case *layers.LayerNorm:
		sp.Kind, sp.Dim, sp.Eps = "layer_norm", l.Dim(), l.Eps
		sp.Prefix, err = prefixOf(l.Weight.Name, "weight")
	case *layers.FeedForward:
		s := l.Linear1Weight.Value.Shape()
		sp.Kind, sp.Dim, sp.FF, sp.Rate = "feed_forward", s[1], s[0], l.Dropout
		sp.Prefix, err = prefixOf(l.Linear1Weight.Name, "linear1.weight")
	case *layers.Rotary:
		sp.Kind, sp.HeadDim, sp.Base = "rotary", l.HeadDim, l.Base
	case *layers.MultiHeadAttention:
		sp, err = attentionSpec(sp, l)
	case *layers.EncoderBlock:
		sp, err = blockSpec(sp, l)
	case *layers.Encoder:
		sp, err = encoderSpec(sp, l)
	default:
		return sp, fmt.Errorf("a %T cannot be saved in a checkpoint yet", l)
	}
	return sp, err
}

// prefixOf is the prefix that the layer's constructor joined to suffix to
// name a parameter name, with a dot ("" when name is suffix).
func prefixOf(name, suffix string) (string, error) {
	if name == suffix {
		return "", nil
	}
	if p, ok := strings.CutSuffix(name, "."+suffix); ok {
		return p, nil
	}
	return "", fmt.Errorf("parameter %q does not end in %q: its prefix cannot be saved", name, suffix)
}

// buildSequential makes the Sequential a "sequential" spec describes, its
// weights drawn from seed (a checkpoint's then replace them).
func buildSequential(sp Spec, head train.Head, seed int64) (*Sequential, error) {
	var cfg sequentialConfig
	if err := decodeConfig(sp, &cfg); err != nil {
		return nil, err
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	ls, err := cfg.build(rand.New(rand.NewSource(seed)), false)
	if err != nil {
		return nil, err
	}
	s := NewSequential(cfg.Name, cfg.MaxLen, head, ls...)
	s.SetSeed(seed)
	return s, nil
}

// build makes the layers of a checked configuration, with weights drawn
// from rng; small makes each at the smallest sizes of its kind, which
// name its parameters as the full sizes do.
func (cfg sequentialConfig) build(rng *rand.Rand, small bool) ([]layers.Layer, error) {
	var ls []layers.Layer
	for i, spec := range cfg.Layers {
		if spec.SameAs != nil {
			ls = append(ls, ls[*spec.SameAs])
			continue
		}
		if small {
			spec = spec.small()
		}
		l, err := layerOf(spec, rng)
		if err != nil {
			return nil, fmt.Errorf("layer %d (%s): %w", i, spec.Name, err)
		}
		ls = append(ls, l)
	}
	return ls, nil
}

// layerOf makes the layer a checked spec describes, with weights drawn
// from rng.
func layerOf(sp layerSpec, rng *rand.Rand) (layers.Layer, error) {
	dt := tensor.Float32
	var l layers.Layer
	switch sp.Kind {
	case "embedding":
		l = layers.NewEmbedding(tensor.New(tensor.WithShape(sp.Vocab, sp.Dim), tensor.Of(dt)), sp.Trainable)
	case "embedding_bag":
		b, err := layers.NewEmbeddingBag(1, sp.Dim, dt, rng, sp.Trainable)
		if err != nil {
			return nil, err
		}
		// A zero table, as for an embedding: the checkpoint's replaces
		// it, and millions of rows are not drawn for nothing.
		b.Table = layers.NewParam(b.Table.Name, tensor.New(tensor.WithShape(sp.Rows, sp.Dim), tensor.Of(dt)), sp.Trainable)
		l = b
	case "positional_encoding":
		if sp.Learned {
			l = layers.NewLearnedEncoding(sp.MaxLen, sp.Dim, dt, rng)
		} else {
			l = layers.NewSinusoidalEncoding(sp.MaxLen, sp.Dim)
		}
	case "relative_attention":
		l = layers.NewRelativeAttention(sp.Dim, sp.MaxRelative, dt, rng)
	case "lstm":
		l = layers.NewLSTM(sp.In, sp.Out, dt, rng, sp.recurrentOptions()...)
	case "gru":
		l = layers.NewGRU(sp.In, sp.Out, dt, rng, sp.recurrentOptions()...)
	case "bidirectional":
		b, err := bidirectionalOf(sp, rng)
		if err != nil {
			return nil, err
		}
		l = b
	case "conv1d":
		c, err := layers.NewConv1D(sp.Dim, sp.Widths, sp.Maps, dt, rng)
		if err != nil {
			return nil, err
		}
		l = c
	case "pooling":
		mode, err := parseEnum("mode", sp.Mode, poolModes)
		if err != nil {
			return nil, err
		}
		l = layers.NewPooling(mode)
	case "dropout":
		l = layers.NewDropout(sp.Rate, rand.New(rand.NewSource(rng.Int63())))
	case "dense":
		act, err := parseEnum("activation", sp.Activation, activations)
		if err != nil {
			return nil, err
		}
		l = layers.NewDense(sp.In, sp.Out, act, dt, rng)
	case "gelu":
		l = layers.NewGELU()
	case "layer_norm":
		n := layers.NewLayerNorm(sp.Prefix, sp.Dim, dt)
		n.Eps = sp.Eps
		l = n
	case "feed_forward":
		f, err := layers.NewFeedForward(sp.Prefix, sp.Dim, sp.FF, sp.Rate, dt, rng)
		if err != nil {
			return nil, err
		}
		l = f
	case "rotary":
		r := layers.NewRotary(sp.HeadDim)
		r.Base = sp.Base
		l = r
	case "multi_head_attention", "encoder_block", "encoder":
		a, err := attentionOf(sp, rng)
		if err != nil {
			return nil, err
		}
		l = a
	default:
		return nil, fmt.Errorf("kind %q: not a layer this program builds", sp.Kind)
	}
	if r, ok := l.(interface{ SetName(string) }); ok && sp.Name != "" {
		r.SetName(sp.Name)
	}
	return l, nil
}

// parseEnum finds the value among options whose String is name.
func parseEnum[E fmt.Stringer](what, name string, options []E) (E, error) {
	for _, o := range options {
		if o.String() == name {
			return o, nil
		}
	}
	var zero E
	return zero, fmt.Errorf("%s %q: not one of %v", what, name, options)
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
