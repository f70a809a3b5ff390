package models

import (
	"fmt"
	"math/rand"

	"gorgonia.org/tensor"

	"github.com/classify/classify/data"
	"github.com/classify/classify/kernels"
	"github.com/classify/classify/layers"
	"github.com/classify/classify/train"
)

// BowArchitecture is fastText's classifier, Bow: config.json's
// "architecture" and classify train --model.
const BowArchitecture = "bow"

// BowConfig holds the hyperparameters of the bag-of-n-grams classifier, as
// stored under "model" in a checkpoint's config.json.
type BowConfig struct {
	// VocabSize is the number of word ids, [PAD] and [UNK] included; the
	// n-gram buckets follow them in the table.
	VocabSize int `json:"vocab_size"`
	// Dim is the width of a table row.
	Dim int `json:"dim"`
	// MaxLen is the number of tokens read per text.
	MaxLen int `json:"max_len"`
	// Ngrams is the longest word n-gram (--ngrams); 1 for words alone.
	Ngrams int `json:"ngrams"`
	// Buckets is the number of rows the n-grams are hashed into
	// (--buckets). The table costs 4·Dim·(VocabSize+Buckets) bytes, in
	// memory and in model.safetensors: 804 MB for fastText's 2,000,000
	// buckets of 100 values.
	Buckets int `json:"buckets"`
}

// DefaultBowConfig is fastText's supervised defaults with bigrams: 100
// values a row, n-grams up to 2 in 2,000,000 buckets.
func DefaultBowConfig() BowConfig {
	return BowConfig{VocabSize: 10000, Dim: 100, MaxLen: 100, Ngrams: 2, Buckets: 2000000}
}

// Validate reports the first setting that is out of range.
func (c BowConfig) Validate() error {
	switch {
	case c.VocabSize < 3 || c.VocabSize > MaxVocabSize:
		return fmt.Errorf("vocab_size %d: want 3 to %d", c.VocabSize, MaxVocabSize)
	case c.Dim < 1 || c.Dim > MaxDim:
		return fmt.Errorf("dim %d: want 1 to %d", c.Dim, MaxDim)
	case c.MaxLen < 1 || c.MaxLen > MaxSeqLen:
		return fmt.Errorf("max_len %d: want 1 to %d", c.MaxLen, MaxSeqLen)
	case c.Ngrams < 1 || c.Ngrams > 8:
		return fmt.Errorf("ngrams %d: want 1 to 8", c.Ngrams)
	case c.Buckets < 0 || c.Ngrams > 1 && c.Buckets == 0:
		return fmt.Errorf("buckets %d: want at least 1 for ngrams %d", c.Buckets, c.Ngrams)
	case c.Buckets > MaxWeights: // before the sum below, which could overflow
		return fmt.Errorf("buckets %d: want at most %d", c.Buckets, MaxWeights)
	case int64(c.VocabSize+c.Buckets)*int64(c.Dim) > MaxWeights:
		return fmt.Errorf("vocab_size %d, buckets %d and dim %d make a table of %d weights, over the limit of %d (1 GiB of float32)",
			c.VocabSize, c.Buckets, c.Dim, int64(c.VocabSize+c.Buckets)*int64(c.Dim), MaxWeights)
	}
	return nil
}

// Bow is the classifier of fastText (Joulin et al. 2017, architecture
// "bow"): the mean of the table rows of a text's words and of its hashed
// word n-grams, then Dense(K) and the head. It runs as plain loops, with
// no Gorgonia graph: a bag reads a few rows of a table of millions, and
// training steps only those rows, by SGD with fastText's linearly
// decaying rate, one example at a time.
type Bow struct {
	Config BowConfig
	// Bag holds the table, "embedding_bag.weight" [VocabSize+Buckets,
	// Dim]: words, then buckets.
	Bag *layers.EmbeddingBag
	// Output is "dense.weight" [K, Dim] and "dense.bias" [K], zero at
	// first as fastText's output matrix.
	Output *layers.Dense

	head   train.Head
	hasher data.NgramHasher
}

// NewBow builds the classifier with the output head head (nil for a binary
// head of labels "0" and "1"), its table drawn from U(-1/Dim, 1/Dim) by
// seed, as fastText draws it.
func NewBow(cfg BowConfig, head train.Head, seed int64) (*Bow, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if head == nil {
		head, _ = train.NewBinaryHead([]string{"0", "1"})
	}
	rng := rand.New(rand.NewSource(seed))
	bag, err := layers.NewEmbeddingBag(cfg.VocabSize+cfg.Buckets, cfg.Dim, tensor.Float32, rng, true)
	if err != nil {
		return nil, err
	}
	out := layers.NewDense(cfg.Dim, head.Units(), layers.Linear, tensor.Float32, rng)
	out.Weight.Value.Zero()
	m := &Bow{Config: cfg, Bag: bag, Output: out, head: head}
	if cfg.Ngrams > 1 {
		m.hasher = data.NgramHasher{N: cfg.Ngrams, Buckets: cfg.Buckets, Offset: cfg.VocabSize}
	}
	return m, nil
}

// Head is the model's output head.
func (m *Bow) Head() train.Head { return m.head }

// Params lists the table, then the output layer's weight and bias.
func (m *Bow) Params() []*layers.Param { return append(m.Bag.Params(), m.Output.Params()...) }

// Spec is the model's architecture and configuration, for checkpoints.
func (m *Bow) Spec() (Spec, error) { return NewSpec(BowArchitecture, m.Config) }

