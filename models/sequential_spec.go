package models

import (
	"fmt"
	"math/rand"

	"gorgonia.org/tensor"

	"github.com/classify/classify/layers"
	"github.com/classify/classify/train"
)

// layerSpec is one layer of a Sequential as a checkpoint keeps it: its
// kind, its name and the settings its constructor takes (the weights go to
// model.safetensors under the layer's parameter names). Each layer type
// of package layers that a Sequential can save has a case in specOf and
// in layerOf.
type layerSpec struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	// SameAs is the index of an earlier layer this one is (weights shared),
	// and then the only setting.
	SameAs *int `json:"same_as,omitempty"`

	In              int        `json:"in,omitempty"`
	Out             int        `json:"out,omitempty"`
	Vocab           int        `json:"vocab,omitempty"`
	Dim             int        `json:"dim,omitempty"`
	MaxLen          int        `json:"max_len,omitempty"`
	MaxRelative     int        `json:"max_relative,omitempty"`
	Trainable       bool       `json:"trainable,omitempty"`
	Learned         bool       `json:"learned,omitempty"`
	ReturnSequences bool       `json:"return_sequences,omitempty"`
	Backwards       bool       `json:"backwards,omitempty"`
	Rate            float64    `json:"rate,omitempty"`
	Mode            string     `json:"mode,omitempty"`
	Activation      string     `json:"activation,omitempty"`
	Merge           string     `json:"merge,omitempty"`
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

// sequentialSpec describes s layer by layer, for a checkpoint.
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
	return NewSpec(SequentialArchitecture, cfg)
}

// specOf describes one layer.
func specOf(l layers.Layer) (layerSpec, error) {
	sp := layerSpec{Name: l.Name()}
	switch l := l.(type) {
	case *layers.Embedding:
		sp.Kind, sp.Vocab, sp.Dim, sp.Trainable = "embedding", l.Vocab(), l.Dim(), l.Weight.Trainable
	case *layers.PositionalEncoding:
		sp.Kind, sp.MaxLen, sp.Dim, sp.Learned = "positional_encoding", l.MaxLen(), l.Dim(), l.Table != nil
	case *layers.RelativeAttention:
		sp.Kind, sp.Dim, sp.MaxRelative = "relative_attention", l.Dim, l.MaxRelative
	case *layers.LSTM:
		sp.Kind, sp.In, sp.Out = "lstm", l.WeightIH.Value.Shape()[1], l.Hidden()
		sp.ReturnSequences, sp.Backwards = l.Sequences(), l.Backwards()
	case *layers.Bidirectional:
		f, err := specOf(l.ForwardLayer)
		if err != nil {
			return sp, err
		}
		b, err := specOf(l.BackwardLayer)
		if err != nil {
			return sp, err
		}
		sp.Kind, sp.Forward, sp.Backward, sp.Merge = "bidirectional", &f, &b, l.Merge.String()
	case *layers.Pooling:
		sp.Kind, sp.Mode = "pooling", l.Mode.String()
	case *layers.Dropout:
		sp.Kind, sp.Rate = "dropout", l.Rate
	case *layers.Dense:
		s := l.Weight.Value.Shape()
		sp.Kind, sp.In, sp.Out, sp.Activation = "dense", s[1], s[0], l.Activation.String()
	default:
		return sp, fmt.Errorf("a %T cannot be saved in a checkpoint yet", l)
	}
	return sp, nil
}

// buildSequential makes the Sequential a "sequential" spec describes, its
// weights drawn from seed (a checkpoint's then replace them).
func buildSequential(sp Spec, head train.Head, seed int64) (*Sequential, error) {
	var cfg sequentialConfig
	if err := decodeConfig(sp, &cfg); err != nil {
		return nil, err
	}
	if cfg.MaxLen < 1 || cfg.MaxLen > MaxSeqLen {
		return nil, fmt.Errorf("max_len %d: want 1 to %d", cfg.MaxLen, MaxSeqLen)
	}
	var total int64
	for _, spec := range cfg.Layers {
		total += spec.weights()
	}
	if total > MaxWeights {
		return nil, fmt.Errorf("the layers hold %d weights, over the limit of %d (1 GiB of float32)", total, MaxWeights)
	}
	rng := rand.New(rand.NewSource(seed))
	var ls []layers.Layer
	for i, spec := range cfg.Layers {
		if spec.SameAs != nil {
			if *spec.SameAs < 0 || *spec.SameAs >= i {
				return nil, fmt.Errorf("layer %d: same_as %d, want an earlier layer", i, *spec.SameAs)
			}
			ls = append(ls, ls[*spec.SameAs])
			continue
		}
		l, err := layerOf(spec, rng)
		if err != nil {
			return nil, fmt.Errorf("layer %d (%s): %w", i, spec.Name, err)
		}
		ls = append(ls, l)
	}
	s := NewSequential(cfg.Name, cfg.MaxLen, head, ls...)
	s.SetSeed(seed)
	return s, nil
}

