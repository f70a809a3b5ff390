package train

import (
	"encoding/json"
	"math"
	"os"
	"reflect"
	"testing"

	"github.com/classify/classify/data"
)

// binary01 is the head of the toy models: labels "0" and "1".
var binary01, _ = NewBinaryHead([]string{"0", "1"})

// golden is one case of testdata/heads_golden.json, computed by PyTorch
// (heads_golden.py): BCEWithLogitsLoss, CrossEntropyLoss and their
// weight= forms, with the gradient of the loss with respect to z.
type golden struct {
	Z, Y, Grad, Weights []float64
	Loss                float64
}

func headOf(t *testing.T, name string, k int) Head {
	t.Helper()
	var h Head
	var err error
	names := []string{"a", "b", "c", "d"}[:k]
	switch name {
	case "binary", "binary_weighted":
		h, err = NewBinaryHead(names[:2])
	case "multiclass", "multiclass_weighted":
		h, err = NewMultiClassHead(names)
	default:
		h, err = NewMultiLabelHead(names)
	}
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestHeadsMatchPyTorch checks each head's loss and gradient against
// PyTorch's on the same logits and targets, a logit of 40 included.
func TestHeadsMatchPyTorch(t *testing.T) {
	raw, err := os.ReadFile("testdata/heads_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases map[string]golden
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"binary", "binary_weighted", "multiclass", "multiclass_weighted", "multilabel", "multilabel_weighted"} {
		c, ok := cases[name]
		if !ok {
			t.Fatalf("no golden case %s", name)
		}
		h := headOf(t, name, 4)
		if c.Weights != nil {
			if h, err = WithClassWeights(h, c.Weights); err != nil {
				t.Fatal(err)
			}
		}
		dz := make([]float64, len(c.Z))
		loss := h.Loss(c.Z, c.Y, dz)
		if math.Abs(loss-c.Loss) > 1e-12*max(1, math.Abs(c.Loss)) {
			t.Errorf("%s: loss %.15g, PyTorch %.15g", name, loss, c.Loss)
		}
		for i := range dz {
			if math.Abs(dz[i]-c.Grad[i]) > 1e-12 {
				t.Errorf("%s: d loss/d z[%d] = %.15g, PyTorch %.15g", name, i, dz[i], c.Grad[i])
			}
		}
	}
}

// TestHeadGradients checks each head's gradient against central finite
// differences of its own loss, in float64.
func TestHeadGradients(t *testing.T) {
	z := []float64{0.3, -1.2, 2.5, 0.1, -0.7, 1.9, -2.2, 0.4}
	for _, tc := range []struct {
		name    string
		y       []float64
		weights []float64
	}{
		{"binary", []float64{1, 0, 1, 1, 0, 0, 1, 0}, nil},
		{"binary_weighted", []float64{1, 0, 1, 1, 0, 0, 1, 0}, []float64{0.4, 2}},
		{"multiclass", []float64{1, 0}, nil},
		{"multiclass_weighted", []float64{3, 2}, []float64{1, 0.5, 2, 3}},
		{"multilabel", []float64{1, 0, 0, 1, 1, 1, 0, 0}, nil},
		{"multilabel_weighted", []float64{1, 0, 0, 1, 1, 1, 0, 0}, []float64{1, 0.5, 2, 3}},
	} {
		h := headOf(t, tc.name, 4)
		if tc.weights != nil {
			h, _ = WithClassWeights(h, tc.weights)
		}
		dz := make([]float64, len(z))
		h.Loss(z, tc.y, dz)
		for i := range z {
			const eps = 1e-6
			zp := append([]float64(nil), z...)
			zm := append([]float64(nil), z...)
			zp[i] += eps
			zm[i] -= eps
			fd := (h.Loss(zp, tc.y, nil) - h.Loss(zm, tc.y, nil)) / (2 * eps)
			if math.Abs(fd-dz[i]) > 1e-7 {
				t.Errorf("%s: d loss/d z[%d] = %.10g, finite difference %.10g", tc.name, i, dz[i], fd)
			}
		}
	}
}

func TestHeadDecisions(t *testing.T) {
	mc, _ := NewMultiClassHead([]string{"a", "b", "c"})
	ml, _ := NewMultiLabelHead([]string{"a", "b", "c"})
	tests := []struct {
		h     Head
		z     []float32
		want  []int
		probs []float32
	}{
		{binary01, []float32{0}, []int{0}, []float32{0.5, 0.5}},
		{binary01, []float32{0.1}, []int{1}, []float32{1 - 0.52497918, 0.52497918}},
		{mc, []float32{1, 3, 3}, []int{1}, []float32{0.06337894, 0.46831053, 0.46831053}},
		{ml, []float32{0, -1, 2}, []int{0, 2}, []float32{0.5, 0.26894142, 0.88079708}},
	}
	for _, tt := range tests {
		got := tt.h.Decide(tt.z, nil)
		p := make([]float32, len(tt.h.Labels()))
		tt.h.Probabilities(tt.z, p)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s Decide(%v) = %v, want %v", tt.h.Task(), tt.z, got, tt.want)
		}
		for i := range p {
			if math.Abs(float64(p[i]-tt.probs[i])) > 1e-6 {
				t.Errorf("%s Probabilities(%v) = %v, want %v", tt.h.Task(), tt.z, p, tt.probs)
				break
			}
		}
	}
	ml.Threshold = 0.9
	if got := ml.Decide([]float32{0, -1, 2}, nil); len(got) != 0 {
		t.Errorf("multi-label Decide at threshold 0.9 = %v, want none", got)
	}
}

