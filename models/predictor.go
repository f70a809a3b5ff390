package models

import (
	"math"

	"github.com/classify/classify/data"
)

// Prediction is a model's answer for one text.
type Prediction struct {
	// Label is 1 when the logit is above 0 (Probability above 0.5), else 0.
	Label int `json:"label"`
	// Probability is the positive class's probability.
	Probability float32 `json:"probability"`
}

// predictBatchSize is the number of texts scored together: big enough to
// keep the matrix products efficient, small enough to keep padding low once
// texts are sorted by length.
const predictBatchSize = 64

// Predictor is a checkpoint loaded once for prediction. It is safe for
// concurrent use by many goroutines: their batches take turns on the
// model, each using every core.
type Predictor struct {
	// Checkpoint is what was loaded.
	Checkpoint *Checkpoint
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
func NewPredictor(ck *Checkpoint) *Predictor { return &Predictor{Checkpoint: ck} }

// Predict scores texts and returns one prediction per text, in order.
func (p *Predictor) Predict(texts []string) ([]Prediction, error) {
	seqs := p.Checkpoint.Tokenizer.EncodeAll(texts, p.Checkpoint.Model.Config.MaxLen)
	logits, err := p.Checkpoint.Model.Logits(seqs)
	if err != nil {
		return nil, err
	}
	out := make([]Prediction, len(texts))
	for i, z := range logits {
		out[i] = PredictionFromLogit(z)
	}
	return out, nil
}

// PredictionFromLogit turns a logit into a probability and a label. The
// label is 1 when the logit is above 0, the probability above 0.5, as
// Keras's binary accuracy and the metrics of package train decide.
func PredictionFromLogit(z float32) Prediction {
	p := float32(1 / (1 + math.Exp(-float64(z))))
	label := 0
	if z > 0 {
		label = 1
	}
	return Prediction{Label: label, Probability: p}
}

// Logits scores encoded sequences in batches of similar length and returns
// one logit per sequence, in order. It runs the inference graphs only: no
// dropout and no gradients.
func (c *Classifier) Logits(seqs [][]int) ([]float32, error) {
	out := make([]float32, len(seqs))
	for _, b := range data.LengthBatches(seqs, nil, predictBatchSize) {
		rows := b.Index
		padRows(&b)
		_, logits, err := c.Forward(&b, false)
		if err != nil {
			return nil, err
		}
		for r, i := range rows {
			out[i] = logits[r]
		}
	}
	return out, nil
}

// padRows adds rows until the batch has a power of two rows: a server that
// scores requests of every size then compiles a handful of graphs per
// length (1, 2, 4 ... 64 rows), not one per size. A filler row holds one
// [UNK] token rather than none, so that no pooling divides by zero; its
// logit is not read.
func padRows(b *data.Batch) {
	rows := 1
	for rows < b.Size {
		rows *= 2
	}
	ids := make([]int, rows*b.Len)
	copy(ids, b.IDs)
	for r := b.Size; r < rows; r++ {
		ids[r*b.Len] = data.UnkID
		b.Lengths = append(b.Lengths, 1)
		b.Labels = append(b.Labels, 0)
		b.Index = append(b.Index, -1)
	}
	b.IDs, b.Size = ids, rows
}
