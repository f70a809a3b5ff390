package train

import (
	"fmt"

	"github.com/classify/classify/data"
)

// BinaryHead reads one logit z per row as a two-label task: the second
// label's (the positive class's) probability is sigmoid(z), the loss the
// binary cross-entropy on the logit, max(z,0) - z*y + log(1 + exp(-|z|)),
// averaged over the batch, and the label is the positive one when z > 0,
// as Keras's binary accuracy decides. With class weights the loss is the
// weighted mean sum_i w[y_i]*bce_i / sum_i w[y_i], what a two-class
// torch.nn.CrossEntropyLoss(weight=w) takes.
type BinaryHead struct {
	names   []string
	weights []float64
}

// NewBinaryHead makes the head of the two labels names, negative first.
func NewBinaryHead(names []string) (*BinaryHead, error) {
	if len(names) != 2 {
		return nil, fmt.Errorf("a binary head has 2 labels, not %d", len(names))
	}
	return &BinaryHead{names: append([]string(nil), names...)}, nil
}

// Task is data.Binary.
func (h *BinaryHead) Task() string { return data.Binary }

// Labels names the negative and the positive label.
func (h *BinaryHead) Labels() []string { return h.names }

// Units is 1: one logit per row.
func (h *BinaryHead) Units() int { return 1 }

// Width is 1: the label's index, 0 or 1.
func (h *BinaryHead) Width() int { return 1 }

// Loss is the mean binary cross-entropy of the logits z against y, or the
// weighted mean with class weights; dz gets (sigmoid(z) - y) / n, scaled
// by w[y] / (sum of w[y]) with weights.
func (h *BinaryHead) Loss(z, y, dz []float64) float64 {
	n := float64(len(z))
	if h.weights == nil {
		var s float64
		for i, zi := range z {
			s += bceTerm(zi, y[i])
		}
		if dz != nil {
			for i, zi := range z {
				dz[i] = (sigmoid(zi) - y[i]) / n
			}
		}
		return s / n
	}
	var s, wsum float64
	for i, zi := range z {
		w := h.weights[int(y[i])]
		s += w * bceTerm(zi, y[i])
		wsum += w
	}
	if wsum == 0 {
		wsum = 1
	}
	if dz != nil {
		for i, zi := range z {
			dz[i] = h.weights[int(y[i])] * (sigmoid(zi) - y[i]) / wsum
		}
	}
	return s / wsum
}

// Probabilities gives [1 - sigmoid(z), sigmoid(z)].
func (h *BinaryHead) Probabilities(z, p []float32) {
	pos := float32(sigmoid(float64(z[0])))
	p[0], p[1] = 1-pos, pos
}

// Decide picks the positive label when z > 0.
func (h *BinaryHead) Decide(z []float32, dst []int) []int {
	if z[0] > 0 {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// Weighted returns the head with class weights w (negative, positive).
func (h *BinaryHead) Weighted(w []float64) Head {
	c := *h
	c.weights = w
	return &c
}
