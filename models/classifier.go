package models

import (
	"errors"
	"fmt"
	"math/rand"

	"gorgonia.org/tensor"

	"github.com/classify/classify/layers"
	"github.com/classify/classify/train"
)

// Config holds the hyperparameters of the sentiment classifier, as stored
// under "model" in a checkpoint's config.json.
type Config struct {
	// VocabSize is the number of token ids, [PAD] and [UNK] included.
	VocabSize int `json:"vocab_size"`
	// Dim is the width of the word vectors.
	Dim int `json:"dim"`
	// MaxLen is the longest sequence, in tokens.
	MaxLen int `json:"max_len"`
	// Hidden is the width of each LSTM direction.
	Hidden int `json:"hidden"`
	// PosEncoding is sinusoidal, learned, relative or none.
	PosEncoding string `json:"pos_encoding"`
	// MaxRelative clips the distances of the relative encoding.
	MaxRelative int `json:"max_relative"`
	// Pool is last, mean or max.
	Pool string `json:"pool"`
	// Dropout is the rate of the dropout before the output layer; 0 for none.
	Dropout float64 `json:"dropout"`
	// FreezeEmbeddings keeps the embedding matrix out of training.
	FreezeEmbeddings bool `json:"freeze_embeddings"`
}

// DefaultConfig is SPEC's BiLSTM: 10,000 ids, 100-dimensional vectors,
// sinusoidal positions, BiLSTM(128), max pooling over the steps, dropout
// 0.3, frozen embeddings.
func DefaultConfig() Config {
	return Config{VocabSize: 10000, Dim: 100, MaxLen: 100, Hidden: 128, PosEncoding: "sinusoidal",
		MaxRelative: 16, Pool: "max", Dropout: 0.3, FreezeEmbeddings: true}
}

// Validate reports the first setting that is out of range.
func (c Config) Validate() error {
	switch {
	case c.VocabSize < 3:
		return fmt.Errorf("vocab_size %d: want at least 3 ([PAD], [UNK] and one word)", c.VocabSize)
	case c.Dim < 1:
		return fmt.Errorf("dim %d: want at least 1", c.Dim)
	case c.MaxLen < 1:
		return fmt.Errorf("max_len %d: want at least 1", c.MaxLen)
	case c.Hidden < 1:
		return fmt.Errorf("hidden %d: want at least 1", c.Hidden)
	case c.Dropout < 0 || c.Dropout >= 1:
		return fmt.Errorf("dropout %g: want 0 <= dropout < 1", c.Dropout)
	}
	switch c.PosEncoding {
	case "sinusoidal", "learned", "none":
	case "relative":
		if c.MaxRelative < 1 {
			return fmt.Errorf("max_relative %d: want at least 1", c.MaxRelative)
		}
	default:
		return fmt.Errorf("pos_encoding %q: want sinusoidal, learned, relative or none", c.PosEncoding)
	}
	switch c.Pool {
	case "last", "mean", "max":
	default:
		return fmt.Errorf("pool %q: want last, mean or max", c.Pool)
	}
	return c.checkLimits()
}

// Classifier is the BiLSTM classifier of SPEC section 2 (architecture
// "bilstm"), a Sequential of these layers:
//
//	ids -> Embedding -> + positions -> Bidirectional(LSTM) -> pooling
//	    -> [Dropout] -> Dense(K) -> logits -> head
//
// The fields name its layers; the Sequential compiles, trains, scores and
// runs them.
type Classifier struct {
	*Sequential
	Config Config

	Embedding *layers.Embedding
	// Position is the positional encoding or relative attention; nil for none.
	Position layers.Layer
	Encoder  *layers.Bidirectional
	// Pooling is nil for last-state pooling, which the encoder does itself.
	Pooling *layers.Pooling
	// Dropout is nil when the rate is 0.
	Dropout *layers.Dropout
	Output  *layers.Dense
}

// NewClassifier builds the classifier with the output head head (nil for
// a binary head of labels "0" and "1"). embedding is its [VocabSize, Dim]
// float32 matrix (pretrained rows and seeded random ones, see
// data.EmbeddingMatrix); every other weight is drawn from seed.
func NewClassifier(cfg Config, head train.Head, embedding *tensor.Dense, seed int64) (*Classifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if head != nil {
		if err := cfg.checkWeights(head.Units()); err != nil {
			return nil, err
		}
	}
	if s := embedding.Shape(); len(s) != 2 || s[0] != cfg.VocabSize || s[1] != cfg.Dim {
		return nil, fmt.Errorf("embedding matrix of shape %v, want [%d %d]", s, cfg.VocabSize, cfg.Dim)
	}
	rng := rand.New(rand.NewSource(seed))
	dt := tensor.Float32
	c := &Classifier{Config: cfg}
	var err error
	c.Embedding = layers.NewEmbedding(embedding, !cfg.FreezeEmbeddings)
	switch cfg.PosEncoding {
	case "sinusoidal":
		c.Position = layers.NewSinusoidalEncoding(cfg.MaxLen, cfg.Dim)
	case "learned":
		c.Position = layers.NewLearnedEncoding(cfg.MaxLen, cfg.Dim, dt, rng)
	case "relative":
		c.Position = layers.NewRelativeAttention(cfg.Dim, cfg.MaxRelative, dt, rng)
	}
	sequences := cfg.Pool != "last"
	fwd := layers.NewLSTM(cfg.Dim, cfg.Hidden, dt, rng, layers.ReturnSequences(sequences))
	bwd := layers.NewLSTM(cfg.Dim, cfg.Hidden, dt, rng, layers.ReturnSequences(sequences), layers.GoBackwards())
	c.Encoder = layers.NewBidirectional(fwd, bwd, layers.MergeConcat)
	switch cfg.Pool {
	case "mean":
		c.Pooling = layers.NewPooling(layers.PoolMean)
	case "max":
		c.Pooling = layers.NewPooling(layers.PoolMax)
	}
	if cfg.Dropout > 0 {
		c.Dropout = layers.NewDropout(cfg.Dropout, rand.New(rand.NewSource(seed+1)))
	}
	if head == nil {
		head, _ = train.NewBinaryHead([]string{"0", "1"})
	}
	c.Output = layers.NewDense(2*cfg.Hidden, head.Units(), layers.Linear, dt, rng)
	ls := []layers.Layer{c.Embedding}
	if c.Position != nil {
		ls = append(ls, c.Position)
	}
	ls = append(ls, c.Encoder)
	if c.Pooling != nil {
		ls = append(ls, c.Pooling)
	}
	if c.Dropout != nil {
		ls = append(ls, c.Dropout)
	}
	c.Sequential = NewSequential("bilstm_classifier", cfg.MaxLen, head, append(ls, c.Output)...)
	c.SetSeed(seed)
	if c.spec, err = NewSpec(BiLSTMArchitecture, cfg); err != nil {
		return nil, err
	}
	return c, nil
}

// Add refuses: the classifier's layers follow from its Config, which its
// checkpoints store. Assemble other models in a Sequential of their own.
func (c *Classifier) Add(layers.Layer) error {
	return errors.New("the sentiment classifier's layers follow from its Config: build a Sequential to add layers")
}
