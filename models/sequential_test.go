package models

import (
	"errors"
	"math"
	"math/rand"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/classify/classify/layers"
	"github.com/classify/classify/train"
)

// bagOfEmbeddings is a Sequential that is not the sentiment classifier: the
// mean of trainable word vectors over the real tokens, then Dense(1).
func bagOfEmbeddings(vocab, dim int, seed int64) *Sequential {
	rng := rand.New(rand.NewSource(seed))
	emb := layers.NewEmbedding(layers.RandomEmbedding(vocab, dim, tensor.Float32, rng), true)
	return NewSequential("bag", 8, nil, emb, layers.NewPooling(layers.PoolMean), layers.NewDense(dim, 1, layers.Linear, tensor.Float32, rng))
}

// toyTask labels a sequence 1 when it holds more 2s than 3s; 4 and 5 are
// noise.
func toyTask(n int, seed int64) ([][]int, []float32) {
	rng := rand.New(rand.NewSource(seed))
	var x [][]int
	var y []float32
	for len(x) < n {
		seq := make([]int, 1+rng.Intn(8))
		balance := 0
		for t := range seq {
			seq[t] = 2 + rng.Intn(4)
			switch seq[t] {
			case 2:
				balance++
			case 3:
				balance--
			}
		}
		if balance == 0 {
			continue
		}
		x = append(x, seq)
		y = append(y, float32(max(0, min(1, balance))))
	}
	return x, y
}

// setWeights copies vals into the parameters of m, in the order of Params.
func setWeights(t *testing.T, m *Sequential, vals ...[]float32) {
	t.Helper()
	ps := m.Params()
	if len(ps) != len(vals) {
		t.Fatalf("%d parameters, %d value lists", len(ps), len(vals))
	}
	for i, p := range ps {
		copy(p.Value.Data().([]float32), vals[i])
	}
}

func TestSequentialPredictByHand(t *testing.T) {
	m := bagOfEmbeddings(4, 2, 1)
	// Rows: [PAD], [UNK], then two words; the logit is 0.5 + 2·v0 - v1 of the
	// mean vector v of the real tokens.
	setWeights(t, m, []float32{0, 0, 0, 0, 1, 0, 0, 1}, []float32{2, -1}, []float32{0.5})
	tests := []struct {
		seq  []int
		want float64 // logit by hand
	}{
		{[]int{2}, 0.5 + 2},
		{[]int{3}, 0.5 - 1},
		{[]int{2, 3}, 0.5 + 2*0.5 - 0.5},
		{[]int{2, 2, 3, 1}, 0.5 + 2*0.5 - 0.25},
		{[]int{1}, 0.5},
	}
	var x [][]int
	for _, tt := range tests {
		x = append(x, tt.seq)
	}
	probs, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		want := 1 / (1 + math.Exp(-tt.want))
		if got := float64(probs[i][1]); math.Abs(got-want) > 1e-6 {
			t.Errorf("Predict(%v) = %.7f, want sigmoid(%g) = %.7f", tt.seq, got, tt.want, want)
		}
	}
}

