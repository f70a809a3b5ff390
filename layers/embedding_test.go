package layers

import (
	"fmt"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestEmbeddingGradient(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	_, lens := randomMask(rng, 3, 5)
	ids := randomIDs(rng, 7, lens, 5)
	e := NewEmbedding(RandomEmbedding(7, 4, tensor.Float64, rng), true)
	worst := gradCheck(t, func(g *Graph) (*G.Node, error) {
		return e.Forward(g, G.NodeFromAny(g.ExprGraph, ids, G.WithName("ids")), nil)
	}, 0)
	t.Logf("embedding: worst relative error %.2g", worst)
}

func TestEmbeddingLookup(t *testing.T) {
	w := tensor.New(tensor.WithShape(4, 2), tensor.WithBacking([]float64{0, 0, 1, 2, 3, 4, 5, 6}))
	tests := []struct {
		ids  []int
		want []float64
		ok   bool
	}{
		{[]int{1, 3, 0, 2}, []float64{1, 2, 5, 6, 0, 0, 3, 4}, true},
		{[]int{1, 4, 0, 0}, nil, false}, // id 4 is outside a vocabulary of 4
	}
	for _, tc := range tests {
		g := NewGraph(tensor.Float64, false)
		ids := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(2, 2), tensor.WithBacking(tc.ids)), G.WithName("ids"))
		y, err := NewEmbedding(w, false).Forward(g, ids, nil)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := Compile(g, nil)
		err = m.Run(nil)
		m.Close()
		if (err == nil) != tc.ok {
			t.Errorf("lookup of %v: error %v, want error %v", tc.ids, err, !tc.ok)
			continue
		}
		if tc.ok {
			if got := y.Value().Data().([]float64); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("lookup of %v = %v, want %v", tc.ids, got, tc.want)
			}
		}
	}
}

func TestPaddingMask(t *testing.T) {
	got := PaddingMask([]int{4, 1, 0, 7, 0, 0}, 2, 3, tensor.Float32).Data().([]float32)
	if want := []float32{1, 1, 0, 1, 0, 0}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("PaddingMask = %v, want %v", got, want)
	}
}

func TestRandomEmbedding(t *testing.T) {
	w := RandomEmbedding(50, 4, tensor.Float64, rand.New(rand.NewSource(1))).Data().([]float64)
	for i, v := range w {
		if (i < 4 && v != 0) || v < -0.05 || v > 0.05 {
			t.Errorf("w[%d] = %v, want row 0 zero and U(-0.05, 0.05) elsewhere", i, v)
		}
	}
	again := RandomEmbedding(50, 4, tensor.Float64, rand.New(rand.NewSource(1))).Data().([]float64)
	if fmt.Sprint(again) != fmt.Sprint(w) {
		t.Errorf("same seed, different matrix")
	}
}
