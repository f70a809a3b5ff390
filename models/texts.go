package models

import (
	"fmt"

	"github.com/classify/classify/data"
	"github.com/classify/classify/train"
)

// Logits scores texts with the model and the checkpoint's tokenizer:
// Model.Head().Units() logits a text, row-major, in order.
func (ck *Checkpoint) Logits(texts []string) ([]float32, error) {
	return ck.Model.TextLogits(ck.Tokenizer, texts)
}

// Targets encodes the examples' labels as the model's head reads them; a
// label the model was not trained on is an error naming path and the
// example's line.
func (ck *Checkpoint) Targets(examples []data.Example, path string) ([]float32, error) {
	ls, err := data.NewLabelSetOf(ck.Model.Head().Labels(), ck.Model.Head().Task())
	if err != nil {
		return nil, err
	}
	return ls.Targets(examples, path)
}

// Evaluate scores the model on labelled examples read from path (named in
// errors), in batches of batchSize: the loss and the metrics of the task.
func (ck *Checkpoint) Evaluate(examples []data.Example, path string, batchSize int) (train.Metrics, error) {
	y, err := ck.Targets(examples, path)
	if err != nil {
		return train.Metrics{}, err
	}
	m, err := ck.Model.EvaluateTexts(ck.Tokenizer, data.Texts(examples), y, batchSize)
	if err != nil {
		return m, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}
