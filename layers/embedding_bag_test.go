package layers

import (
	"math"
	"math/rand"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// bagCase is a batch of bags over a table of 10 rows: a word repeated, a
// bag that shares rows with another, padding with ids outside the table,
// and an empty bag.
var bagCase = struct {
	ids     []int
	weights []float64
	B, L    int
}{
	ids:     []int{1, 1, 4, 9, 0, 4, 2, 99, -1, 99, 3, 7, 5, 6, 8, 0, 0, 0, 0, 0},
	weights: []float64{1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 2, 1, 1, 1, 0, 0, 0, 0, 0},
	B:       4, L: 5,
}

func bagGraph(t *testing.T, e *EmbeddingBag, dt tensor.Dtype, training bool) (*Graph, *G.Node) {
	t.Helper()
	g := NewGraph(dt, training)
	ids := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(bagCase.B, bagCase.L), tensor.WithBacking(append([]int(nil), bagCase.ids...))), G.WithName("ids"))
	w := G.NodeFromAny(g.ExprGraph, fromFloat64s(dt, bagCase.weights, bagCase.B, bagCase.L), G.WithName("weights"))
	y, err := e.Forward(g, ids, w)
	if err != nil {
		t.Fatal(err)
	}
	return g, y
}

// The bag is the weighted mean of its rows, written out.
func TestEmbeddingBagMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	e, err := NewEmbeddingBag(10, 3, tensor.Float64, rng, true)
	if err != nil {
		t.Fatal(err)
	}
	table := e.Table.Value.Data().([]float64)
	var want []float64
	for b := 0; b < bagCase.B; b++ {
		row, n := make([]float64, 3), 0.0
		for l := 0; l < bagCase.L; l++ {
			if w := bagCase.weights[b*bagCase.L+l]; w != 0 {
				n += w
				for d := range row {
					row[d] += w * table[bagCase.ids[b*bagCase.L+l]*3+d]
				}
			}
		}
		for d := range row {
			if n > 0 {
				row[d] /= n
			}
		}
		want = append(want, row...)
	}
	g, y := bagGraph(t, e, tensor.Float64, false)
	if got := runForward(t, g, y); !closeEnough(got, want, 1e-15) {
		t.Errorf("y = %v, want %v", got, want)
	}
}

// The gradient of the table agrees with finite differences, and
// SparseGrad holds exactly its nonzero rows.
func TestEmbeddingBagGradient(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	e, err := NewEmbeddingBag(10, 3, tensor.Float64, rng, true)
	if err != nil {
		t.Fatal(err)
	}
	worst := gradCheck(t, func(g *Graph) (*G.Node, error) {
		ids := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(bagCase.B, bagCase.L), tensor.WithBacking(append([]int(nil), bagCase.ids...))), G.WithName("ids"))
		w := G.NodeFromAny(g.ExprGraph, fromFloat64s(tensor.Float64, bagCase.weights, bagCase.B, bagCase.L), G.WithName("weights"))
		return e.Forward(g, ids, w)
	}, 0)
	t.Logf("worst relative error %.2g", worst)
	// Table.Grad is the first run's, SparseGrad the last finite-difference
	// run's: the bag is linear in the table, so the two are the same.
	dense := e.Table.Grad.Data().([]float64)
	sg := e.SparseGrad()
	values := sg.Values.Data().([]float64)
	inSparse := map[int]int{}
	for k, r := range sg.Rows {
		if _, dup := inSparse[r]; dup {
			t.Errorf("row %d twice in SparseGrad", r)
		}
		inSparse[r] = k
	}
	for r := 0; r < 10; r++ {
		k, ok := inSparse[r]
		for d := 0; d < 3; d++ {
			var got float64
			if ok {
				got = values[k*3+d]
			}
			if math.Abs(got-dense[r*3+d]) > 1e-15 {
				t.Errorf("SparseGrad row %d[%d] = %v, dense gradient %v", r, d, got, dense[r*3+d])
			}
		}
	}
	used := map[int]bool{}
	for i, id := range bagCase.ids {
		if bagCase.weights[i] != 0 {
			used[id] = true
		}
	}
	if len(sg.Rows) != len(used) {
		t.Errorf("SparseGrad has rows %v, want the %d rows the batch used", sg.Rows, len(used))
	}
}

// An id outside the table is an error, not a crash.
func TestEmbeddingBagBadID(t *testing.T) {
	e, err := NewEmbeddingBag(5, 2, tensor.Float64, rand.New(rand.NewSource(1)), false)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := bagGraph(t, e, tensor.Float64, false)
	m := G.NewTapeMachine(g.ExprGraph)
	defer m.Close()
	if err := m.RunAll(); err == nil || !strings.Contains(err.Error(), "id 9") {
		t.Errorf("RunAll with id 9 in a table of 5 rows: %v, want an error naming the id", err)
	}
}
