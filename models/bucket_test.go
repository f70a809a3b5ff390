package models

import (
	"math"
	"testing"
)

// TestBucket checks the compiled lengths against hand-computed values:
// multiples of 8 up to 64, then of an eighth of the next power of two,
// never past max_len.
func TestBucket(t *testing.T) {
	s := &Sequential{maxLen: 400}
	tests := []struct{ n, want int }{
		{1, 8}, {2, 8}, {3, 8}, {4, 8}, {8, 8}, {9, 16}, {57, 64}, {64, 64},
		{65, 80}, {80, 80}, {81, 96}, {127, 128}, {128, 128},
		{129, 160}, {200, 224}, {256, 256}, {257, 320}, {321, 384}, {385, 400}, {400, 400},
	}
	for _, tt := range tests {
		if got := s.bucket(tt.n); got != tt.want {
			t.Errorf("bucket(%d) with max_len 400 = %d, want %d", tt.n, got, tt.want)
		}
	}
	// Every length up to 400 is served by 19 graphs, with fewer than 8
	// steps of padding up to 64 tokens and less than 25% beyond.
	seen := map[int]bool{}
	for n := 1; n <= 400; n++ {
		b := s.bucket(n)
		seen[b] = true
		if b < n || n <= 64 && b-n >= 8 || n > 64 && 4*(b-n) >= n {
			t.Errorf("bucket(%d) = %d: want at least %d, and less than 8 or 25%% more", n, b, n)
		}
	}
	if len(seen) != 19 {
		t.Errorf("%d compiled lengths serve 1 to 400 tokens, want 19", len(seen))
	}
}

// TestLongBucketsPadExactly scores a text of 70 tokens alone (compiled
// length 80) and next to one of 130 (compiled length 160): the padding
// changes nothing, for every pooling.
func TestLongBucketsPadExactly(t *testing.T) {
	long := func(n, seed int) []int {
		s := make([]int, n)
		for i := range s {
			s[i] = 2 + (i*7+seed)%10
		}
		return s
	}
	for _, pool := range []string{"last", "mean", "max"} {
		cfg := tinyConfig("sinusoidal", pool)
		cfg.MaxLen = 200
		m := tinyClassifier(t, cfg, 3)
		a, b := long(70, 1), long(130, 2)
		alone, err := m.Logits([][]int{a})
		if err != nil {
			t.Fatal(err)
		}
		both, err := m.Logits([][]int{a, b})
		if err != nil {
			t.Fatal(err)
		}
		if d := math.Abs(float64(alone[0] - both[0])); d > 1e-6 {
			t.Errorf("%s: 70 tokens alone (length 80) give %v, padded to 160 next to 130 tokens %v", pool, alone[0], both[0])
		}
	}
}

// TestLargeEvaluationGraphsOneAtATime evaluates in batches of 128 rows
// (more than Logits' 64), over texts of three length buckets: at most one
// such graph is held afterwards, and the metrics are those of batches of 8
// rows, whose graphs are all kept.
func TestLargeEvaluationGraphsOneAtATime(t *testing.T) {
	cfg := tinyConfig("sinusoidal", "max")
	cfg.MaxLen = 30
	m := tinyClassifier(t, cfg, 3)
	var x [][]int
	var y []float32
	for i := 0; i < 300; i++ {
		s := make([]int, 1+i%25)
		for j := range s {
			s[j] = 2 + (i+j)%10
		}
		x = append(x, s)
		y = append(y, float32(i%2))
	}
	want, err := m.Evaluate(x, y, 8)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Evaluate(x, y, 128)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got.Loss-want.Loss) > 1e-6 || got.Accuracy != want.Accuracy {
		t.Errorf("Evaluate in batches of 128: loss %v accuracy %v, want %v %v (batches of 8)", got.Loss, got.Accuracy, want.Loss, want.Accuracy)
	}
	n := 0
	for k := range m.graphs {
		if k.batch > predictBatchSize {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d graphs of more than %d rows held after an evaluation, want 1", n, predictBatchSize)
	}
}
