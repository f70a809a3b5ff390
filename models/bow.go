package models

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"gorgonia.org/tensor"

	"github.com/classify/classify/data"
	"github.com/classify/classify/layers"
	"github.com/classify/classify/train"
)

// BowArchitecture is fastText's classifier, Bow: config.json's
// "architecture" and classify train --model.
const BowArchitecture = "bow"

// BowConfig holds the hyperparameters of the bag-of-n-grams classifier, as
// stored under "model" in a checkpoint's config.json.
type BowConfig struct {
	// VocabSize is the number of word ids, [PAD] and [UNK] included; the
	// n-gram buckets follow them in the table.
	VocabSize int `json:"vocab_size"`
	// Dim is the width of a table row.
	Dim int `json:"dim"`
	// MaxLen is the number of tokens read per text.
	MaxLen int `json:"max_len"`
	// Ngrams is the longest word n-gram (--ngrams); 1 for words alone.
	Ngrams int `json:"ngrams"`
	// Buckets is the number of rows the n-grams are hashed into
	// (--buckets). The table costs 4·Dim·(VocabSize+Buckets) bytes, in
	// memory and in model.safetensors: 804 MB for fastText's 2,000,000
	// buckets of 100 values.
	Buckets int `json:"buckets"`
}

// DefaultBowConfig is fastText's supervised defaults with bigrams: 100
// values a row, n-grams up to 2 in 2,000,000 buckets, and every token of
// a text read (fastText reads the whole line; MaxSeqLen is the limit).
func DefaultBowConfig() BowConfig {
	return BowConfig{VocabSize: 10000, Dim: 100, MaxLen: MaxSeqLen, Ngrams: 2, Buckets: 2000000}
}

// weightShapes are the tensors of a bow model's model.safetensors for k
// output units.
func (c BowConfig) weightShapes(k int) []weightShape {
	return []weightShape{
		{"embedding_bag.weight", []int{c.VocabSize + c.Buckets, c.Dim}},
		{"dense.weight", []int{k, c.Dim}},
		{"dense.bias", []int{k}},
	}
}

// Validate reports the first setting that is out of range.
func (c BowConfig) Validate() error {
	switch {
	case c.VocabSize < 3 || c.VocabSize > MaxVocabSize:
		return fmt.Errorf("vocab_size %d: want 3 to %d", c.VocabSize, MaxVocabSize)
	case c.Dim < 1 || c.Dim > MaxDim:
		return fmt.Errorf("dim %d: want 1 to %d", c.Dim, MaxDim)
	case c.MaxLen < 1 || c.MaxLen > MaxSeqLen:
		return fmt.Errorf("max_len %d: want 1 to %d", c.MaxLen, MaxSeqLen)
	case c.Ngrams < 1 || c.Ngrams > 8:
		return fmt.Errorf("ngrams %d: want 1 to 8", c.Ngrams)
	case c.Buckets < 0 || c.Ngrams > 1 && c.Buckets == 0:
		return fmt.Errorf("buckets %d: want at least 1 for ngrams %d", c.Buckets, c.Ngrams)
	case c.Buckets > MaxWeights: // before the sum below, which could overflow
		return fmt.Errorf("buckets %d: want at most %d", c.Buckets, MaxWeights)
	case int64(c.VocabSize+c.Buckets)*int64(c.Dim) > MaxWeights:
		return fmt.Errorf("vocab_size %d, buckets %d and dim %d make a table of %d weights, over the limit of %d (1 GiB of float32)",
			c.VocabSize, c.Buckets, c.Dim, int64(c.VocabSize+c.Buckets)*int64(c.Dim), MaxWeights)
	}
	return nil
}

