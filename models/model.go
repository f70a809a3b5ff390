package models

import (
	"io"

	"github.com/classify/classify/data"
	"github.com/classify/classify/layers"
	"github.com/classify/classify/train"
)

// Model is what a checkpoint holds: a classifier that takes texts and
// gives logits, with the architecture and named weights a checkpoint
// stores. Save, Load, Build, Predictor and the commands go through it, so
// that a new model family is one type with these methods and one case in
// Build. Sequential (the BiLSTM, the CNN, the transformer and models
// assembled in Go) and Bow (fastText's bag of n-grams) are Models.
//
// Each model owns its text-to-input step with the checkpoint's tokenizer:
// a Sequential takes token ids cut to its max_len, a Bow the rows of its
// words and of their hashed n-grams.
type Model interface {
	// Head is the output head: the task, the labels and the loss.
	Head() train.Head
	// SetHead replaces the head by one of the same task and units (class
	// weights, another threshold).
	SetHead(h train.Head) error
	// Spec is the architecture and its configuration, which Build reads
	// back; an error when the model cannot be described.
	Spec() (Spec, error)
	// Params lists the weights under their checkpoint (PyTorch) names,
	// in a fixed order.
	Params() []*layers.Param
	// TextLogits scores texts encoded by tok: Head().Units() logits a
	// text, row-major, in order. It may be called from several
	// goroutines at once.
	TextLogits(tok *data.Tokenizer, texts []string) ([]float32, error)
	// EvaluateTexts scores the model on texts and their targets
	// (Head().Width() a text), in batches of batchSize: the loss without
	// class weights and the metrics of the task.
	EvaluateTexts(tok *data.Tokenizer, texts []string, y []float32, batchSize int) (train.Metrics, error)
	// Replica is a model that scores as this one does and may run at the
	// same time as it: a copy where scoring writes to the model (a
	// Gorgonia graph), the model itself where scoring only reads it.
	Replica() (Model, error)
	// Summary writes a Keras-style table of the layers, their output
	// shapes and parameter counts.
	Summary(w io.Writer) error
}

// embedded is a model whose first layer is an embedding of one row per
// token id; its rows must match the tokenizer's vocabulary.
type embedded interface {
	Embedding() (*layers.Embedding, bool)
}
