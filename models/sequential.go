package models

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strings"
	"sync"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/classify/classify/data"
	"github.com/classify/classify/layers"
	"github.com/classify/classify/train"
)

// Sequential is a stack of layers applied one after the other, as Keras's
// Sequential model, for the classification of token sequences: a batch of
// token ids [batch, time] and its padding mask go in, the last layer gives
// the head's logits (Units per row), and the head (train.Head: binary,
// multi-class or multi-label) turns them into the loss, probabilities and
// labels (SPEC section 2, "Output and loss").
//
// As in Keras, a model is compiled (Compile: the optimizer), trained
// (Fit), scored (Evaluate) and run (Predict). Gorgonia graphs have fixed
// shapes, so it keeps one compiled graph per batch shape and mode, built
// on first use; batches are padded to a multiple of 8 steps, which masking
// makes exact, so that a few graphs serve every length. Predict, Logits,
// Evaluate and Forward with training false may be called from several
// goroutines at once (their runs take turns); Add, Compile, Fit and a
// training Forward, which leaves gradients in the parameters, may not.
type Sequential struct {
	// Name is the model's name in its summary.
	Name string

	maxLen    int
	head      train.Head
	layers    []layers.Layer
	optimizer *train.Adam
	// spec says how to build the model again, for checkpoints.
	spec Spec
	// seed and steps seed each training step's random layers (dropout).
	seed  int64
	steps int

	// mu lets one graph compile or run at a time: Gorgonia writes to the
	// values of parameter nodes, which all graphs share, when it compiles
	// a graph (NewTapeMachine sets their engine) and when it runs one (its
	// transpose and reshape ops change their input's shape in place).
	mu     sync.Mutex
	graphs map[graphKey]*compiledGraph
}

// NewSequential makes a model named name over sequences of at most maxLen
// tokens (Keras's Input(shape=(max_len,))) that applies ls in order and
// reads the last layer's output with head; a nil head is a binary head of
// the labels "0" and "1". The last layer must give head.Units() values per
// row: the logits. A layer whose name or
// parameter names an earlier layer has already taken is renamed as Keras
// numbers its layers (a second "dense" becomes "dense_1", its weights
// "dense_1.weight"); the same layer value given twice shares its weights.
func NewSequential(name string, maxLen int, head train.Head, ls ...layers.Layer) *Sequential {
	if head == nil {
		head, _ = train.NewBinaryHead([]string{"0", "1"})
	}
	s := &Sequential{Name: name, maxLen: maxLen, head: head, graphs: map[graphKey]*compiledGraph{},
		spec: Spec{Architecture: SequentialArchitecture}}
	for _, l := range ls {
		s.add(l)
	}
	return s
}