// Bow is the classifier of fastText (Joulin et al. 2017, architecture
// "bow"): the mean of the table rows of a text's words and of its hashed
// word n-grams, then Dense(K) and the head. It runs as plain loops, with
// no Gorgonia graph: a bag reads a few rows of a table of millions, and
// training steps only those rows, by SGD with fastText's linearly
// decaying rate, one example at a time.
type Bow struct {
	Config BowConfig
	// Bag holds the table, "embedding_bag.weight" [VocabSize+Buckets,
	// Dim]: words, then buckets.
	Bag *layers.EmbeddingBag
	// Output is "dense.weight" [K, Dim] and "dense.bias" [K], zero at
	// first as fastText's output matrix; Fit leaves the bias as it is
	// (fastText has none), which keeps the layout of a Dense layer.
	Output *layers.Dense

	head   train.Head
	hasher data.NgramHasher
}

// NewBow builds the classifier with the output head head (nil for a binary
// head of labels "0" and "1"), its table drawn from U(-1/Dim, 1/Dim) by
// seed, as fastText draws it, and its output layer zero.
func NewBow(cfg BowConfig, head train.Head, seed int64) (*Bow, error) {
	m, err := newBow(cfg, head)
	if err != nil {
		return nil, err
	}
	drawRows(m.table(), cfg.Dim, rand.New(rand.NewSource(seed)))
	return m, nil
}

// BowWordRows is fastText's initial word rows for a vocabulary of vocab
// words: [vocab, dim] drawn from U(-1/dim, 1/dim) by seed, the embedding
// that Build takes for a bow model trained without pretrained vectors.
func BowWordRows(vocab, dim int, seed int64) *tensor.Dense {
	v := make([]float32, vocab*dim)
	drawRows(v, dim, rand.New(rand.NewSource(seed)))
	return tensor.New(tensor.WithShape(vocab, dim), tensor.WithBacking(v))
}

// drawRows fills v with U(-1/dim, 1/dim), seeded by rng: SplitMix64
// (Steele et al. 2014) gives two values a draw, 24 bits each. Its state
// after k draws is its seed plus k times a constant, so that the table is
// drawn in chunks on every core, the same values whatever their number:
// fastText's table of 200 million values takes a fraction of a second,
// not the seconds math/rand takes.
func drawRows(v []float32, dim int, rng *rand.Rand) {
	const gamma, chunk = 0x9e3779b97f4a7c15, 1 << 20 // values a chunk, even
	a, off := 2/float32(dim)/(1<<24), 1/float32(dim)
	seed := rng.Uint64()
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range max(1, min(runtime.GOMAXPROCS(0), len(v)/chunk)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c := int(next.Add(1) - 1)
				if c*chunk >= len(v) {
					return
				}
				x := seed + uint64(c*chunk/2)*gamma
				part := v[c*chunk : min(len(v), (c+1)*chunk)]
				for i := 0; i < len(part); i += 2 {
					x += gamma
					z := x
					z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
					z = (z ^ z>>27) * 0x94d049bb133111eb
					z ^= z >> 31
					part[i] = float32(z>>40)*a - off
					if i+1 < len(part) {
						part[i+1] = float32(z&(1<<24-1))*a - off
					}
				}
			}
		}()
	}
	wg.Wait()
}

// newBow builds the classifier with a zero table and output layer.
func newBow(cfg BowConfig, head train.Head) (*Bow, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if head == nil {
		head, _ = train.NewBinaryHead([]string{"0", "1"})
	}
	// Zero memory, fresh from the system, is only touched where rows
	// are written: a table about to be loaded costs no drawing.
	table := newTable(cfg.VocabSize+cfg.Buckets, cfg.Dim)
	bag, err := layers.NewEmbeddingBag(1, cfg.Dim, tensor.Float32, rand.New(rand.NewSource(0)), true)
	if err != nil {
		return nil, err
	}
	bag.Table.Value = table
	out := layers.NewDense(cfg.Dim, head.Units(), layers.Linear, tensor.Float32, rand.New(rand.NewSource(0)))
	out.Weight.Value.Zero()
	out.Bias.Value.Zero()
	m := &Bow{Config: cfg, Bag: bag, Output: out, head: head}
	if cfg.Ngrams > 1 {
		m.hasher = data.NgramHasher{N: cfg.Ngrams, Buckets: cfg.Buckets, Offset: cfg.VocabSize}
	}
	return m, nil
}

