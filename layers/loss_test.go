package layers

import (
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestBinaryCrossEntropy(t *testing.T) {
	// Per-example losses by hand: -log(sigmoid(z)) for y = 1,
	// -log(1 - sigmoid(z)) for y = 0.
	tests := []struct {
		z, y, want float64
	}{
		{0, 1, math.Ln2},
		{2, 0, 2.1269280110429727},
		{-3, 0, 0.04858735157374196},
		{1000, 1, 0}, // p = 1: Gorgonia's BinaryXent gives NaN here
		{1000, 0, 1000},
		{-1000, 1, 1000},
	}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		for _, tc := range tests {
			g := NewGraph(dt, false)
			z := G.NodeFromAny(g.ExprGraph, fromFloat64s(dt, []float64{tc.z, tc.z}, 2, 1), G.WithName("z"))
			y := G.NodeFromAny(g.ExprGraph, fromFloat64s(dt, []float64{tc.y, tc.y}, 2), G.WithName("y"))
			loss, err := BinaryCrossEntropy(z, y)
			if err != nil {
				t.Fatal(err)
			}
			m := G.NewTapeMachine(g.ExprGraph)
			if err := m.RunAll(); err != nil {
				t.Fatal(err)
			}
			var got float64
			switch v := loss.Value().Data().(type) {
			case float32:
				got = float64(v)
			case float64:
				got = v
			}
			if math.Abs(got-tc.want) > 1e-6*math.Max(1, tc.want) {
				t.Errorf("%v: loss(z=%v, y=%v) = %v, want %v", dt, tc.z, tc.y, got, tc.want)
			}
			m.Close()
		}
	}
}

func TestBinaryCrossEntropyGradient(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	z := inputParam("z", rng, 6)
	for i, v := range z.Value.Data().([]float64) {
		z.Value.Data().([]float64)[i] = 4 * v
	}
	y := tensor.New(tensor.WithShape(6), tensor.WithBacking([]float64{0, 1, 1, 0, 1, 0}))
	worst := gradCheck(t, func(g *Graph) (*G.Node, error) {
		return BinaryCrossEntropy(g.Param(z), G.NodeFromAny(g.ExprGraph, y, G.WithName("y")))
	}, 0)
	t.Logf("worst relative error %.2g", worst)
}
