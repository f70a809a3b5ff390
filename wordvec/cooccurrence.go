package wordvec

import "slices"

// Cooccurrence is a sparse symmetric co-occurrence matrix X: X[i][j] sums
// 1/distance over every time words i and j appear within a window of each
// other in one sentence, as glove.c's cooccur with its default symmetric
// window and distance weighting.
//
// It stores each unordered pair once, as a sorted array of 12 bytes an
// entry, and gathers new pairs in a hash map that it merges into the
// array whenever the map outgrows a quarter of it: memory is about 12
// bytes per distinct pair, plus the map.
type Cooccurrence struct {
	keys []uint64 // i<<32 | j with i <= j, sorted
	vals []float32
	// pending gathers pairs not yet merged.
	pending    map[uint64]float32
	minPending int
}

// NewCooccurrence returns an empty matrix.
func NewCooccurrence() *Cooccurrence {
	return &Cooccurrence{pending: make(map[uint64]float32), minPending: 1 << 20}
}

func pairKey(i, j int32) uint64 {
	if i > j {
		i, j = j, i
	}
	return uint64(uint32(i))<<32 | uint64(uint32(j))
}

// Add adds w to X[i][j] and to X[j][i]; for i == j it adds 2w, the two
// halves of glove.c's symmetric count.
func (c *Cooccurrence) Add(i, j int32, w float32) {
	if i == j {
		w *= 2
	}
	c.pending[pairKey(i, j)] += w
	if len(c.pending) >= max(c.minPending, len(c.keys)/4) {
		c.flush()
	}
}

// AddSentence counts the pairs of a sentence: every two words at most
// window apart, weighted by the inverse of their distance.
func (c *Cooccurrence) AddSentence(ids []int32, window int) {
	for i, w := range ids {
		for j := max(0, i-window); j < i; j++ {
			c.Add(ids[j], w, 1/float32(i-j))
		}
	}
}

// flush merges the pending pairs into the sorted arrays.
func (c *Cooccurrence) flush() {
	if len(c.pending) == 0 {
		return
	}
	add := make([]uint64, 0, len(c.pending))
	for k := range c.pending {
		add = append(add, k)
	}
	slices.Sort(add)
	// Merge from the back into the grown arrays; pairs already present sum.
	n, m := len(c.keys), len(add)
	c.keys = slices.Grow(c.keys, m)[:n+m]
	c.vals = slices.Grow(c.vals, m)[:n+m]
	i, j, o := n-1, m-1, n+m-1
	for j >= 0 {
		switch {
		case i >= 0 && c.keys[i] > add[j]:
			c.keys[o], c.vals[o] = c.keys[i], c.vals[i]
			i--
		case i >= 0 && c.keys[i] == add[j]:
			c.keys[o], c.vals[o] = c.keys[i], c.vals[i]+c.pending[add[j]]
			i--
			j--
		default:
			c.keys[o], c.vals[o] = add[j], c.pending[add[j]]
			j--
		}
		o--
	}
	// Entries 0..i are in place already; shift the merged tail down over
	// the gap that summed duplicates left.
	if gap := o - i; gap > 0 {
		copy(c.keys[i+1:], c.keys[o+1:])
		copy(c.vals[i+1:], c.vals[o+1:])
		c.keys = c.keys[:n+m-gap]
		c.vals = c.vals[:n+m-gap]
	}
	clear(c.pending)
}

// Len returns the number of distinct unordered pairs.
func (c *Cooccurrence) Len() int {
	c.flush()
	return len(c.keys)
}

// Bytes returns the memory the matrix holds, its arrays' capacity.
func (c *Cooccurrence) Bytes() int64 {
	return int64(cap(c.keys))*8 + int64(cap(c.vals))*4
}

// At returns X[i][j].
func (c *Cooccurrence) At(i, j int32) float32 {
	c.flush()
	k := pairKey(i, j)
	if n, ok := slices.BinarySearch(c.keys, k); ok {
		return c.vals[n]
	}
	return 0
}

// Each calls fn with each stored pair, i <= j, in order.
func (c *Cooccurrence) Each(fn func(i, j int32, x float32)) {
	c.flush()
	for n, k := range c.keys {
		fn(int32(k>>32), int32(uint32(k)), c.vals[n])
	}
}