// buildBow is Build for the bow architecture: the word rows from
// embedding ([VocabSize, Dim]) and the buckets drawn by seed, or a zero
// table when embedding is nil (a model about to get a checkpoint's
// weights).
func buildBow(sp Spec, head train.Head, embedding *tensor.Dense, seed int64) (*Bow, error) {
	cfg, err := configOf(sp, DefaultBowConfig())
	if err != nil {
		return nil, err
	}
	m, err := newBow(cfg, head)
	if err != nil {
		return nil, err
	}
	if embedding == nil {
		return m, nil
	}
	if s := embedding.Shape(); len(s) != 2 || s[0] != cfg.VocabSize || s[1] != cfg.Dim {
		return nil, fmt.Errorf("bow: word rows of shape %v, want [%d %d] (vocab_size, dim)", s, cfg.VocabSize, cfg.Dim)
	}
	words, ok := embedding.Data().([]float32)
	if !ok {
		return nil, fmt.Errorf("bow: word rows of type %v, want float32", embedding.Dtype())
	}
	t := m.table()
	copy(t, words)
	drawRows(t[len(words):], cfg.Dim, rand.New(rand.NewSource(seed)))
	return m, nil
}

// table is the table's values. They may lie in a mapping that lives as
// long as the table's tensor (see region): a method that holds them keeps
// m alive until it is done with them (runtime.KeepAlive).
func (m *Bow) table() []float32 { return m.Bag.Table.Value.Data().([]float32) }

// adopt makes v the table's values when p is the table: loading then
// keeps the file's bytes rather than a copy of them (see fillWeights).
// The loops read the table through m.Bag.Table on every call.
func (m *Bow) adopt(p *layers.Param, v []float32) bool {
	if p != m.Bag.Table || len(v) != p.Size() {
		return false
	}
	p.Value = tensor.New(tensor.WithShape(p.Value.Shape().Clone()...), tensor.WithBacking(v))
	return true
}

// Head is the model's output head.
func (m *Bow) Head() train.Head { return m.head }

// SetHead replaces the output head by one of the same task and units,
// such as the head with class weights or another threshold.
func (m *Bow) SetHead(h train.Head) error {
	if h.Task() != m.head.Task() || h.Units() != m.head.Units() {
		return fmt.Errorf("bow: a %s head of %d units cannot replace a %s head of %d", h.Task(), h.Units(), m.head.Task(), m.head.Units())
	}
	m.head = h
	return nil
}

// Params lists the table, then the output layer's weight and bias.
func (m *Bow) Params() []*layers.Param { return append(m.Bag.Params(), m.Output.Params()...) }

// Spec is the model's architecture and configuration, for checkpoints.
func (m *Bow) Spec() (Spec, error) { return NewSpec(BowArchitecture, m.Config) }

// Replica is the model itself: scoring only reads the weights, so any
// number of goroutines may score with one model.
func (m *Bow) Replica() (Model, error) { return m, nil }

// Summary writes the table of the two layers: the bag [batch, Dim] and
// the output layer [batch, K].
func (m *Bow) Summary(w io.Writer) error {
	return layers.Summary(w, BowArchitecture, []layers.Layer{m.Bag, m.Output}, []int{-1, -1})
}

// Rows returns a text's bag from its words (data.Words, cut to MaxLen)
// and their ids: the ids of the words in the vocabulary ([PAD] and [UNK]
// left out, as fastText drops unknown words), then the buckets of its
// n-grams over every word, unknown ones included, and fastText's
// end-of-line token, as fastText hashes them.
func (m *Bow) Rows(ids []int, words []string) []int {
	n := min(len(ids), m.Config.MaxLen)
	rows := make([]int, 0, n+m.hasher.Count(min(len(words), m.Config.MaxLen)+1))
	for _, id := range ids[:n] {
		if id > data.UnkID && id < m.Config.VocabSize {
			rows = append(rows, id)
		}
	}
	if m.hasher.N < 2 {
		return rows
	}
	ws := append(append(make([]string, 0, n+1), words[:min(len(words), m.Config.MaxLen)]...), data.FastTextEOS)
	return m.hasher.Append(rows, ws)
}

