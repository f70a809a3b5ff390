package models

import (
	"fmt"
	"math/rand"
	"sync"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/classify/classify/data"
	"github.com/classify/classify/layers"
)

// Config holds the hyperparameters of the sentiment classifier, as stored
// under "model" in a checkpoint's config.json.
type Config struct {
	// VocabSize is the number of token ids, [PAD] and [UNK] included.
	VocabSize int `json:"vocab_size"`
	// Dim is the width of the word vectors.
	Dim int `json:"dim"`
	// MaxLen is the longest sequence, in tokens.
	MaxLen int `json:"max_len"`
	// Hidden is the width of each LSTM direction.
	Hidden int `json:"hidden"`
	// PosEncoding is sinusoidal, learned, relative or none.
	PosEncoding string `json:"pos_encoding"`
	// MaxRelative clips the distances of the relative encoding.
	MaxRelative int `json:"max_relative"`
	// Pool is last, mean or max.
	Pool string `json:"pool"`
	// Dropout is the rate of the dropout before the output layer; 0 for none.
	Dropout float64 `json:"dropout"`
	// FreezeEmbeddings keeps the embedding matrix out of training.
	FreezeEmbeddings bool `json:"freeze_embeddings"`
}

// DefaultConfig is the seed's model: 10,000 ids, 100-dimensional vectors,
// sinusoidal positions, BiLSTM(128), last-state pooling, frozen embeddings.
func DefaultConfig() Config {
	return Config{VocabSize: 10000, Dim: 100, MaxLen: 100, Hidden: 128, PosEncoding: "sinusoidal",
		MaxRelative: 16, Pool: "last", FreezeEmbeddings: true}
}

// Validate reports the first setting that is out of range.
func (c Config) Validate() error {
	switch {
	case c.VocabSize < 3:
		return fmt.Errorf("vocab_size %d: want at least 3 ([PAD], [UNK] and one word)", c.VocabSize)
	case c.Dim < 1:
		return fmt.Errorf("dim %d: want at least 1", c.Dim)
	case c.MaxLen < 1:
		return fmt.Errorf("max_len %d: want at least 1", c.MaxLen)
	case c.Hidden < 1:
		return fmt.Errorf("hidden %d: want at least 1", c.Hidden)
	case c.Dropout < 0 || c.Dropout >= 1:
		return fmt.Errorf("dropout %g: want 0 <= dropout < 1", c.Dropout)
	}
	switch c.PosEncoding {
	case "sinusoidal", "learned", "none":
	case "relative":
		if c.MaxRelative < 1 {
			return fmt.Errorf("max_relative %d: want at least 1", c.MaxRelative)
		}
	default:
		return fmt.Errorf("pos_encoding %q: want sinusoidal, learned, relative or none", c.PosEncoding)
	}
	switch c.Pool {
	case "last", "mean", "max":
	default:
		return fmt.Errorf("pool %q: want last, mean or max", c.Pool)
	}
	return nil
}

// Classifier is the sentiment classifier of SPEC section 2:
//
//	ids -> Embedding -> + positions -> Bidirectional(LSTM) -> pooling
//	    -> [Dropout] -> Dense(1) -> logit
//
// It keeps one compiled graph per batch shape and mode, so a batch of a
// shape seen before costs no compilation. Its methods may be called from
// several goroutines: their runs take turns.
type Classifier struct {
	Config Config

	Embedding *layers.Embedding
	// Position is the positional encoding or relative attention; nil for none.
	Position layers.Layer
	Encoder  *layers.Bidirectional
	// Pooling is nil for last-state pooling, which the encoder does itself.
	Pooling *layers.Pooling
	// Dropout is nil when the rate is 0.
	Dropout *layers.Dropout
	Output  *layers.Dense

	// mu lets one graph compile or run at a time: Gorgonia writes to the
	// values of parameter nodes, which all graphs share, when it compiles
	// a graph (NewTapeMachine sets their engine) and when it runs one (its
	// transpose and reshape ops change their input's shape in place).
	mu     sync.Mutex
	graphs map[graphKey]*compiledGraph
}

