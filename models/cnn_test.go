package models

import (
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/tensor"

	"github.com/classify/classify/layers"
	"github.com/classify/classify/train"
)

func tinyCNN(t *testing.T, seed int64) *CNN {
	t.Helper()
	cfg := CNNConfig{VocabSize: 12, Dim: 5, MaxLen: 10, Filters: []int{2, 3, 4}, FeatureMaps: 3, Dropout: 0.5}
	emb := layers.RandomEmbedding(cfg.VocabSize, cfg.Dim, tensor.Float32, rand.New(rand.NewSource(seed)))
	m, err := NewCNN(cfg, nil, emb, seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The CNN's logits are Dense(max over windows of relu(conv(embedding))),
// computed here from its weights with plain loops, for texts shorter than
// and as long as the widest filter.
func TestCNNLogits(t *testing.T) {
	m := tinyCNN(t, 5)
	seqs := [][]int{{2, 3, 4, 5, 6, 7, 8}, {11, 1}, {9}, {4, 4, 4, 10}}
	got, err := m.Logits(seqs)
	if err != nil {
		t.Fatal(err)
	}
	f32 := func(p *layers.Param) []float32 { return p.Value.Data().([]float32) }
	emb := f32(m.Embedding.Weight)
	D, M := m.Config.Dim, m.Config.FeatureMaps
	for r, seq := range seqs {
		var feats []float64
		for i, w := range m.Config.Filters {
			wt, bias := f32(m.Conv.Weights[i]), f32(m.Conv.Biases[i])
			for f := 0; f < M; f++ {
				best := 0.0
				for t0 := 0; t0 < max(len(seq)-w+1, 1); t0++ {
					z := float64(bias[f])
					for k := 0; k < w && t0+k < len(seq); k++ {
						for d := 0; d < D; d++ {
							z += float64(wt[(f*D+d)*w+k]) * float64(emb[seq[t0+k]*D+d])
						}
					}
					if t0 == 0 || z > best {
						best = z
					}
				}
				feats = append(feats, math.Max(best, 0))
			}
		}
		want := float64(f32(m.Output.Bias)[0])
		for j, v := range feats {
			want += float64(f32(m.Output.Weight)[j]) * v
		}
		if math.Abs(float64(got[r])-want) > 1e-5 {
			t.Errorf("text %d: logit %.6f, want %.6f", r, got[r], want)
		}
	}
}

// The CNN trains: a few epochs on a separable toy task lower the loss, and
// its checkpoint names are PyTorch's.
func TestCNNTrains(t *testing.T) {
	m := tinyCNN(t, 6)
	rng := rand.New(rand.NewSource(2))
	var x [][]int
	var y []float32
	for i := 0; i < 64; i++ {
		n := 1 + rng.Intn(6)
		seq := make([]int, n)
		label := float32(i % 2)
		for j := range seq {
			seq[j] = 2 + rng.Intn(4) + 5*(i%2)
		}
		x, y = append(x, seq), append(y, label)
	}
	if err := m.Compile(train.WithLearningRate(0.01)); err != nil {
		t.Fatal(err)
	}
	h, err := m.Fit(x, y, FitConfig{Config: train.Config{Epochs: 20, BatchSize: 16, Shuffle: true, Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if first, last := h[0].Train.Loss, h[len(h)-1].Train.Loss; !(last < first/2) {
		t.Errorf("loss %.4f after the first epoch, %.4f after the last: want it at least halved", first, last)
	}
	var names []string
	for _, p := range m.Params() {
		names = append(names, p.Name)
	}
	want := []string{"embedding.weight", "convs.0.weight", "convs.1.weight", "convs.2.weight", "convs.0.bias", "convs.1.bias", "convs.2.bias", "dense.weight", "dense.bias"}
	if len(names) != len(want) {
		t.Fatalf("parameters %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Errorf("parameters %v, want %v", names, want)
			break
		}
	}
	for _, w := range m.Config.weightShapes(1) {
		for _, p := range m.Params() {
			if p.Name == w.name && !p.Value.Shape().Eq(tensor.Shape(w.shape)) {
				t.Errorf("%s of shape %v, weightShapes says %v", p.Name, p.Value.Shape(), w.shape)
			}
		}
	}
}

func TestCNNConfigValidate(t *testing.T) {
	for _, mod := range []func(*CNNConfig){
		func(c *CNNConfig) { c.Filters = nil },
		func(c *CNNConfig) { c.Filters = []int{3, 0} },
		func(c *CNNConfig) { c.Filters = []int{101} },
		func(c *CNNConfig) { c.FeatureMaps = 0 },
		func(c *CNNConfig) { c.Dropout = 1 },
		func(c *CNNConfig) { c.VocabSize = MaxVocabSize; c.Dim = MaxDim },
	} {
		c := DefaultCNNConfig()
		mod(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	if err := DefaultCNNConfig().Validate(); err != nil {
		t.Errorf("default: %v", err)
	}
}
