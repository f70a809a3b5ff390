package models

import (
	"fmt"
	"math/rand"

	"gorgonia.org/tensor"

	"github.com/classify/classify/layers"
	"github.com/classify/classify/train"
)

// TransformerArchitecture is the Transformer encoder classifier, the value
// of config.json's "architecture" and of classify train --model.
const TransformerArchitecture = "transformer"

// Limits on a TransformerConfig beyond those every model shares.
const (
	// MaxLayers bounds layers (--layers).
	MaxLayers = 64
	// MaxFF bounds ff (--ff), the width of each feed-forward layer.
	MaxFF = 4 * MaxDim
	// MaxAttentionCells bounds heads·max_len², the attention weights one
	// sequence holds in one layer while it trains: a batch of B holds B
	// times as many per layer, twice with dropout. 2^22 allows 4 heads
	// over 1024 tokens or 16 over 512.
	MaxAttentionCells = 1 << 22
)

// TransformerConfig holds the hyperparameters of the Transformer encoder
// classifier (SPEC section 2b), as stored under "model" in a checkpoint's
// config.json.
type TransformerConfig struct {
	// VocabSize is the number of token ids, [PAD] and [UNK] included.
	VocabSize int `json:"vocab_size"`
	// EmbeddingDim is the width of the word vectors; when it is not Dim a
	// linear projection takes them to Dim.
	EmbeddingDim int `json:"embedding_dim"`
	// Dim is the width of the encoder, Layers its blocks, Heads the heads
	// of each attention (dividing Dim), FF the width of each feed-forward
	// layer.
	Dim    int `json:"dim"`
	Layers int `json:"layers"`
	Heads  int `json:"heads"`
	FF     int `json:"ff"`
	// MaxLen is the longest sequence, in tokens.
	MaxLen int `json:"max_len"`
	// PosEncoding is sinusoidal, learned (added to the embeddings),
	// relative (Shaw et al.'s relative attention layer before the blocks),
	// rope (rotary queries and keys in every attention), alibi (linear
	// biases on every attention's logits) or none.
	PosEncoding string `json:"pos_encoding"`
	// MaxRelative clips the distances of the relative encoding.
	MaxRelative int `json:"max_relative"`
	// Pool is mean, max or last, over the real tokens.
	Pool string `json:"pool"`
	// Dropout is the rate of every dropout: on the embedded sequence
	// (Vaswani et al.), inside each block as PyTorch's
	// TransformerEncoderLayer, and before the output layer; 0 for none.
	Dropout float64 `json:"dropout"`
	// FreezeEmbeddings keeps the embedding matrix out of training.
	FreezeEmbeddings bool `json:"freeze_embeddings"`
}

// DefaultTransformerConfig is the base Transformer of Vaswani et al.
// (2017) scaled to sentence classification: 2 blocks of width 128 with 4
// heads and feed-forward 512 (4 x dim), dropout 0.1, sinusoidal positions,
// mean pooling, over 100-dimensional frozen word vectors projected to 128.
func DefaultTransformerConfig() TransformerConfig {
	return TransformerConfig{VocabSize: 10000, EmbeddingDim: 100, Dim: 128, Layers: 2, Heads: 4, FF: 512,
		MaxLen: 100, PosEncoding: "sinusoidal", MaxRelative: 16, Pool: "mean", Dropout: 0.1, FreezeEmbeddings: true}
}