// NewClassifier builds the classifier. embedding is its [VocabSize, Dim]
// float32 matrix (pretrained rows and seeded random ones, see
// data.EmbeddingMatrix); every other weight is drawn from seed.
func NewClassifier(cfg Config, embedding *tensor.Dense, seed int64) (*Classifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if s := embedding.Shape(); len(s) != 2 || s[0] != cfg.VocabSize || s[1] != cfg.Dim {
		return nil, fmt.Errorf("embedding matrix of shape %v, want [%d %d]", s, cfg.VocabSize, cfg.Dim)
	}
	rng := rand.New(rand.NewSource(seed))
	dt := tensor.Float32
	c := &Classifier{Config: cfg, graphs: map[graphKey]*compiledGraph{}}
	c.Embedding = layers.NewEmbedding(embedding, !cfg.FreezeEmbeddings)
	switch cfg.PosEncoding {
	case "sinusoidal":
		c.Position = layers.NewSinusoidalEncoding(cfg.MaxLen, cfg.Dim)
	case "learned":
		c.Position = layers.NewLearnedEncoding(cfg.MaxLen, cfg.Dim, dt, rng)
	case "relative":
		c.Position = layers.NewRelativeAttention(cfg.Dim, cfg.MaxRelative, dt, rng)
	}
	sequences := cfg.Pool != "last"
	fwd := layers.NewLSTM(cfg.Dim, cfg.Hidden, dt, rng, layers.ReturnSequences(sequences))
	bwd := layers.NewLSTM(cfg.Dim, cfg.Hidden, dt, rng, layers.ReturnSequences(sequences), layers.GoBackwards())
	c.Encoder = layers.NewBidirectional(fwd, bwd, layers.MergeConcat)
	switch cfg.Pool {
	case "mean":
		c.Pooling = layers.NewPooling(layers.PoolMean)
	case "max":
		c.Pooling = layers.NewPooling(layers.PoolMax)
	}
	if cfg.Dropout > 0 {
		c.Dropout = layers.NewDropout(cfg.Dropout, rand.New(rand.NewSource(seed+1)))
	}
	c.Output = layers.NewDense(2*cfg.Hidden, 1, layers.Linear, dt, rng)
	return c, nil
}

// Layers lists the layers in the order data flows through them.
func (c *Classifier) Layers() []layers.Layer {
	ls := []layers.Layer{c.Embedding}
	if c.Position != nil {
		ls = append(ls, c.Position)
	}
	ls = append(ls, c.Encoder)
	if c.Pooling != nil {
		ls = append(ls, c.Pooling)
	}
	if c.Dropout != nil {
		ls = append(ls, c.Dropout)
	}
	return append(ls, c.Output)
}

// Params lists every parameter, trainable or not, in a fixed order.
func (c *Classifier) Params() []*layers.Param {
	var ps []*layers.Param
	for _, l := range c.Layers() {
		ps = append(ps, l.Params()...)
	}
	return ps
}

// graphKey names one compiled graph: a batch shape and a mode.
type graphKey struct {
	batch, length int
	training      bool
}

// compiledGraph is the classifier built into one graph, with its inputs,
// outputs and machine.
type compiledGraph struct {
	ids, mask, labels *G.Node
	logits, loss      *G.Node
	machine           *layers.Machine

	idsValue, maskValue, labelsValue *tensor.Dense
	inputs                           map[*G.Node]*tensor.Dense
}

