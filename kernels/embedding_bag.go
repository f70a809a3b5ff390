package kernels

// EmbeddingBag is the kernel of fastText's input layer, PyTorch's
// nn.EmbeddingBag(mode="mean") with per-entry weights: each of B bags of
// up to L ids gives the weighted mean of its table rows,
//
//	y_b = Σ_l w_bl table[ids_bl] / Σ_l w_bl,
//
// over the entries of nonzero weight (a mask of ones gives the plain mean;
// a bag with no entry gives zeros). Backward is sparse: it leaves the
// gradient of the rows the batch used, and of no other, in Rows and Grads.
type EmbeddingBag[F Float] struct {
	// Dim is the width of a row.
	Dim int
	// Rows are the distinct table rows the last Backward's batch used, in
	// order of first use, and Grads their gradients, [len(Rows), Dim].
	Rows  []int
	Grads []F

	b, l  int
	ids   []int
	scale []F     // [B*L] w_bl / Σ_l w_bl, 0 for a skipped entry
	slot  []int32 // per table row, its index in Rows + 1; 0 for none
}

// NewEmbeddingBag makes the kernel for rows of dim values.
func NewEmbeddingBag[F Float](dim int) *EmbeddingBag[F] { return &EmbeddingBag[F]{Dim: dim} }

// Forward computes y [B, Dim] from table [rows, Dim], ids [B, L] and
// weights [B, L]. Entries of weight 0 are skipped, whatever their id; the
// others must be rows of the table. It keeps what Backward needs.
func (e *EmbeddingBag[F]) Forward(table []F, ids []int, weights []F, B, L int, y []F) {
	D := e.Dim
	e.b, e.l = B, L
	e.ids = append(e.ids[:0], ids[:B*L]...)
	e.scale = resized(e.scale, B*L)
	for b := 0; b < B; b++ {
		yb := y[b*D : (b+1)*D]
		clear(yb)
		var sum F
		for _, w := range weights[b*L : (b+1)*L] {
			sum += w
		}
		sc := e.scale[b*L : (b+1)*L]
		for l, w := range weights[b*L : (b+1)*L] {
			if w == 0 || sum == 0 {
				sc[l] = 0
				continue
			}
			sc[l] = w / sum
			r := ids[b*L+l]
			axpy(sc[l], table[r*D:(r+1)*D], yb)
		}
	}
}

// Backward takes dy [B, Dim], the gradient of the loss with respect to the
// last Forward's y, and leaves in Rows and Grads the gradient of every
// table row that Forward read; rows is the table's number of rows.
func (e *EmbeddingBag[F]) Backward(dy []F, rows int) {
	D := e.Dim
	if len(e.slot) < rows {
		e.slot = make([]int32, rows)
	}
	for _, r := range e.Rows {
		e.slot[r] = 0
	}
	e.Rows = e.Rows[:0]
	n := 0
	for i, s := range e.scale[:e.b*e.l] {
		if s != 0 && e.slot[e.ids[i]] == 0 {
			n++
			e.slot[e.ids[i]] = -1 // counted
		}
	}
	e.Grads = resized(e.Grads, n*D)
	clear(e.Grads)
	for i, s := range e.scale[:e.b*e.l] {
		if s == 0 {
			continue
		}
		r := e.ids[i]
		if e.slot[r] < 0 {
			e.Rows = append(e.Rows, r)
			e.slot[r] = int32(len(e.Rows))
		}
		k := int(e.slot[r]) - 1
		b := i / e.l
		axpy(s, dy[b*D:(b+1)*D], e.Grads[k*D:(k+1)*D])
	}
}
