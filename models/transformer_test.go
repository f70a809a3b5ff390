package models

import (
	"math/rand"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/classify/classify/layers"
	"github.com/classify/classify/train"
)

// tinyTransformerConfig has 4 heads: ALiBi's slopes for 2 heads, 1/16
// and 1/256, are too flat to tell apart positions of an 8-token sequence
// (the order task stays at chance), those for 4 start at 1/4.
func tinyTransformerConfig(pos string) TransformerConfig {
	return TransformerConfig{VocabSize: 6, EmbeddingDim: 8, Dim: 16, Layers: 1, Heads: 4, FF: 32, MaxLen: 8,
		PosEncoding: pos, MaxRelative: 4, Pool: "mean"}
}

// orderTask is a task no bag of words solves: eight tokens, four 2s and
// four 3s in random order, labelled 1 when the 2s stand in one run, half
// of the examples of each label. A Transformer without positions is blind
// to order (attention and mean pooling are permutation invariant), so it
// stays at chance. The label does not change when a sequence is read
// backwards: a symmetric ALiBi model cannot tell a sequence from its
// reverse (TestTransformerALiBiMirror), so a label that a reversal flips,
// such as "the first token is a 2", is beyond it.
func orderTask(n int, seed int64) ([][]int, []float32) {
	rng := rand.New(rand.NewSource(seed))
	var x [][]int
	var y []float32
	for len(x) < n {
		want := len(x) % 2
		seq := []int{2, 2, 2, 2, 3, 3, 3, 3}
		if want == 1 {
			start := rng.Intn(5)
			for i := range seq {
				seq[i] = 3
				if i >= start && i < start+4 {
					seq[i] = 2
				}
			}
		} else {
			for run(seq) {
				rng.Shuffle(len(seq), func(i, j int) { seq[i], seq[j] = seq[j], seq[i] })
			}
		}
		x = append(x, seq)
		y = append(y, float32(want))
	}
	return x, y
}

// run says whether the 2s of seq stand next to each other.
func run(seq []int) bool {
	first, last, n := -1, -1, 0
	for i, v := range seq {
		if v == 2 {
			if first < 0 {
				first = i
			}
			last, n = i, n+1
		}
	}
	return last-first+1 == n
}

func TestTransformerLearnsOrder(t *testing.T) {
	if testing.Short() {
		t.Skip("trains six small models")
	}
	xs, ys := orderTask(400, 1)
	xv, yv := orderTask(200, 2)
	for _, pos := range []string{"none", "sinusoidal", "learned", "relative", "rope", "alibi"} {
		t.Run(pos, func(t *testing.T) {
			cfg := tinyTransformerConfig(pos)
			cfg.EmbeddingDim = 16
			rng := rand.New(rand.NewSource(3))
			m, err := NewTransformer(cfg, nil, layers.RandomEmbedding(cfg.VocabSize, cfg.EmbeddingDim, tensor.Float32, rng), 4)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Compile(train.WithLearningRate(3e-3)); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Fit(xs, ys, FitConfig{Config: train.Config{Epochs: 30, BatchSize: 32, Shuffle: true, Seed: 5}}); err != nil {
				t.Fatal(err)
			}
			met, err := m.Evaluate(xv, yv, 64)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: validation accuracy %.3f", pos, met.Accuracy)
			if pos == "none" && (met.Accuracy < 0.35 || met.Accuracy > 0.65) {
				t.Errorf("without positions: accuracy %.3f, want near chance", met.Accuracy)
			}
			if pos != "none" && met.Accuracy < 0.9 {
				t.Errorf("%s: accuracy %.3f, want at least 0.9", pos, met.Accuracy)
			}
		})
	}
}

// TestTransformerALiBiMirror pins down what symmetric ALiBi cannot see:
// with mean pooling, a sequence and its reverse get the same logits.
func TestTransformerALiBiMirror(t *testing.T) {
	cfg := tinyTransformerConfig("alibi")
	rng := rand.New(rand.NewSource(6))
	m, err := NewTransformer(cfg, nil, layers.RandomEmbedding(cfg.VocabSize, cfg.EmbeddingDim, tensor.Float32, rng), 7)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Logits([][]int{{2, 3, 4, 5, 5, 2}, {2, 5, 5, 4, 3, 2}, {2, 2, 3, 4, 5, 5}})
	if err != nil {
		t.Fatal(err)
	}
	if d := got[0] - got[1]; d > 1e-5 || d < -1e-5 {
		t.Errorf("logits of a sequence and its reverse: %v and %v, want equal", got[0], got[1])
	}
	if d := got[0] - got[2]; d < 1e-4 && d > -1e-4 {
		t.Errorf("logits of a sequence and a reordering: %v and %v, want different", got[0], got[2])
	}
}