// TextRows is the bag of text, its words split by data.Words and looked
// up in tok's vocabulary.
func (m *Bow) TextRows(tok *data.Tokenizer, text string) []int {
	// Rows, without its slice of ids and its copy of the words: one
	// allocation a text besides the words.
	words := data.Words(text)
	n := min(len(words), m.Config.MaxLen)
	words = words[:n]
	v := tok.Vocabulary()
	rows := make([]int, 0, n+m.hasher.Count(n+1))
	for _, w := range words {
		if id := v.ID(w); id > data.UnkID && id < m.Config.VocabSize {
			rows = append(rows, id)
		}
	}
	if m.hasher.N < 2 {
		return rows
	}
	return m.hasher.Append(rows, append(words, data.FastTextEOS))
}

// Bags is the bag of each text, as TextRows gives it.
func (m *Bow) Bags(tok *data.Tokenizer, texts []string) [][]int {
	bags := make([][]int, len(texts))
	for i, t := range texts {
		bags[i] = m.TextRows(tok, t)
	}
	return bags
}

// TextLogits scores texts, each the bag TextRows gives.
func (m *Bow) TextLogits(tok *data.Tokenizer, texts []string) ([]float32, error) {
	K := m.head.Units()
	out := make([]float32, len(texts)*K)
	h := make([]float32, m.Config.Dim)
	for i, t := range texts {
		m.logits(m.TextRows(tok, t), h, out[i*K:(i+1)*K])
	}
	return out, nil
}

// EvaluateTexts scores the model on texts and their targets: the mean
// loss of the head without class weights, and the task's metrics.
func (m *Bow) EvaluateTexts(tok *data.Tokenizer, texts []string, y []float32, _ int) (train.Metrics, error) {
	return m.Evaluate(m.Bags(tok, texts), y)
}

// Evaluate scores the model on bags and their targets (Head().Width() a
// bag): the mean loss of the head without class weights, and the task's
// metrics.
func (m *Bow) Evaluate(bags [][]int, y []float32) (train.Metrics, error) {
	W := m.head.Width()
	if len(y) != len(bags)*W {
		return train.Metrics{}, fmt.Errorf("evaluate: %d targets for %d texts of %d each", len(y), len(bags), W)
	}
	if len(bags) == 0 {
		return train.Metrics{}, fmt.Errorf("evaluate: no examples")
	}
	logits, err := m.Logits(bags)
	if err != nil {
		return train.Metrics{}, err
	}
	head := m.head.Weighted(nil) // class weights weigh the training loss only
	return train.Score(head, logits, y, meanLoss(head, logits, y))
}

// meanLoss is the head's loss averaged over the examples of logits and
// their targets y.
func meanLoss(h train.Head, logits, y []float32) float64 {
	K, W := h.Units(), h.Width()
	n := len(y) / W
	z, dz, yt := make([]float64, K), make([]float64, K), make([]float64, W)
	var sum float64
	for i := 0; i < n; i++ {
		for k := range z {
			z[k] = float64(logits[i*K+k])
		}
		for j := range yt {
			yt[j] = float64(y[i*W+j])
		}
		sum += h.Loss(z, yt, dz)
	}
	return sum / float64(max(n, 1))
}

// Logits returns the logits of each bag, Head().Units() a bag, row-major.
// A bag may hold any rows of the table; an empty one reads zeros.
func (m *Bow) Logits(bags [][]int) ([]float32, error) {
	K := m.head.Units()
	h := make([]float32, m.Config.Dim)
	out := make([]float32, len(bags)*K)
	for i, bag := range bags {
		if err := m.checkRows(bag); err != nil {
			return nil, fmt.Errorf("text %d: %w", i, err)
		}
		m.logits(bag, h, out[i*K:(i+1)*K])
	}
	return out, nil
}

