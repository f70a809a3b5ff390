package models

import (
	"fmt"
	"math/rand"

	"gorgonia.org/tensor"

	"github.com/classify/classify/layers"
	"github.com/classify/classify/train"
)

// CNNArchitecture is Kim's CNN, CNN: config.json's "architecture" and
// classify train --model.
const CNNArchitecture = "cnn"

// CNNConfig holds the hyperparameters of Kim's CNN, as stored under
// "model" in a checkpoint's config.json.
type CNNConfig struct {
	// VocabSize is the number of token ids, [PAD] and [UNK] included.
	VocabSize int `json:"vocab_size"`
	// Dim is the width of the word vectors.
	Dim int `json:"dim"`
	// MaxLen is the longest sequence, in tokens.
	MaxLen int `json:"max_len"`
	// Filters are the filter widths (--filters), FeatureMaps the filters
	// of each width (--feature-maps).
	Filters     []int `json:"filters"`
	FeatureMaps int   `json:"feature_maps"`
	// Dropout is the rate of the dropout before the output layer; 0 for none.
	Dropout float64 `json:"dropout"`
	// FreezeEmbeddings keeps the embedding matrix out of training.
	FreezeEmbeddings bool `json:"freeze_embeddings"`
}

// DefaultCNNConfig is Kim's (2014) CNN-non-static: filter widths 3, 4 and
// 5 of 100 feature maps each, dropout 0.5, trainable embeddings, over
// SPEC's 10,000 ids of 100 dimensions.
func DefaultCNNConfig() CNNConfig {
	return CNNConfig{VocabSize: 10000, Dim: 100, MaxLen: 100, Filters: []int{3, 4, 5}, FeatureMaps: 100, Dropout: 0.5}
}

// MaxFilters bounds the number of filter widths of a CNN.
const MaxFilters = 64

// Validate reports the first setting that is out of range.
func (c CNNConfig) Validate() error {
	switch {
	case c.VocabSize < 3:
		return fmt.Errorf("vocab_size %d: want at least 3 ([PAD], [UNK] and one word)", c.VocabSize)
	case c.VocabSize > MaxVocabSize:
		return fmt.Errorf("vocab_size %d: want at most %d", c.VocabSize, MaxVocabSize)
	case c.Dim < 1 || c.Dim > MaxDim:
		return fmt.Errorf("dim %d: want 1 to %d", c.Dim, MaxDim)
	case c.MaxLen < 1 || c.MaxLen > MaxSeqLen:
		return fmt.Errorf("max_len %d: want 1 to %d", c.MaxLen, MaxSeqLen)
	case len(c.Filters) < 1 || len(c.Filters) > MaxFilters:
		return fmt.Errorf("filters %v: want 1 to %d widths", c.Filters, MaxFilters)
	case c.FeatureMaps < 1 || c.FeatureMaps > MaxHidden:
		return fmt.Errorf("feature_maps %d: want 1 to %d", c.FeatureMaps, MaxHidden)
	case c.Dropout < 0 || c.Dropout >= 1:
		return fmt.Errorf("dropout %g: want 0 <= dropout < 1", c.Dropout)
	}
	for _, w := range c.Filters {
		if w < 1 || w > c.MaxLen {
			return fmt.Errorf("filter width %d: want 1 to max_len %d", w, c.MaxLen)
		}
	}
	var n int64
	for _, w := range c.weightShapes(1) {
		n += int64(shapeSize(w.shape))
	}
	if n > MaxWeights {
		return fmt.Errorf("vocab_size %d, dim %d, filters %v and feature_maps %d make a model of %d weights, over the limit of %d (1 GiB of float32)",
			c.VocabSize, c.Dim, c.Filters, c.FeatureMaps, n, MaxWeights)
	}
	return nil
}

func shapeSize(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// weightShapes are the tensors of the model.safetensors of a CNN of k
// output units, in PyTorch's names (../shared/bench/torch_reference.py's
// CNN): convs.i.weight [maps, dim, width], convs.i.bias [maps].
func (c CNNConfig) weightShapes(k int) []weightShape {
	shapes := []weightShape{{"embedding.weight", []int{c.VocabSize, c.Dim}}}
	for i, w := range c.Filters {
		shapes = append(shapes, weightShape{fmt.Sprintf("convs.%d.weight", i), []int{c.FeatureMaps, c.Dim, w}})
	}
	for i := range c.Filters {
		shapes = append(shapes, weightShape{fmt.Sprintf("convs.%d.bias", i), []int{c.FeatureMaps}})
	}
	f := len(c.Filters) * c.FeatureMaps
	return append(shapes, weightShape{"dense.weight", []int{k, f}}, weightShape{"dense.bias", []int{k}})
}

// CNN is Kim's (2014) convolutional classifier (architecture "cnn"), a
// Sequential of these layers:
//
//	ids -> Embedding -> Conv1D (widths × maps, ReLU, max over time)
//	    -> [Dropout] -> Dense(K) -> logits -> head
//
// with no positional encoding. The fields name its layers.
type CNN struct {
	*Sequential
	Config CNNConfig

	Embedding *layers.Embedding
	Conv      *layers.Conv1D
	// Dropout is nil when the rate is 0.
	Dropout *layers.Dropout
	Output  *layers.Dense
}

// NewCNN builds the CNN with the output head head (nil for a binary head
// of labels "0" and "1"). embedding is its [VocabSize, Dim] float32
// matrix; every other weight is drawn from seed, as PyTorch's Conv1d and
// Keras's Dense draw them.
func NewCNN(cfg CNNConfig, head train.Head, embedding *tensor.Dense, seed int64) (*CNN, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if s := embedding.Shape(); len(s) != 2 || s[0] != cfg.VocabSize || s[1] != cfg.Dim {
		return nil, fmt.Errorf("embedding matrix of shape %v, want [%d %d]", s, cfg.VocabSize, cfg.Dim)
	}
	rng := rand.New(rand.NewSource(seed))
	dt := tensor.Float32
	c := &CNN{Config: cfg, Embedding: layers.NewEmbedding(embedding, !cfg.FreezeEmbeddings)}
	var err error
	if c.Conv, err = layers.NewConv1D(cfg.Dim, cfg.Filters, cfg.FeatureMaps, dt, rng); err != nil {
		return nil, err
	}
	if head == nil {
		head, _ = train.NewBinaryHead([]string{"0", "1"})
	}
	ls := []layers.Layer{c.Embedding, c.Conv}
	if cfg.Dropout > 0 {
		c.Dropout = layers.NewDropout(cfg.Dropout, rand.New(rand.NewSource(seed+1)))
		ls = append(ls, c.Dropout)
	}
	c.Output = layers.NewDense(c.Conv.Features(), head.Units(), layers.Linear, dt, rng)
	c.Sequential = NewSequential("cnn", cfg.MaxLen, head, append(ls, c.Output)...)
	c.SetSeed(seed)
	if c.spec, err = NewSpec(CNNArchitecture, cfg); err != nil {
		return nil, err
	}
	return c, nil
}