// TestSequentialRepeatedLayers checks layers of one kind and shape: each
// gets names of its own, as Keras numbers them, and so weights of its own
// (Gorgonia would merge same-named nodes into one), while one layer value
// given twice shares its weights. Logits by hand.
func TestSequentialRepeatedLayers(t *testing.T) {
	newDense := func(in, out int) *layers.Dense {
		return layers.NewDense(in, out, layers.Linear, tensor.Float32, rand.New(rand.NewSource(1)))
	}
	newEmbedding := func() *layers.Embedding {
		// [PAD], [UNK] and one word whose vector is (1, 1).
		return layers.NewEmbedding(tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float32{0, 0, 0, 0, 1, 1})), false)
	}
	identity, double := []float32{1, 0, 0, 1}, []float32{2, 0, 0, 2}
	zeros2, out, outBias := []float32{0, 0}, []float32{1, 1}, []float32{0}

	distinct := NewSequential("distinct", 4, nil, newEmbedding(), layers.NewPooling(layers.PoolMean), newDense(2, 2), newDense(2, 2), newDense(2, 1))
	setWeights(t, distinct, []float32{0, 0, 0, 0, 1, 1}, identity, zeros2, double, zeros2, out, outBias)
	var names []string
	for _, p := range distinct.Params() {
		names = append(names, p.Name)
	}
	if got, want := strings.Join(names, " "), "embedding.weight dense.weight dense.bias dense_1.weight dense_1.bias dense_2.weight dense_2.bias"; got != want {
		t.Errorf("parameter names %q, want %q", got, want)
	}
	if got := distinct.Layers()[3].Name(); got != "dense_1" {
		t.Errorf("second Dense named %q, want dense_1", got)
	}

	shared := newDense(2, 2)
	twice := NewSequential("twice", 4, nil, newEmbedding(), layers.NewPooling(layers.PoolMean), shared, shared, newDense(2, 1))
	setWeights(t, twice, []float32{0, 0, 0, 0, 1, 1}, double, zeros2, out, outBias)

	tests := []struct {
		model *Sequential
		want  float64 // the logit of the sequence [2], by hand
	}{
		{distinct, 1*2*1 + 1*2*1}, // (1,1) -> I -> 2I -> sum
		{twice, 1*4*1 + 1*4*1},    // (1,1) -> 2I -> 2I -> sum
	}
	for _, tt := range tests {
		got, err := tt.model.Logits([][]int{{2}})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(float64(got[0])-tt.want) > 1e-6 {
			t.Errorf("%s: logit %v, want %v", tt.model.Name, got[0], tt.want)
		}
	}
}

func TestClassifierRefusesAdd(t *testing.T) {
	m := tinyClassifier(t, tinyConfig("sinusoidal", "last"), 1)
	before := len(m.Params())
	if err := m.Add(layers.NewDense(1, 1, layers.Linear, tensor.Float32, rand.New(rand.NewSource(1)))); err == nil {
		t.Error("Classifier.Add = nil, want an error: its layers follow from its Config")
	}
	if got := len(m.Params()); got != before {
		t.Errorf("%d parameters after a refused Add, want %d", got, before)
	}
}

