package models

import "fmt"

// Limits on the sizes a Config, and so a config.json or a flag of classify
// train, may ask for. They are generous (GloVe's 2.2M-word 840B vectors fit,
// and BiLSTMs far wider than any published text classifier), and they keep
// a model that a mistyped flag or a tampered config.json asks for within
// memory: the weights of the largest model allowed take 1 GiB as float32.
const (
	// MaxVocabSize bounds vocab_size (--vocab-size).
	MaxVocabSize = 5_000_000
	// MaxDim bounds dim (--dim, or the width of --vectors).
	MaxDim = 4096
	// MaxSeqLen bounds max_len (--max-len), in tokens.
	MaxSeqLen = 8192
	// MaxHidden bounds hidden (--hidden), the units of each LSTM direction.
	MaxHidden = 4096
	// MaxRelativeDistance bounds max_relative (--max-relative).
	MaxRelativeDistance = MaxSeqLen
	// MaxWeights bounds the numbers a model holds: its parameters and its
	// sinusoidal position table, 2^28 (1 GiB of float32).
	MaxWeights = 1 << 28
)

// checkLimits reports the first size of c over its limit.
func (c Config) checkLimits() error {
	for _, l := range []struct {
		name     string
		got, max int
	}{
		{"vocab_size", c.VocabSize, MaxVocabSize},
		{"dim", c.Dim, MaxDim},
		{"max_len", c.MaxLen, MaxSeqLen},
		{"hidden", c.Hidden, MaxHidden},
		{"max_relative", c.MaxRelative, MaxRelativeDistance},
	} {
		if l.got > l.max {
			return fmt.Errorf("%s %d: want at most %d", l.name, l.got, l.max)
		}
	}
	return c.checkWeights(1)
}

// checkWeights refuses a model of c with k output units (the labels) of
// more than MaxWeights weights.
func (c Config) checkWeights(k int) error {
	if n := c.weightCount(k); n > MaxWeights {
		return fmt.Errorf("vocab_size %d, dim %d, max_len %d, hidden %d and %d output units make a model of %d weights, over the limit of %d (1 GiB of float32)",
			c.VocabSize, c.Dim, c.MaxLen, c.Hidden, k, n, MaxWeights)
	}
	return nil
}

// weightCount is the number of values the model of c with k output units
// holds: the tensors of weightShapes, less the zero bias_hh that only the
// file holds, plus the sinusoidal table, which is computed rather than
// stored. The sizes are
// bounded one by one first, so that it cannot overflow.
func (c Config) weightCount(k int) int64 {
	var n int64
	for _, w := range c.weightShapes(k) {
		if isBiasHH(w.name) {
			continue
		}
		size := int64(1)
		for _, d := range w.shape {
			size *= int64(d)
		}
		n += size
	}
	if c.PosEncoding == "sinusoidal" {
		n += int64(c.MaxLen) * int64(c.Dim)
	}
	return n
}

// weightShape is one tensor of a model.safetensors.
type weightShape struct {
	name  string
	shape []int
}

// weightShapes are the tensors of the model.safetensors of a classifier of
// configuration c with k output units, in the model's order, with their
// shapes (SPEC section 4: PyTorch's names and layouts; both LSTM biases).
func (c Config) weightShapes(k int) []weightShape {
	v, d, h := c.VocabSize, c.Dim, c.Hidden
	shapes := []weightShape{{"embedding.weight", []int{v, d}}}
	switch c.PosEncoding {
	case "learned":
		shapes = append(shapes, weightShape{"pos_encoding.weight", []int{c.MaxLen, d}})
	case "relative":
		for _, name := range []string{"query", "key", "value", "output"} {
			shapes = append(shapes, weightShape{"relpos." + name + ".weight", []int{d, d}})
		}
		r := 2*c.MaxRelative + 1
		shapes = append(shapes, weightShape{"relpos.key_embedding", []int{r, d}}, weightShape{"relpos.value_embedding", []int{r, d}})
	}
	for _, dir := range []string{"", "_reverse"} {
		shapes = append(shapes,
			weightShape{"lstm.weight_ih_l0" + dir, []int{4 * h, d}},
			weightShape{"lstm.weight_hh_l0" + dir, []int{4 * h, h}},
			weightShape{"lstm.bias_ih_l0" + dir, []int{4 * h}},
			weightShape{"lstm.bias_hh_l0" + dir, []int{4 * h}})
	}
	return append(shapes, weightShape{"dense.weight", []int{k, 2 * h}}, weightShape{"dense.bias", []int{k}})
}
