package train

import (
	"fmt"
	"math"

	"github.com/classify/classify/layers"
	"gorgonia.org/tensor"
)

// SparseOptimizer updates a table from the gradient of the rows one batch
// used (layers.EmbeddingBag's SparseGrad), leaving every other row, and
// its optimizer state, untouched: a step costs what the batch's rows cost,
// not what the table costs.
type SparseOptimizer interface {
	// Step applies g to p. progress, in [0, 1], is the fraction of the
	// training done before this step.
	Step(p *layers.Param, g *layers.SparseGrad, progress float64) error
}

// SparseSGD is fastText's update: w_r -= lr·g_r for each row r of the
// batch, lr decaying linearly from LR at the start to 0 at the end of
// training (fastText's lr·(1 - progress)). It keeps no state.
type SparseSGD struct {
	LR float64
}

// Step applies one SGD step to the rows of g.
func (o *SparseSGD) Step(p *layers.Param, g *layers.SparseGrad, progress float64) error {
	lr := o.LR * (1 - min(max(progress, 0), 1))
	switch w := p.Value.Data().(type) {
	case []float32:
		return sgdRows(w, g, float32(lr), p.Value.Shape()[1])
	case []float64:
		return sgdRows(w, g, lr, p.Value.Shape()[1])
	}
	return fmt.Errorf("sparse sgd: %s of type %v, want float32 or float64", p.Name, p.Value.Dtype())
}

func sgdRows[F float32 | float64](w []F, g *layers.SparseGrad, lr F, dim int) error {
	vals, ok := g.Values.Data().([]F)
	if !ok || len(vals) < len(g.Rows)*dim {
		return fmt.Errorf("sparse sgd: gradient of type %v and shape %v for %d rows of %d", g.Values.Dtype(), g.Values.Shape(), len(g.Rows), dim)
	}
	for k, r := range g.Rows {
		row, gr := w[r*dim:(r+1)*dim], vals[k*dim:(k+1)*dim]
		for j := range row {
			row[j] -= lr * gr[j]
		}
	}
	return nil
}

// SparseAdam is PyTorch's torch.optim.SparseAdam: Adam whose moments move
// only for the rows a batch used,
//
//	m_r = b1·m_r + (1-b1)·g_r,  v_r = b2·v_r + (1-b2)·g_r²
//	w_r -= lr·sqrt(1-b2^t)/(1-b1^t) · m_r / (sqrt(v_r) + eps)
//
// t counting the steps taken on the table, used rows or not. It keeps two
// moments per value of the table, in the table's element type: twice the
// table's memory.
type SparseAdam struct {
	LR, Beta1, Beta2, Eps float64

	state map[*layers.Param]*sparseAdamState
}

type sparseAdamState struct {
	m, v any // []float32 or []float64, as the table
	step int
}

// NewSparseAdam makes a SparseAdam of learning rate lr and PyTorch's
// defaults: betas 0.9 and 0.999, eps 1e-8.
func NewSparseAdam(lr float64) *SparseAdam {
	return &SparseAdam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

// Step applies one Adam step to the rows of g. progress is not used.
func (o *SparseAdam) Step(p *layers.Param, g *layers.SparseGrad, _ float64) error {
	if o.state == nil {
		o.state = map[*layers.Param]*sparseAdamState{}
	}
	st := o.state[p]
	n := p.Value.Shape().TotalSize()
	if st == nil {
		st = &sparseAdamState{}
		switch p.Value.Dtype() {
		case tensor.Float32:
			st.m, st.v = make([]float32, n), make([]float32, n)
		case tensor.Float64:
			st.m, st.v = make([]float64, n), make([]float64, n)
		}
		o.state[p] = st
	}
	dim := p.Value.Shape()[1]
	st.step++
	t := float64(st.step)
	stepSize := o.LR * math.Sqrt(1-math.Pow(o.Beta2, t)) / (1 - math.Pow(o.Beta1, t))
	switch w := p.Value.Data().(type) {
	case []float32:
		return adamRows(w, g, st.m.([]float32), st.v.([]float32), o, stepSize, dim)
	case []float64:
		return adamRows(w, g, st.m.([]float64), st.v.([]float64), o, stepSize, dim)
	}
	return fmt.Errorf("sparse adam: %s of type %v, want float32 or float64", p.Name, p.Value.Dtype())
}

func adamRows[F float32 | float64](w []F, g *layers.SparseGrad, m, v []F, o *SparseAdam, stepSize float64, dim int) error {
	vals, ok := g.Values.Data().([]F)
	if !ok || len(vals) < len(g.Rows)*dim {
		return fmt.Errorf("sparse adam: gradient of type %v and shape %v for %d rows of %d", g.Values.Dtype(), g.Values.Shape(), len(g.Rows), dim)
	}
	b1, b2, eps, step := F(o.Beta1), F(o.Beta2), F(o.Eps), F(stepSize)
	for k, r := range g.Rows {
		gr := vals[k*dim : (k+1)*dim]
		for j, gj := range gr {
			i := r*dim + j
			m[i] = b1*m[i] + (1-b1)*gj
			v[i] = b2*v[i] + (1-b2)*gj*gj
			w[i] -= step * m[i] / (F(math.Sqrt(float64(v[i]))) + eps)
		}
	}
	return nil
}
