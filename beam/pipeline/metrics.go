package pipeline

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/classify/classify/data"
	"github.com/classify/classify/train"
)

// DefaultExactLimit is the number of examples up to which MetricsFn keeps
// every score of a binary task, for the exact ROC AUC that `classify eval`
// computes: eight bytes an example, 8 MiB at the limit.
const DefaultExactLimit = 1 << 20

// Histogram bins of the logits, for the AUC of more examples than the
// exact limit: histBins bins of width 2*histRange/histBins (0.002) over
// [-histRange, histRange], logits beyond it in the end bins.
const (
	histBins  = 1 << 14
	histRange = 16.0
)

// Accumulator is what MetricsFn sums across workers: the counts of a
// train.Tally, the loss, and for a binary task the scores behind the AUC,
// every one (Logits and Labels) up to the exact limit, then as histograms
// (Pos and Neg count the positive and negative examples per logit bin).
type Accumulator struct {
	// N, Right and Confusion are train.Tally's N, Exact and Confusion.
	N, Right  int
	Confusion [][]int
	// LossSum is the sum of the examples' losses.
	LossSum float64
	// Exact is true while every score is kept.
	Exact          bool
	Logits, Labels []float32
	Pos, Neg       []int64
}

// MetricsFn is the CombineFn of Eval: it combines Scored examples into the
// metrics of `classify eval --json`, as one JSON object. The counts come
// from train.Tally, so that the decisions and the scores computed from
// them are those of classify eval.
type MetricsFn struct {
	// Task, Labels and Threshold make the model's head (train.NewHead).
	Task      string
	Labels    []string
	Threshold float64
	// ExactLimit is the number of examples up to which the AUC is exact.
	ExactLimit int

	head train.Head
}

// NewMetricsFn makes the CombineFn of the metrics of a model with head h.
func NewMetricsFn(h train.Head, exactLimit int) (*MetricsFn, error) {
	f := &MetricsFn{Task: h.Task(), Labels: h.Labels(), ExactLimit: exactLimit}
	if ml, ok := h.(*train.MultiLabelHead); ok {
		f.Threshold = ml.Threshold
	}
	if _, err := f.getHead(); err != nil {
		return nil, err
	}
	return f, nil
}

// getHead makes the head once per instance: a worker rebuilds the
// CombineFn from its exported fields.
func (f *MetricsFn) getHead() (train.Head, error) {
	if f.head != nil {
		return f.head, nil
	}
	ls, err := data.NewLabelSetOf(f.Labels, f.Task)
	if err != nil {
		return nil, err
	}
	h, err := train.NewHead(ls, f.Threshold)
	if err != nil {
		return nil, err
	}
	f.head = h
	return h, nil
}

func (f *MetricsFn) tally(a Accumulator) *train.Tally {
	return &train.Tally{Task: f.Task, Labels: f.Labels, N: a.N, Exact: a.Right, Confusion: a.Confusion}
}

// CreateAccumulator starts an empty sum.
func (f *MetricsFn) CreateAccumulator() (Accumulator, error) {
	h, err := f.getHead()
	if err != nil {
		return Accumulator{}, err
	}
	return Accumulator{Confusion: train.NewTally(h).Confusion, Exact: true}, nil
}

// AddInput counts one example.
func (f *MetricsFn) AddInput(a Accumulator, s Scored) (Accumulator, error) {
	h, err := f.getHead()
	if err != nil {
		return a, err
	}
	t := f.tally(a)
	if err := t.Add(h, s.Logits, s.Targets); err != nil {
		return a, fmt.Errorf("metrics: %w", err)
	}
	a.N, a.Right = t.N, t.Exact
	z, y := make([]float64, len(s.Logits)), make([]float64, len(s.Targets))
	for i, v := range s.Logits {
		z[i] = float64(v)
	}
	for i, v := range s.Targets {
		y[i] = float64(v)
	}
	a.LossSum += h.Loss(z, y, nil)
	if f.Task != data.Binary {
		return a, nil
	}
	if a.Exact {
		a.Logits = append(a.Logits, s.Logits[0])
		a.Labels = append(a.Labels, s.Targets[0])
		return f.limit(a), nil
	}
	addToHistogram(&a, s.Logits[0], s.Targets[0])
	return a, nil
}

// MergeAccumulators adds b to a.
func (f *MetricsFn) MergeAccumulators(a, b Accumulator) (Accumulator, error) {
	t := f.tally(a)
	if err := t.Merge(f.tally(b)); err != nil {
		return a, err
	}
	a.N, a.Right = t.N, t.Exact
	a.LossSum += b.LossSum
	switch {
	case a.Exact && b.Exact:
		a.Logits = append(a.Logits, b.Logits...)
		a.Labels = append(a.Labels, b.Labels...)
		return f.limit(a), nil
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
	return a, nil
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
	m, err := f.Metrics(a)
	if err != nil {
		return "", err
	}
	js, err := json.Marshal(m)
	return string(js), err
}

// Metrics are the scores of the examples summed in a, from train.Tally's
// counts. The loss is the mean of the examples' losses (the head's, in
// float64). A binary task's AUC is train.Score's, the exact Mann-Whitney
// statistic, while every score is kept; from histograms, the pairs of a
// positive and a negative example in one bin count as ties, so that it is
// off by at most half the share of such pairs.
func (f *MetricsFn) Metrics(a Accumulator) (train.Metrics, error) {
	if a.N == 0 {
		return train.Metrics{}, fmt.Errorf("metrics: no examples")
	}
	h, err := f.getHead()
	if err != nil {
		return train.Metrics{}, err
	}
	loss := a.LossSum / float64(a.N)
	m := f.tally(a).Metrics(loss)
	switch {
	case f.Task != data.Binary:
	case a.Exact:
		exact, err := train.Score(h, a.Logits, a.Labels, loss)
		if err != nil {
			return train.Metrics{}, err
		}
		m.AUC = exact.AUC
	default:
		m.AUC = histogramAUC(a.Pos, a.Neg)
	}
	return m, nil
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
