package train

import (
	"math"

	"github.com/classify/classify/data"
	"github.com/classify/classify/layers"
	"gorgonia.org/tensor"
)

// toyModel is logistic regression on the mean of per-token weights,
// z = b + mean(w[id] over the real tokens), with a hand-written gradient:
// a Model that needs nothing from models/ or Gorgonia graphs.
type toyModel struct {
	w, b *layers.Param
}

func newToyModel(vocab int) *toyModel {
	return &toyModel{
		w: layers.NewParam("w", tensor.New(tensor.WithShape(vocab), tensor.Of(tensor.Float32)), true),
		b: layers.NewParam("b", tensor.New(tensor.WithShape(1), tensor.Of(tensor.Float32)), true),
	}
}

func (m *toyModel) Params() []*layers.Param { return []*layers.Param{m.w, m.b} }

func (m *toyModel) Head() Head { return binary01 }

// logit is the model's score of one sequence, computed row by row without
// batches: the reference that Predict and Evaluate are checked against.
func (m *toyModel) logit(seq []int) float64 {
	w := m.w.Value.Data().([]float32)
	z := float64(m.b.Value.Data().([]float32)[0])
	var s float64
	for _, id := range seq {
		s += float64(w[id])
	}
	return z + s/float64(len(seq))
}

func (m *toyModel) Forward(b *data.Batch, training bool) (float64, []float32, error) {
	w := m.w.Value.Data().([]float32)
	bias := float64(m.b.Value.Data().([]float32)[0])
	var gw, gb []float32
	if training {
		gw, gb = m.w.Grad.Data().([]float32), m.b.Grad.Data().([]float32)
		clear(gw)
		clear(gb)
	}
	logits := make([]float32, b.Size)
	var loss float64
	for r := 0; r < b.Size; r++ {
		row := b.IDs[r*b.Len : r*b.Len+b.Lengths[r]]
		var s float64
		for _, id := range row {
			s += float64(w[id])
		}
		n := float64(len(row))
		z := bias + s/n
		y := float64(b.Labels[r])
		loss += math.Max(z, 0) - z*y + math.Log1p(math.Exp(-math.Abs(z)))
		logits[r] = float32(z)
		if training {
			dz := (1/(1+math.Exp(-z)) - y) / float64(b.Size)
			gb[0] += float32(dz)
			for _, id := range row {
				gw[id] += float32(dz / n)
			}
		}
	}
	return loss / float64(b.Size), logits, nil
}

// toyData makes n examples over a vocabulary of 20 ids: ids 2..10 lean
// positive and 11..19 negative, lengths vary from 1 to 12, and one label in
// ten is flipped so that the task is not perfectly separable.
func toyData(n int, seed uint64) ([][]int, []float32) {
	s := seed
	next := func(k int) int { // a small LCG, independent of math/rand
		s = s*6364136223846793005 + 1442695040888963407
		return int(s>>33) % k
	}
	seqs := make([][]int, n)
	labels := make([]float32, n)
	for i := range seqs {
		y := next(2)
		l := 1 + next(12)
		seq := make([]int, l)
		for j := range seq {
			if next(4) == 0 {
				seq[j] = 2 + next(18) // noise word
			} else if y == 1 {
				seq[j] = 2 + next(9)
			} else {
				seq[j] = 11 + next(9)
			}
		}
		if next(10) == 0 {
			y = 1 - y
		}
		seqs[i], labels[i] = seq, float32(y)
	}
	return seqs, labels
}
