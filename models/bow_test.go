package models

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/classify/classify/internal/shareddata"
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/classify/classify/data"
	"github.com/classify/classify/layers"
	"github.com/classify/classify/train"
)

func tinyBow(t *testing.T) *Bow {
	t.Helper()
	head, err := train.NewMultiClassHead([]string{"a", "b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewBow(BowConfig{VocabSize: 8, Dim: 4, MaxLen: 10, Ngrams: 2, Buckets: 5}, head, 3)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(4))
	for _, p := range m.Output.Params() {
		for i := range p.Value.Data().([]float32) {
			p.Value.Data().([]float32)[i] = float32(rng.Float64() - 0.5)
		}
	}
	return m
}

// The plain-loop logits are those of the same layers run as a Gorgonia
// graph (layers.EmbeddingBag, then layers.Dense).
func TestBowLogitsMatchGraph(t *testing.T) {
	m := tinyBow(t)
	bags := [][]int{{2, 3, 9, 11}, {7}, {}, {4, 4, 12, 8, 10}}
	got, err := m.Logits(bags)
	if err != nil {
		t.Fatal(err)
	}
	const L = 5
	ids, w := make([]int, len(bags)*L), make([]float64, len(bags)*L)
	for b, bag := range bags {
		for l, r := range bag {
			ids[b*L+l], w[b*L+l] = r, 1
		}
	}
	g := layers.NewGraph(tensor.Float32, false)
	idn := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(len(bags), L), tensor.WithBacking(ids)), G.WithName("ids"))
	wv := make([]float32, len(w))
	for i, v := range w {
		wv[i] = float32(v)
	}
	wn := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(len(bags), L), tensor.WithBacking(wv)), G.WithName("w"))
	h, err := m.Bag.Forward(g, idn, wn)
	if err != nil {
		t.Fatal(err)
	}
	z, err := m.Output.Forward(g, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.ExprGraph)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	want := z.Value().Data().([]float32)
	if len(got) != len(want) {
		t.Fatalf("%d logits, the graph gives %d", len(got), len(want))
	}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-6 {
			t.Errorf("logit %d = %v, the graph gives %v", i, got[i], want[i])
		}
	}
	if _, err := m.Logits([][]int{{13}}); err == nil {
		t.Error("a row outside the table gave no error")
	}
}

// A text's bag is its known words, then its bigrams' buckets with the
// end-of-line token, as data.NgramHasher gives them.
func TestBowRows(t *testing.T) {
	m := tinyBow(t)
	tokens := []string{"good", "zzz", "film"}
	got := m.Rows([]int{2, data.UnkID, 5}, tokens)
	want := data.NgramHasher{N: 2, Buckets: 5, Offset: 8}.Append([]int{2, 5}, append(tokens, data.FastTextEOS))
	if len(got) != len(want) || len(got) != 5 {
		t.Fatalf("Rows = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Rows = %v, want %v", got, want)
		}
	}
}

