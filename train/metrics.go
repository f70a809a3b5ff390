package train

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/classify/classify/data"
)

// ClassScores are one label's scores, a row of scikit-learn's
// classification_report.
type ClassScores struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	// Support is the number of examples that carry the label.
	Support int `json:"support"`
}

// Metrics are the scores of a classifier on a set of examples (SPEC
// section 5, eval). Precision, recall and F1 are 0 where their denominator
// is, as in Keras and scikit-learn.
type Metrics struct {
	// Task is data.Binary, data.MultiClass or data.MultiLabel.
	Task string
	// Labels names the labels in index order.
	Labels []string
	// N is the number of examples.
	N int
	// Loss is the mean loss of the task's head, unweighted.
	Loss float64
	// Accuracy is the share of examples whose labels were all predicted
	// right: for multi-label, the subset accuracy.
	Accuracy float64

	// Precision, Recall and F1 are the positive class's (binary).
	Precision, Recall, F1 float64
	// AUC is the area under the ROC curve of a binary task, the
	// Mann-Whitney statistic: the chance that a random positive example
	// scores above a random negative one, ties counting one half. It is
	// NaN when either class is absent or the task is not binary (and
	// written as null in JSON).
	AUC float64

	// MacroPrecision, MacroRecall and MacroF1 are the unweighted means of
	// the labels' scores: over the labels that occur in the truth or the
	// predictions for single-label tasks, over all labels for multi-label,
	// as scikit-learn's average="macro".
	MacroPrecision, MacroRecall, MacroF1 float64
	// WeightedPrecision, WeightedRecall and WeightedF1 weigh each label's
	// scores by its support (average="weighted").
	WeightedPrecision, WeightedRecall, WeightedF1 float64
	// MicroPrecision, MicroRecall and MicroF1 pool the counts of every
	// label (multi-label; for single-label tasks they equal the accuracy).
	MicroPrecision, MicroRecall, MicroF1 float64
	// HammingLoss is the share of (example, label) decisions that are
	// wrong (multi-label).
	HammingLoss float64

	// PerClass holds each label's scores, in index order.
	PerClass []ClassScores
	// Confusion counts the decisions: for single-label tasks
	// Confusion[actual][predicted], K x K; for multi-label one 2 x 2
	// matrix per label, flattened to [tn, fp, fn, tp], as scikit-learn's
	// multilabel_confusion_matrix.
	Confusion [][]int
}

// Main is the task's main metric, which progress bars, histories and
// plots show: the accuracy, or the micro-averaged F1 for multi-label.
func (m Metrics) Main() float64 {
	if m.Task == data.MultiLabel {
		return m.MicroF1
	}
	return m.Accuracy
}

// MainName names Main: "accuracy" or "micro_f1".
func (m Metrics) MainName() string { return MainMetricName(m.Task) }

// MainMetricName names the main metric of a task.
func MainMetricName(task string) string {
	if task == data.MultiLabel {
		return "micro_f1"
	}
	return "accuracy"
}

// Tally counts a head's decisions against the targets, example by
// example, so that metrics can be built from counts that merge: a
// pipeline that scores shards on several workers adds their tallies.
type Tally struct {
	// Task and Labels are the head's.
	Task   string
	Labels []string
	// N is the number of examples, Exact the number whose labels were all
	// predicted right.
	N, Exact int
	// Confusion is as Metrics.Confusion.
	Confusion [][]int

	decided []int
}

// NewTally makes an empty tally for the head's task.
func NewTally(h Head) *Tally {
	k := len(h.Labels())
	t := &Tally{Task: h.Task(), Labels: h.Labels(), Confusion: make([][]int, k)}
	for i := range t.Confusion {
		if t.Task == data.MultiLabel {
			t.Confusion[i] = make([]int, 4)
		} else {
			t.Confusion[i] = make([]int, k)
		}
	}
	return t
}