// Add appends a layer, as Keras's model.add, renamed as NewSequential
// renames. The compiled graphs and the optimizer are dropped: call Compile
// again before Fit.
func (s *Sequential) Add(l layers.Layer) error {
	if l == nil {
		return fmt.Errorf("%s: add: nil layer", s.Name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.add(l)
	s.graphs = map[graphKey]*compiledGraph{}
	s.optimizer = nil
	return nil
}

// add appends l, first giving it a layer name and parameter names that no
// other layer of s has: Gorgonia merges two input nodes of one name and
// shape into one, so two Dense layers of one shape would otherwise run on
// the first one's weights, and the optimizer and checkpoints key weights
// by name.
func (s *Sequential) add(l layers.Layer) {
	layerNames := map[string]bool{}
	owners := map[string]*layers.Param{}
	again := false
	for _, o := range s.layers {
		again = again || o == l
		layerNames[o.Name()] = true
		for _, p := range o.Params() {
			owners[p.Name] = p
		}
	}
	s.layers = append(s.layers, l)
	if again {
		return
	}
	if r, ok := l.(interface{ SetName(string) }); ok && layerNames[l.Name()] {
		r.SetName(numbered(l.Name(), func(n string) bool { return layerNames[n] }))
	}
	for _, p := range l.Params() {
		if q, ok := owners[p.Name]; ok && q != p {
			// "dense.weight" -> "dense_1.weight": the number goes on the
			// layer's part of the name.
			layer, rest, dotted := strings.Cut(p.Name, ".")
			full := func(n string) string {
				if dotted {
					return n + "." + rest
				}
				return n
			}
			p.Name = full(numbered(layer, func(n string) bool { _, taken := owners[full(n)]; return taken }))
		}
		owners[p.Name] = p
	}
}

// numbered returns name_1, name_2, ..., the first that taken refuses.
func numbered(name string, taken func(string) bool) string {
	for k := 1; ; k++ {
		if n := fmt.Sprintf("%s_%d", name, k); !taken(n) {
			return n
		}
	}
}

// MaxLen is the longest sequence the model takes, in tokens.
func (s *Sequential) MaxLen() int { return s.maxLen }

// Embedding is the model's first layer when it is an embedding, which
// takes token ids below its row count.
func (s *Sequential) Embedding() (*layers.Embedding, bool) {
	if len(s.layers) == 0 {
		return nil, false
	}
	e, ok := s.layers[0].(*layers.Embedding)
	return e, ok
}

// Head is the model's output head.
func (s *Sequential) Head() train.Head { return s.head }

// SetHead replaces the output head by one of the same task and labels,
// such as the head with class weights or another threshold. The compiled
// graphs are dropped.
func (s *Sequential) SetHead(h train.Head) error {
	if h.Task() != s.head.Task() || h.Units() != s.head.Units() {
		return fmt.Errorf("%s: a %s head of %d units cannot replace a %s head of %d", s.Name, h.Task(), h.Units(), s.head.Task(), s.head.Units())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.head = h
	s.graphs = map[graphKey]*compiledGraph{}
	return nil
}

// SetSeed sets the seed of the random layers (dropout): training step n
// reseeds them from the seed and n, n counting the optimizer's steps, so
// that a run resumed from a checkpoint with the same seed draws the masks
// an uninterrupted run would.
func (s *Sequential) SetSeed(seed int64) { s.seed = seed }

// reseed reseeds the random layers for the next training step.
func (s *Sequential) reseed() {
	step := s.steps
	if s.optimizer != nil {
		step = s.optimizer.Steps()
	}
	s.steps++
	for i, l := range s.layers {
		if r, ok := l.(interface{ Reseed(int64) }); ok {
			// SplitMix64's mixing of seed, step and layer: neighbouring
			// steps get unrelated masks.
			z := uint64(s.seed) ^ uint64(step)*0x9e3779b97f4a7c15 ^ uint64(i)*0xd1b54a32d192ed03
			z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
			z = (z ^ z>>27) * 0x94d049bb133111eb
			r.Reseed(int64(z ^ z>>31))
		}
	}
}

// Spec says how the model was built: its architecture and configuration,
// which a checkpoint stores to build it again. A Sequential assembled from
// the layers is described layer by layer; the error names a layer that
// cannot be described.
func (s *Sequential) Spec() (Spec, error) {
	if s.spec.Architecture == SequentialArchitecture {
		return s.sequentialSpec()
	}
	return s.spec, nil
}

// Layers lists the layers in the order data flows through them.
func (s *Sequential) Layers() []layers.Layer { return append([]layers.Layer(nil), s.layers...) }

// Params lists every parameter, trainable or not, in a fixed order: the
// layers' order, then each layer's own; a layer given twice counts once.
func (s *Sequential) Params() []*layers.Param {
	var ps []*layers.Param
	seen := map[*layers.Param]bool{}
	for _, l := range s.layers {
		for _, p := range l.Params() {
			if !seen[p] {
				seen[p] = true
				ps = append(ps, p)
			}
		}
	}
	return ps
}

// Summary writes Keras's model.summary() table: the layers, their output
// shapes and parameter counts, and the trainable and non-trainable totals.
func (s *Sequential) Summary(w io.Writer) error {
	return layers.Summary(w, s.Name, s.layers, []int{-1, s.maxLen})
}

// Compile readies the model for training with an Adam optimizer over its
// trainable parameters, as Keras's model.compile(optimizer=Adam(...),
// loss=...), the loss being the head's. The options set the
// learning rate, betas, epsilon and gradient clipping; the defaults are
// SPEC's. Compiling again starts Adam afresh, as in Keras.
func (s *Sequential) Compile(opts ...train.AdamOption) error {
	opt, err := train.NewAdam(s.Params(), opts...)
	if err != nil {
		return fmt.Errorf("compile %s: %w", s.Name, err)
	}
	s.optimizer = opt
	return nil
}

// Optimizer is the optimizer Compile made, nil before Compile. Its State
// and SetState save and restore it with a checkpoint.
func (s *Sequential) Optimizer() *train.Adam { return s.optimizer }

// FitConfig holds the options of Sequential.Fit: train.Config's (epochs,
// batch size, shuffling, seed, early stopping, progress, callbacks) and
// the validation data, as Keras's fit arguments.
type FitConfig struct {
	train.Config
	// ValidationSplit holds out the last fraction of the examples for
	// validation, as Keras's validation_split (taken before shuffling).
	// It must be 0 when ValidationX is given.
	ValidationSplit float64
	// ValidationX and ValidationY are validation examples given apart, as
	// Keras's validation_data, ValidationY holding their targets as Fit's y.
	ValidationX [][]int
	ValidationY []float32
}

// ErrNotCompiled is returned by Fit on a model that Compile has not readied.
var ErrNotCompiled = errors.New("the model must be compiled before training: call Compile")

// Fit trains the model on x (token id sequences) and y (their targets,
// Head().Width() values a sequence, as data.LabelSet.Targets gives them)
// with the optimizer of Compile (or cfg.Optimizer when set), scoring the
// validation examples after each epoch, and returns the history of the
// epochs it finished; see train.Fit for the loop, early stopping and the
// guard against non-finite losses.
func (s *Sequential) Fit(x [][]int, y []float32, cfg FitConfig) (train.History, error) {
	if cfg.Optimizer == nil {
		if s.optimizer == nil {
			return nil, fmt.Errorf("fit %s: %w", s.Name, ErrNotCompiled)
		}
		cfg.Optimizer = s.optimizer
	}
	valX, valY := cfg.ValidationX, cfg.ValidationY
	if cfg.ValidationSplit != 0 {
		if valX != nil {
			return nil, fmt.Errorf("fit %s: both a validation split and validation data", s.Name)
		}
		var err error
		if x, y, valX, valY, err = train.ValidationSplit(x, y, s.head.Width(), cfg.ValidationSplit); err != nil {
			return nil, fmt.Errorf("fit %s: %w", s.Name, err)
		}
	}
	return train.Fit(s, x, y, valX, valY, cfg.Config)
}

// Evaluate scores the model on x and y: the loss and the metrics of
// train.Metrics, in batches of batchSize (0 for 32) of similar lengths.
func (s *Sequential) Evaluate(x [][]int, y []float32, batchSize int) (train.Metrics, error) {
	return train.Evaluate(s, x, y, batchSize)
}

// Predict returns the probability of each label for each sequence, in
// order, as Keras's model.predict on a softmax or sigmoid output: for a
// binary task the negative and the positive label's.
func (s *Sequential) Predict(x [][]int) ([][]float32, error) {
	logits, err := s.Logits(x)
	if err != nil {
		return nil, err
	}
	u, k := s.head.Units(), len(s.head.Labels())
	probs := make([][]float32, len(x))
	for i := range probs {
		probs[i] = make([]float32, k)
		s.head.Probabilities(logits[i*u:(i+1)*u], probs[i])
	}
	return probs, nil
}

// predictBatchSize is the number of sequences scored together: big enough
// to keep the matrix products efficient, small enough to keep padding low
// once sequences are sorted by length.
const predictBatchSize = 64

// Logits scores encoded sequences in batches of similar length and returns
// the head's Units logits per sequence, in order, row-major. It runs the
// inference graphs only: no dropout and no gradients.
func (s *Sequential) Logits(seqs [][]int) ([]float32, error) {
	u := s.head.Units()
	out := make([]float32, len(seqs)*u)
	for _, b := range data.LengthBatches(seqs, nil, s.head.Width(), predictBatchSize) {
		rows := b.Index
		padRows(&b)
		_, logits, err := s.Forward(&b, false)
		if err != nil {
			return nil, err
		}
		for r, i := range rows {
			copy(out[i*u:(i+1)*u], logits[r*u:(r+1)*u])
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
		b.Labels = append(b.Labels, make([]float32, b.Width)...)
		b.Index = append(b.Index, -1)
	}
	b.IDs, b.Size = ids, rows
}

// graphKey names one compiled graph: a batch shape and a mode.
type graphKey struct {
	batch, length int
	training      bool
}

// compiledGraph is the model built into one graph, with its inputs,
// outputs and machine.
type compiledGraph struct {
	ids, mask, labels *G.Node
	logits, loss      *G.Node
	machine           *layers.Machine

	idsValue, maskValue, labelsValue *tensor.Dense
	inputs                           map[*G.Node]*tensor.Dense
}

// build adds the layers to a new graph for batches of the key's shape.
func (s *Sequential) build(k graphKey) (*compiledGraph, error) {
	g := layers.NewGraph(tensor.Float32, k.training)
	cg := &compiledGraph{}
	cg.idsValue = tensor.New(tensor.WithShape(k.batch, k.length), tensor.Of(tensor.Int))
	cg.maskValue = tensor.New(tensor.WithShape(k.batch, k.length), tensor.Of(tensor.Float32))
	width := s.head.Width()
	cg.labelsValue = tensor.New(tensor.WithShape(k.batch*width), tensor.Of(tensor.Float32))
	cg.ids = G.NewMatrix(g.ExprGraph, tensor.Int, G.WithShape(k.batch, k.length), G.WithName("ids"))
	cg.mask = G.NewMatrix(g.ExprGraph, tensor.Float32, G.WithShape(k.batch, k.length), G.WithName("mask"))
	cg.labels = G.NewVector(g.ExprGraph, tensor.Float32, G.WithShape(k.batch*width), G.WithName("labels"))
	cg.inputs = map[*G.Node]*tensor.Dense{cg.ids: cg.idsValue, cg.mask: cg.maskValue, cg.labels: cg.labelsValue}

	x := cg.ids
	var err error
	for _, l := range s.layers {
		if x, err = l.Forward(g, x, cg.mask); err != nil {
			return nil, fmt.Errorf("%s: %w", l.Name(), err)
		}
	}
	units := s.head.Units()
	if n := x.Shape().TotalSize(); n != k.batch*units {
		return nil, fmt.Errorf("%s: the last layer gives %v for a batch of %d rows, want %d logits per row for the %s head", s.Name, x.Shape(), k.batch, units, s.head.Task())
	}
	if cg.logits, err = G.Reshape(x, tensor.Shape{k.batch * units}); err != nil {
		return nil, err
	}
	head := s.head
	if !k.training {
		head = head.Weighted(nil) // class weights weigh the training loss only, as in Keras
	}
	if cg.loss, err = layers.Loss(head.Task()+"_loss", cg.logits, cg.labels, head.Loss); err != nil {
		return nil, err
	}
	if cg.machine, err = layers.Compile(g, cg.loss); err != nil {
		return nil, err
	}
	return cg, nil
}

// graph returns the compiled graph for k, building it on first use. An
// inference graph of more than predictBatchSize rows (an evaluation in
// batches of 256, say, where neither training nor Logits runs) is held
// only until a graph of another such shape is built: each graph holds its
// own activations (hundreds of MB at 256 rows of 400 tokens, one per
// length bucket), and an evaluation takes its batches in order of length,
// so each of its shapes is built once per evaluation either way.
func (s *Sequential) graph(k graphKey) (*compiledGraph, error) {
	if cg, ok := s.graphs[k]; ok {
		return cg, nil
	}
	if large(k) {
		for old, cg := range s.graphs {
			if large(old) {
				cg.machine.Close()
				delete(s.graphs, old)
			}
		}
	}
	cg, err := s.build(k)
	if err != nil {
		return nil, err
	}
	s.graphs[k] = cg
	return cg, nil
}

// large reports whether k is an inference graph of more rows than the
// model's own inference batches: one graph() keeps one of at a time.
func large(k graphKey) bool { return !k.training && k.batch > predictBatchSize }

// lengthStep is the granularity of the short compiled lengths: a batch is
// padded up to a multiple of it, so that a few graphs serve every length.
// Padding is masked exactly, so the extra steps change no result.
const lengthStep = 8

// bucket returns the compiled length that serves batches of length n: n
// rounded up to a multiple of 8 up to 64, and beyond to a multiple of an
// eighth of the power of two at or above it (80, 96, ... 128, 160, ...
// 256, 320, 384, 448, 512, ...), at most 25% of padding. Each compiled
// graph holds its own activations and gradients (about 50 MB for 32 rows
// of 400 tokens), so long texts in steps of 8 held one graph per 8 tokens
// (3-4 GB on IMDB at --max-len 400); this holds 19 up to 400, and the
// recurrent layers skip the steps after every row's last token.
func (s *Sequential) bucket(n int) int {
	step := lengthStep
	if n > 8*lengthStep {
		step = 1 << (bits.Len(uint(n-1)) - 3)
	}
	return min(s.maxLen, (n+step-1)/step*step)
}

// Forward runs the model on b and returns the head's loss and each row's
// logits, row-major. With training true it applies dropout and leaves
// each trainable parameter's gradient in its Grad. It is what train.Fit
// and train.Evaluate call.
func (s *Sequential) Forward(b *data.Batch, training bool) (float64, []float32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b.Size == 0 {
		return 0, nil, nil
	}
	if len(s.layers) == 0 {
		return 0, nil, fmt.Errorf("%s: no layers", s.Name)
	}
	if b.Len > s.maxLen {
		return 0, nil, fmt.Errorf("batch of length %d, longer than max_len %d", b.Len, s.maxLen)
	}
	vocab := math.MaxInt // an embedding first takes ids below its row count
	if e, ok := s.Embedding(); ok {
		vocab = e.Vocab()
	}
	length := s.bucket(b.Len)
	cg, err := s.graph(graphKey{batch: b.Size, length: length, training: training})
	if err != nil {
		return 0, nil, err
	}
	if training {
		s.reseed()
	}
	ids := cg.idsValue.Data().([]int)
	mask := cg.maskValue.Data().([]float32)
	clear(ids)
	clear(mask)
	for r := 0; r < b.Size; r++ {
		for t, id := range b.IDs[r*b.Len : (r+1)*b.Len] {
			if id < 0 || id >= vocab {
				return 0, nil, fmt.Errorf("token id %d out of the vocabulary [0, %d)", id, vocab)
			}
			ids[r*length+t] = id
			if id != 0 {
				mask[r*length+t] = 1
			}
		}
	}
	labels := cg.labelsValue.Data().([]float32)
	if len(b.Labels) == len(labels) {
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

// TextLogits scores texts as Logits does, each encoded by tok and cut to
// the model's max_len.
func (s *Sequential) TextLogits(tok *data.Tokenizer, texts []string) ([]float32, error) {
	return s.Logits(tok.EncodeAll(texts, s.maxLen))
}

// EvaluateTexts scores the model as Evaluate does on texts encoded by tok
// and cut to the model's max_len.
func (s *Sequential) EvaluateTexts(tok *data.Tokenizer, texts []string, y []float32, batchSize int) (train.Metrics, error) {
	return s.Evaluate(tok.EncodeAll(texts, s.maxLen), y, batchSize)
}

// Replica builds another copy of the model, with the same weights and
// head: Gorgonia writes to a graph's weight tensors while it runs, so two
// runs at once need two copies.
func (s *Sequential) Replica() (Model, error) {
	sp, err := s.Spec()
	if err != nil {
		return nil, err
	}
	m, err := Build(sp, s.head, nil, 0)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := copyWeights(m, s); err != nil {
		return nil, err
	}
	return m, nil
}
