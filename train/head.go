package train

import (
	"fmt"
	"math"

	"github.com/classify/classify/data"
)

// Head is the output of a classifier: it reads the Units logits a model
// gives per row as one task (SPEC section 2, "Output and loss"). It owns
// the task's training loss, its probabilities and its decision rule; the
// metrics of Score follow from the decisions. Each task is one file:
// BinaryHead, MultiClassHead, MultiLabelHead.
type Head interface {
	// Task is data.Binary, data.MultiClass or data.MultiLabel.
	Task() string
	// Labels names the labels in index order.
	Labels() []string
	// Units is the number of logits per row the model's last layer gives.
	Units() int
	// Width is the number of target values per row, as
	// data.LabelSet.Width: the label's index, or a 0/1 per label.
	Width() int
	// Loss returns the mean loss of rows of Units logits z against their
	// targets y, Width a row, and when dz is not nil writes the loss's
	// gradient with respect to each logit into it. It is computed from the
	// logits, so it stays finite where a probability rounds to 0 or 1.
	Loss(z, y, dz []float64) float64
	// Probabilities writes the probability of each label for one row of
	// logits into p, which has one element per label.
	Probabilities(z, p []float32)
	// Decide appends the indices of the labels predicted for one row of
	// logits to dst: one label for single-label tasks, zero or more for
	// multi-label.
	Decide(z []float32, dst []int) []int
	// Weighted returns the head with the class weights w, one per label,
	// in its training loss (nil for none); the metrics never weigh.
	Weighted(w []float64) Head
}

// NewHead makes the head of a label set's task. Threshold is the
// probability at which a multi-label head predicts a label (0 means 0.5);
// single-label tasks ignore it.
func NewHead(labels *data.LabelSet, threshold float64) (Head, error) {
	switch labels.Task {
	case data.Binary:
		return NewBinaryHead(labels.Names)
	case data.MultiClass:
		return NewMultiClassHead(labels.Names)
	case data.MultiLabel:
		h, err := NewMultiLabelHead(labels.Names)
		if err != nil {
			return nil, err
		}
		if threshold != 0 {
			if !(threshold > 0 && threshold < 1) {
				return nil, fmt.Errorf("threshold %v: want a probability in (0, 1)", threshold)
			}
			h.Threshold = threshold
		}
		return h, nil
	}
	return nil, fmt.Errorf("task %q: want %s, %s or %s", labels.Task, data.Binary, data.MultiClass, data.MultiLabel)
}

// BalancedWeights is scikit-learn's class_weight="balanced": label k gets
// n / (K * n_k), n_k counting the examples that carry it (targets as a
// Batch holds them, width values a row), so that every label weighs as
// much in the loss as the others. A label no example carries gets weight 0.
func BalancedWeights(h Head, targets []float32) []float64 {
	k, w := len(h.Labels()), h.Width()
	n := len(targets) / w
	counts := make([]float64, k)
	for i := 0; i < n; i++ {
		row := targets[i*w : (i+1)*w]
		if w == 1 {
			counts[int(row[0])]++
			continue
		}
		for j, y := range row {
			counts[j] += float64(y)
		}
	}
	out := make([]float64, k)
	for j, c := range counts {
		if c > 0 {
			out[j] = float64(n) / (float64(k) * c)
		}
	}
	return out
}

// WithClassWeights returns h with the class weights w in its training
// loss, one per label, after checking them; nil removes them.
func WithClassWeights(h Head, w []float64) (Head, error) {
	if w != nil {
		if len(w) != len(h.Labels()) {
			return nil, fmt.Errorf("%d class weights for %d labels", len(w), len(h.Labels()))
		}
		for i, x := range w {
			if !(x >= 0) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("class weight %d is %v: want a finite weight of 0 or more", i, x)
			}
		}
	}
	return h.Weighted(w), nil
}

// sigmoid is the logistic function, computed in float64.
func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// bceTerm is the binary cross-entropy of sigmoid(z) against y computed
// from the logit, max(z,0) - z*y + log(1 + exp(-|z|)), in which no exp
// overflows.
func bceTerm(z, y float64) float64 {
	return max(z, 0) - z*y + math.Log1p(math.Exp(-math.Abs(z)))
}
