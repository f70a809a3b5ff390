package models

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorgonia.org/tensor"

	"github.com/classify/classify/data"
	"github.com/classify/classify/layers"
	"github.com/classify/classify/safetensors"
	"github.com/classify/classify/train"
)

// tinyConfig is a model small enough for exact golden values.
func tinyConfig(pos, pool string) Config {
	return Config{VocabSize: 12, Dim: 6, MaxLen: 10, Hidden: 4, PosEncoding: pos, MaxRelative: 3, Pool: pool, FreezeEmbeddings: true}
}

func tinyClassifier(t testing.TB, cfg Config, seed int64) *Classifier {
	t.Helper()
	emb := layers.RandomEmbedding(cfg.VocabSize, cfg.Dim, tensor.Float32, rand.New(rand.NewSource(seed)))
	m, err := NewClassifier(cfg, nil, emb, seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// goldenSeqs are the token ids whose logits goldenLogits holds.
var goldenSeqs = [][]int{{2, 3, 4, 5, 6, 7, 8}, {11, 1}, {9}, {4, 4, 4, 10, 3}}

// goldenLogits were computed by PyTorch 1.13 (Debian python3-torch) from
// the weights tinyClassifier(tinyConfig(pos, pool), 7) writes to
// model.safetensors: nn.Embedding, the sinusoidal table of SPEC section 2,
// nn.LSTM(bidirectional=True) over pack_padded_sequence, the pooling, and
// nn.Linear, as ../shared/bench/parity.py's Reference builds them
// (testdata/golden_logits.py).
var goldenLogits = map[string][]float32{
	"sinusoidal/last": {-0.322508, -0.298959, -0.072800, -0.476631},
	"learned/mean":    {-0.040503, -0.058607, -0.143755, -0.035065},
	"none/max":        {-0.005949, -0.002174, 0.004512, 0.006572},
}

func TestGoldenLogits(t *testing.T) {
	if dir := os.Getenv("CLASSIFY_WRITE_GOLDEN"); dir != "" {
		writeGoldenCheckpoints(t, dir)
	}
	for key, want := range goldenLogits {
		pos, pool := filepath.Split(key)
		m := tinyClassifier(t, tinyConfig(filepath.Clean(pos), pool), 7)
		got, err := m.Logits(goldenSeqs)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > 2e-6 {
				t.Errorf("%s: logit %d = %.6f, want %.6f (PyTorch)", key, i, got[i], want[i])
			}
		}
	}
}

// writeGoldenCheckpoints saves the golden models for the PyTorch script.
func writeGoldenCheckpoints(t *testing.T, dir string) {
	for key := range goldenLogits {
		pos, pool := filepath.Split(key)
		m := tinyClassifier(t, tinyConfig(filepath.Clean(pos), pool), 7)
		ck := &Checkpoint{Tokenizer: tinyTokenizer(t), Model: m.Sequential}
		if err := Save(filepath.Join(dir, filepath.Clean(pos)+"_"+pool), ck, nil); err != nil {
			t.Fatal(err)
		}
	}
}

func tinyTokenizer(t testing.TB) *data.Tokenizer {
	t.Helper()
	v, err := data.NewVocabulary([]string{"the", "film", "is", "a", "gem", "dull", "!", "and", "not", "good"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := data.NewTokenizer(v)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestPaddingChangesNothing checks that a sequence scored alone, in a batch
// padded to a longer compiled length, and next to longer sequences gives
// the same logit: masking is exact.
func TestPaddingChangesNothing(t *testing.T) {
	for _, pos := range []string{"sinusoidal", "learned", "relative", "none"} {
		for _, pool := range []string{"last", "mean", "max"} {
			m := tinyClassifier(t, tinyConfig(pos, pool), 3)
			all, err := m.Logits(goldenSeqs)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range goldenSeqs {
				alone, err := m.Logits([][]int{s})
				if err != nil {
					t.Fatal(err)
				}
				if d := math.Abs(float64(alone[0] - all[i])); d > 1e-6 {
					t.Errorf("%s/%s: sequence %d alone gives %v, in a padded batch %v", pos, pool, i, alone[0], all[i])
				}
			}
		}
	}
}

func TestSaveLoadIsExact(t *testing.T) {
	for _, pos := range []string{"sinusoidal", "learned", "relative", "none"} {
		m := tinyClassifier(t, tinyConfig(pos, "mean"), 5)
		dir := filepath.Join(t.TempDir(), "ck")
		if err := Save(dir, &Checkpoint{Tokenizer: tinyTokenizer(t), Model: m.Sequential}, nil); err != nil {
			t.Fatal(err)
		}
		ck, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		before, _ := m.Logits(goldenSeqs)
		after, err := ck.Model.(*Sequential).Logits(goldenSeqs)
		if err != nil {
			t.Fatal(err)
		}
		for i := range before {
			if math.Float32bits(before[i]) != math.Float32bits(after[i]) {
				t.Errorf("%s: logit %d after save and load = %v, want %v to the bit", pos, i, after[i], before[i])
			}
		}
	}
}

func TestLoadRefuses(t *testing.T) {
	m := tinyClassifier(t, tinyConfig("learned", "last"), 5)
	good := filepath.Join(t.TempDir(), "good")
	if err := Save(good, &Checkpoint{Tokenizer: tinyTokenizer(t), Model: m.Sequential, Optimizer: map[string]*tensor.Dense{
		"step": tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{3})),
	}}, nil); err != nil {
		t.Fatal(err)
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(good, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// rewrite rewrites the weights with edit applied, without a digest, so
	// that the checks behind the digest are reached.
	rewrite := func(edit func([]safetensors.Tensor) []safetensors.Tensor) func([]byte) []byte {
		return func(b []byte) []byte {
			f, err := safetensors.Read(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := safetensors.Write(&out, edit(f.Tensors), nil); err != nil {
				t.Fatal(err)
			}
			return out.Bytes()
		}
	}
	cases := []struct {
		name   string
		file   string
		change func([]byte) []byte
		wantIn string
	}{
		{"truncated weights", ModelFile, func(b []byte) []byte { return b[:len(b)-3] }, ModelFile},
		{"altered weight", ModelFile, func(b []byte) []byte { b[len(b)-1] ^= 1; return b }, "altered"},
		{"empty weights", ModelFile, func(b []byte) []byte { return nil }, ModelFile},
		{"missing tensor", ModelFile, rewrite(func(ts []safetensors.Tensor) []safetensors.Tensor {
			return slices.DeleteFunc(ts, func(x safetensors.Tensor) bool { return x.Name == "dense.bias" })
		}), "dense.bias"},
		{"extra tensor", ModelFile, rewrite(func(ts []safetensors.Tensor) []safetensors.Tensor {
			x, _ := safetensors.NewF32("surprise.weight", []int{1}, []float32{1})
			return append(ts, x)
		}), "surprise.weight"},
		{"float64 tensor", ModelFile, rewrite(func(ts []safetensors.Tensor) []safetensors.Tensor {
			for i, x := range ts {
				if x.Name == "dense.bias" {
					ts[i], _ = safetensors.NewF64("dense.bias", []int{1}, []float64{0})
				}
			}
			return ts
		}), "dense.bias"},
		{"format version", ConfigFile, func(b []byte) []byte { return replaceOnce(t, b, `"format_version": 2`, `"format_version": 3`) }, "format_version"},
		{"hidden size", ConfigFile, func(b []byte) []byte { return replaceOnce(t, b, `"hidden": 4`, `"hidden": 5`) }, "lstm.weight_ih_l0"},
		{"vocabulary size", ConfigFile, func(b []byte) []byte { return replaceOnce(t, b, `"vocab_size": 12`, `"vocab_size": 13`) }, TokenizerFile},
		{"positions", ConfigFile, func(b []byte) []byte {
			return replaceOnce(t, b, `"pos_encoding": "learned"`, `"pos_encoding": "none"`)
		}, "pos_encoding.weight"},
		{"bad json", ConfigFile, func(b []byte) []byte { return b[:len(b)/2] }, ConfigFile},
		{"altered optimizer", OptimizerFile, func(b []byte) []byte { b[len(b)-1] ^= 1; return b }, OptimizerFile},
	}
	for _, c := range cases {
		dir := filepath.Join(t.TempDir(), "ck")
		os.MkdirAll(dir, 0o755)
		for _, f := range []string{ConfigFile, TokenizerFile, ModelFile, OptimizerFile} {
			b := read(f)
			if f == c.file {
				b = c.change(b)
			}
			os.WriteFile(filepath.Join(dir, f), b, 0o644)
		}
		_, err := Load(dir)
		if c.file == OptimizerFile {
			if err != nil {
				t.Errorf("%s: Load, which leaves the optimizer out, failed: %v", c.name, err)
			}
			_, err = LoadOptimizer(dir)
		}
		if err == nil || !strings.Contains(err.Error(), c.wantIn) {
			t.Errorf("%s: error %v, want one naming %q", c.name, err, c.wantIn)
		}
	}
}

func replaceOnce(t *testing.T, b []byte, old, new string) []byte {
	t.Helper()
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%q not in %s", old, b)
	}
	return bytes.Replace(b, []byte(old), []byte(new), 1)
}

func TestSaveReplacesAtomically(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ck")
	m := tinyClassifier(t, tinyConfig("none", "last"), 1)
	ck := &Checkpoint{Tokenizer: tinyTokenizer(t), Model: m.Sequential}
	if err := Save(dir, ck, nil); err != nil {
		t.Fatal(err)
	}
	failing := func(tmp string) error { return os.ErrPermission }
	if err := Save(dir, ck, failing); err == nil {
		t.Fatal("Save with a failing extra writer succeeded")
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("after a failed Save the parent holds %d entries, want only the old checkpoint", len(entries))
	}
	if _, err := Load(dir); err != nil {
		t.Errorf("the old checkpoint is no longer readable: %v", err)
	}
}

func TestPredictorConcurrent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ck")
	m := tinyClassifier(t, tinyConfig("sinusoidal", "last"), 9)
	if err := Save(dir, &Checkpoint{Tokenizer: tinyTokenizer(t), Model: m.Sequential}, nil); err != nil {
		t.Fatal(err)
	}
	p, err := LoadPredictor(dir)
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"the film is a gem!", "dull and not good", "", "a a a a a a a a a a a a a a", "unknown words here"}
	want, err := p.Predict(texts)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for r := 0; r < 20; r++ {
				i := (g + r) % len(texts)
				got, err := p.Predict(texts[i : i+1])
				if err != nil {
					errs <- err
					return
				}
				if !samePrediction(got[0], want[i]) {
					t.Errorf("goroutine %d: Predict(%q) = %+v, want %+v", g, texts[i], got[0], want[i])
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestPredictionThreshold pins the label to the logit's sign, as the
// metrics of package train count it: a logit of 0 is negative.
func TestPredictionThreshold(t *testing.T) {
	h, _ := train.NewBinaryHead([]string{"neg", "pos"})
	for _, c := range []struct {
		z     float32
		label string
	}{{-1e-9, "neg"}, {0, "neg"}, {1e-9, "pos"}, {3, "pos"}, {-3, "neg"}} {
		if got := NewPrediction(h, []float32{c.z}); got.Label != c.label {
			t.Errorf("NewPrediction(%v) = %+v, want label %s", c.z, got, c.label)
		}
	}
}

// TestPredictionShapes checks the fields and JSON of each task's
// prediction (SPEC section 5, predict --json).
func TestPredictionShapes(t *testing.T) {
	bin, _ := train.NewBinaryHead([]string{"neg", "pos"})
	mc, _ := train.NewMultiClassHead([]string{"HUM", "LOC", "NUM"})
	ml, _ := train.NewMultiLabelHead([]string{"corn", "grain", "wheat"})
	tests := []struct {
		h    train.Head
		z    []float32
		want string
	}{
		{bin, []float32{0}, `{"label":"neg","score":0.5,"scores":[{"label":"neg","score":0.5},{"label":"pos","score":0.5}]}`},
		{mc, []float32{0, float32(math.Log(3)), 0}, `{"label":"LOC","score":0.6,"scores":[{"label":"LOC","score":0.6},{"label":"HUM","score":0.2},{"label":"NUM","score":0.2}]}`},
		{ml, []float32{float32(math.Log(0.25)), float32(math.Log(4)), float32(math.Log(3))}, `{"label":"grain,wheat","score":0.8,"scores":[{"label":"grain","score":0.8},{"label":"wheat","score":0.75},{"label":"corn","score":0.2}],"labels":["grain","wheat"]}`},
		{ml, []float32{-3, -3, -3}, `{"label":"","score":0.047425874,"scores":[{"label":"corn","score":0.047425874},{"label":"grain","score":0.047425874},{"label":"wheat","score":0.047425874}],"labels":[]}`},
	}
	for _, tt := range tests {
		js, err := json.Marshal(NewPrediction(tt.h, tt.z))
		if err != nil || string(js) != tt.want {
			t.Errorf("%s prediction of %v = %s, %v; want %s", tt.h.Task(), tt.z, js, err, tt.want)
		}
		var back Prediction
		if err := json.Unmarshal(js, &back); err != nil || !reflect.DeepEqual(back, NewPrediction(tt.h, tt.z)) {
			t.Errorf("%s: %s read back as %+v, %v", tt.h.Task(), js, back, err)
		}
	}
}

// TestPredictorBoundsGraphs checks that requests of every size from 1 to
// 70 texts compile a bounded number of graphs (batch rows are padded to a
// power of two), so that a server's memory does not grow with the sizes
// it meets, and that the padding rows change no answer.
func TestPredictorBoundsGraphs(t *testing.T) {
	m := tinyClassifier(t, tinyConfig("sinusoidal", "mean"), 4)
	p := NewPredictor(&Checkpoint{Tokenizer: tinyTokenizer(t), Model: m.Sequential})
	texts := make([]string, 70)
	for i := range texts {
		texts[i] = strings.Repeat("the film is good ", 1+i%3)
	}
	want, err := p.Predict(texts)
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= len(texts); n++ {
		got, err := p.Predict(texts[:n])
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if !samePrediction(got[i], want[i]) {
				t.Fatalf("Predict of %d texts: text %d = %+v, want %+v", n, i, got[i], want[i])
			}
		}
	}
	// Lengths 4, 8 and 12 round to buckets 8 and 16; rows to 1, 2, ... 64.
	if n := len(m.graphs); n > 2*7 {
		t.Errorf("%d graphs compiled for requests of 1 to 70 texts, want at most 14", n)
	}
}

// samePrediction compares predictions made in batches of different shapes,
// whose sums a BLAS may order differently: the label exactly, the
// probability to 1e-6, as TestPaddingChangesNothing.
func samePrediction(a, b Prediction) bool {
	return a.Label == b.Label && math.Abs(float64(a.Score-b.Score)) <= 1e-6
}

// TestSaveLoadTasks saves a multi-class and a multi-label model and loads
// them with their task, labels, threshold and dense.weight [K, 2H].
func TestSaveLoadTasks(t *testing.T) {
	mc, _ := train.NewMultiClassHead([]string{"HUM", "LOC", "NUM"})
	ml, _ := train.NewMultiLabelHead([]string{"corn", "grain", "wheat", "earn"})
	ml.Threshold = 0.3
	for _, h := range []train.Head{mc, ml} {
		cfg := tinyConfig("sinusoidal", "max")
		emb := layers.RandomEmbedding(cfg.VocabSize, cfg.Dim, tensor.Float32, rand.New(rand.NewSource(2)))
		m, err := NewClassifier(cfg, h, emb, 2)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "ck")
		if err := Save(dir, &Checkpoint{Tokenizer: tinyTokenizer(t), Model: m.Sequential}, nil); err != nil {
			t.Fatal(err)
		}
		ck, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		got := ck.Model.Head()
		if got.Task() != h.Task() || !slices.Equal(got.Labels(), h.Labels()) || ck.Config.Task != h.Task() {
			t.Errorf("loaded a %s head of %q, want %s of %q", got.Task(), got.Labels(), h.Task(), h.Labels())
		}
		if g, ok := got.(*train.MultiLabelHead); ok && g.Threshold != 0.3 {
			t.Errorf("threshold %v after loading, want 0.3", g.Threshold)
		}
		if s := m.Output.Params()[0].Value.Shape(); s[0] != len(h.Labels()) || s[1] != 2*cfg.Hidden {
			t.Errorf("dense.weight %v, want [%d %d]", s, len(h.Labels()), 2*cfg.Hidden)
		}
		before, _ := m.Logits(goldenSeqs)
		after, _ := ck.Model.(*Sequential).Logits(goldenSeqs)
		if !slices.Equal(before, after) || len(after) != len(goldenSeqs)*len(h.Labels()) {
			t.Errorf("%s logits after save and load = %v, want %v", h.Task(), after, before)
		}
	}
}

// TestLoadFormatVersion1 loads a checkpoint as this program wrote it
// before labels had names (format_version 1, architecture
// bilstm_classifier, no task): a binary model that predicts the same.
func TestLoadFormatVersion1(t *testing.T) {
	m := tinyClassifier(t, tinyConfig("sinusoidal", "last"), 6)
	dir := filepath.Join(t.TempDir(), "ck")
	if err := Save(dir, &Checkpoint{Tokenizer: tinyTokenizer(t), Model: m.Sequential}, nil); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, ConfigFile)
	var cfg map[string]any
	raw, _ := os.ReadFile(cfgPath)
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["format_version"], cfg["architecture"], cfg["labels"] = 1, "bilstm_classifier", []string{"negative", "positive"}
	delete(cfg, "task")
	raw, _ = json.Marshal(cfg)
	os.WriteFile(cfgPath, raw, 0o644)
	ck, err := Load(dir)
	if err != nil {
		t.Fatalf("Load(format 1) = %v", err)
	}
	if h := ck.Model.Head(); h.Task() != data.Binary || !slices.Equal(h.Labels(), []string{"negative", "positive"}) {
		t.Errorf("format 1 loads as a %s task of %q, want binary negative, positive", h.Task(), h.Labels())
	}
	before, _ := m.Logits(goldenSeqs)
	after, _ := ck.Model.(*Sequential).Logits(goldenSeqs)
	if !slices.Equal(before, after) {
		t.Errorf("format 1 logits %v, want %v", after, before)
	}
}

// TestPredictorReplicas runs concurrent calls on several replicas and
// wants every answer to equal the one replica's, and no more replicas
// than asked for.
func TestPredictorReplicas(t *testing.T) {
	m := tinyClassifier(t, tinyConfig("relative", "max"), 8)
	ck := &Checkpoint{Tokenizer: tinyTokenizer(t), Model: m.Sequential}
	texts := []string{"the film is a gem!", "dull and not good", "", "a a a a a a a a a a a a a a", "unknown words here"}
	want, err := NewPredictorN(ck, 1).Predict(texts)
	if err != nil {
		t.Fatal(err)
	}
	p := NewPredictorN(ck, 3)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for r := 0; r < 10; r++ {
				got, err := p.Predict(texts)
				if err != nil {
					t.Error(err)
					return
				}
				for i := range got {
					if !samePrediction(got[i], want[i]) {
						t.Errorf("goroutine %d: Predict(%q) = %+v, want %+v", g, texts[i], got[i], want[i])
					}
				}
			}
		}(g)
	}
	wg.Wait()
	if p.made > 3 {
		t.Errorf("%d replicas made, want at most 3", p.made)
	}
}

