package wordvec

import (
	"container/heap"
	"fmt"
	"math"
)

// Index answers nearest-neighbour and analogy queries over word vectors by
// cosine similarity. It holds a unit-length copy of every vector.
type Index struct {
	words []string
	dim   int
	unit  []float32
	ids   map[string]int
}

// Neighbor is a word and its cosine similarity to a query.
type Neighbor struct {
	Word       string
	Similarity float64
}

// NewIndex indexes len(words) vectors of dim values held row-major in
// values (the fields of data.Vectors or Vectors). A zero vector stays
// zero and is similar to nothing. When a word appears twice the first
// row answers for it.
func NewIndex(words []string, dim int, values []float32) (*Index, error) {
	if dim < 1 || len(values) != len(words)*dim {
		return nil, fmt.Errorf("vectors hold %d values, want %d words × %d", len(values), len(words), dim)
	}
	ix := &Index{words: words, dim: dim, unit: make([]float32, len(values)), ids: make(map[string]int, len(words))}
	for i, w := range words {
		if _, ok := ix.ids[w]; !ok {
			ix.ids[w] = i
		}
		row := values[i*dim : (i+1)*dim]
		var n float64
		for _, x := range row {
			n += float64(x) * float64(x)
		}
		if n == 0 {
			continue
		}
		inv := float32(1 / math.Sqrt(n))
		for j, x := range row {
			ix.unit[i*dim+j] = x * inv
		}
	}
	return ix, nil
}

// Contains reports whether word has a vector.
func (ix *Index) Contains(word string) bool { _, ok := ix.ids[word]; return ok }

// Neighbors returns the k words most similar to word, most similar first,
// leaving word itself out.
func (ix *Index) Neighbors(word string, k int) ([]Neighbor, error) {
	i, ok := ix.ids[word]
	if !ok {
		return nil, fmt.Errorf("word %q has no vector", word)
	}
	return ix.nearest(ix.row(i), k, map[int]bool{i: true}), nil
}

// Analogy returns the k words d that best complete a : b :: c : d by
// 3CosAdd (Mikolov et al. 2013): the words most similar to b - a + c, the
// three query words left out. The similarity reported is the cosine with
// the normalised b - a + c.
func (ix *Index) Analogy(a, b, c string, k int) ([]Neighbor, error) {
	q := make([]float32, ix.dim)
	skip := map[int]bool{}
	for _, t := range []struct {
		word string
		sign float32
	}{{a, -1}, {b, 1}, {c, 1}} {
		i, ok := ix.ids[t.word]
		if !ok {
			return nil, fmt.Errorf("word %q has no vector", t.word)
		}
		skip[i] = true
		axpy(t.sign, ix.row(i), q)
	}
	var n float64
	for _, x := range q {
		n += float64(x) * float64(x)
	}
	if n > 0 {
		inv := float32(1 / math.Sqrt(n))
		for j := range q {
			q[j] *= inv
		}
	}
	return ix.nearest(q, k, skip), nil
}

func (ix *Index) row(i int) []float32 { return ix.unit[i*ix.dim : (i+1)*ix.dim] }

// nearest returns the k rows most similar to the unit vector q, skipping
// the rows in skip; ties go to the more frequent (earlier) word.
func (ix *Index) nearest(q []float32, k int, skip map[int]bool) []Neighbor {
	if k <= 0 {
		return nil
	}
	h := &topK{}
	for i := range ix.words {
		if skip[i] {
			continue
		}
		s := dot(q, ix.row(i))
		if h.Len() < k {
			heap.Push(h, scored{i, s})
		} else if s > (*h)[0].sim {
			(*h)[0] = scored{i, s}
			heap.Fix(h, 0)
		}
	}
	out := make([]Neighbor, h.Len())
	for n := len(out) - 1; n >= 0; n-- {
		e := heap.Pop(h).(scored)
		out[n] = Neighbor{Word: ix.words[e.id], Similarity: float64(e.sim)}
	}
	return out
}

type scored struct {
	id  int
	sim float32
}

// topK is a min-heap of the best scores so far; among equal scores the
// later word is the smaller, so that it leaves first.
type topK []scored

func (h topK) Len() int { return len(h) }
func (h topK) Less(a, b int) bool {
	if h[a].sim != h[b].sim {
		return h[a].sim < h[b].sim
	}
	return h[a].id > h[b].id
}
func (h topK) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *topK) Push(x any)   { *h = append(*h, x.(scored)) }
func (h *topK) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
