package layers

import (
	"math/rand"
	"os"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// referenceModel builds the SPEC's model for vocabulary 10,000, 100-dim
// vectors and 128 hidden units.
func referenceModel() []Layer {
	rng := rand.New(rand.NewSource(42))
	emb := NewEmbedding(RandomEmbedding(10000, 100, tensor.Float32, rng), false)
	pos := NewSinusoidalEncoding(100, 100)
	bi := NewBidirectional(
		NewLSTM(100, 128, tensor.Float32, rng),
		NewLSTM(100, 128, tensor.Float32, rng, GoBackwards()),
		MergeConcat)
	dense := NewDense(256, 1, Linear, tensor.Float32, rng)
	return []Layer{emb, pos, bi, dense}
}

func TestSummaryCounts(t *testing.T) {
	// Keras's counts for the same model (tf.keras 2.x model.summary()).
	want := []struct {
		layer     string
		trainable int
		frozen    int
	}{
		{"embedding", 0, 1000000},
		{"positional_encoding", 0, 0},
		{"bidirectional", 234496, 0},
		{"dense", 257, 0},
	}
	for i, l := range referenceModel() {
		tr, fr := CountParams(l.Params())
		if l.Name() != want[i].layer || tr != want[i].trainable || fr != want[i].frozen {
			t.Errorf("layer %d: %s has %d trainable, %d frozen; want %s with %d, %d", i, l.Name(), tr, fr, want[i].layer, want[i].trainable, want[i].frozen)
		}
	}
}

func TestSummaryTable(t *testing.T) {
	var b strings.Builder
	if err := Summary(&b, "sentiment", referenceModel(), []int{-1, 100}); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		"embedding (Embedding)",
		"(None, 100, 100)",
		"1000000",
		"bidirectional (Bidirectional)",
		"(None, 256)",
		"234496",
		"dense (Dense)",
		"(None, 1)",
		"257",
		"Total params: 1,234,753\n",
		"Trainable params: 234,753\n",
		"Non-trainable params: 1,000,000\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
}

func TestThousands(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {234753, "234,753"}, {1234753, "1,234,753"}, {-12345, "-12,345"}}
	for _, tc := range tests {
		if got := thousands(tc.n); got != tc.want {
			t.Errorf("thousands(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func ExampleSummary() {
	Summary(os.Stdout, "sentiment", referenceModel(), []int{-1, 100})
	// Output:
	// Model: "sentiment"
	// __________________________________________________________________________
	// Layer (type)                             Output Shape              Param #
	// ==========================================================================
	// embedding (Embedding)                    (None, 100, 100)          1000000
	// __________________________________________________________________________
	// positional_encoding (PositionalEncoding) (None, 100, 100)          0
	// __________________________________________________________________________
	// bidirectional (Bidirectional)            (None, 256)               234496
	// __________________________________________________________________________
	// dense (Dense)                            (None, 1)                 257
	// ==========================================================================
	// Total params: 1,234,753
	// Trainable params: 234,753
	// Non-trainable params: 1,000,000
	// __________________________________________________________________________
}