func TestBalancedWeights(t *testing.T) {
	mc, _ := NewMultiClassHead([]string{"a", "b", "c"})
	// n = 6, K = 3: a has 3 (6/9), b 2 (6/6), c 1 (6/3).
	got := BalancedWeights(mc, []float32{0, 0, 0, 1, 1, 2})
	if want := []float64{6.0 / 9, 1, 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("BalancedWeights(multi-class) = %v, want %v", got, want)
	}
	ml, _ := NewMultiLabelHead([]string{"a", "b"})
	// n = 2 rows, K = 2: a carried by 2 (2/4), b by 1 (2/2).
	got = BalancedWeights(ml, []float32{1, 1, 1, 0})
	if want := []float64{0.5, 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("BalancedWeights(multi-label) = %v, want %v", got, want)
	}
	if _, err := WithClassWeights(mc, []float64{1, 2}); err == nil {
		t.Error("WithClassWeights(2 weights for 3 labels) succeeded, want an error")
	}
	if _, err := WithClassWeights(mc, []float64{1, math.NaN(), 1}); err == nil {
		t.Error("WithClassWeights(NaN) succeeded, want an error")
	}
}

// TestScoreMultiClass checks the multi-class report against scikit-learn's
// classification_report computed by hand for these six rows:
//
//	actual   a a b b c c
//	predict  a b b b a c
//
// a: tp 1, fp 1, fn 1 -> p 1/2, r 1/2, f1 1/2, support 2
// b: tp 2, fp 1, fn 0 -> p 2/3, r 1,   f1 4/5, support 2
// c: tp 1, fp 0, fn 1 -> p 1,   r 1/2, f1 2/3, support 2
func TestScoreMultiClass(t *testing.T) {
	h, _ := NewMultiClassHead([]string{"a", "b", "c"})
	onehot := func(k int) []float32 { z := []float32{0, 0, 0}; z[k] = 5; return z }
	var logits []float32
	for _, p := range []int{0, 1, 1, 1, 0, 2} {
		logits = append(logits, onehot(p)...)
	}
	m, err := Score(h, logits, []float32{0, 0, 1, 1, 2, 2}, 0)
	if err != nil {
		t.Fatal(err)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
	if !near(m.Accuracy, 4.0/6) || !near(m.MacroF1, (0.5+0.8+2.0/3)/3) || !near(m.WeightedF1, (0.5+0.8+2.0/3)/3) ||
		!near(m.MacroPrecision, (0.5+2.0/3+1)/3) || !near(m.MacroRecall, (0.5+1+0.5)/3) {
		t.Errorf("Score = %+v; want accuracy 2/3, macro F1 %v", m, (0.5+0.8+2.0/3)/3)
	}
	if want := [][]int{{1, 1, 0}, {0, 2, 0}, {1, 0, 1}}; !reflect.DeepEqual(m.Confusion, want) {
		t.Errorf("confusion = %v, want %v", m.Confusion, want)
	}
	if b := m.PerClass[1]; !near(b.Precision, 2.0/3) || b.Recall != 1 || !near(b.F1, 0.8) || b.Support != 2 {
		t.Errorf("per class b = %+v, want p 2/3, r 1, f1 0.8, support 2", b)
	}
	// A class neither true nor predicted is left out of the macro mean,
	// as scikit-learn does without labels=.
	h4, _ := NewMultiClassHead([]string{"a", "b", "c", "d"})
	var l4 []float32
	for _, p := range []int{0, 1, 1, 1, 0, 2} {
		l4 = append(l4, append(onehot(p), -5)...)
	}
	m4, _ := Score(h4, l4, []float32{0, 0, 1, 1, 2, 2}, 0)
	if !near(m4.MacroF1, m.MacroF1) {
		t.Errorf("macro F1 with an absent class = %v, want %v", m4.MacroF1, m.MacroF1)
	}
}

// TestScoreMultiLabel checks the multi-label scores, by hand:
//
//	truth     {a,b} {b}  {}   {a,c}
//	predicted {a}   {b}  {c}  {a,b,c}
//
// a: tp 2 fp 0 fn 0; b: tp 1 fp 1 fn 1; c: tp 1 fp 1 fn 0.
// micro: tp 4, fp 2, fn 1 -> p 4/6, r 4/5, f1 8/11. Macro F1: (1 + 1/2 + 2/3)/3.
// Subset accuracy 1/4 (row 2); Hamming loss (2+1+1... wrong cells 3)/12.
func TestScoreMultiLabel(t *testing.T) {
	h, _ := NewMultiLabelHead([]string{"a", "b", "c"})
	y := []float32{1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 1}
	z := []float32{3, -3, -3, -3, 3, -3, -3, -3, 3, 3, 3, 3}
	m, err := Score(h, z, y, 0)
	if err != nil {
		t.Fatal(err)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
	if m.Task != data.MultiLabel || !near(m.MicroF1, 8.0/11) || !near(m.MacroF1, (1+0.5+2.0/3)/3) ||
		!near(m.Accuracy, 0.25) || !near(m.HammingLoss, 3.0/12) || !near(m.Main(), 8.0/11) {
		t.Errorf("Score = %+v; want micro F1 8/11, macro F1 %v, subset accuracy 1/4, Hamming loss 3/12", m, (1+0.5+2.0/3)/3)
	}
	if want := [][]int{{2, 0, 0, 2}, {1, 1, 1, 1}, {2, 1, 0, 1}}; !reflect.DeepEqual(m.Confusion, want) {
		t.Errorf("confusion = %v, want %v ([tn fp fn tp] per label)", m.Confusion, want)
	}
	// Tallies of two halves merge to the tally of the whole.
	a, b := NewTally(h), NewTally(h)
	a.Add(h, z[:6], y[:6])
	b.Add(h, z[6:], y[6:])
	if err := a.Merge(b); err != nil {
		t.Fatal(err)
	}
	if got := a.Metrics(0); !reflect.DeepEqual(got.Confusion, m.Confusion) || got.N != 4 || got.Accuracy != m.Accuracy {
		t.Errorf("merged tally = %+v, want %+v", got, m)
	}
}