func TestTransformerNamesAndProjection(t *testing.T) {
	cfg := tinyTransformerConfig("learned")
	m, err := NewTransformer(cfg, nil, tensor.New(tensor.WithShape(6, 8), tensor.Of(tensor.Float32)), 1)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	total := 0
	for _, p := range m.Params() {
		names = append(names, p.Name)
		total += p.Size()
	}
	got := strings.Join(names, " ")
	for _, want := range []string{"embedding.weight", "projection.weight", "projection.bias", "pos_encoding.weight",
		"encoder.layers.0.self_attn.in_proj_weight", "encoder.layers.0.linear2.bias", "encoder.layers.0.norm2.weight",
		"encoder.norm.bias", "dense.weight", "dense.bias"} {
		if !strings.Contains(" "+got+" ", " "+want+" ") {
			t.Errorf("no parameter %s in %s", want, got)
		}
	}
	if n := cfg.weightCount(1); int64(total) != n {
		t.Errorf("%d weights, weightCount says %d", total, n)
	}
	if sp, err := m.Spec(); err != nil || sp.Architecture != TransformerArchitecture {
		t.Errorf("architecture %q, want %q", sp.Architecture, TransformerArchitecture)
	}
}

func TestTransformerConfigRefuses(t *testing.T) {
	for _, c := range []struct {
		change func(*TransformerConfig)
		want   string
	}{
		{func(c *TransformerConfig) { c.Heads = 3 }, "divisor"},
		{func(c *TransformerConfig) { c.PosEncoding = "rope"; c.Dim, c.Heads = 6, 2 }, "even"},
		{func(c *TransformerConfig) { c.PosEncoding = "xpos" }, "pos_encoding"},
		{func(c *TransformerConfig) { c.Pool = "cls" }, "pool"},
		{func(c *TransformerConfig) { c.Layers = 0 }, "layers"},
		{func(c *TransformerConfig) { c.MaxLen, c.Heads = 4096, 16 }, "attention weights"},
		{func(c *TransformerConfig) { c.Dropout = 1 }, "dropout"},
	} {
		cfg := DefaultTransformerConfig()
		c.change(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate(%+v) = %v, want an error about %s", cfg, err, c.want)
		}
	}
	if err := DefaultTransformerConfig().Validate(); err != nil {
		t.Errorf("default configuration: %v", err)
	}
}

// TestBuildTransformer rebuilds a model from its spec, as loading a
// checkpoint does, with the same weights' names and shapes; a misspelt
// hyperparameter is refused.
func TestBuildTransformer(t *testing.T) {
	cfg := tinyTransformerConfig("rope")
	m, err := NewTransformer(cfg, nil, tensor.New(tensor.WithShape(6, 8), tensor.Of(tensor.Float32)), 1)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := m.Spec()
	if err != nil {
		t.Fatal(err)
	}
	again, err := buildTransformer(sp, nil, nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	a, b := m.Params(), again.Params()
	if len(a) != len(b) {
		t.Fatalf("%d parameters rebuilt, want %d", len(b), len(a))
	}
	for i := range a {
		if a[i].Name != b[i].Name || !a[i].Value.Shape().Eq(b[i].Value.Shape()) {
			t.Errorf("parameter %d: %s %v rebuilt as %s %v", i, a[i].Name, a[i].Value.Shape(), b[i].Name, b[i].Value.Shape())
		}
	}
	bad := Spec{Architecture: TransformerArchitecture, Config: []byte(`{"layer": 3}`)}
	if _, err := buildTransformer(bad, nil, nil, 1); err == nil || !strings.Contains(err.Error(), "layer") {
		t.Errorf("buildTransformer(%s) = %v, want an error naming the field", bad.Config, err)
	}
}