// Add counts rows of logits (Units a row) against their targets (Width a
// row, as a Batch holds them).
func (t *Tally) Add(h Head, logits, targets []float32) error {
	u, w := h.Units(), h.Width()
	if len(logits)%u != 0 || len(targets) != len(logits)/u*w {
		return fmt.Errorf("tally: %d logits and %d targets, want %d and %d per row", len(logits), len(targets), u, w)
	}
	k := len(t.Labels)
	for r := 0; r < len(logits)/u; r++ {
		t.decided = h.Decide(logits[r*u:(r+1)*u], t.decided[:0])
		y := targets[r*w : (r+1)*w]
		t.N++
		if t.Task != data.MultiLabel {
			a := int(y[0])
			if a < 0 || a >= k || float32(a) != y[0] {
				return fmt.Errorf("tally: target %v of row %d is not a label index below %d", y[0], r, k)
			}
			p := t.decided[0]
			t.Confusion[a][p]++
			if a == p {
				t.Exact++
			}
			continue
		}
		exact := true
		d := 0
		for j := 0; j < k; j++ {
			pred := d < len(t.decided) && t.decided[d] == j
			if pred {
				d++
			}
			truth := y[j] == 1
			if !truth && y[j] != 0 {
				return fmt.Errorf("tally: target %v of row %d, label %d is not 0 or 1", y[j], r, j)
			}
			c := t.Confusion[j]
			switch {
			case truth && pred:
				c[3]++
			case truth:
				c[2]++
				exact = false
			case pred:
				c[1]++
				exact = false
			default:
				c[0]++
			}
		}
		if exact {
			t.Exact++
		}
	}
	return nil
}

// Merge adds the counts of o, a tally of the same task and labels.
func (t *Tally) Merge(o *Tally) error {
	if o.Task != t.Task || !slices.Equal(o.Labels, t.Labels) {
		return fmt.Errorf("tally: merging a %s tally of %d labels into a %s tally of %d", o.Task, len(o.Labels), t.Task, len(t.Labels))
	}
	t.N += o.N
	t.Exact += o.Exact
	for i, row := range o.Confusion {
		for j, c := range row {
			t.Confusion[i][j] += c
		}
	}
	return nil
}

// Metrics computes the scores of the counts, with the loss given and no
// AUC (NaN): see Score for it.
func (t *Tally) Metrics(loss float64) Metrics {
	k := len(t.Labels)
	m := Metrics{Task: t.Task, Labels: t.Labels, N: t.N, Loss: loss, AUC: math.NaN(),
		Accuracy: ratio(t.Exact, t.N), PerClass: make([]ClassScores, k), Confusion: make([][]int, k)}
	var tpAll, fpAll, fnAll, wrong, support, present int
	for j := 0; j < k; j++ {
		m.Confusion[j] = append([]int(nil), t.Confusion[j]...)
		var tp, fp, fn int
		if t.Task == data.MultiLabel {
			c := t.Confusion[j]
			fp, fn, tp = c[1], c[2], c[3]
		} else {
			tp = t.Confusion[j][j]
			for i := 0; i < k; i++ {
				if i != j {
					fn += t.Confusion[j][i]
					fp += t.Confusion[i][j]
				}
			}
		}
		tpAll, fpAll, fnAll = tpAll+tp, fpAll+fp, fnAll+fn
		wrong += fp + fn
		s := ClassScores{Precision: ratio(tp, tp+fp), Recall: ratio(tp, tp+fn), Support: tp + fn}
		s.F1 = f1(s.Precision, s.Recall)
		m.PerClass[j] = s
		if t.Task == data.MultiLabel || tp+fp+fn > 0 {
			present++
			m.MacroPrecision += s.Precision
			m.MacroRecall += s.Recall
			m.MacroF1 += s.F1
		}
		support += s.Support
		m.WeightedPrecision += s.Precision * float64(s.Support)
		m.WeightedRecall += s.Recall * float64(s.Support)
		m.WeightedF1 += s.F1 * float64(s.Support)
	}
	if present > 0 {
		m.MacroPrecision /= float64(present)
		m.MacroRecall /= float64(present)
		m.MacroF1 /= float64(present)
	}
	if support > 0 {
		m.WeightedPrecision /= float64(support)
		m.WeightedRecall /= float64(support)
		m.WeightedF1 /= float64(support)
	}
	m.MicroPrecision = ratio(tpAll, tpAll+fpAll)
	m.MicroRecall = ratio(tpAll, tpAll+fnAll)
	m.MicroF1 = f1(m.MicroPrecision, m.MicroRecall)
	if t.Task == data.MultiLabel {
		m.HammingLoss = ratio(wrong, t.N*k)
	} else {
		m.HammingLoss = 1 - m.Accuracy
	}
	if t.Task == data.Binary {
		p := m.PerClass[1]
		m.Precision, m.Recall, m.F1 = p.Precision, p.Recall, p.F1
	}
	return m
}

