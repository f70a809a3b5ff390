package layers

import (
	"fmt"

	"github.com/classify/classify/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// applyEmbeddingBag adds the fused bag (op.go) over the kernels package's
// EmbeddingBag: inputs ids [B,L], weights [B,L], table [N,D]; the table is
// differentiated when trainable, and each backward pass also leaves its
// gradient over the used rows in sparse.
func applyEmbeddingBag(ids, weights, table *G.Node, trainable bool, sparse *SparseGrad) (*G.Node, error) {
	out := tensor.Shape{ids.Shape()[0], table.Shape()[1]}
	diff := []bool{false, false, trainable}
	switch table.Dtype() {
	case tensor.Float32:
		return applyFused("EmbeddingBag", newBagRun[float32](table.Shape(), sparse), out, diff, ids, weights, table)
	case tensor.Float64:
		return applyFused("EmbeddingBag", newBagRun[float64](table.Shape(), sparse), out, diff, ids, weights, table)
	}
	return nil, dtypeError("embedding bag", table.Dtype())
}

// bagRun is the fused op's kernel. Gorgonia wants the table's gradient as
// a dense [N, D] tensor: the run keeps one and clears only the rows the
// previous pass wrote, so that a pass costs what its rows cost.
type bagRun[F float] struct {
	kn      *kernels.EmbeddingBag[F]
	rows    int
	out     *tensor.Dense
	dense   *tensor.Dense
	written []int
	sparse  *SparseGrad
}

func newBagRun[F float](table tensor.Shape, sparse *SparseGrad) *bagRun[F] {
	return &bagRun[F]{kn: kernels.NewEmbeddingBag[F](table[1]), rows: table[0], sparse: sparse}
}

func (r *bagRun[F]) forward(in []G.Value) (G.Value, error) {
	s := in[0].Shape()
	B, L := s[0], s[1]
	ids, ok := in[0].Data().([]int)
	if !ok {
		return nil, fmt.Errorf("embedding bag: ids of type %v, want int", in[0].Dtype())
	}
	w, err := data[F](in[1])
	if err != nil {
		return nil, fmt.Errorf("embedding bag weights: %w", err)
	}
	table, err := data[F](in[2])
	if err != nil {
		return nil, fmt.Errorf("embedding bag table: %w", err)
	}
	for i, id := range ids[:B*L] {
		if w[i] != 0 && (id < 0 || id >= r.rows) {
			return nil, fmt.Errorf("embedding bag: id %d in row %d of the batch, want one in [0, %d)", id, i/L, r.rows)
		}
	}
	r.out = reuse[F](r.out, B, r.kn.Dim)
	r.kn.Forward(table, ids, w, B, L, r.out.Data().([]F))
	return r.out, nil
}

func (r *bagRun[F]) differentiated() {}

func (r *bagRun[F]) backward(_ []G.Value, _, dy G.Value) error {
	g, err := data[F](dy)
	if err != nil {
		return fmt.Errorf("embedding bag output gradient: %w", err)
	}
	D := r.kn.Dim
	r.kn.Backward(g, r.rows)
	if r.sparse != nil {
		r.sparse.Rows = append(r.sparse.Rows[:0], r.kn.Rows...)
		r.sparse.Values = reuse[F](r.sparse.Values, len(r.kn.Rows), D)
		copy(r.sparse.Values.Data().([]F), r.kn.Grads)
	}
	if r.dense == nil {
		r.dense = newTensor(dtypeOf[F](), r.rows, D)
	}
	d := r.dense.Data().([]F)
	for _, row := range r.written {
		clear(d[row*D : (row+1)*D])
	}
	for k, row := range r.kn.Rows {
		copy(d[row*D:(row+1)*D], r.kn.Grads[k*D:(k+1)*D])
	}
	r.written = append(r.written[:0], r.kn.Rows...)
	return nil
}

func (r *bagRun[F]) grad(i int) (G.Value, error) {
	if i != 2 || r.dense == nil {
		return nil, fmt.Errorf("embedding bag: gradient of input %d before a backward pass", i)
	}
	return r.dense, nil
}
