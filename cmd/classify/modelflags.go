package main

import (
	"errors"
	"flag"
	"strconv"
	"strings"

	"github.com/classify/classify/models"
)

// modelFlags are the flags that shape the model, shared by train and summary.
type modelFlags struct {
	vocabSize, maxLen, hidden, dim, maxRelative, featureMaps int
	ngrams, buckets                                          int
	layers, heads, ff                                        int
	model, posEncoding, pool, filters                        string
	dropout                                                  float64
	freezeEmbeddings                                         bool
	// fs is the flag set, to tell the flags given from the defaults: a
	// model's own defaults (the CNN's dropout 0.5 and trainable
	// embeddings) stand unless a flag is given.
	fs *flag.FlagSet
}

// given reports whether the flag name was on the command line.
func (m *modelFlags) given(name string) bool {
	found := false
	if m.fs != nil {
		m.fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	}
	return found
}

// addModelFlags defines the model's flags on fs with the defaults of SPEC
// section 5.
func addModelFlags(fs *flag.FlagSet) *modelFlags {
	d := models.DefaultConfig()
	m := &modelFlags{fs: fs}
	c := models.DefaultCNNConfig()
	tr := models.DefaultTransformerConfig()
	fs.StringVar(&m.model, "model", models.BiLSTMArchitecture, "the model: bilstm (the reference BiLSTM: max pooling, dropout 0.3, frozen embeddings), "+
		"cnn (Kim 2014: --filters 3,4,5 --feature-maps 100, dropout 0.5, trainable embeddings), "+
		"transformer (pre-norm encoder: --layers 2 --heads 4 --ff 512 over --dim 128, mean pooling, dropout 0.1, frozen embeddings projected to --dim) or "+
		"bow (fastText supervised: the mean of word and hashed word n-gram rows, --ngrams 2 --buckets 2000000 --dim 100, every word of the data up to --vocab-size 500000, whole texts, trained by SGD with --lr 0.1 for --epochs 5)")
	bw := models.DefaultBowConfig()
	fs.IntVar(&m.ngrams, "ngrams", bw.Ngrams, "bow: longest word n-gram (fastText's -wordNgrams); 1 for words alone")
	fs.IntVar(&m.buckets, "buckets", bw.Buckets, "bow: rows the n-grams are hashed into; the table takes 4·dim·(vocabulary+buckets) bytes, ~800 MB at 2,000,000 × 100")
	fs.IntVar(&m.layers, "layers", tr.Layers, "transformer: encoder blocks")
	fs.IntVar(&m.heads, "heads", tr.Heads, "transformer: attention heads, dividing --dim")
	fs.IntVar(&m.ff, "ff", tr.FF, "transformer: width of each feed-forward layer")
	fs.StringVar(&m.filters, "filters", "3,4,5", "cnn: the filter widths, comma-separated")
	fs.IntVar(&m.featureMaps, "feature-maps", c.FeatureMaps, "cnn: the filters of each width")
	fs.IntVar(&m.vocabSize, "vocab-size", d.VocabSize, "number of token ids, [PAD] and [UNK] included")
	fs.IntVar(&m.maxLen, "max-len", d.MaxLen, "keep the first `N` tokens of each text")
	fs.IntVar(&m.hidden, "hidden", d.Hidden, "units of each LSTM direction")
	fs.IntVar(&m.dim, "dim", d.Dim, "embedding width when no --vectors are given (else the vectors' width)")
	fs.StringVar(&m.posEncoding, "pos-encoding", d.PosEncoding, "positions: sinusoidal, learned, relative or none; transformer also rope or alibi")
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
		for _, name := range []string{"ngrams", "buckets"} {
			if m.given(name) {
				return models.Spec{}, usagef("--%s is not a bilstm flag", name)
			}
		}
		cfg, err := m.config(dim)
		if err != nil {
			return models.Spec{}, err
		}
		return models.NewSpec(m.model, cfg)
	case models.CNNArchitecture:
		cfg := models.DefaultCNNConfig()
		cfg.VocabSize, cfg.Dim, cfg.MaxLen, cfg.FeatureMaps = m.vocabSize, dim, m.maxLen, m.featureMaps
		if m.given("dropout") {
			cfg.Dropout = m.dropout
		}
		if m.given("freeze-embeddings") {
			cfg.FreezeEmbeddings = m.freezeEmbeddings
		}
		cfg.Filters = nil
		for _, f := range strings.Split(m.filters, ",") {
			w, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return models.Spec{}, usagef("--filters %q: want widths such as 3,4,5", m.filters)
			}
			cfg.Filters = append(cfg.Filters, w)
		}
		for _, name := range []string{"hidden", "pos-encoding", "pool", "max-relative", "layers", "heads", "ff", "ngrams", "buckets"} {
			if m.given(name) {
				return models.Spec{}, usagef("--%s is not a cnn flag", name)
			}
		}
		if err := cfg.Validate(); err != nil {
			return models.Spec{}, usageError{errors.New(flagNames.Replace(err.Error()))}
		}
		return models.NewSpec(m.model, cfg)
	case models.TransformerArchitecture:
		cfg := models.DefaultTransformerConfig()
		cfg.VocabSize, cfg.EmbeddingDim, cfg.MaxLen, cfg.Layers, cfg.Heads, cfg.FF = m.vocabSize, dim, m.maxLen, m.layers, m.heads, m.ff
		cfg.PosEncoding, cfg.MaxRelative, cfg.FreezeEmbeddings = m.posEncoding, m.maxRelative, m.freezeEmbeddings
		if m.given("dim") {
			cfg.Dim = m.dim
		}
		if m.given("pool") {
			cfg.Pool = m.pool
		}
		if m.given("dropout") {
			cfg.Dropout = m.dropout
		}
		for _, name := range []string{"hidden", "filters", "feature-maps", "ngrams", "buckets"} {
			if m.given(name) {
				return models.Spec{}, usagef("--%s is not a transformer flag", name)
			}
		}
		if err := cfg.Validate(); err != nil {
			return models.Spec{}, usageError{errors.New(flagNames.Replace(err.Error()))}
		}
		return models.NewSpec(m.model, cfg)
	case models.BowArchitecture:
		cfg := models.BowConfig{VocabSize: m.vocabSize, Dim: dim, MaxLen: m.maxLen, Ngrams: m.ngrams, Buckets: m.buckets}
		if cfg.Ngrams < 2 && !m.given("buckets") {
			cfg.Buckets = 0 // words alone need no n-gram rows
		}
		for _, name := range []string{"hidden", "pos-encoding", "pool", "max-relative", "layers", "heads", "ff",
			"filters", "feature-maps", "dropout", "freeze-embeddings"} {
			if m.given(name) {
				return models.Spec{}, usagef("--%s is not a bow flag", name)
			}
		}
		if err := cfg.Validate(); err != nil {
			return models.Spec{}, usageError{errors.New(flagNames.Replace(err.Error()))}
		}
		return models.NewSpec(m.model, cfg)
	}
	return models.Spec{}, usagef("--model %q: want %s, %s, %s or %s", m.model, models.BiLSTMArchitecture, models.CNNArchitecture, models.TransformerArchitecture, models.BowArchitecture)
}

// bowVocabSize is bow's default --vocab-size: every word of most
// training sets, as fastText keeps every word (-minCount 1), while the
// table of 500,000 words and 2,000,000 buckets of 100 values stays within
// the 1 GiB limit of a model.
const bowVocabSize = 500000

// applyBowDefaults sets bow's own defaults of the shared flags not given:
// --vocab-size 500000 and whole texts (fastText reads the whole line).
func (m *modelFlags) applyBowDefaults() {
	if !m.given("vocab-size") {
		m.vocabSize = bowVocabSize
	}
	if !m.given("max-len") {
		m.maxLen = models.DefaultBowConfig().MaxLen
	}
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
	"pos_encoding ", "--pos-encoding ", "pool ", "--pool ", "feature_maps ", "--feature-maps ", "filter width ", "--filters width ",
	"filters ", "--filters ", "ngrams ", "--ngrams ", "buckets ", "--buckets ")