// build adds the classifier to a new graph for batches of the key's shape.
func (c *Classifier) build(k graphKey) (*compiledGraph, error) {
	g := layers.NewGraph(tensor.Float32, k.training)
	cg := &compiledGraph{}
	cg.idsValue = tensor.New(tensor.WithShape(k.batch, k.length), tensor.Of(tensor.Int))
	cg.maskValue = tensor.New(tensor.WithShape(k.batch, k.length), tensor.Of(tensor.Float32))
	cg.labelsValue = tensor.New(tensor.WithShape(k.batch), tensor.Of(tensor.Float32))
	cg.ids = G.NewMatrix(g.ExprGraph, tensor.Int, G.WithShape(k.batch, k.length), G.WithName("ids"))
	cg.mask = G.NewMatrix(g.ExprGraph, tensor.Float32, G.WithShape(k.batch, k.length), G.WithName("mask"))
	cg.labels = G.NewVector(g.ExprGraph, tensor.Float32, G.WithShape(k.batch), G.WithName("labels"))
	cg.inputs = map[*G.Node]*tensor.Dense{cg.ids: cg.idsValue, cg.mask: cg.maskValue, cg.labels: cg.labelsValue}

	x := cg.ids
	var err error
	for _, l := range c.Layers() {
		if x, err = l.Forward(g, x, cg.mask); err != nil {
			return nil, fmt.Errorf("%s: %w", l.Name(), err)
		}
	}
	if cg.logits, err = G.Reshape(x, tensor.Shape{k.batch}); err != nil {
		return nil, err
	}
	if cg.loss, err = layers.BinaryCrossEntropy(cg.logits, cg.labels); err != nil {
		return nil, err
	}
	if cg.machine, err = layers.Compile(g, cg.loss); err != nil {
		return nil, err
	}
	return cg, nil
}

// graph returns the compiled graph for k, building it on first use.
func (c *Classifier) graph(k graphKey) (*compiledGraph, error) {
	if cg, ok := c.graphs[k]; ok {
		return cg, nil
	}
	cg, err := c.build(k)
	if err != nil {
		return nil, err
	}
	c.graphs[k] = cg
	return cg, nil
}

// lengthStep is the granularity of the compiled lengths: a batch is padded
// up to a multiple of it, so that a few graphs serve every length. Padding is
// masked exactly, so the extra steps change no result.
const lengthStep = 8

// bucket returns the compiled length that serves batches of length n.
func (c *Classifier) bucket(n int) int {
	return min(c.Config.MaxLen, (n+lengthStep-1)/lengthStep*lengthStep)
}

// Forward runs the classifier on b and returns the mean binary
// cross-entropy and each row's logit. With training true it applies dropout
// and leaves each trainable parameter's gradient in its Grad.
func (c *Classifier) Forward(b *data.Batch, training bool) (float64, []float32, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b.Size == 0 {
		return 0, nil, nil
	}
	if b.Len > c.Config.MaxLen {
		return 0, nil, fmt.Errorf("batch of length %d, longer than max_len %d", b.Len, c.Config.MaxLen)
	}
	length := c.bucket(b.Len)
	cg, err := c.graph(graphKey{batch: b.Size, length: length, training: training})
	if err != nil {
		return 0, nil, err
	}
	ids := cg.idsValue.Data().([]int)
	mask := cg.maskValue.Data().([]float32)
	clear(ids)
	clear(mask)
	for r := 0; r < b.Size; r++ {
		for t, id := range b.IDs[r*b.Len : (r+1)*b.Len] {
			if id < 0 || id >= c.Config.VocabSize {
				return 0, nil, fmt.Errorf("token id %d out of the vocabulary [0, %d)", id, c.Config.VocabSize)
			}
			ids[r*length+t] = id
			if id != 0 {
				mask[r*length+t] = 1
			}
		}
	}
	labels := cg.labelsValue.Data().([]float32)
	if len(b.Labels) == b.Size {
		copy(labels, b.Labels)
	} else {
		clear(labels)
	}
	if err := cg.machine.Run(cg.inputs); err != nil {
		return 0, nil, err
	}
	logits := append([]float32(nil), cg.logits.Value().Data().([]float32)...)
	loss := float64(cg.loss.Value().Data().(float32))
	return loss, logits, nil
}
