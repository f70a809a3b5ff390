package train

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
)

// Confusion counts a binary classifier's decisions against the labels.
type Confusion struct {
	// TP and FN count the positive examples predicted positive and
	// negative, FP and TN the negative ones.
	TP int `json:"tp"`
	FP int `json:"fp"`
	TN int `json:"tn"`
	FN int `json:"fn"`
}

// Metrics are the scores of a binary classifier on a set of examples. A row
// is predicted positive when its logit is above 0, its probability above
// 0.5, as Keras's binary accuracy.
type Metrics struct {
	// N is the number of examples.
	N int `json:"n"`
	// Loss is the mean binary cross-entropy.
	Loss float64 `json:"loss"`
	// Accuracy is the share of examples predicted right.
	Accuracy float64 `json:"accuracy"`
	// Precision is TP/(TP+FP), Recall TP/(TP+FN), F1 their harmonic mean;
	// each is 0 where its denominator is, as Keras and scikit-learn.
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	// AUC is the area under the ROC curve, the Mann-Whitney statistic: the
	// chance that a random positive example scores above a random negative
	// one, ties counting one half. It is NaN when either class is absent
	// (and written as null in JSON).
	AUC float64 `json:"auc"`
	// Confusion holds the counts behind the scores.
	Confusion Confusion `json:"confusion"`
}

// Score computes the metrics of logits against labels (0 or 1); loss is
// stored as it is given. It returns an error when the lengths differ or a
// label is neither 0 nor 1.
func Score(logits, labels []float32, loss float64) (Metrics, error) {
	if len(logits) != len(labels) {
		return Metrics{}, fmt.Errorf("score: %d logits for %d labels", len(logits), len(labels))
	}
	m := Metrics{N: len(labels), Loss: loss}
	c := &m.Confusion
	for i, y := range labels {
		pos := logits[i] > 0
		switch {
		case y == 1 && pos:
			c.TP++
		case y == 1:
			c.FN++
		case y == 0 && pos:
			c.FP++
		case y == 0:
			c.TN++
		default:
			return Metrics{}, fmt.Errorf("score: label %v of row %d is not 0 or 1", y, i)
		}
	}
	m.Accuracy = ratio(c.TP+c.TN, m.N)
	m.Precision = ratio(c.TP, c.TP+c.FP)
	m.Recall = ratio(c.TP, c.TP+c.FN)
	if m.Precision+m.Recall > 0 {
		m.F1 = 2 * m.Precision * m.Recall / (m.Precision + m.Recall)
	}
	m.AUC = rocAUC(logits, labels)
	return m, nil
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
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

// metricsJSON is Metrics as written in JSON, with an absent AUC as null.
type metricsJSON struct {
	N         int       `json:"n"`
	Loss      float64   `json:"loss"`
	Accuracy  float64   `json:"accuracy"`
	Precision float64   `json:"precision"`
	Recall    float64   `json:"recall"`
	F1        float64   `json:"f1"`
	AUC       *float64  `json:"auc"`
	Confusion Confusion `json:"confusion"`
}

// MarshalJSON writes the metrics as one object, the AUC as null when it is
// NaN.
func (m Metrics) MarshalJSON() ([]byte, error) {
	j := metricsJSON{N: m.N, Loss: m.Loss, Accuracy: m.Accuracy, Precision: m.Precision,
		Recall: m.Recall, F1: m.F1, AUC: finiteOrNil(m.AUC), Confusion: m.Confusion}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (m *Metrics) UnmarshalJSON(b []byte) error {
	var j metricsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*m = Metrics{N: j.N, Loss: j.Loss, Accuracy: j.Accuracy, Precision: j.Precision,
		Recall: j.Recall, F1: j.F1, AUC: orNaN(j.AUC), Confusion: j.Confusion}
	return nil
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
