package models

import "errors"

// Prediction is a model's answer for one text.
type Prediction struct {
	// Label is 1 when Probability is at least 0.5, else 0.
	Label int `json:"label"`
	// Probability is the positive class's probability.
	Probability float32 `json:"probability"`
}

// Predictor is a checkpoint loaded once for prediction. It is safe for
// concurrent use by many goroutines.
type Predictor struct{}

// LoadPredictor loads the checkpoint folder dir for prediction.
func LoadPredictor(dir string) (*Predictor, error) {
	return nil, errors.New("models: LoadPredictor is not built yet")
}

// Predict scores texts and returns one prediction per text, in order.
func (p *Predictor) Predict(texts []string) ([]Prediction, error) {
	return nil, errors.New("models: Predict is not built yet")
}