// Validate reports the first setting that is out of range.
func (c TransformerConfig) Validate() error {
	for _, l := range []struct {
		name          string
		got, min, max int
	}{
		{"vocab_size", c.VocabSize, 3, MaxVocabSize},
		{"embedding_dim", c.EmbeddingDim, 1, MaxDim},
		{"dim", c.Dim, 1, MaxDim},
		{"layers", c.Layers, 1, MaxLayers},
		{"heads", c.Heads, 1, MaxDim},
		{"ff", c.FF, 1, MaxFF},
		{"max_len", c.MaxLen, 1, MaxSeqLen},
	} {
		if l.got < l.min || l.got > l.max {
			return fmt.Errorf("%s %d: want %d to %d", l.name, l.got, l.min, l.max)
		}
	}
	if c.Dim%c.Heads != 0 {
		return fmt.Errorf("heads %d: want a divisor of dim %d", c.Heads, c.Dim)
	}
	if c.Dropout < 0 || c.Dropout >= 1 {
		return fmt.Errorf("dropout %g: want 0 <= dropout < 1", c.Dropout)
	}
	switch c.PosEncoding {
	case "sinusoidal", "learned", "alibi", "none":
	case "rope":
		if (c.Dim/c.Heads)%2 != 0 {
			return fmt.Errorf("pos_encoding rope: heads %d of dim %d are %d wide, want an even width", c.Heads, c.Dim, c.Dim/c.Heads)
		}
	case "relative":
		if c.MaxRelative < 1 || c.MaxRelative > MaxRelativeDistance {
			return fmt.Errorf("max_relative %d: want 1 to %d", c.MaxRelative, MaxRelativeDistance)
		}
	default:
		return fmt.Errorf("pos_encoding %q: want sinusoidal, learned, relative, rope, alibi or none", c.PosEncoding)
	}
	switch c.Pool {
	case "last", "mean", "max":
	default:
		return fmt.Errorf("pool %q: want mean, max or last", c.Pool)
	}
	if cells := int64(c.Heads) * int64(c.MaxLen) * int64(c.MaxLen); cells > MaxAttentionCells {
		return fmt.Errorf("heads %d and max_len %d make %d attention weights per sequence and layer, over the limit of %d", c.Heads, c.MaxLen, cells, MaxAttentionCells)
	}
	if n := c.weightCount(1); n > MaxWeights {
		return fmt.Errorf("the configuration makes a model of %d weights, over the limit of %d (1 GiB of float32)", n, MaxWeights)
	}
	return nil
}

// weightCount is the number of values the model of c with k output units
// holds, the sinusoidal table included. The sizes are bounded one by one
// first, so that it cannot overflow.
func (c TransformerConfig) weightCount(k int) int64 {
	v, e, d, f := int64(c.VocabSize), int64(c.EmbeddingDim), int64(c.Dim), int64(c.FF)
	n := v * e
	if e != d {
		n += e*d + d
	}
	switch c.PosEncoding {
	case "sinusoidal", "learned":
		n += int64(c.MaxLen) * d
	case "relative":
		n += 4*d*d + 2*(2*int64(c.MaxRelative)+1)*d
	}
	perLayer := 4*d*d + 4*d + 2*d*f + f + d + 4*d
	return n + int64(c.Layers)*perLayer + 2*d + d*int64(k) + int64(k)
}

// Transformer is the Transformer encoder classifier of SPEC section 2b
// (architecture "transformer"), a Sequential of these layers:
//
//	ids -> Embedding -> [Dense projection to dim] -> [+ positions]
//	    -> [Dropout] -> Encoder (pre-norm blocks, final norm) -> pooling
//	    -> [Dropout] -> Dense(K) -> logits -> head
//
// The weights carry PyTorch's names: "embedding.weight",
// "projection.weight", "encoder.layers.0.self_attn.in_proj_weight", ...,
// "encoder.norm.weight", "dense.weight".
type Transformer struct {
	*Sequential
	Config TransformerConfig

	Embedding *layers.Embedding
	// Projection is nil when the word vectors are Dim wide already.
	Projection *layers.Dense
	// Position is the additive encoding or relative attention; nil for
	// none, rope and alibi (those live in the encoder's attention).
	Position layers.Layer
	Encoder  *layers.Encoder
	Pooling  *layers.Pooling
	Output   *layers.Dense
}