func TestSequentialFitNeedsCompile(t *testing.T) {
	x, y := toyTask(40, 1)
	m := bagOfEmbeddings(6, 3, 1)
	if _, err := m.Fit(x, y, FitConfig{Config: train.Config{Epochs: 1}}); !errors.Is(err, ErrNotCompiled) {
		t.Fatalf("Fit before Compile: error %v, want ErrNotCompiled", err)
	}
	if err := m.Compile(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(x, y, FitConfig{Config: train.Config{Epochs: 1}}); err != nil {
		t.Fatalf("Fit after Compile: %v", err)
	}
	if err := m.Add(layers.NewDense(1, 1, layers.Linear, tensor.Float32, rand.New(rand.NewSource(1)))); err != nil {
		t.Fatal(err)
	}
	if m.Optimizer() != nil {
		t.Error("Add kept the optimizer, want it dropped as Keras needs a new compile")
	}
	if _, err := m.Fit(x, y, FitConfig{Config: train.Config{Epochs: 1}}); !errors.Is(err, ErrNotCompiled) {
		t.Errorf("Fit after Add: error %v, want ErrNotCompiled", err)
	}
}

func TestSequentialLearnsToyTask(t *testing.T) {
	x, y := toyTask(400, 1)
	testX, testY := toyTask(200, 2)
	m := bagOfEmbeddings(6, 4, 1)
	if err := m.Compile(train.WithLearningRate(0.05)); err != nil {
		t.Fatal(err)
	}
	h, err := m.Fit(x, y, FitConfig{Config: train.Config{Epochs: 15, BatchSize: 16, Shuffle: true, Seed: 3}, ValidationSplit: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 15 || h[len(h)-1].Val == nil {
		t.Fatalf("history of %d epochs, last with validation %v; want 15 with validation", len(h), h[len(h)-1].Val)
	}
	if first, last := h[0].Train.Loss, h[len(h)-1].Train.Loss; !(last < first/2) {
		t.Errorf("training loss %.4f -> %.4f, want it at least halved", first, last)
	}
	got, err := m.Evaluate(testX, testY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("train loss %.4f -> %.4f, test accuracy %.3f", h[0].Train.Loss, h[len(h)-1].Train.Loss, got.Accuracy)
	if got.Accuracy < 0.95 {
		t.Errorf("test accuracy %.3f after training, want at least 0.95", got.Accuracy)
	}
	// Evaluate's accuracy is the share of probabilities on the right side
	// of 0.5.
	probs, err := m.Predict(testX)
	if err != nil {
		t.Fatal(err)
	}
	right := 0
	for i, p := range probs {
		if (p[1] > 0.5) == (testY[i] == 1) {
			right++
		}
	}
	if want := float64(right) / float64(len(testY)); math.Abs(got.Accuracy-want) > 1e-12 {
		t.Errorf("Evaluate accuracy %.4f, want %.4f from Predict", got.Accuracy, want)
	}
}

// TestSequentialValidationSplit checks that ValidationSplit holds out the
// last fraction, as Keras does: the same run given those examples as
// ValidationX/ValidationY has the same history.
func TestSequentialValidationSplit(t *testing.T) {
	x, y := toyTask(100, 4)
	fit := func(x [][]int, y []float32, cfg FitConfig) train.History {
		t.Helper()
		m := bagOfEmbeddings(6, 3, 5)
		if err := m.Compile(); err != nil {
			t.Fatal(err)
		}
		cfg.Config = train.Config{Epochs: 2, BatchSize: 8, Shuffle: true, Seed: 9}
		h, err := m.Fit(x, y, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	split := fit(x, y, FitConfig{ValidationSplit: 0.3})
	given := fit(x[:70], y[:70], FitConfig{ValidationX: x[70:], ValidationY: y[70:]})
	if len(split) != 2 || len(given) != 2 {
		t.Fatalf("histories of %d and %d epochs, want 2 each", len(split), len(given))
	}
	for i := range split {
		if a, b := split[i].Val, given[i].Val; a == nil || b == nil || a.Loss != b.Loss || a.Accuracy != b.Accuracy {
			t.Errorf("epoch %d: validation %+v with ValidationSplit 0.3, want %+v as with the last 30 given apart", i+1, a, b)
		}
		if got, want := split[i].Train.Loss, given[i].Train.Loss; got != want {
			t.Errorf("epoch %d: training loss %v, want %v", i+1, got, want)
		}
	}
}

func TestSequentialErrors(t *testing.T) {
	x, y := toyTask(20, 1)
	wide := NewSequential("wide", 8, nil,
		layers.NewEmbedding(layers.RandomEmbedding(6, 3, tensor.Float32, rand.New(rand.NewSource(1))), false),
		layers.NewPooling(layers.PoolMean), layers.NewDense(3, 2, layers.Linear, tensor.Float32, rand.New(rand.NewSource(1))))
	compiled := bagOfEmbeddings(6, 3, 1)
	if err := compiled.Compile(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"two logits a row", func() error { _, err := wide.Predict(x); return err }, "want 1 logits per row for the binary head"},
		{"id beyond the embedding", func() error { _, err := compiled.Predict([][]int{{2, 6}}); return err }, "token id 6 out of the vocabulary [0, 6)"},
		{"longer than max_len", func() error { _, err := compiled.Predict([][]int{make([]int, 9)}); return err }, "longer than max_len 8"},
		{"no layers", func() error { _, err := NewSequential("empty", 8, nil).Predict(x); return err }, "empty: no layers"},
		{"split and data", func() error {
			_, err := compiled.Fit(x, y, FitConfig{ValidationSplit: 0.5, ValidationX: x, ValidationY: y})
			return err
		}, "both a validation split and validation data"},
		{"split leaving nothing", func() error {
			_, err := compiled.Fit(x[:1], y[:1], FitConfig{ValidationSplit: 0.5, Config: train.Config{Epochs: 1}})
			return err
		}, "leaves one side empty"},
	}
	for _, tt := range tests {
		err := tt.run()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func TestSequentialSummary(t *testing.T) {
	var b strings.Builder
	if err := bagOfEmbeddings(6, 3, 1).Summary(&b); err != nil {
		t.Fatal(err)
	}
	// 6·3 embedding + 3 + 1 dense, all trainable.
	for _, want := range []string{`Model: "bag"`, "embedding (Embedding)", "(None, 8, 3)", "dense (Dense)", "Total params: 22", "Trainable params: 22", "Non-trainable params: 0"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("Summary lacks %q:\n%s", want, b.String())
		}
	}
}

// TestSequentialSaveLoad saves a Sequential assembled from the layers,
// with a repeated layer kind (dense, dense_1), a shared layer and every
// kind a spec describes, and loads it to the same logits, to the bit.
func TestSequentialSaveLoad(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	dt := tensor.Float32
	fwd := layers.NewLSTM(6, 4, dt, rng, layers.ReturnSequences(true))
	bwd := layers.NewLSTM(6, 4, dt, rng, layers.ReturnSequences(true), layers.GoBackwards())
	hidden := layers.NewDense(8, 8, layers.Tanh, dt, rng)
	head, _ := train.NewMultiClassHead([]string{"a", "b", "c"})
	m := NewSequential("mine", 10, head,
		layers.NewEmbedding(layers.RandomEmbedding(12, 6, dt, rng), true),
		layers.NewLearnedEncoding(10, 6, dt, rng),
		layers.NewRelativeAttention(6, 2, dt, rng),
		layers.NewBidirectional(fwd, bwd, layers.MergeConcat),
		layers.NewPooling(layers.PoolMax),
		layers.NewDropout(0.2, rand.New(rand.NewSource(1))),
		hidden, hidden,
		layers.NewDense(8, 3, layers.Linear, dt, rng))
	dir := filepath.Join(t.TempDir(), "ck")
	if err := Save(dir, &Checkpoint{Tokenizer: tinyTokenizer(t), Model: m}, nil); err != nil {
		t.Fatal(err)
	}
	ck, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Config.Architecture != SequentialArchitecture || ck.Model.(*Sequential).Name != "mine" || len(ck.Model.(*Sequential).Layers()) != 9 {
		t.Fatalf("loaded %s model %q of %d layers, want sequential mine of 9", ck.Config.Architecture, ck.Model.(*Sequential).Name, len(ck.Model.(*Sequential).Layers()))
	}
	if l := ck.Model.(*Sequential).Layers(); l[6] != l[7] {
		t.Error("the shared dense layer was loaded as two layers")
	}
	want, _ := m.Logits(goldenSeqs)
	got, err := ck.Model.(*Sequential).Logits(goldenSeqs)
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("logits after save and load = %v, %v; want %v", got, err, want)
	}
	var names []string
	for _, p := range ck.Model.Params() {
		names = append(names, p.Name)
	}
	if !slices.Contains(names, "dense_1.weight") || !slices.Contains(names, "relpos.key_embedding") {
		t.Errorf("loaded parameter names %v lack dense_1.weight or relpos.key_embedding", names)
	}
}

// TestSequentialSpecRefuses checks that config.json's layers are checked
// before anything is allocated.
func TestSequentialSpecRefuses(t *testing.T) {
	for _, tc := range []struct{ cfg, want string }{
		{`{"name":"x","max_len":8,"layers":[{"kind":"embedding","name":"e","vocab":5000000,"dim":4096}]}`, "over the limit"},
		{`{"name":"x","max_len":8,"layers":[{"kind":"wormhole","name":"w"}]}`, `kind "wormhole"`},
		{`{"name":"x","max_len":8,"layers":[{"kind":"dense","name":"d","in":4,"out":1,"activation":"softmax"}]}`, `activation "softmax"`},
		{`{"name":"x","max_len":8,"layers":[{"kind":"dense","name":"d","same_as":0}]}`, "same_as 0"},
		{`{"name":"x","max_len":0,"layers":[]}`, "max_len 0"},
		{`{"name":"x","max_len":8,"layers":[],"extra":1}`, "unknown field"},
	} {
		_, err := Build(Spec{Architecture: SequentialArchitecture, Config: []byte(tc.cfg)}, nil, nil, 0)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Build(%s) error = %v, want one naming %q", tc.cfg, err, tc.want)
		}
	}
}