// Rows returns a text's bag: the ids of its words that are in the
// vocabulary (ids and tokens as the tokenizer's Encode gives them, [PAD]
// and [UNK] left out, as fastText drops unknown words), then the buckets
// of its n-grams over every token, unknown ones included, and fastText's
// end-of-line token.
func (m *Bow) Rows(ids []int, tokens []string) []int {
	n := min(len(ids), m.Config.MaxLen)
	rows := make([]int, 0, n+m.hasher.Count(min(len(tokens), m.Config.MaxLen)+1))
	for _, id := range ids[:n] {
		if id > data.UnkID && id < m.Config.VocabSize {
			rows = append(rows, id)
		}
	}
	words := append(append(make([]string, 0, n+1), tokens[:min(len(tokens), m.Config.MaxLen)]...), data.FastTextEOS)
	return m.hasher.Append(rows, words)
}

// Logits returns the logits of each bag, Head().Units() a bag, row-major.
// A bag may hold any rows of the table; an empty one reads zeros.
func (m *Bow) Logits(bags [][]int) ([]float32, error) {
	D, K := m.Config.Dim, m.head.Units()
	table := m.Bag.Table.Value.Data().([]float32)
	w, b := m.Output.Weight.Value.Data().([]float32), m.Output.Bias.Value.Data().([]float32)
	kn := kernels.NewEmbeddingBag[float32](D)
	h := make([]float32, D)
	var ones []float32
	out := make([]float32, 0, len(bags)*K)
	for i, bag := range bags {
		if err := m.checkRows(bag); err != nil {
			return nil, fmt.Errorf("text %d: %w", i, err)
		}
		ones = onesOf(ones, len(bag))
		kn.Forward(table, bag, ones, 1, len(bag), h)
		for k := 0; k < K; k++ {
			z := b[k]
			for d, v := range w[k*D : (k+1)*D] {
				z += v * h[d]
			}
			out = append(out, z)
		}
	}
	return out, nil
}

func (m *Bow) checkRows(bag []int) error {
	rows := m.Config.VocabSize + m.Config.Buckets
	for _, r := range bag {
		if r < 0 || r >= rows {
			return fmt.Errorf("row %d outside the table of %d rows", r, rows)
		}
	}
	return nil
}

func onesOf(s []float32, n int) []float32 {
	for len(s) < n {
		s = append(s, 1)
	}
	return s[:n]
}

// BowFitConfig is how Fit trains: fastText's SGD, its rate falling
// linearly from LR to 0 over Epochs passes, one example a step, in an
// order shuffled by Seed each epoch.
type BowFitConfig struct {
	Epochs int
	LR     float64
	Seed   int64
}

// Fit trains the model on bags and their targets y (Head().Width() a
// bag) and returns each epoch's mean training loss. Only the rows of each
// example's bag, and the output layer, move.
func (m *Bow) Fit(bags [][]int, y []float32, cfg BowFitConfig) ([]float64, error) {
	D, K, W := m.Config.Dim, m.head.Units(), m.head.Width()
	if len(y) != len(bags)*W {
		return nil, fmt.Errorf("bow fit: %d targets for %d texts of %d each", len(y), len(bags), W)
	}
	if cfg.Epochs < 1 || !(cfg.LR > 0) {
		return nil, fmt.Errorf("bow fit: %d epochs at rate %v, want at least 1 and a positive rate", cfg.Epochs, cfg.LR)
	}
	for i, bag := range bags {
		if err := m.checkRows(bag); err != nil {
			return nil, fmt.Errorf("text %d: %w", i, err)
		}
	}
	table := m.Bag.Table
	tv := table.Value.Data().([]float32)
	w, b := m.Output.Weight.Value.Data().([]float32), m.Output.Bias.Value.Data().([]float32)
	kn := kernels.NewEmbeddingBag[float32](D)
	opt := &train.SparseSGD{LR: cfg.LR}
	grad := &layers.SparseGrad{}
	h, dh := make([]float32, D), make([]float32, D)
	z, dz, yt := make([]float64, K), make([]float64, K), make([]float64, W)
	var ones []float32
	rng := rand.New(rand.NewSource(cfg.Seed))
	order := rng.Perm(len(bags))
	total, done := float64(cfg.Epochs*len(bags)), 0
	losses := make([]float64, 0, cfg.Epochs)
	for e := 0; e < cfg.Epochs; e++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		var sum float64
		for _, i := range order {
			bag := bags[i]
			ones = onesOf(ones, len(bag))
			kn.Forward(tv, bag, ones, 1, len(bag), h)
			for k := 0; k < K; k++ {
				s := float64(b[k])
				for d, v := range w[k*D : (k+1)*D] {
					s += float64(v * h[d])
				}
				z[k] = s
			}
			for j := range yt {
				yt[j] = float64(y[i*W+j])
			}
			sum += m.head.Loss(z, yt, dz)
			lr := float32(cfg.LR * (1 - float64(done)/total))
			clear(dh)
			for k := 0; k < K; k++ {
				g := float32(dz[k])
				row := w[k*D : (k+1)*D]
				for d := range row {
					dh[d] += g * row[d]
					row[d] -= lr * g * h[d]
				}
				b[k] -= lr * g
			}
			if len(bag) > 0 {
				kn.Backward(dh, m.Config.VocabSize+m.Config.Buckets)
				grad.Rows = kn.Rows
				grad.Values = tensor.New(tensor.WithShape(len(kn.Rows), D), tensor.WithBacking(kn.Grads))
				if err := opt.Step(table, grad, float64(done)/total); err != nil {
					return nil, err
				}
			}
			done++
		}
		losses = append(losses, sum/float64(len(bags)))
	}
	return losses, nil
}