// logits leaves in h the mean of the bag's rows and in z the output
// layer's logits of it.
func (m *Bow) logits(bag []int, h, z []float32) {
	D := m.Config.Dim
	table := m.table()
	touchRows(table, bag, D)
	clear(h)
	for _, r := range bag {
		addTo(h, table[r*D:(r+1)*D])
	}
	if len(bag) > 0 {
		scale(h, 1/float32(len(bag)))
	}
	runtime.KeepAlive(m)
	w, b := m.Output.Weight.Value.Data().([]float32), m.Output.Bias.Value.Data().([]float32)
	for k := range z {
		z[k] = b[k] + dot(w[k*D:(k+1)*D], h)
	}
}

func (m *Bow) checkRows(bag []int) error {
	rows := m.Config.VocabSize + m.Config.Buckets
	for _, r := range bag {
		if r < 0 || r >= rows {
			return fmt.Errorf("row %d outside the table of %d rows", r, rows)
		}
	}
	return nil
}

// touchRows reads one value of every cache line of the bag's rows: the
// reads do not wait for one another, so that the rows' cache and TLB
// misses, scattered over a table of 800 MB, overlap rather than come one
// after the other as the sum's loop meets them.
func touchRows(table []float32, bag []int, D int) {
	var x uint32
	for _, r := range bag {
		row := table[r*D : (r+1)*D]
		for i := 0; i < len(row); i += 16 { // 64-byte lines
			x ^= math.Float32bits(row[i])
		}
		x ^= math.Float32bits(row[len(row)-1]) // a row need not start a line
	}
	if x == 1 { // keeps the reads; says nothing
		touched.Add(1)
	}
}

var touched atomic.Int64

// addTo adds x to y.
func addTo(y, x []float32) {
	x = x[:len(y)]
	for i, v := range x {
		y[i] += v
	}
}

// scale multiplies x by a.
func scale(x []float32, a float32) {
	for i := range x {
		x[i] *= a
	}
}

// axpy adds a·x to y.
func axpy(a float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += a * v
	}
}

