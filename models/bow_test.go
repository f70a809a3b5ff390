package models

import (
	"os"
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
				ids, tokens := tok.Encode(e.Text, cfg.MaxLen)
				bs = append(bs, m.Rows(ids, tokens))
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
