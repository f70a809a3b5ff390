package pipeline

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/classify/classify/train"
)

// DefaultExactLimit is the number of examples up to which MetricsFn keeps
// every score, for the exact ROC AUC that `classify eval` computes:
// eight bytes an example, 8 MiB at the limit.
const DefaultExactLimit = 1 << 20

// Histogram bins of the logits, for the AUC of more examples than the
// exact limit: histBins bins of width 2*histRange/histBins over
// [-histRange, histRange], logits beyond it in the end bins.
const (
	histBins  = 1 << 14
	histRange = 16.0
)

// Accumulator is what MetricsFn sums across workers: counts, the loss, and
// the scores behind the AUC, exactly (Logits and Labels) up to the exact
// limit, then as histograms (Pos and Neg count the positive and negative
// examples per logit bin).
type Accumulator struct {
	N              int64
	LossSum        float64
	TP, FP, TN, FN int64
	Exact          bool
	Logits, Labels []float32
	Pos, Neg       []int64
}

// MetricsFn is the CombineFn of Eval: it combines Scored examples into the
// metrics of `classify eval --json`, one JSON object.
type MetricsFn struct {
	// ExactLimit is the number of examples up to which the AUC is exact.
	ExactLimit int
}

// CreateAccumulator starts an empty sum.
func (f *MetricsFn) CreateAccumulator() Accumulator { return Accumulator{Exact: true} }

// AddInput counts one example.
func (f *MetricsFn) AddInput(a Accumulator, s Scored) (Accumulator, error) {
	z := float64(s.Logit)
	pos := s.Logit > 0
	switch {
	case s.Label == 1 && pos:
		a.TP++
	case s.Label == 1:
		a.FN++
	case s.Label == 0 && pos:
		a.FP++
	case s.Label == 0:
		a.TN++
	default:
		return a, fmt.Errorf("metrics: label %v is not 0 or 1", s.Label)
	}
	a.N++
	// Binary cross-entropy from the logit, log(1+e^z) - y*z, in the form
	// that neither overflows nor loses the small terms.
	a.LossSum += math.Max(z, 0) - float64(s.Label)*z + math.Log1p(math.Exp(-math.Abs(z)))
	if a.Exact {
		a.Logits = append(a.Logits, s.Logit)
		a.Labels = append(a.Labels, s.Label)
		return f.limit(a), nil
	}
	addToHistogram(&a, s.Logit, s.Label)
	return a, nil
}

// MergeAccumulators adds b to a.
func (f *MetricsFn) MergeAccumulators(a, b Accumulator) Accumulator {
	a.N += b.N
	a.LossSum += b.LossSum
	a.TP += b.TP
	a.FP += b.FP
	a.TN += b.TN
	a.FN += b.FN
	switch {
	case a.Exact && b.Exact:
		a.Logits = append(a.Logits, b.Logits...)
		a.Labels = append(a.Labels, b.Labels...)
		return f.limit(a)
	case a.Exact:
		// b's histograms become the sum's: copied, since a merge may
		// change its first accumulator but not its second.
		a.Exact, a.Pos, a.Neg = false, slices.Clone(b.Pos), slices.Clone(b.Neg)
		a.Logits, a.Labels, b.Logits, b.Labels, b.Pos = nil, nil, a.Logits, a.Labels, nil
	}
	for i, z := range b.Logits {
		addToHistogram(&a, z, b.Labels[i])
	}
	for i := range b.Pos {
		a.Pos[i] += b.Pos[i]
		a.Neg[i] += b.Neg[i]
	}
	return a
}

// limit turns a's scores into histograms once it holds more than the
// exact limit.
func (f *MetricsFn) limit(a Accumulator) Accumulator {
	if len(a.Logits) <= f.ExactLimit {
		return a
	}
	logits, labels := a.Logits, a.Labels
	a.Exact, a.Logits, a.Labels = false, nil, nil
	for i, z := range logits {
		addToHistogram(&a, z, labels[i])
	}
	return a
}

func addToHistogram(a *Accumulator, z, label float32) {
	if a.Pos == nil {
		a.Pos, a.Neg = make([]int64, histBins), make([]int64, histBins)
	}
	b := int((float64(z) + histRange) / (2 * histRange) * histBins)
	b = min(max(b, 0), histBins-1)
	if label == 1 {
		a.Pos[b]++
	} else {
		a.Neg[b]++
	}
}

// ExtractOutput is the metrics as `classify eval --json` prints them.
func (f *MetricsFn) ExtractOutput(a Accumulator) (string, error) {
	m, err := a.Metrics()
	if err != nil {
		return "", err
	}
	js, err := json.Marshal(m)
	return string(js), err
}

// Metrics are the scores of the examples summed in a. With every score
// kept they are train.Score's, as `classify eval` computes them, but for
// the loss, which is the mean of each example's cross-entropy computed in
// float64 rather than of each batch's in float32. From histograms, the AUC
// counts the pairs of a positive and a negative example in one bin as
// ties: it is off by at most half the share of such pairs.
func (a Accumulator) Metrics() (train.Metrics, error) {
	if a.N == 0 {
		return train.Metrics{}, fmt.Errorf("metrics: no examples")
	}
	loss := a.LossSum / float64(a.N)
	if a.Exact {
		return train.Score(a.Logits, a.Labels, loss)
	}
	m := train.Metrics{N: int(a.N), Loss: loss,
		Confusion: train.Confusion{TP: int(a.TP), FP: int(a.FP), TN: int(a.TN), FN: int(a.FN)}}
	m.Accuracy = ratio(a.TP+a.TN, a.N)
	m.Precision = ratio(a.TP, a.TP+a.FP)
	m.Recall = ratio(a.TP, a.TP+a.FN)
	if m.Precision+m.Recall > 0 {
		m.F1 = 2 * m.Precision * m.Recall / (m.Precision + m.Recall)
	}
	m.AUC = histogramAUC(a.Pos, a.Neg)
	return m, nil
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// histogramAUC is the Mann-Whitney statistic over binned scores: each
// positive example beats the negatives of lower bins and ties with those
// of its own bin.
func histogramAUC(pos, neg []int64) float64 {
	var npos, nneg, wins float64
	for i := range pos {
		p, n := float64(pos[i]), float64(neg[i])
		wins += p * (nneg + n/2)
		npos += p
		nneg += n
	}
	if npos == 0 || nneg == 0 {
		return math.NaN()
	}
	return wins / (npos * nneg)
}