// weights is the number of values the layer holds, counted before it is
// built, so that a config.json cannot claim more than MaxWeights. Sizes
// are clamped to their limits first, so that nothing overflows; layerOf
// refuses those out of range.
func (sp layerSpec) weights() int64 {
	c := func(n, most int) int64 { return int64(max(0, min(n, most))) }
	in, out, d := c(sp.In, MaxDim*8), c(sp.Out, MaxVocabSize), c(sp.Dim, MaxDim)
	switch sp.Kind {
	case "embedding":
		return c(sp.Vocab, MaxVocabSize) * d
	case "positional_encoding":
		return c(sp.MaxLen, MaxSeqLen) * d
	case "relative_attention":
		return 4*d*d + 2*(2*c(sp.MaxRelative, MaxSeqLen)+1)*d
	case "lstm":
		return 4 * out * (in + out + 1)
	case "bidirectional":
		var n int64
		for _, l := range []*layerSpec{sp.Forward, sp.Backward} {
			if l != nil && l.Kind == "lstm" {
				n += l.weights()
			}
		}
		return n
	case "dense":
		return out * (in + 1)
	}
	return 0
}

// checkSize bounds one size of a layer read from a checkpoint by the
// limits of Config.Validate.
func checkSize(what string, n, most int) error {
	if n < 1 || n > most {
		return fmt.Errorf("%s %d: want 1 to %d", what, n, most)
	}
	return nil
}

// layerOf makes the layer a spec describes, with weights drawn from rng.
func layerOf(sp layerSpec, rng *rand.Rand) (layers.Layer, error) {
	dt := tensor.Float32
	var l layers.Layer
	switch sp.Kind {
	case "embedding":
		if err := firstError(checkSize("vocab", sp.Vocab, MaxVocabSize), checkSize("dim", sp.Dim, MaxDim)); err != nil {
			return nil, err
		}
		l = layers.NewEmbedding(tensor.New(tensor.WithShape(sp.Vocab, sp.Dim), tensor.Of(dt)), sp.Trainable)
	case "positional_encoding":
		if err := firstError(checkSize("max_len", sp.MaxLen, MaxSeqLen), checkSize("dim", sp.Dim, MaxDim)); err != nil {
			return nil, err
		}
		if sp.Learned {
			l = layers.NewLearnedEncoding(sp.MaxLen, sp.Dim, dt, rng)
		} else {
			l = layers.NewSinusoidalEncoding(sp.MaxLen, sp.Dim)
		}
	case "relative_attention":
		if err := firstError(checkSize("dim", sp.Dim, MaxDim), checkSize("max_relative", sp.MaxRelative, MaxRelativeDistance)); err != nil {
			return nil, err
		}
		l = layers.NewRelativeAttention(sp.Dim, sp.MaxRelative, dt, rng)
	case "lstm":
		if err := firstError(checkSize("in", sp.In, MaxDim), checkSize("out", sp.Out, MaxHidden)); err != nil {
			return nil, err
		}
		var opts []layers.LSTMOption
		if sp.ReturnSequences {
			opts = append(opts, layers.ReturnSequences(true))
		}
		if sp.Backwards {
			opts = append(opts, layers.GoBackwards())
		}
		l = layers.NewLSTM(sp.In, sp.Out, dt, rng, opts...)
	case "bidirectional":
		if sp.Forward == nil || sp.Backward == nil || sp.Forward.Kind != "lstm" || sp.Backward.Kind != "lstm" {
			return nil, fmt.Errorf("a bidirectional layer holds a forward and a backward lstm")
		}
		f, err := layerOf(*sp.Forward, rng)
		if err != nil {
			return nil, err
		}
		b, err := layerOf(*sp.Backward, rng)
		if err != nil {
			return nil, err
		}
		merge, err := parseEnum("merge", sp.Merge, []layers.MergeMode{layers.MergeConcat, layers.MergeSum})
		if err != nil {
			return nil, err
		}
		l = layers.NewBidirectional(f.(*layers.LSTM), b.(*layers.LSTM), merge)
	case "pooling":
		mode, err := parseEnum("mode", sp.Mode, []layers.PoolMode{layers.PoolLast, layers.PoolMean, layers.PoolMax})
		if err != nil {
			return nil, err
		}
		l = layers.NewPooling(mode)
	case "dropout":
		if !(sp.Rate >= 0 && sp.Rate < 1) {
			return nil, fmt.Errorf("rate %v: want 0 <= rate < 1", sp.Rate)
		}
		l = layers.NewDropout(sp.Rate, rand.New(rand.NewSource(rng.Int63())))
	case "dense":
		if err := firstError(checkSize("in", sp.In, MaxDim*8), checkSize("out", sp.Out, MaxVocabSize)); err != nil {
			return nil, err
		}
		act, err := parseEnum("activation", sp.Activation, []layers.Activation{layers.Linear, layers.Sigmoid, layers.Tanh, layers.ReLU})
		if err != nil {
			return nil, err
		}
		l = layers.NewDense(sp.In, sp.Out, act, dt, rng)
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
