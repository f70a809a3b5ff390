package train

import (
	"math"
	"testing"

	"github.com/classify/classify/layers"
	"gorgonia.org/tensor"
)

func sparseGrad(rows []int, vals []float64, dim int) *layers.SparseGrad {
	return &layers.SparseGrad{Rows: rows, Values: tensor.New(tensor.WithShape(len(rows), dim), tensor.WithBacking(vals))}
}

// SparseAdam moves a table as torch.optim.SparseAdam does
// (testdata/sparse_adam_golden.py): rows outside a step's gradient keep
// their weights and moments.
func TestSparseAdamMatchesPyTorch(t *testing.T) {
	p := layers.NewParam("table", tensor.New(tensor.WithShape(4, 2),
		tensor.WithBacking([]float64{0.5, -1.0, 2.0, 0.25, -0.75, 1.5, 1.0, 1.0})), false)
	opt := NewSparseAdam(0.1)
	for _, s := range []*layers.SparseGrad{
		sparseGrad([]int{0, 2}, []float64{0.3, -0.2, 1.0, 0.5}, 2),
		sparseGrad([]int{2}, []float64{-0.4, 0.1}, 2),
		sparseGrad([]int{1, 0}, []float64{0.05, 0.0, 0.2, 0.3}, 2),
	} {
		if err := opt.Step(p, s, 0); err != nil {
			t.Fatal(err)
		}
	}
	want := []float64{0.316699081706476, -0.921264412875406, 1.936119044078788, 0.25, -0.884560543016782, 1.319696015228833, 1.0, 1.0}
	for i, got := range p.Value.Data().([]float64) {
		if math.Abs(got-want[i]) > 1e-13 {
			t.Errorf("w[%d] = %.15f, PyTorch %.15f", i, got, want[i])
		}
	}
}

// SparseSGD steps the rows of the gradient by lr·(1 - progress).
func TestSparseSGD(t *testing.T) {
	p := layers.NewParam("table", tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float32{1, 1, 1, 1, 1, 1})), false)
	opt := &SparseSGD{LR: 0.5}
	if err := opt.Step(p, &layers.SparseGrad{Rows: []int{2, 0},
		Values: tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float32{1, 2, -4, 0}))}, 0.25); err != nil {
		t.Fatal(err)
	}
	// lr 0.5·0.75 = 0.375: row 2 -= 0.375·[1 2], row 0 -= 0.375·[-4 0].
	want := []float32{2.5, 1, 1, 1, 0.625, 0.25}
	for i, got := range p.Value.Data().([]float32) {
		if got != want[i] {
			t.Errorf("w[%d] = %v, want %v", i, got, want[i])
		}
	}
	if err := opt.Step(p, &layers.SparseGrad{Rows: []int{1}, Values: tensor.New(tensor.WithShape(1, 2), tensor.WithBacking([]float64{1, 1}))}, 0); err == nil {
		t.Error("a float64 gradient for a float32 table gave no error")
	}
}
