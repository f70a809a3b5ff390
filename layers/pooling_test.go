package layers

import (
	"fmt"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestPoolingForward(t *testing.T) {
	// Two rows of 3 steps, 2 features; the second row has 2 real steps.
	x := []float64{
		1, 6, 2, 5, 3, 4,
		-1, 0, -3, 2, 100, 100,
	}
	mask := []float64{1, 1, 1, 1, 1, 0}
	tests := []struct {
		mode PoolMode
		want []float64
	}{
		{PoolLast, []float64{3, 4, -3, 2}},
		{PoolMean, []float64{2, 5, -2, 1}},
		{PoolMax, []float64{3, 6, -1, 2}},
	}
	for _, tc := range tests {
		g := NewGraph(tensor.Float64, false)
		xn := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(2, 3, 2), tensor.WithBacking(x)), G.WithName("x"))
		mn := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(2, 3), tensor.WithBacking(mask)), G.WithName("mask"))
		y, err := NewPooling(tc.mode).Forward(g, xn, mn)
		if err != nil {
			t.Fatal(err)
		}
		m := G.NewTapeMachine(g.ExprGraph)
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		if got := y.Value().Data().([]float64); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%v pooling = %v, want %v", tc.mode, got, tc.want)
		}
		m.Close()
	}
}

func TestPoolingGradient(t *testing.T) {
	for _, mode := range []PoolMode{PoolLast, PoolMean, PoolMax, poolEnds} {
		t.Run(mode.String(), func(t *testing.T) {
			rng := rand.New(rand.NewSource(4))
			mask, _ := randomMask(rng, 4, 5)
			x := inputParam("x", rng, 4, 5, 6)
			worst := gradCheck(t, func(g *Graph) (*G.Node, error) {
				return pool(g, mode, 3, g.Param(x), G.NodeFromAny(g.ExprGraph, mask, G.WithName("mask")))
			}, 0)
			t.Logf("worst relative error %.2g", worst)
		})
	}
}
