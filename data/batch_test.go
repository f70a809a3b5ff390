package data

import (
	"math/rand"
	"reflect"
	"sort"
	"testing"
)

func TestBatchesInOrder(t *testing.T) {
	seqs := [][]int{{5, 6}, {7}, {8, 9, 10}, {11}, {12, 13}}
	labels := []float32{1, 0, 1, 0, 1}
	got := Batches(seqs, labels, 1, 2, nil)
	want := []Batch{
		{IDs: []int{5, 6, 7, 0}, Lengths: []int{2, 1}, Labels: []float32{1, 0}, Index: []int{0, 1}, Width: 1, Size: 2, Len: 2},
		{IDs: []int{8, 9, 10, 11, 0, 0}, Lengths: []int{3, 1}, Labels: []float32{1, 0}, Index: []int{2, 3}, Width: 1, Size: 2, Len: 3},
		{IDs: []int{12, 13}, Lengths: []int{2}, Labels: []float32{1}, Index: []int{4}, Width: 1, Size: 1, Len: 2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Batches(nil rng) =\n%+v\nwant\n%+v", got, want)
	}
}

func TestBatchesBucketed(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	const n, size = 1000, 8
	seqs := make([][]int, n)
	labels := make([]float32, n)
	for i := range seqs {
		seqs[i] = make([]int, 1+rng.Intn(60))
		for j := range seqs[i] {
			seqs[i][j] = i + 2
		}
		labels[i] = float32(i % 2)
	}
	batches := Batches(seqs, labels, 1, size, rand.New(rand.NewSource(42)))
	var seen []int
	padded, real := 0, 0
	for _, b := range batches {
		for r, i := range b.Index {
			row := b.IDs[r*b.Len : (r+1)*b.Len]
			if b.Lengths[r] != len(seqs[i]) || !reflect.DeepEqual(row[:b.Lengths[r]], seqs[i]) || b.Labels[r] != labels[i] {
				t.Fatalf("batch row %d: example %d is wrong", r, i)
			}
			for _, id := range row[b.Lengths[r]:] {
				if id != 0 {
					t.Fatalf("batch row %d: padding %v is not 0", r, row)
				}
			}
			real += b.Lengths[r]
		}
		padded += b.Size * b.Len
		seen = append(seen, b.Index...)
	}
	sort.Ints(seen)
	for i, j := range seen {
		if i != j {
			t.Fatalf("examples seen %v..., want each of 0..%d once", seen[:10], n-1)
		}
	}
	// Random batches of lengths U{1..60} are about 40% padding; sorted
	// pools of 400 leave a few percent.
	if waste := 1 - float64(real)/float64(padded); waste > 0.05 {
		t.Errorf("bucketed batches are %.1f%% padding, want < 5%%", 100*waste)
	}
	again := Batches(seqs, labels, 1, size, rand.New(rand.NewSource(42)))
	if !reflect.DeepEqual(batches, again) {
		t.Errorf("Batches with the same seed differ")
	}
	if other := Batches(seqs, labels, 1, size, rand.New(rand.NewSource(43))); reflect.DeepEqual(batches[0].Index, other[0].Index) {
		t.Errorf("Batches with seeds 42 and 43 start alike")
	}
}

func TestLengthBatches(t *testing.T) {
	seqs := [][]int{{5, 6, 7}, {8}, {9, 9}, {4}, {3, 3, 3, 3}}
	labels := []float32{1, 0, 1, 0, 1}
	got := LengthBatches(seqs, labels, 1, 2)
	wantIndex := [][]int{{1, 3}, {2, 0}, {4}}
	wantLen := []int{1, 3, 4}
	if len(got) != len(wantIndex) {
		t.Fatalf("LengthBatches gave %d batches, want %d", len(got), len(wantIndex))
	}
	for k, b := range got {
		if !reflect.DeepEqual(b.Index, wantIndex[k]) || b.Len != wantLen[k] {
			t.Errorf("batch %d: Index %v, Len %d; want %v, %d", k, b.Index, b.Len, wantIndex[k], wantLen[k])
		}
		for r, i := range b.Index {
			if b.Labels[r] != labels[i] || b.IDs[r*b.Len] != seqs[i][0] {
				t.Errorf("batch %d row %d does not hold sequence %d", k, r, i)
			}
		}
	}
}

// TestBatchesWidth cuts multi-label targets, two a row, with their rows.
func TestBatchesWidth(t *testing.T) {
	seqs := [][]int{{5}, {6, 7}, {8}}
	labels := []float32{1, 0, 0, 1, 1, 1}
	got := LengthBatches(seqs, labels, 2, 2)
	if want := []float32{1, 0, 1, 1}; !reflect.DeepEqual(got[0].Labels, want) || got[0].Width != 2 {
		t.Errorf("LengthBatches(width 2)[0] = labels %v, width %d; want %v, 2", got[0].Labels, got[0].Width, want)
	}
	if want := []float32{0, 1}; !reflect.DeepEqual(got[1].Labels, want) {
		t.Errorf("LengthBatches(width 2)[1] = labels %v; want %v", got[1].Labels, want)
	}
}
