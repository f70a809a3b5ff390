package models

import (
	"math"
)

// Prediction is a model's answer for one text.
type Prediction struct {
	// Label is 1 when the logit is above 0 (Probability above 0.5), else 0.
	Label int `json:"label"`
	// Probability is the positive class's probability.
	Probability float32 `json:"probability"`
}

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
