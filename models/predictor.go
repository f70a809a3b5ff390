package models

import (
	"math"
	"sort"
	"sync"

	"github.com/classify/classify/data"
)

// Prediction is a model's answer for one text.
type Prediction struct {
	// Label is 1 when Probability is at least 0.5, else 0.
	Label int `json:"label"`
	// Probability is the positive class's probability.
	Probability float32 `json:"probability"`
}

// predictBatchSize is the number of texts scored together: big enough to
// keep the matrix products efficient, small enough to keep padding low once
// texts are sorted by length.
const predictBatchSize = 64

// Predictor is a checkpoint loaded once for prediction. It is safe for
// concurrent use by many goroutines: each concurrent caller gets a replica
// of the network (sharing the weights) with its own compiled graphs, and
// the replicas take turns running them, since Gorgonia's ops write to the
// shared weight tensors; each run uses both cores through the BiLSTM's two
// directions.
type Predictor struct {
	// Checkpoint is what was loaded.
	Checkpoint *Checkpoint

	replicas sync.Pool
}

// LoadPredictor loads the checkpoint folder dir for prediction.
func LoadPredictor(dir string) (*Predictor, error) {
	ck, err := Load(dir)
	if err != nil {
		return nil, err
	}
	return NewPredictor(ck), nil
}

// NewPredictor serves predictions from a loaded checkpoint.
func NewPredictor(ck *Checkpoint) *Predictor {
	p := &Predictor{Checkpoint: ck}
	p.replicas.New = func() any { return ck.Model.replica() }
	return p
}

// Predict scores texts and returns one prediction per text, in order.
func (p *Predictor) Predict(texts []string) ([]Prediction, error) {
	seqs, err := p.Checkpoint.Tokenizer.EncodeAll(texts, p.Checkpoint.Model.Config.MaxLen)
	if err != nil {
		return nil, err
	}
	m := p.replicas.Get().(*Classifier)
	defer p.replicas.Put(m)
	logits, err := m.Logits(seqs)
	if err != nil {
		return nil, err
	}
	out := make([]Prediction, len(texts))
	for i, z := range logits {
		out[i] = PredictionFromLogit(z)
	}
	return out, nil
}

// PredictionFromLogit turns a logit into a probability and a label.
func PredictionFromLogit(z float32) Prediction {
	p := float32(1 / (1 + math.Exp(-float64(z))))
	label := 0
	if p >= 0.5 {
		label = 1
	}
	return Prediction{Label: label, Probability: p}
}

// Logits scores encoded sequences in batches of similar length and returns
// one logit per sequence, in order. It runs the inference graphs only: no
// dropout and no gradients.
func (c *Classifier) Logits(seqs [][]int) ([]float32, error) {
	order := make([]int, len(seqs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(seqs[order[a]]) < len(seqs[order[b]]) })
	out := make([]float32, len(seqs))
	for start := 0; start < len(order); start += predictBatchSize {
		idx := order[start:min(start+predictBatchSize, len(order))]
		b := padBatch(seqs, idx)
		_, logits, err := c.Forward(b, false)
		if err != nil {
			return nil, err
		}
		for r, i := range idx {
			out[i] = logits[r]
		}
	}
	return out, nil
}

// padBatch makes an unlabelled batch of the sequences at idx, padded to the
// longest of them.
func padBatch(seqs [][]int, idx []int) *data.Batch {
	b := &data.Batch{Size: len(idx), Index: idx}
	for _, i := range idx {
		b.Len = max(b.Len, len(seqs[i]))
	}
	b.IDs = make([]int, b.Size*b.Len)
	b.Lengths = make([]int, b.Size)
	for r, i := range idx {
		copy(b.IDs[r*b.Len:], seqs[i])
		b.Lengths[r] = len(seqs[i])
	}
	return b
}

// replica returns a classifier that shares c's layers and weights but has
// its own compiled graphs, so that two replicas can run at once.
func (c *Classifier) replica() *Classifier {
	r := &Classifier{Config: c.Config, Embedding: c.Embedding, Position: c.Position, Encoder: c.Encoder,
		Pooling: c.Pooling, Dropout: c.Dropout, Output: c.Output, graphs: map[graphKey]*compiledGraph{},
		running: c.running}
	return r
}