// NewTransformer builds the classifier with the output head head (nil for
// a binary head of labels "0" and "1"). embedding is its [VocabSize,
// EmbeddingDim] float32 matrix (pretrained rows and seeded random ones,
// see data.EmbeddingMatrix); every other weight is drawn from seed.
func NewTransformer(cfg TransformerConfig, head train.Head, embedding *tensor.Dense, seed int64) (*Transformer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if s := embedding.Shape(); len(s) != 2 || s[0] != cfg.VocabSize || s[1] != cfg.EmbeddingDim {
		return nil, fmt.Errorf("embedding matrix of shape %v, want [%d %d]", s, cfg.VocabSize, cfg.EmbeddingDim)
	}
	if head == nil {
		head, _ = train.NewBinaryHead([]string{"0", "1"})
	}
	rng := rand.New(rand.NewSource(seed))
	dropRng := rand.New(rand.NewSource(seed + 1))
	dt := tensor.Float32
	t := &Transformer{Config: cfg}
	t.Embedding = layers.NewEmbedding(embedding, !cfg.FreezeEmbeddings)
	ls := []layers.Layer{t.Embedding}
	if cfg.EmbeddingDim != cfg.Dim {
		t.Projection = layers.NewDense(cfg.EmbeddingDim, cfg.Dim, layers.Linear, dt, rng)
		t.Projection.SetName("projection")
		t.Projection.Weight.Name, t.Projection.Bias.Name = "projection.weight", "projection.bias"
		ls = append(ls, t.Projection)
	}
	switch cfg.PosEncoding {
	case "sinusoidal":
		t.Position = layers.NewSinusoidalEncoding(cfg.MaxLen, cfg.Dim)
	case "learned":
		t.Position = layers.NewLearnedEncoding(cfg.MaxLen, cfg.Dim, dt, rng)
	case "relative":
		t.Position = layers.NewRelativeAttention(cfg.Dim, cfg.MaxRelative, dt, rng)
	}
	if t.Position != nil {
		ls = append(ls, t.Position)
	}
	if cfg.Dropout > 0 {
		ls = append(ls, layers.NewDropout(cfg.Dropout, dropRng))
	}
	var err error
	t.Encoder, err = layers.NewEncoder("encoder", layers.EncoderConfig{
		Layers: cfg.Layers, Dim: cfg.Dim, Heads: cfg.Heads, FF: cfg.FF, Dropout: cfg.Dropout,
		Rotary: cfg.PosEncoding == "rope", ALiBi: cfg.PosEncoding == "alibi", FinalNorm: true,
	}, dt, rng)
	if err != nil {
		return nil, err
	}
	ls = append(ls, t.Encoder)
	switch cfg.Pool {
	case "mean":
		t.Pooling = layers.NewPooling(layers.PoolMean)
	case "max":
		t.Pooling = layers.NewPooling(layers.PoolMax)
	default:
		t.Pooling = layers.NewPooling(layers.PoolLast)
	}
	ls = append(ls, t.Pooling)
	if cfg.Dropout > 0 {
		ls = append(ls, layers.NewDropout(cfg.Dropout, dropRng))
	}
	t.Output = layers.NewDense(cfg.Dim, head.Units(), layers.Linear, dt, rng)
	t.Sequential = NewSequential("transformer_classifier", cfg.MaxLen, head, append(ls, t.Output)...)
	t.SetSeed(seed)
	if t.spec, err = NewSpec(TransformerArchitecture, cfg); err != nil {
		return nil, err
	}
	return t, nil
}

// buildTransformer is Build for TransformerArchitecture: the spec's
// configuration over DefaultTransformerConfig, a zero embedding matrix
// when embedding is nil (as before loading weights).
func buildTransformer(sp Spec, head train.Head, embedding *tensor.Dense, seed int64) (*Sequential, error) {
	cfg, err := configOf(sp, DefaultTransformerConfig())
	if err != nil {
		return nil, err
	}
	t, err := NewTransformer(cfg, head, orZeros(embedding, cfg.VocabSize, cfg.EmbeddingDim), seed)
	if err != nil {
		return nil, err
	}
	return t.Sequential, nil
}
