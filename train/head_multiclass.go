package train

import (
	"fmt"
	"math"

	"github.com/classify/classify/data"
)

// MultiClassHead reads K logits per row as a task of K exclusive labels,
// as torch.nn.CrossEntropyLoss: probabilities softmax(z), the loss the
// mean cross-entropy computed from log-softmax, the label the most
// probable one (the first of equal ones). With class weights the loss is
// the weighted mean sum_i w[y_i]*ce_i / sum_i w[y_i], as torch's weight=.
type MultiClassHead struct {
	names   []string
	weights []float64
}

// NewMultiClassHead makes the head of the labels names, in index order.
func NewMultiClassHead(names []string) (*MultiClassHead, error) {
	if len(names) < 2 {
		return nil, fmt.Errorf("a multi-class head has 2 or more labels, not %d", len(names))
	}
	return &MultiClassHead{names: append([]string(nil), names...)}, nil
}

// Task is data.MultiClass.
func (h *MultiClassHead) Task() string { return data.MultiClass }

// Labels names the classes in index order.
func (h *MultiClassHead) Labels() []string { return h.names }

// Units is the number of classes.
func (h *MultiClassHead) Units() int { return len(h.names) }

// Width is 1: the class's index.
func (h *MultiClassHead) Width() int { return 1 }

// Loss is the (weighted) mean of -log softmax(z)[y] over the rows; dz gets
// w[y] * (softmax(z) - onehot(y)) / (sum of w[y]), w being 1 without weights.
func (h *MultiClassHead) Loss(z, y, dz []float64) float64 {
	k := len(h.names)
	var s, wsum float64
	lse := make([]float64, len(y)) // each row's log-sum-exp, for the gradient
	for i := range y {
		row := z[i*k : (i+1)*k]
		c := int(y[i])
		m := math.Inf(-1)
		for _, v := range row {
			m = max(m, v)
		}
		var e float64
		for _, v := range row {
			e += math.Exp(v - m)
		}
		lse[i] = m + math.Log(e)
		w := h.weight(c)
		s += w * (lse[i] - row[c])
		wsum += w
	}
	if wsum == 0 {
		wsum = 1
	}
	if dz != nil {
		for i := range y {
			c := int(y[i])
			for j, v := range z[i*k : (i+1)*k] {
				p := math.Exp(v - lse[i])
				if j == c {
					p--
				}
				dz[i*k+j] = h.weight(c) * p / wsum
			}
		}
	}
	return s / wsum
}

// weight is class c's weight, 1 without weights.
func (h *MultiClassHead) weight(c int) float64 {
	if h.weights == nil {
		return 1
	}
	return h.weights[c]
}

// Probabilities gives softmax(z), computed in float64.
func (h *MultiClassHead) Probabilities(z, p []float32) {
	m := math.Inf(-1)
	for _, v := range z {
		m = max(m, float64(v))
	}
	var e float64
	for _, v := range z {
		e += math.Exp(float64(v) - m)
	}
	for j, v := range z {
		p[j] = float32(math.Exp(float64(v)-m) / e)
	}
}

// Decide picks the class of the largest logit, the first of equal ones.
func (h *MultiClassHead) Decide(z []float32, dst []int) []int {
	best := 0
	for j, v := range z {
		if v > z[best] {
			best = j
		}
	}
	return append(dst, best)
}

// Weighted returns the head with class weights w.
func (h *MultiClassHead) Weighted(w []float64) Head {
	c := *h
	c.weights = w
	return &c
}
