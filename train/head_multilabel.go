package train

import (
	"fmt"

	"github.com/classify/classify/data"
)

// MultiLabelHead reads K logits per row as K independent labels, as
// torch.nn.BCEWithLogitsLoss: label k's probability is sigmoid(z_k), the
// loss the binary cross-entropy on the logits averaged over the batch and
// the labels, and label k is predicted when its probability is at least
// Threshold. With class weights w, label k's terms are scaled by w[k] and
// the mean stays plain, as torch's weight= of that loss.
type MultiLabelHead struct {
	// Threshold is the probability from which a label is predicted (0.5).
	Threshold float64

	names   []string
	weights []float64
}

// NewMultiLabelHead makes the head of the labels names, in index order,
// with a threshold of 0.5.
func NewMultiLabelHead(names []string) (*MultiLabelHead, error) {
	if len(names) < 1 {
		return nil, fmt.Errorf("a multi-label head has 1 or more labels, not %d", len(names))
	}
	return &MultiLabelHead{Threshold: 0.5, names: append([]string(nil), names...)}, nil
}

// Task is data.MultiLabel.
func (h *MultiLabelHead) Task() string { return data.MultiLabel }

// Labels names the labels in index order.
func (h *MultiLabelHead) Labels() []string { return h.names }

// Units is the number of labels.
func (h *MultiLabelHead) Units() int { return len(h.names) }

// Width is the number of labels: a 0 or 1 for each.
func (h *MultiLabelHead) Width() int { return len(h.names) }

// Loss is the mean over rows and labels of w[k] * bce(z, y); dz gets
// w[k] * (sigmoid(z) - y) / (rows * labels).
func (h *MultiLabelHead) Loss(z, y, dz []float64) float64 {
	k := len(h.names)
	n := float64(len(z))
	var s float64
	for i, zi := range z {
		w := 1.0
		if h.weights != nil {
			w = h.weights[i%k]
		}
		s += w * bceTerm(zi, y[i])
		if dz != nil {
			dz[i] = w * (sigmoid(zi) - y[i]) / n
		}
	}
	return s / n
}

// Probabilities gives sigmoid(z_k) for each label.
func (h *MultiLabelHead) Probabilities(z, p []float32) {
	for j, v := range z {
		p[j] = float32(sigmoid(float64(v)))
	}
}

// Decide picks every label whose probability is at least Threshold.
func (h *MultiLabelHead) Decide(z []float32, dst []int) []int {
	for j, v := range z {
		if sigmoid(float64(v)) >= h.Threshold {
			dst = append(dst, j)
		}
	}
	return dst
}

// Weighted returns the head with class weights w, one per label.
func (h *MultiLabelHead) Weighted(w []float64) Head {
	c := *h
	c.weights = w
	return &c
}