// TextRows is Rows of the text's words and their ids, words cut at
// MaxLen, with n-grams and without.
func TestBowTextRows(t *testing.T) {
	texts := []string{"", "good", "Good fun, FILM!", "a zzz war story of good dull plot", "bad bad bad bad bad bad bad bad bad bad bad bad"}
	vocab := data.BuildVocabulary([]string{"good fun film", "bad dull plot", "a long war story"}, 0)
	tok, err := data.NewTokenizer(vocab)
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []BowConfig{
		{VocabSize: vocab.Len(), Dim: 3, MaxLen: 5, Ngrams: 2, Buckets: 7},
		{VocabSize: vocab.Len(), Dim: 3, MaxLen: 50, Ngrams: 3, Buckets: 7},
		{VocabSize: vocab.Len() - 2, Dim: 3, MaxLen: 50, Ngrams: 1},
	} {
		m, err := NewBow(cfg, nil, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, text := range texts {
			words := data.Words(text)
			ids := make([]int, len(words))
			for i, w := range words {
				ids[i] = vocab.ID(w)
			}
			want := m.Rows(ids, words)
			if got := m.TextRows(tok, text); !slices.Equal(got, want) {
				t.Errorf("%+v: TextRows(%q) = %v, want %v", cfg, text, got, want)
			}
		}
	}
}

// Fit learns a toy task and moves only the rows its bags use.
func TestBowFit(t *testing.T) {
	m := tinyBow(t)
	bags := [][]int{{2, 9}, {3, 10}, {4, 11}, {2, 2, 9}, {3, 10, 10}, {4, 4, 11}}
	y := []float32{0, 1, 2, 0, 1, 2}
	before := append([]float32(nil), m.Bag.Table.Value.Data().([]float32)...)
	losses, err := m.Fit(bags, y, BowFitConfig{Epochs: 50, LR: 0.5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if first, last := losses[0].Train.Loss, losses[len(losses)-1].Train.Loss; !(last < first/4) {
		t.Errorf("loss %.4f after the first epoch, %.4f after the last: want it quartered", first, last)
	}
	logits, err := m.Logits(bags)
	if err != nil {
		t.Fatal(err)
	}
	for i := range bags {
		row := logits[i*3 : i*3+3]
		best := 0
		for k := range row {
			if row[k] > row[best] {
				best = k
			}
		}
		if best != int(y[i]) {
			t.Errorf("bag %v: class %d, want %v", bags[i], best, y[i])
		}
	}
	used := map[int]bool{2: true, 3: true, 4: true, 9: true, 10: true, 11: true}
	after := m.Bag.Table.Value.Data().([]float32)
	for r := 0; r < 13; r++ {
		moved := false
		for d := 0; d < 4; d++ {
			moved = moved || after[r*4+d] != before[r*4+d]
		}
		if moved != used[r] {
			t.Errorf("row %d moved: %v, used: %v", r, moved, used[r])
		}
	}
}

func TestBowConfigValidate(t *testing.T) {
	for _, mod := range []func(*BowConfig){
		func(c *BowConfig) { c.Ngrams = 0 },
		func(c *BowConfig) { c.Buckets = 0 },
		func(c *BowConfig) { c.Dim = 0 },
		func(c *BowConfig) { c.Buckets = MaxWeights },
	} {
		c := DefaultBowConfig()
		mod(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	c := DefaultBowConfig()
	c.Ngrams, c.Buckets = 1, 0
	if err := c.Validate(); err != nil {
		t.Errorf("words alone: %v", err)
	}
}

// TestBowPolarity trains the bow model with its defaults on sentence
// polarity and logs test accuracy and training time; it runs only with
// CLASSIFY_BOW_EXPERIMENT=1 (fastText with bigrams: 0.759).
func TestBowPolarity(t *testing.T) {
	if os.Getenv("CLASSIFY_BOW_EXPERIMENT") == "" {
		t.Skip("set CLASSIFY_BOW_EXPERIMENT=1 to train the bow model on sentence polarity")
	}
	load := func(name string) ([]data.Example, error) {
		return data.Load(shareddata.Path(t, "rt-polarity/"+name), data.LoadOptions{})
	}
	tr, err := load("train.tsv")
	if err != nil {
		t.Fatal(err)
	}
	te, err := load("test.tsv")
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, e := range tr {
		texts = append(texts, e.Text)
	}
	vocab := data.BuildVocabulary(texts, 100000)
	tok, err := data.NewTokenizer(vocab)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultBowConfig()
	cfg.VocabSize = vocab.Len()
	for _, seed := range []int64{42, 1, 2} {
		m, err := NewBow(cfg, nil, seed)
		if err != nil {
			t.Fatal(err)
		}
		bags := func(es []data.Example) ([][]int, []float32) {
			var bs [][]int
			var y []float32
			for _, e := range es {
				bs = append(bs, m.TextRows(tok, e.Text))
				y = append(y, map[string]float32{"1": 1}[e.Labels[0]])
			}
			return bs, y
		}
		trb, try := bags(tr)
		teb, tey := bags(te)
		start := time.Now()
		if _, err := m.Fit(trb, try, BowFitConfig{Epochs: 5, LR: 0.5, Seed: seed}); err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		logits, err := m.Logits(teb)
		if err != nil {
			t.Fatal(err)
		}
		right := 0
		for i, z := range logits {
			if (z > 0) == (tey[i] == 1) {
				right++
			}
		}
		start = time.Now()
		if _, err := m.Logits(teb); err != nil {
			t.Fatal(err)
		}
		t.Logf("seed %d: test accuracy %.4f, 5 epochs in %.2fs, %d test texts scored in %.3fs", seed, float64(right)/float64(len(te)), took.Seconds(), len(te), time.Since(start).Seconds())
	}
}

// tinyBowCheckpoint trains a small bow model on a toy task of three
// classes and returns it as a checkpoint with its tokenizer.
func tinyBowCheckpoint(t *testing.T) (*Checkpoint, []string) {
	t.Helper()
	texts := []string{"good fun film", "bad dull plot", "a long war story", "fun good", "dull bad", "war story long", "good film", "bad plot"}
	labels := []float32{0, 1, 2, 0, 1, 2, 0, 1}
	vocab, tok, head := toyThreeClass(t, texts)
	sp, err := NewSpec(BowArchitecture, BowConfig{VocabSize: vocab.Len(), Dim: 6, MaxLen: 20, Ngrams: 2, Buckets: 11})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build(sp, head, BowWordRows(vocab.Len(), 6, 1), 2)
	if err != nil {
		t.Fatal(err)
	}
	bow := m.(*Bow)
	if _, err := bow.Fit(bow.Bags(tok, texts), labels, BowFitConfig{Epochs: 30, LR: 0.5, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	return &Checkpoint{Tokenizer: tok, Model: m}, texts
}

// toyThreeClass returns the vocabulary and tokenizer of texts and the
// head of the toy task's three classes pos, neg and war.
func toyThreeClass(t *testing.T, texts []string) (*data.Vocabulary, *data.Tokenizer, *train.MultiClassHead) {
	t.Helper()
	vocab := data.BuildVocabulary(texts, 0)
	tok, err := data.NewTokenizer(vocab)
	if err != nil {
		t.Fatal(err)
	}
	head, err := train.NewMultiClassHead([]string{"pos", "neg", "war"})
	if err != nil {
		t.Fatal(err)
	}
	return vocab, tok, head
}

// A bow checkpoint saves and loads with the same logits, evaluates, and
// its config.json and tensors are those of SPEC section 4.
func TestBowSaveLoad(t *testing.T) {
	ck, texts := tinyBowCheckpoint(t)
	dir := t.TempDir() + "/ck"
	if err := Save(dir, ck, nil); err != nil {
		t.Fatal(err)
	}
	again, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if again.Config.Architecture != BowArchitecture {
		t.Errorf("architecture %q, want %q", again.Config.Architecture, BowArchitecture)
	}
	want, err := ck.Logits(texts)
	if err != nil {
		t.Fatal(err)
	}
	got, err := again.Logits(texts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("logit %d after loading = %v, want %v", i, got[i], want[i])
		}
	}
	names := map[string][]int{}
	for _, p := range again.Model.Params() {
		names[p.Name] = p.Value.Shape().Clone()
	}
	for name, shape := range map[string][]int{"embedding_bag.weight": {ck.Tokenizer.Vocabulary().Len() + 11, 6}, "dense.weight": {3, 6}, "dense.bias": {3}} {
		if fmt.Sprint(names[name]) != fmt.Sprint(shape) {
			t.Errorf("tensor %s of shape %v, want %v", name, names[name], shape)
		}
	}
	ex := []data.Example{{Text: "good fun", Labels: []string{"pos"}, Line: 1}, {Text: "dull plot", Labels: []string{"neg"}, Line: 2}}
	m, err := again.Evaluate(ex, "x.tsv", 8)
	if err != nil || m.Accuracy != 1 {
		t.Errorf("Evaluate = accuracy %v, %v; want 1", m.Accuracy, err)
	}
	p := NewPredictorN(again, 3)
	preds, err := p.Predict([]string{"a war story"})
	if err != nil || preds[0].Label != "war" {
		t.Errorf("Predict = %+v, %v; want war", preds, err)
	}
	var sum strings.Builder
	if err := again.Model.Summary(&sum); err != nil || !strings.Contains(sum.String(), "embedding_bag (EmbeddingBag)") {
		t.Errorf("Summary = %q, %v", sum.String(), err)
	}
}

// A config.json or model.safetensors that does not fit a bow model is
// refused with a message naming what is wrong.
func TestBowLoadRefuses(t *testing.T) {
	ck, _ := tinyBowCheckpoint(t)
	dir := t.TempDir() + "/ck"
	if err := Save(dir, ck, nil); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(dir + "/" + ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ from, to, want string }{
		{`"ngrams": 2`, `"ngrams": 0`, "ngrams 0"},
		{`"ngrams": 2`, `"ngram": 2`, `unknown field "ngram"`},
		{`"buckets": 11`, `"buckets": 12`, "embedding_bag.weight"},
		{`"dim": 6`, `"dim": 5000`, "dim 5000"},
	} {
		bad := strings.Replace(string(raw), c.from, c.to, 1)
		if bad == string(raw) {
			t.Fatalf("config.json has no %s: %s", c.from, raw)
		}
		if err := os.WriteFile(dir+"/"+ConfigFile, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Load with %s = %v, want an error naming %s", c.to, err, c.want)
		}
	}
	ck.Model.(*Bow).table()[7] = float32(math.NaN())
	if err := Save(dir, ck, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "finite") {
		t.Errorf("Load of a NaN weight = %v, want an error on finite weights", err)
	}
}

// Hogwild training on several goroutines reaches about the loss of the
// deterministic one-goroutine path.
func TestBowThreads(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	var bags [][]int
	var y []float32
	for i := 0; i < 3000; i++ {
		c := rng.Intn(3)
		bag := []int{2 + c, 2 + rng.Intn(6), 8 + rng.Intn(5)}
		bags, y = append(bags, bag), append(y, float32(c))
	}
	loss := func(threads int) float64 {
		m := tinyBow(t)
		h, err := m.Fit(bags, y, BowFitConfig{Epochs: 3, LR: 0.2, Seed: 1, Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		return h[len(h)-1].Train.Loss
	}
	one, again, four := loss(1), loss(1), loss(4)
	if one != again {
		t.Errorf("one goroutine: loss %v, then %v: want the same", one, again)
	}
	if math.Abs(four-one) > 0.1*one {
		t.Errorf("loss %.4f on 4 goroutines, %.4f on 1: want within 10%%", four, one)
	}
}

// benchBow is a bow model of fastText's width over a vocabulary of 20,000
// words and 200,000 buckets, with texts of 20 words.
func benchBow(b *testing.B) (*Bow, *data.Tokenizer, []string) {
	rng := rand.New(rand.NewSource(1))
	words := make([]string, 20000)
	for i := range words {
		words[i] = fmt.Sprintf("w%d", i)
	}
	texts := make([]string, 1000)
	for i := range texts {
		var sb strings.Builder
		for j := 0; j < 20; j++ {
			sb.WriteString(words[rng.Intn(len(words))] + " ")
		}
		texts[i] = sb.String()
	}
	vocab := data.BuildVocabulary(texts, 0)
	tok, err := data.NewTokenizer(vocab)
	if err != nil {
		b.Fatal(err)
	}
	m, err := NewBow(BowConfig{VocabSize: vocab.Len(), Dim: 100, MaxLen: 1000, Ngrams: 2, Buckets: 200000}, nil, 1)
	if err != nil {
		b.Fatal(err)
	}
	return m, tok, texts
}

// BenchmarkBowTextLogits is prediction's hot path: words, ids, n-gram
// hashes, the bag's mean and the output layer, per text.
func BenchmarkBowTextLogits(b *testing.B) {
	m, tok, texts := benchBow(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.TextLogits(tok, texts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(texts))/b.Elapsed().Seconds(), "texts/s")
}

// BenchmarkBowFit is one epoch of training on one goroutine.
func BenchmarkBowFit(b *testing.B) {
	m, tok, texts := benchBow(b)
	bags := m.Bags(tok, texts)
	y := make([]float32, len(bags))
	for i := range y {
		y[i] = float32(i % 2)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Fit(bags, y, BowFitConfig{Epochs: 1, LR: 0.1, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(texts))/b.Elapsed().Seconds(), "texts/s")
}

// drawRows draws from U(-1/dim, 1/dim): every value inside, with the
// uniform's mean and variance (1/(3·dim²)).
func TestDrawRows(t *testing.T) {
	const dim, n = 4, 100001
	v := make([]float32, n)
	drawRows(v, dim, rand.New(rand.NewSource(1)))
	var sum, sq float64
	for i, x := range v {
		if x < -1.0/dim || x >= 1.0/dim {
			t.Fatalf("value %d = %v, outside [-1/%d, 1/%d)", i, x, dim, dim)
		}
		sum += float64(x)
		sq += float64(x) * float64(x)
	}
	mean, variance := sum/n, sq/n-(sum/n)*(sum/n)
	if want := 1.0 / (3 * dim * dim); math.Abs(mean) > 0.002 || math.Abs(variance-want) > 0.02*want {
		t.Errorf("mean %v, variance %v; want 0 and %v", mean, variance, want)
	}
}

// drawRows draws the same values on any number of cores.
func TestDrawRowsCores(t *testing.T) {
	v := make([]float32, 3<<20+5)
	drawRows(v, 10, rand.New(rand.NewSource(2)))
	old := runtime.GOMAXPROCS(1)
	w := make([]float32, len(v))
	drawRows(w, 10, rand.New(rand.NewSource(2)))
	runtime.GOMAXPROCS(old)
	for i := range v {
		if v[i] != w[i] {
			t.Fatalf("value %d = %v on one core, %v on %d", i, w[i], v[i], old)
		}
	}
}

// A bow of a table large enough to be a mapping of its own (newTable)
// starts from the values drawn into a Go slice, and two trainings on one
// goroutine end with the same table and output layer to the bit.
func TestBowOneThreadDeterministic(t *testing.T) {
	texts := []string{"good fun film", "bad dull plot", "a long war story", "fun good", "dull bad", "war story long"}
	labels := []float32{0, 1, 2, 0, 1, 2}
	vocab, tok, head := toyThreeClass(t, texts)
	const dim, buckets = 16, tableMapMinBytes / 4 / 16
	sp, err := NewSpec(BowArchitecture, BowConfig{VocabSize: vocab.Len(), Dim: dim, MaxLen: 20, Ngrams: 2, Buckets: buckets})
	if err != nil {
		t.Fatal(err)
	}
	run := func() *Bow {
		m, err := Build(sp, head, BowWordRows(vocab.Len(), dim, 1), 2)
		if err != nil {
			t.Fatal(err)
		}
		return m.(*Bow)
	}
	a, b := run(), run()
	want := make([]float32, (vocab.Len()+buckets)*dim)
	copy(want, BowWordRows(vocab.Len(), dim, 1).Data().([]float32))
	drawRows(want[vocab.Len()*dim:], dim, rand.New(rand.NewSource(2)))
	if !sameBits(a.table(), want) {
		t.Fatal("the mapped table's first values differ from those drawn into a slice")
	}
	for _, m := range []*Bow{a, b} {
		if _, err := m.Fit(m.Bags(tok, texts), labels, BowFitConfig{Epochs: 4, LR: 0.5, Seed: 3, Threads: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if !sameBits(a.table(), b.table()) || !sameBits(a.Output.Weight.Value.Data().([]float32), b.Output.Weight.Value.Data().([]float32)) {
		t.Error("two trainings on one goroutine differ")
	}
	if sameBits(a.table(), want) {
		t.Error("training moved no row")
	}
}
