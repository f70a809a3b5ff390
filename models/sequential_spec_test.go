package models

import (
	"encoding/json"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/classify/classify/layers"
	"github.com/classify/classify/train"
)

// must returns v, panicking on err: a constructor's error in a test's
// set-up is a bug of the test.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// saveLoad saves m, perturbing every weight first so that no weight can
// match by coincidence with the one a rebuilt layer starts from, loads it
// back, and checks that the loaded model has the same parameter names and
// gives the same logits on goldenSeqs, to the bit.
func saveLoad(t *testing.T, m *Sequential) *Sequential {
	t.Helper()
	rng := rand.New(rand.NewSource(11))
	for _, p := range m.Params() {
		for i, v := range p.Value.Data().([]float32) {
			p.Value.Data().([]float32)[i] = v + float32(rng.NormFloat64()*0.3)
		}
	}
	dir := filepath.Join(t.TempDir(), "ck")
	if err := Save(dir, &Checkpoint{Tokenizer: tinyTokenizer(t), Model: m}, nil); err != nil {
		t.Fatalf("Save: %v", err)
	}
	ck, err := Load(dir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	got, ok := ck.Model.(*Sequential)
	if !ok || ck.Config.Architecture != SequentialArchitecture {
		t.Fatalf("loaded a %s %T, want a sequential *Sequential", ck.Config.Architecture, ck.Model)
	}
	names := func(s *Sequential) (ns []string) {
		for _, p := range s.Params() {
			ns = append(ns, p.Name)
		}
		return ns
	}
	if a, b := names(got), names(m); !slices.Equal(a, b) {
		t.Errorf("parameter names after save and load\n%v\nwant\n%v", a, b)
	}
	var layerNames, wantNames []string
	for i, l := range got.Layers() {
		layerNames, wantNames = append(layerNames, l.Name()), append(wantNames, m.Layers()[i].Name())
	}
	if !slices.Equal(layerNames, wantNames) {
		t.Errorf("layer names after save and load %v, want %v", layerNames, wantNames)
	}
	want := must(m.Logits(goldenSeqs))
	if l := must(got.Logits(goldenSeqs)); !slices.Equal(l, want) {
		t.Errorf("logits after save and load\n%v\nwant\n%v", l, want)
	}
	return got
}

// TestSequentialSaveLoadKinds saves and loads a Sequential of each layer
// kind that came after the bidirectional LSTM and the relative attention
// (those are in TestSequentialSaveLoad).
func TestSequentialSaveLoadKinds(t *testing.T) {
	dt := tensor.Float32
	three, _ := train.NewMultiClassHead([]string{"a", "b", "c"})
	embedding := func(rng *rand.Rand, dim int) *layers.Embedding {
		return layers.NewEmbedding(layers.RandomEmbedding(12, dim, dt, rng), true)
	}
	tests := []struct {
		name  string
		model func(rng *rand.Rand) *Sequential
	}{
		{"cnn", func(rng *rand.Rand) *Sequential {
			conv := must(layers.NewConv1D(6, []int{2, 3, 5}, 4, dt, rng))
			return NewSequential("cnn", 10, nil, embedding(rng, 6), conv,
				layers.NewDropout(0.5, rand.New(rand.NewSource(1))), layers.NewDense(12, 1, layers.Linear, dt, rng))
		}},
		{"bigru", func(rng *rand.Rand) *Sequential {
			fwd := layers.NewGRU(6, 5, dt, rng, layers.ReturnSequences(true))
			bwd := layers.NewGRU(6, 5, dt, rng, layers.ReturnSequences(true), layers.GoBackwards())
			return NewSequential("bigru", 10, three, embedding(rng, 6), layers.NewBidirectional(fwd, bwd, layers.MergeConcat),
				layers.NewPooling(layers.PoolMean), layers.NewDense(10, 3, layers.Linear, dt, rng))
		}},
		{"lstm and gru, averaged", func(rng *rand.Rand) *Sequential {
			fwd := layers.NewLSTM(6, 4, dt, rng)
			bwd := layers.NewGRU(6, 4, dt, rng, layers.GoBackwards())
			return NewSequential("mixed", 10, nil, embedding(rng, 6), layers.NewBidirectional(fwd, bwd, layers.MergeAve),
				layers.NewDense(4, 1, layers.Linear, dt, rng))
		}},
		{"gru then gru", func(rng *rand.Rand) *Sequential {
			return NewSequential("grus", 10, nil, embedding(rng, 6), layers.NewGRU(6, 4, dt, rng, layers.ReturnSequences(true)),
				layers.NewGRU(4, 3, dt, rng, layers.GoBackwards()), layers.NewDense(3, 1, layers.Linear, dt, rng))
		}},
		{"encoder with rope", func(rng *rand.Rand) *Sequential {
			enc := must(layers.NewEncoder("encoder", layers.EncoderConfig{Layers: 2, Dim: 8, Heads: 2, FF: 16, Dropout: 0.1, Rotary: true, FinalNorm: true}, dt, rng))
			for _, b := range enc.Blocks {
				b.Attention.Rotary.Base = 500
			}
			return NewSequential("rope", 10, three, embedding(rng, 8), enc, layers.NewPooling(layers.PoolMean), layers.NewDense(8, 3, layers.Linear, dt, rng))
		}},
		{"encoders with alibi", func(rng *rand.Rand) *Sequential {
			// Two encoders of one prefix: the second is numbered
			// encoder_1; an empty prefix gives PyTorch's bare names.
			cfg := layers.EncoderConfig{Layers: 1, Dim: 8, Heads: 4, FF: 8, Dropout: 0.2, ALiBi: true}
			a := must(layers.NewEncoder("encoder", cfg, dt, rng))
			b := must(layers.NewEncoder("encoder", cfg, dt, rng))
			cfg.FinalNorm = true
			c := must(layers.NewEncoder("", cfg, dt, rng))
			c.Norm.Eps, c.Blocks[0].Norm1.Eps, c.Blocks[0].Norm2.Eps = 1e-3, 1e-3, 1e-3
			return NewSequential("alibi", 10, nil, embedding(rng, 8), layers.NewSinusoidalEncoding(10, 8), a, b, c,
				layers.NewPooling(layers.PoolMax), layers.NewDense(8, 1, layers.Linear, dt, rng))
		}},
		{"a block from its parts", func(rng *rand.Rand) *Sequential {
			norm := layers.NewLayerNorm("norm", 8, dt)
			norm.Eps = 1e-6
			rope := layers.NewRotary(4)
			rope.Base = 100
			attn := must(layers.NewMultiHeadAttention("attn", 8, 2, dt, rng, layers.WithRotary(rope), layers.WithAttentionDropout(0.1, 0.2)))
			alibi := must(layers.NewMultiHeadAttention("", 8, 4, dt, rng, layers.WithALiBi(layers.NewALiBi(4))))
			plain := must(layers.NewMultiHeadAttention("plain", 8, 1, dt, rng))
			ff := must(layers.NewFeedForward("ff", 8, 12, 0.1, dt, rng))
			block := must(layers.NewEncoderBlock("block", layers.EncoderConfig{Dim: 8, Heads: 2, FF: 4, ALiBi: true}, dt, rng))
			turn := layers.NewRotary(4)
			turn.Base = 50
			return NewSequential("parts", 10, three, embedding(rng, 8), norm, attn, layers.NewGELU(), ff, alibi, plain, block,
				turn, layers.NewLayerNorm("norm", 8, dt), layers.NewPooling(layers.PoolLast), layers.NewDense(8, 3, layers.Sigmoid, dt, rng))
		}},
		{"embedding bag", func(rng *rand.Rand) *Sequential {
			bag := must(layers.NewEmbeddingBag(12, 5, dt, rng, true))
			return NewSequential("fasttext", 10, nil, bag, layers.NewDense(5, 1, layers.Linear, dt, rng))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.model(rand.New(rand.NewSource(3)))
			if _, err := m.Logits(goldenSeqs); err != nil {
				t.Fatalf("the model does not run: %v", err)
			}
			saveLoad(t, m)
		})
	}
}

// TestSequentialSaveLoadNames checks the names that the round trip keeps:
// numbered prefixes, bare PyTorch names, and the GRU's two biases, which
// are its own (an LSTM's bias_hh is written as zeros, a GRU's is not).
func TestSequentialSaveLoadNames(t *testing.T) {
	dt := tensor.Float32
	rng := rand.New(rand.NewSource(5))
	cfg := layers.EncoderConfig{Layers: 1, Dim: 4, Heads: 2, FF: 4, FinalNorm: true}
	m := NewSequential("names", 10, nil, layers.NewEmbedding(layers.RandomEmbedding(12, 4, dt, rng), false),
		must(layers.NewEncoder("encoder", cfg, dt, rng)), must(layers.NewEncoder("encoder", cfg, dt, rng)),
		layers.NewLayerNorm("", 4, dt), layers.NewGRU(4, 2, dt, rng), layers.NewDense(2, 1, layers.Linear, dt, rng))
	got := saveLoad(t, m)
	var names []string
	for _, p := range got.Params() {
		names = append(names, p.Name)
	}
	for _, want := range []string{"encoder.layers.0.self_attn.in_proj_weight", "encoder_1.layers.0.linear2.bias", "encoder_1.norm.weight",
		".weight", "gru.bias_ih_l0", "gru.bias_hh_l0"} {
		if !slices.Contains(names, want) {
			t.Errorf("loaded parameter names %v lack %q", names, want)
		}
	}
	if gru := got.Layers()[4].(*layers.GRU); gru.BiasHH.Value.Data().([]float32)[0] != m.Layers()[4].(*layers.GRU).BiasHH.Value.Data().([]float32)[0] {
		t.Error("the GRU's bias_hh did not come back")
	}
}

// TestSequentialSaveRefuses checks that Save refuses a model Load could
// not rebuild, naming the layer, rather than writing it.
func TestSequentialSaveRefuses(t *testing.T) {
	dt := tensor.Float32
	rng := rand.New(rand.NewSource(1))
	emb := func() layers.Layer { return layers.NewEmbedding(layers.RandomEmbedding(12, 8, dt, rng), true) }
	dense := func() layers.Layer { return layers.NewDense(8, 1, layers.Linear, dt, rng) }
	renamed := layers.NewDense(8, 1, layers.Linear, dt, rng)
	renamed.Weight.Name = "out.weight"
	uneven := must(layers.NewEncoder("encoder", layers.EncoderConfig{Layers: 2, Dim: 8, Heads: 2, FF: 8}, dt, rng))
	uneven.Blocks[1].FeedForward.Dropout = 0.3
	leaky := must(layers.NewEncoderBlock("block", layers.EncoderConfig{Dim: 8, Heads: 2, FF: 8, Dropout: 0.1}, dt, rng))
	leaky.Attention.OutputDropout = 0
	odd := layers.NewRotary(3)
	twoForward := layers.NewBidirectional(layers.NewGRU(8, 4, dt, rng), layers.NewGRU(8, 4, dt, rng), layers.MergeSum)
	wide := must(layers.NewMultiHeadAttention("attn", 8, 8, dt, rng))
	tests := []struct {
		name   string
		layers []layers.Layer
		maxLen int
		want   string
	}{
		{"a renamed weight", []layers.Layer{emb(), layers.NewPooling(layers.PoolMean), renamed}, 10, `parameter "out.weight" would be loaded as "dense.weight"`},
		{"blocks that differ", []layers.Layer{emb(), uneven, layers.NewPooling(layers.PoolMean), dense()}, 10, "layer 1 (transformer_encoder): block 1: dropout rates 0 (attention), 0 (attention output) and 0.3"},
		{"dropouts that differ", []layers.Layer{emb(), leaky, layers.NewPooling(layers.PoolMean), dense()}, 10, "layer 1 (encoder_block): dropout rates 0.1 (attention), 0 (attention output)"},
		{"an odd rotary", []layers.Layer{emb(), odd, layers.NewPooling(layers.PoolMean), dense()}, 10, "layer 1 (rotary): head_dim 3: want an even width"},
		{"two forward GRUs", []layers.Layer{emb(), twoForward, layers.NewDense(4, 1, layers.Linear, dt, rng)}, 10, "layer 1 (bidirectional): want a forward layer and a backwards one"},
		{"too many attention weights", []layers.Layer{emb(), wide, layers.NewPooling(layers.PoolMean), dense()}, 1024, "layer 1 (multi_head_attention): heads 8 and max_len 1024 make 8388608 attention weights"},
	}
	for _, tt := range tests {
		m := NewSequential("bad", tt.maxLen, nil, tt.layers...)
		dir := filepath.Join(t.TempDir(), "ck")
		err := Save(dir, &Checkpoint{Tokenizer: tinyTokenizer(t), Model: m}, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Save error %v, want one containing %q", tt.name, err, tt.want)
		}
		if _, serr := os.Stat(dir); serr == nil {
			t.Errorf("%s: Save wrote %s despite the error", tt.name, dir)
		}
	}
}

// TestSequentialSpecRefusesKinds checks that a config.json whose new
// kinds ask for settings out of range is refused, naming the layer,
// before anything is allocated.
func TestSequentialSpecRefusesKinds(t *testing.T) {
	layer := func(fields string) string {
		return `{"name":"x","max_len":8,"layers":[{"kind":"embedding","name":"embedding","vocab":12,"dim":8},` + fields + `]}`
	}
	for _, tc := range []struct{ cfg, want string }{
		{layer(`{"kind":"conv1d","name":"conv","dim":8,"widths":[],"maps":4}`), "layer 1 (conv): widths []: want 1 to 64 filter widths"},
		{layer(`{"kind":"conv1d","name":"conv","dim":8,"widths":[3,0],"maps":4}`), "layer 1 (conv): filter width 0: want 1 to 8192"},
		{layer(`{"kind":"conv1d","name":"conv","dim":8,"widths":[3],"maps":5000}`), "layer 1 (conv): maps 5000: want 1 to 4096"},
		{layer(`{"kind":"gru","name":"gru","in":8,"out":0}`), "layer 1 (gru): out 0: want 1 to 4096"},
		{layer(`{"kind":"bidirectional","name":"bi","merge":"concat","forward":{"kind":"gru","name":"f","in":8,"out":4},"backward":{"kind":"dense","name":"b","in":8,"out":4}}`),
			`layer 1 (bi): backward layer of kind "dense": want lstm or gru`},
		{layer(`{"kind":"bidirectional","name":"bi","merge":"sum","forward":{"kind":"gru","name":"f","in":8,"out":4},"backward":{"kind":"lstm","name":"b","in":8,"out":3,"backwards":true}}`),
			"layer 1 (bi): merge sum needs layers of one width, have out 4 and 3"},
		{layer(`{"kind":"bidirectional","name":"bi","merge":"concat","forward":{"kind":"gru","name":"f","in":8,"out":4},"backward":{"kind":"gru","name":"b","in":8,"out":5000,"backwards":true}}`),
			"layer 1 (bi): backward layer: out 5000: want 1 to 4096"},
		{layer(`{"kind":"multi_head_attention","name":"attn","dim":8,"heads":3,"positions":"none"}`), "layer 1 (attn): heads 3: want a divisor of dim 8"},
		{layer(`{"kind":"multi_head_attention","name":"attn","dim":8,"heads":2,"positions":"sinusoidal"}`), `layer 1 (attn): positions "sinusoidal": want none, rope or alibi`},
		{layer(`{"kind":"multi_head_attention","name":"attn","dim":12,"heads":4,"positions":"rope","base":10000}`), "layer 1 (attn): positions rope: heads 4 of dim 12 are 3 wide, want an even width"},
		{layer(`{"kind":"multi_head_attention","name":"attn","dim":8,"heads":2,"positions":"rope"}`), "layer 1 (attn): base 0: want a finite number above 0"},
		{layer(`{"kind":"multi_head_attention","name":"attn","dim":8,"heads":2,"positions":"none","output_rate":1}`), "layer 1 (attn): output_rate 1: want 0 <= output_rate < 1"},
		{layer(`{"kind":"encoder","name":"enc","blocks":65,"dim":8,"heads":2,"ff":8,"eps":1e-5,"positions":"none"}`), "layer 1 (enc): blocks 65: want 1 to 64"},
		{layer(`{"kind":"encoder","name":"enc","blocks":64,"dim":4096,"heads":2,"ff":16384,"eps":1e-5,"positions":"none"}`), "over the limit of 268435456"},
		{layer(`{"kind":"encoder_block","name":"block","dim":8,"heads":2,"ff":0,"eps":1e-5,"positions":"alibi"}`), "layer 1 (block): ff 0: want 1 to 16384"},
		{layer(`{"kind":"encoder_block","name":"block","dim":8,"heads":2,"ff":8,"positions":"alibi"}`), "layer 1 (block): eps 0: want a finite number above 0"},
		{layer(`{"kind":"encoder_block","name":"block","dim":8,"heads":2,"ff":8,"eps":1e-5,"rate":-0.5,"positions":"alibi"}`), "layer 1 (block): rate -0.5: want 0 <= rate < 1"},
		{`{"name":"x","max_len":2048,"layers":[{"kind":"encoder_block","name":"block","dim":8,"heads":2,"ff":8,"eps":1e-5,"positions":"none"}]}`,
			"layer 0 (block): heads 2 and max_len 2048 make 8388608 attention weights per sequence, over the limit of 4194304"},
		{layer(`{"kind":"layer_norm","name":"norm","dim":0,"eps":1e-5}`), "layer 1 (norm): dim 0: want 1 to 32768"},
		{layer(`{"kind":"layer_norm","name":"norm","dim":8,"eps":-1}`), "layer 1 (norm): eps -1: want a finite number above 0"},
		{layer(`{"kind":"feed_forward","name":"ff","dim":8,"ff":8,"rate":1}`), "layer 1 (ff): rate 1: want 0 <= rate < 1"},
		{layer(`{"kind":"rotary","name":"rope","head_dim":3,"base":10000}`), "layer 1 (rope): head_dim 3: want an even width"},
		{layer(`{"kind":"rotary","name":"rope","head_dim":4}`), "layer 1 (rope): base 0: want a finite number above 0"},
		{`{"name":"x","max_len":8,"layers":[{"kind":"embedding_bag","name":"bag","rows":0,"dim":8}]}`, "layer 0 (bag): rows 0: want 1 to 268435456"},
		{`{"name":"x","max_len":8,"layers":[{"kind":"embedding_bag","name":"bag","rows":268435456,"dim":8}]}`, "over the limit"},
		{layer(`{"kind":"alibi","name":"alibi","heads":2}`), `layer 1 (alibi): kind "alibi": not a layer this program builds`},
	} {
		_, err := Build(Spec{Architecture: SequentialArchitecture, Config: json.RawMessage(tc.cfg)}, nil, nil, 0)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Build(%s) error = %v, want one naming %q", tc.cfg, err, tc.want)
		}
	}
}
