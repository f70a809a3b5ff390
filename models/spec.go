package models

import (
	"bytes"
	"encoding/json"
	"fmt"

	"gorgonia.org/tensor"

	"github.com/classify/classify/train"
)

// Architecture names, the values of config.json's "architecture" and of
// classify train --model.
const (
	// BiLSTMArchitecture is the reference model, Classifier.
	BiLSTMArchitecture = "bilstm"
	// SequentialArchitecture is a Sequential assembled in Go from the
	// layers, saved layer by layer.
	SequentialArchitecture = "sequential"
	// legacyBiLSTM is the name checkpoints of format version 1 give the
	// BiLSTM.
	legacyBiLSTM = "bilstm_classifier"
)

// Spec says how a model is built: the architecture's name and its
// hyperparameters as JSON (for the BiLSTM, a Config). It is what a
// checkpoint's config.json keeps under "architecture" and "model".
type Spec struct {
	Architecture string
	Config       json.RawMessage
}

// NewSpec makes the spec of architecture arch with configuration cfg,
// which Build reads back (for the BiLSTM, a Config).
func NewSpec(arch string, cfg any) (Spec, error) {
	js, err := json.Marshal(cfg)
	if err != nil {
		return Spec{}, fmt.Errorf("%s: %w", arch, err)
	}
	return Spec{Architecture: arch, Config: js}, nil
}

// decodeConfig reads a spec's configuration into cfg, refusing unknown
// fields so that a misspelt hyperparameter is an error, not a default.
func decodeConfig(sp Spec, cfg any) error {
	d := json.NewDecoder(bytes.NewReader(sp.Config))
	d.DisallowUnknownFields()
	if err := d.Decode(cfg); err != nil {
		return fmt.Errorf("%s model configuration: %w", sp.Architecture, err)
	}
	return nil
}

// configOf reads a spec's configuration over cfg (the architecture's
// defaults) and checks it.
func configOf[C interface{ Validate() error }](sp Spec, cfg C) (C, error) {
	if err := decodeConfig(sp, &cfg); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

// orZeros is embedding, or a zero [vocab, dim] matrix when it is nil (a
// model about to get a checkpoint's weights).
func orZeros(embedding *tensor.Dense, vocab, dim int) *tensor.Dense {
	if embedding != nil {
		return embedding
	}
	return tensor.New(tensor.WithShape(vocab, dim), tensor.Of(tensor.Float32))
}

// Build makes the model that a spec describes, with the output head head,
// its embedding matrix (nil for zeros, as before loading weights; a bag of
// n-grams takes it as its word rows) and every other weight drawn from
// seed. Each architecture has its own constructor; this is where they are
// named.
func Build(sp Spec, head train.Head, embedding *tensor.Dense, seed int64) (Model, error) {
	switch sp.Architecture {
	case BiLSTMArchitecture, legacyBiLSTM:
		cfg, err := configOf(sp, DefaultConfig())
		if err != nil {
			return nil, err
		}
		c, err := NewClassifier(cfg, head, orZeros(embedding, cfg.VocabSize, cfg.Dim), seed)
		if err != nil {
			return nil, err
		}
		return c.Sequential, nil
	case CNNArchitecture:
		cfg, err := configOf(sp, DefaultCNNConfig())
		if err != nil {
			return nil, err
		}
		c, err := NewCNN(cfg, head, orZeros(embedding, cfg.VocabSize, cfg.Dim), seed)
		if err != nil {
			return nil, err
		}
		return c.Sequential, nil
	case TransformerArchitecture:
		return asModel(buildTransformer(sp, head, embedding, seed))
	case BowArchitecture:
		return asModel(buildBow(sp, head, embedding, seed))
	case SequentialArchitecture:
		return asModel(buildSequential(sp, head, seed))
	}
	return nil, fmt.Errorf("architecture %q: want %s, %s, %s, %s or %s", sp.Architecture, BiLSTMArchitecture, CNNArchitecture, BowArchitecture, TransformerArchitecture, SequentialArchitecture)
}

// asModel is a constructor's model as a Model, nil (not a nil pointer in
// an interface) with an error.
func asModel[M Model](m M, err error) (Model, error) {
	if err != nil {
		return nil, err
	}
	return m, nil
}

// expectedShapes lists the tensors of model.safetensors that the spec's
// model of units output units holds, where the architecture can say so
// without building the model (known false otherwise).
func expectedShapes(sp Spec, units int) (shapes []weightShape, known bool, err error) {
	switch sp.Architecture {
	case BiLSTMArchitecture, legacyBiLSTM:
		cfg, err := configOf(sp, DefaultConfig())
		return cfg.weightShapes(units), err == nil, err
	case CNNArchitecture:
		cfg, err := configOf(sp, DefaultCNNConfig())
		return cfg.weightShapes(units), err == nil, err
	case BowArchitecture:
		cfg, err := configOf(sp, DefaultBowConfig())
		return cfg.weightShapes(units), err == nil, err
	}
	return nil, false, nil
}

// Rebuild makes a model of the spec sp holding the weights of m, for the
// settings that change how a model trains but not its weights (frozen or
// trainable embeddings, dropout): every parameter of the new model must
// have a namesake of the same shape in m.
func Rebuild(m Model, sp Spec) (Model, error) {
	n, err := Build(sp, m.Head(), nil, 0)
	if err != nil {
		return nil, err
	}
	if err := copyWeights(n, m); err != nil {
		return nil, fmt.Errorf("the model's shape cannot change: %w", err)
	}
	return n, nil
}

// copyWeights copies the weights of src into the parameters of dst of the
// same names, which must all have a namesake of the same shape.
func copyWeights(dst, src Model) error {
	old := map[string]*tensor.Dense{}
	for _, p := range src.Params() {
		old[p.Name] = p.Value
	}
	for _, p := range dst.Params() {
		v, ok := old[p.Name]
		if !ok || !v.Shape().Eq(p.Value.Shape()) {
			return fmt.Errorf("no weights of shape %v for %s", p.Value.Shape(), p.Name)
		}
		copy(p.Value.Data().([]float32), v.Data().([]float32))
	}
	return nil
}