// Score computes the metrics of rows of logits against their targets (as
// a Batch holds them) under the head's decision rule; loss is stored as it
// is given. A binary task also gets its ROC AUC.
func Score(h Head, logits, targets []float32, loss float64) (Metrics, error) {
	t := NewTally(h)
	if err := t.Add(h, logits, targets); err != nil {
		return Metrics{}, fmt.Errorf("score: %w", err)
	}
	m := t.Metrics(loss)
	if m.Task == data.Binary {
		m.AUC = rocAUC(logits, targets)
	}
	return m, nil
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func f1(p, r float64) float64 {
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// rocAUC is the Mann-Whitney U statistic of the positive scores divided by
// npos*nneg: the scores are ranked together, tied ones sharing the mean of
// their ranks, and U is the positives' rank sum less npos(npos+1)/2.
func rocAUC(scores, labels []float32) float64 {
	type scored struct{ score, label float32 }
	rows := make([]scored, len(scores))
	for i, s := range scores {
		rows[i] = scored{s, labels[i]}
	}
	slices.SortFunc(rows, func(a, b scored) int { return cmp.Compare(a.score, b.score) })
	var npos, nneg, rankSum float64
	for i := 0; i < len(rows); {
		j := i
		for j < len(rows) && rows[j].score == rows[i].score {
			j++
		}
		rank := float64(i+j+1) / 2 // mean of the ranks i+1 .. j
		for _, r := range rows[i:j] {
			if r.label == 1 {
				npos++
				rankSum += rank
			} else {
				nneg++
			}
		}
		i = j
	}
	if npos == 0 || nneg == 0 {
		return math.NaN()
	}
	return (rankSum - npos*(npos+1)/2) / (npos * nneg)
}

// MarshalJSON writes the metrics as eval --json prints them (SPEC section
// 5): loss, accuracy and the scores that apply to the task, per_class by
// label name, labels and confusion; an absent AUC as null.
func (m Metrics) MarshalJSON() ([]byte, error) {
	o := map[string]any{"task": m.Task, "n": m.N, "loss": m.Loss, "accuracy": m.Accuracy,
		"macro_precision": m.MacroPrecision, "macro_recall": m.MacroRecall, "macro_f1": m.MacroF1,
		"labels": m.Labels, "confusion": m.Confusion}
	switch m.Task {
	case data.Binary:
		o["precision"], o["recall"], o["f1"], o["auc"] = m.Precision, m.Recall, m.F1, finiteOrNil(m.AUC)
	case data.MultiLabel:
		o["micro_precision"], o["micro_recall"], o["micro_f1"] = m.MicroPrecision, m.MicroRecall, m.MicroF1
		o["subset_accuracy"], o["hamming_loss"] = m.Accuracy, m.HammingLoss
	}
	if m.Task != data.MultiLabel {
		o["weighted_precision"], o["weighted_recall"], o["weighted_f1"] = m.WeightedPrecision, m.WeightedRecall, m.WeightedF1
	}
	per := map[string]ClassScores{}
	for i, s := range m.PerClass {
		if i < len(m.Labels) {
			per[m.Labels[i]] = s
		}
	}
	o["per_class"] = per
	return json.Marshal(o)
}

func finiteOrNil(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

func orNaN(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}