// gatedModel counts its runs and the texts of each, holds its first run
// until gate is closed (after saying so on entered), and fails a run that
// holds the text "bad".
type gatedModel struct {
	Model
	mu      sync.Mutex
	runs    []int
	entered chan struct{}
	gate    chan struct{}
}

func (g *gatedModel) TextLogits(tok *data.Tokenizer, texts []string) ([]float32, error) {
	g.mu.Lock()
	g.runs = append(g.runs, len(texts))
	first := len(g.runs) == 1
	g.mu.Unlock()
	if first {
		g.entered <- struct{}{}
		<-g.gate
	}
	if slices.Contains(texts, "bad") {
		return nil, errors.New("a bad text")
	}
	return g.Model.TextLogits(tok, texts)
}

// TestPredictorCoalesces holds one replica busy while nine more calls
// queue, then wants the queue scored in as few runs as Coalesce allows,
// every call answered as if alone, and the one call with a bad text
// failing alone.
func TestPredictorCoalesces(t *testing.T) {
	m := tinyClassifier(t, tinyConfig("sinusoidal", "max"), 8)
	tok := tinyTokenizer(t)
	pool := []string{"the film is a gem!", "dull and not good", "", "a a a a a a a a a a a a a a", "unknown words here", "good"}
	texts := func(i int) []string {
		var ts []string
		for j := 0; j <= i%4; j++ {
			ts = append(ts, pool[(i+j)%len(pool)])
		}
		return ts
	}
	alone := NewPredictorN(&Checkpoint{Tokenizer: tok, Model: m.Sequential}, 1)
	alone.Coalesce = 0
	for _, coalesce := range []int{DefaultCoalesce, 5} {
		g := &gatedModel{Model: m.Sequential, entered: make(chan struct{}), gate: make(chan struct{})}
		p := NewPredictorN(&Checkpoint{Tokenizer: tok, Model: g}, 1)
		p.Coalesce = coalesce
		const calls = 10
		type answer struct {
			preds []Prediction
			err   error
		}
		answers := make([]answer, calls)
		var wg sync.WaitGroup
		call := func(i int) {
			defer wg.Done()
			ts := texts(i)
			if i == 7 {
				ts = append(ts, "bad")
			}
			answers[i].preds, answers[i].err = p.Predict(ts)
		}
		wg.Add(1)
		go call(0)
		<-g.entered
		for i := 1; i < calls; i++ {
			wg.Add(1)
			go call(i)
		}
		for {
			p.qmu.Lock()
			n := len(p.queue)
			p.qmu.Unlock()
			if n == calls-1 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		close(g.gate)
		wg.Wait()
		for i, a := range answers {
			if i == 7 {
				if a.err == nil {
					t.Errorf("coalesce %d: the call with a bad text got no error", coalesce)
				}
				continue
			}
			if a.err != nil {
				t.Errorf("coalesce %d: call %d: %v", coalesce, i, a.err)
				continue
			}
			want, err := alone.Predict(texts(i))
			if err != nil {
				t.Fatal(err)
			}
			if len(a.preds) != len(want) {
				t.Fatalf("coalesce %d: call %d: %d predictions, want %d", coalesce, i, len(a.preds), len(want))
			}
			for k := range want {
				if !samePrediction(a.preds[k], want[k]) {
					t.Errorf("coalesce %d: call %d text %d: %+v, want %+v", coalesce, i, k, a.preds[k], want[k])
				}
			}
		}
		// Calls 1-9 hold 23 texts (one bad): when Coalesce allows, the
		// queue is one run of 23, which fails, then a run per call; else
		// runs of at most 5 texts.
		for _, n := range g.runs[1:] {
			if n > max(coalesce, 5) {
				t.Errorf("coalesce %d: a run of %d texts", coalesce, n)
			}
		}
		if coalesce == DefaultCoalesce {
			rest := slices.Clone(g.runs[min(2, len(g.runs)):])
			slices.Sort(rest)
			if len(g.runs) < 2 || g.runs[0] != 1 || g.runs[1] != 23 || !slices.Equal(rest, []int{1, 1, 2, 2, 2, 3, 3, 4, 5}) {
				t.Errorf("runs of %v texts, want 1, 23, then the nine calls' 2, 3, 4, 1, 2, 3, 5, 1, 2 in any order", g.runs)
			}
		} else if len(g.runs) >= len(answers) {
			t.Errorf("coalesce 5: %d runs for %d calls, want fewer", len(g.runs), len(answers))
		}
	}
}
