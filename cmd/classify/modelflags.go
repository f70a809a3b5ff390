package main

import (
	"errors"
	"flag"
	"strings"

	"github.com/classify/classify/models"
)

// modelFlags are the flags that shape the model, shared by train and summary.
type modelFlags struct {
	vocabSize, maxLen, hidden, dim, maxRelative int
	model, posEncoding, pool                    string
	dropout                                     float64
	freezeEmbeddings                            bool
}

// addModelFlags defines the model's flags on fs with the defaults of SPEC
// section 5.
func addModelFlags(fs *flag.FlagSet) *modelFlags {
	d := models.DefaultConfig()
	m := &modelFlags{}
	fs.StringVar(&m.model, "model", models.BiLSTMArchitecture, "the model: bilstm (the reference BiLSTM)")
	fs.IntVar(&m.vocabSize, "vocab-size", d.VocabSize, "number of token ids, [PAD] and [UNK] included")
	fs.IntVar(&m.maxLen, "max-len", d.MaxLen, "keep the first `N` tokens of each text")
	fs.IntVar(&m.hidden, "hidden", d.Hidden, "units of each LSTM direction")
	fs.IntVar(&m.dim, "dim", d.Dim, "embedding width when no --vectors are given (else the vectors' width)")
	fs.StringVar(&m.posEncoding, "pos-encoding", d.PosEncoding, "positions: sinusoidal, learned, relative or none")
	fs.IntVar(&m.maxRelative, "max-relative", d.MaxRelative, "distance clip of --pos-encoding relative")
	fs.StringVar(&m.pool, "pool", d.Pool, "pooling over time: last, mean or max")
	fs.Float64Var(&m.dropout, "dropout", d.Dropout, "dropout rate before the output layer")
	fs.BoolVar(&m.freezeEmbeddings, "freeze-embeddings", d.FreezeEmbeddings, "keep the embedding matrix fixed")
	return m
}

// spec returns the model's architecture and configuration for embeddings
// of width dim.
func (m *modelFlags) spec(dim int) (models.Spec, error) {
	switch m.model {
	case models.BiLSTMArchitecture:
		cfg, err := m.config(dim)
		if err != nil {
			return models.Spec{}, err
		}
		return models.NewSpec(m.model, cfg)
	}
	return models.Spec{}, usagef("--model %q: want %s", m.model, models.BiLSTMArchitecture)
}

// config returns the BiLSTM's configuration for embeddings of width dim.
func (m *modelFlags) config(dim int) (models.Config, error) {
	cfg := models.Config{VocabSize: m.vocabSize, Dim: dim, MaxLen: m.maxLen, Hidden: m.hidden,
		PosEncoding: m.posEncoding, MaxRelative: m.maxRelative, Pool: m.pool, Dropout: m.dropout,
		FreezeEmbeddings: m.freezeEmbeddings}
	if err := cfg.Validate(); err != nil {
		return cfg, usageError{errors.New(flagNames.Replace(err.Error()))}
	}
	return cfg, nil
}

// flagNames turns the configuration's field names in Validate's messages
// into the flags that set them.
var flagNames = strings.NewReplacer("vocab_size ", "--vocab-size ", "dim ", "--dim ", "max_len ", "--max-len ",
	"hidden ", "--hidden ", "dropout ", "--dropout ", "max_relative ", "--max-relative ",
	"pos_encoding ", "--pos-encoding ", "pool ", "--pool ")
