package data

import (
	"math/rand"
	"sort"
)

// Batch is a block of encoded examples padded to a common length, ready for
// a model.
type Batch struct {
	// IDs holds Size rows of Len token ids, row-major; 0 is padding.
	IDs []int
	// Lengths holds the number of real tokens of each row (at least 1).
	Lengths []int
	// Labels holds each row's targets, Width values a row, row-major: the
	// label's index for a single-label task, 0 or 1 per label for a
	// multi-label one (LabelSet.Targets).
	Labels []float32
	// Width is the number of target values per row.
	Width int
	// Index holds the position of each row in the examples it was cut from.
	Index []int
	// Size is the number of rows, Len the padded length.
	Size, Len int
}

// bucketPool is how many batches' worth of examples Batches sorts by
// length at a time, as the PyTorch reference's --bucket does.
const bucketPool = 50

// Batches cuts seqs (with their labels, width values each) into batches of size rows, the
// last one possibly smaller, each padded with 0 to its longest row.
//
// With rng nil the batches take the examples in order. Otherwise, as the
// PyTorch reference's --bucket: the order is rng.Perm(len(seqs)); inside
// each pool of 50 batches' worth of that order the examples are sorted
// by length (stably); the result is cut into batches; and the batches are
// taken in the order of a second rng.Perm. Similar lengths share a batch,
// so little of it is padding.
func Batches(seqs [][]int, labels []float32, width, size int, rng *rand.Rand) []Batch {
	n := len(seqs)
	if size <= 0 {
		size = n
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	if rng != nil {
		order = rng.Perm(n)
		pool := bucketPool * size
		for s := 0; s < n; s += pool {
			p := order[s:min(s+pool, n)]
			sort.SliceStable(p, func(a, b int) bool { return len(seqs[p[a]]) < len(seqs[p[b]]) })
		}
	}
	var batches []Batch
	for s := 0; s < n; s += size {
		batches = append(batches, NewBatch(seqs, labels, width, order[s:min(s+size, n)]))
	}
	if rng != nil {
		shuffled := make([]Batch, len(batches))
		for i, j := range rng.Perm(len(batches)) {
			shuffled[i] = batches[j]
		}
		batches = shuffled
	}
	return batches
}

// LengthBatches cuts seqs into batches of size rows in order of length
// (stable, so the same input gives the same batches), for scoring: similar
// lengths keep padding small. Each batch's Index holds the rows' positions
// in seqs, so results can be put back in order.
func LengthBatches(seqs [][]int, labels []float32, width, size int) []Batch {
	order := make([]int, len(seqs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(seqs[order[a]]) < len(seqs[order[b]]) })
	var out []Batch
	for start := 0; start < len(order); start += size {
		out = append(out, NewBatch(seqs, labels, width, order[start:min(start+size, len(order))]))
	}
	return out
}

// NewBatch pads the rows idx of seqs into one batch, with their labels,
// width values each (0 where labels is too short, as for unlabelled texts).
func NewBatch(seqs [][]int, labels []float32, width int, idx []int) Batch {
	width = max(width, 1)
	b := Batch{Size: len(idx), Len: 1, Width: width, Index: append([]int(nil), idx...)}
	for _, i := range idx {
		b.Len = max(b.Len, len(seqs[i]))
	}
	b.IDs = make([]int, b.Size*b.Len)
	b.Lengths = make([]int, b.Size)
	b.Labels = make([]float32, b.Size*width)
	for r, i := range idx {
		copy(b.IDs[r*b.Len:], seqs[i])
		b.Lengths[r] = len(seqs[i])
		if (i+1)*width <= len(labels) {
			copy(b.Labels[r*width:(r+1)*width], labels[i*width:(i+1)*width])
		}
	}
	return b
}
