package train

import (
	"encoding/json"
	"math"
	"math/rand"
	"reflect"
	"testing"

	"github.com/classify/classify/data"
)

func TestScore(t *testing.T) {
	tests := []struct {
		name   string
		logits []float32
		labels []float32
		want   Metrics
	}{
		{
			// 3 TP, 1 FN, 1 FP, 3 TN. Precision 3/4, recall 3/4.
			// Positives score 2, 1.5, 0.5, -1 and negatives 1, -0.5, -2, -3:
			// of the 16 pairs the positive wins 13 (2 and 1.5 beat all four,
			// 0.5 beats three, -1 beats two), AUC 13/16.
			name:   "mixed",
			logits: []float32{2, 1.5, 0.5, -1, 1, -0.5, -2, -3},
			labels: []float32{1, 1, 1, 1, 0, 0, 0, 0},
			want: Metrics{N: 8, Accuracy: 6.0 / 8, Precision: 0.75, Recall: 0.75, F1: 0.75, AUC: 13.0 / 16,
				Confusion: [][]int{{3, 1}, {1, 3}}},
		},
		{
			// Every score tied: every pair counts one half. Logit 0 is
			// predicted negative.
			name:   "all tied at zero",
			logits: []float32{0, 0, 0, 0},
			labels: []float32{1, 0, 1, 0},
			want: Metrics{N: 4, Accuracy: 0.5, Precision: 0, Recall: 0, F1: 0, AUC: 0.5,
				Confusion: [][]int{{2, 0}, {2, 0}}},
		},
		{
			// Perfectly reversed: AUC 0. Precision 0/2, recall 0/2.
			name:   "reversed",
			logits: []float32{-1, -2, 3, 4},
			labels: []float32{1, 1, 0, 0},
			want: Metrics{N: 4, Accuracy: 0, Precision: 0, Recall: 0, F1: 0, AUC: 0,
				Confusion: [][]int{{0, 2}, {2, 0}}},
		},
		{
			// Precision 1/3, recall 1/1, F1 = 2*(1/3)/(4/3) = 1/2. The
			// positive ties the negative at 1, loses to 5 and beats -1: AUC 1.5/3.
			name:   "one positive",
			logits: []float32{1, 1, 5, -1},
			labels: []float32{1, 0, 0, 0},
			want: Metrics{N: 4, Accuracy: 0.5, Precision: 1.0 / 3, Recall: 1, F1: 0.5, AUC: 1.5 / 3,
				Confusion: [][]int{{1, 2}, {0, 1}}},
		},
		{
			name:   "one class only",
			logits: []float32{1, -1},
			labels: []float32{1, 1},
			want: Metrics{N: 2, Accuracy: 0.5, Precision: 1, Recall: 0.5, F1: 2.0 / 3, AUC: math.NaN(),
				Confusion: [][]int{{0, 0}, {1, 1}}},
		},
	}
	for _, tc := range tests {
		got, err := Score(binary01, tc.logits, tc.labels, 0.25)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		tc.want.Loss = 0.25
		tc.want.Task, tc.want.Labels = data.Binary, []string{"0", "1"}
		if !sameMetrics(got, tc.want) {
			t.Errorf("%s: Score = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func sameMetrics(a, b Metrics) bool {
	eq := func(x, y float64) bool { return x == y || math.Abs(x-y) < 1e-12 || (math.IsNaN(x) && math.IsNaN(y)) }
	return a.N == b.N && reflect.DeepEqual(a.Confusion, b.Confusion) && eq(a.Loss, b.Loss) && eq(a.Accuracy, b.Accuracy) &&
		eq(a.Precision, b.Precision) && eq(a.Recall, b.Recall) && eq(a.F1, b.F1) && eq(a.AUC, b.AUC)
}

func TestScoreErrors(t *testing.T) {
	if _, err := Score(binary01, []float32{1}, []float32{1, 0}, 0); err == nil {
		t.Error("Score with 1 logit for 2 labels succeeded, want an error")
	}
	if _, err := Score(binary01, []float32{1}, []float32{0.5}, 0); err == nil {
		t.Error("Score with label 0.5 succeeded, want an error")
	}
}

// TestAUCBruteForce compares the rank formula with counting every
// (positive, negative) pair, on random scores with many ties.
func TestAUCBruteForce(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for trial := 0; trial < 200; trial++ {
		n := 2 + rng.Intn(60)
		scores := make([]float32, n)
		labels := make([]float32, n)
		for i := range scores {
			scores[i] = float32(rng.Intn(7)-3) / 2 // few distinct values: ties
			labels[i] = float32(rng.Intn(2))
		}
		var wins, pairs float64
		for i := range scores {
			for j := range scores {
				if labels[i] != 1 || labels[j] != 0 {
					continue
				}
				pairs++
				switch {
				case scores[i] > scores[j]:
					wins++
				case scores[i] == scores[j]:
					wins += 0.5
				}
			}
		}
		want := math.NaN()
		if pairs > 0 {
			want = wins / pairs
		}
		got := rocAUC(scores, labels)
		if !(math.Abs(got-want) < 1e-12 || math.IsNaN(got) && math.IsNaN(want)) {
			t.Fatalf("rocAUC(%v, %v) = %v, want %v", scores, labels, got, want)
		}
	}
}

func TestMetricsJSON(t *testing.T) {
	for _, auc := range []float64{0.75, math.NaN()} {
		m := Metrics{Task: data.Binary, Labels: []string{"neg", "pos"}, N: 3, Loss: 0.5, Accuracy: 2.0 / 3,
			Precision: 1, Recall: 0.5, F1: 2.0 / 3, AUC: auc, PerClass: []ClassScores{{0.5, 1, 2.0 / 3, 1}, {1, 0.5, 2.0 / 3, 2}},
			Confusion: [][]int{{1, 0}, {1, 1}}}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("Marshal(AUC %v): %v", auc, err)
		}
		var got map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"loss", "accuracy", "precision", "recall", "f1", "auc", "macro_f1", "weighted_f1", "per_class", "labels", "confusion"} {
			if _, ok := got[k]; !ok {
				t.Errorf("%s lacks %q", b, k)
			}
		}
		if (got["auc"] == nil) != math.IsNaN(auc) {
			t.Errorf("AUC %v written as %v, want null only for NaN", auc, got["auc"])
		}
		if pos := got["per_class"].(map[string]any)["pos"].(map[string]any); pos["support"] != 2.0 || pos["recall"] != 0.5 {
			t.Errorf("per_class.pos = %v, want support 2, recall 0.5", pos)
		}
	}
}

func BenchmarkScore(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	logits := make([]float32, 10000)
	labels := make([]float32, len(logits))
	for i := range logits {
		logits[i] = float32(rng.NormFloat64())
		labels[i] = float32(rng.Intn(2))
	}
	for b.Loop() {
		if _, err := Score(binary01, logits, labels, 0); err != nil {
			b.Fatal(err)
		}
	}
}