// dot is the dot product of x and y, summed in four lanes.
func dot(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// BowFitConfig is how Fit trains: fastText's SGD, its rate falling
// linearly from LR to 0 over Epochs passes, one example a step, in an
// order shuffled by Seed each epoch.
type BowFitConfig struct {
	Epochs int
	LR     float64
	Seed   int64
	// Threads is the number of goroutines that train at once on the
	// shared weights without locks (Hogwild, as fastText's -thread), each
	// on its share of the epoch's examples; 0 or 1 trains on one, in a
	// deterministic order. Several threads make results vary from run to
	// run a little.
	Threads int
	// ValidationBags and ValidationY are scored after each epoch.
	ValidationBags [][]int
	ValidationY    []float32
	// Progress, when set, is told of each epoch's end.
	Progress func(train.Epoch)
	// Context, when set, stops training between examples.
	Context context.Context
}

// Fit trains the model on bags and their targets y (Head().Width() a
// bag) and returns each epoch's record: the mean training loss and the
// metrics of the logits met while training, and the validation metrics.
// Only the rows of each example's bag, and the output layer's weight,
// move: the bias stays as it is (zero when trained from scratch), as
// fastText's output layer has none. A trained bias, with the bag's mean
// near zero at first, takes every early step for itself: on ag_news it
// kept the model at chance after 5 epochs.
func (m *Bow) Fit(bags [][]int, y []float32, cfg BowFitConfig) (train.History, error) {
	K, W := m.head.Units(), m.head.Width()
	if len(y) != len(bags)*W {
		return nil, fmt.Errorf("bow fit: %d targets for %d texts of %d each", len(y), len(bags), W)
	}
	if cfg.Epochs < 0 || !(cfg.LR > 0) {
		return nil, fmt.Errorf("bow fit: %d epochs at rate %v, want 0 or more and a positive rate", cfg.Epochs, cfg.LR)
	}
	for i, bag := range bags {
		if err := m.checkRows(bag); err != nil {
			return nil, fmt.Errorf("text %d: %w", i, err)
		}
	}
	threads := max(cfg.Threads, 1)
	rng := rand.New(rand.NewSource(cfg.Seed))
	order := rng.Perm(len(bags))
	total := float64(cfg.Epochs * len(bags))
	var done atomic.Int64
	logits := make([]float32, len(bags)*K)
	losses := make([]float64, len(bags))
	var history train.History
	for e := 0; e < cfg.Epochs; e++ {
		if cfg.Context != nil && cfg.Context.Err() != nil {
			return history, cfg.Context.Err()
		}
		start := time.Now()
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		var wg sync.WaitGroup
		for t := 0; t < threads; t++ {
			part := order[t*len(order)/threads : (t+1)*len(order)/threads]
			wg.Add(1)
			go func() {
				defer wg.Done()
				m.sgd(part, bags, y, cfg.LR, total, &done, logits, losses)
			}()
		}
		wg.Wait()
		var sum float64
		for _, l := range losses {
			sum += l
		}
		loss := sum / float64(max(len(bags), 1))
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return history, fmt.Errorf("epoch %d: loss is %v: %w", e+1, loss, train.ErrNonFinite)
		}
		tr, err := train.Score(m.head, logits, y, loss)
		if err != nil {
			return history, err
		}
		ep := train.Epoch{Epoch: e + 1, Train: tr, Steps: len(bags)}
		if len(cfg.ValidationBags) > 0 {
			v, err := m.Evaluate(cfg.ValidationBags, cfg.ValidationY)
			if err != nil {
				return history, fmt.Errorf("validation: %w", err)
			}
			ep.Val = &v
		}
		ep.Seconds = time.Since(start).Seconds()
		history = append(history, ep)
		if cfg.Progress != nil {
			cfg.Progress(ep)
		}
	}
	return history, nil
}

// sgd takes one SGD step per example of order, as fastText's supervised
// update: the bag's mean h, the logits and the head's gradient dz, then
// the output layer moves by lr·dz·h (twice that for a binary task, see
// below) and each row of the bag by
// lr·(Wᵀdz)/len(bag), lr = LR·(1 - done/total). It leaves each example's
// logits (before its step) and loss in logits and losses.
func (m *Bow) sgd(order []int, bags [][]int, y []float32, LR, total float64, done *atomic.Int64, logits []float32, losses []float64) {
	D, K, W := m.Config.Dim, m.head.Units(), m.head.Width()
	table := m.table()
	w := m.Output.Weight.Value.Data().([]float32)
	h, dh := make([]float32, D), make([]float32, D)
	z, dz, yt := make([]float64, K), make([]float64, K), make([]float64, W)
	// fastText scores a binary task by a softmax over two output rows,
	// which start at zero and move by opposite steps: their difference,
	// this model's one row, moves at twice the rate, while the gradient
	// into the bag is the same.
	outRate := float32(1)
	if m.head.Task() == data.Binary {
		outRate = 2
	}
	for _, i := range order {
		bag := bags[i]
		zi := logits[i*K : (i+1)*K]
		m.logits(bag, h, zi)
		for k := range z {
			z[k] = float64(zi[k])
		}
		for j := range yt {
			yt[j] = float64(y[i*W+j])
		}
		losses[i] = m.head.Loss(z, yt, dz)
		lr := float32(LR * (1 - float64(done.Add(1)-1)/total))
		olr := lr * outRate
		clear(dh)
		for k := 0; k < K; k++ {
			g := float32(dz[k])
			if g == 0 {
				continue
			}
			row := w[k*D : (k+1)*D]
			axpy(g, row, dh)
			axpy(-olr*g, h, row)
		}
		if len(bag) == 0 {
			continue
		}
		a := -lr / float32(len(bag))
		for _, r := range bag {
			axpy(a, dh, table[r*D:(r+1)*D])
		}
	}
	runtime.KeepAlive(m)
}
