package layers

import (
	"fmt"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestDenseGradient(t *testing.T) {
	for _, act := range []Activation{Linear, Sigmoid, Tanh, ReLU} {
		for _, shape := range [][]int{{3, 5}, {2, 3, 5}} {
			t.Run(fmt.Sprint(act, shape), func(t *testing.T) {
				rng := rand.New(rand.NewSource(3))
				d := NewDense(5, 4, act, tensor.Float64, rng)
				// A nonzero bias, so that its gradient path is exercised.
				for i := range d.Bias.Value.Data().([]float64) {
					d.Bias.Value.Data().([]float64)[i] = rng.Float64() - 0.5
				}
				x := inputParam("x", rng, shape...)
				worst := gradCheck(t, func(g *Graph) (*G.Node, error) { return d.Forward(g, g.Param(x), nil) }, 0)
				t.Logf("shape %v: worst relative error %.2g", shape, worst)
			})
		}
	}
}

func TestDenseForward(t *testing.T) {
	// y = x·Wᵀ + b by hand: W = [[1 2] [3 4] [5 6]], b = [1 0 -1], x = [1 -1].
	d := NewDense(2, 3, Linear, tensor.Float64, rand.New(rand.NewSource(1)))
	copy(d.Weight.Value.Data().([]float64), []float64{1, 2, 3, 4, 5, 6})
	copy(d.Bias.Value.Data().([]float64), []float64{1, 0, -1})
	g := NewGraph(tensor.Float64, false)
	x := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(1, 2), tensor.WithBacking([]float64{1, -1})), G.WithName("x"))
	y, err := d.Forward(g, x, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g.ExprGraph)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	want := []float64{0, -1, -2}
	got := y.Value().Data().([]float64)
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("y = %v, want %v", got, want)
			break
		}
	}
}
