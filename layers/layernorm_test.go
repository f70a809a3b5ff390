package layers

import (
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// runValues compiles g without a backward pass, runs it and returns y's
// values as float64s.
func runValues(t *testing.T, g *Graph, y *G.Node) []float64 {
	t.Helper()
	m, err := Compile(g, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Run(nil); err != nil {
		t.Fatal(err)
	}
	switch d := y.Value().Data().(type) {
	case []float64:
		return append([]float64{}, d...)
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	}
	t.Fatalf("output of type %v", y.Dtype())
	return nil
}

func TestLayerNormValues(t *testing.T) {
	// One row [1 2 3 4]: mean 2.5, biased variance 1.25; weight [1 2 1 1],
	// bias [0 0 0 1].
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		ln := NewLayerNorm("norm", 4, dt)
		ln.Weight.Value = fromFloat64s(dt, []float64{1, 2, 1, 1}, 4)
		ln.Bias.Value = fromFloat64s(dt, []float64{0, 0, 0, 1}, 4)
		g := NewGraph(dt, false)
		x := G.NodeFromAny(g.ExprGraph, fromFloat64s(dt, []float64{1, 2, 3, 4}, 1, 1, 4), G.WithName("x"))
		y, err := ln.Forward(g, x, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := runValues(t, g, y)
		s := 1 / math.Sqrt(1.25+1e-5)
		want := []float64{-1.5 * s, 2 * -0.5 * s, 0.5 * s, 1.5*s + 1}
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-6 {
				t.Errorf("%v: LayerNorm[%d] = %.8f, want %.8f", dt, i, got[i], want[i])
			}
		}
	}
}

func TestLayerNormGradient(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	ln := NewLayerNorm("norm", 5, tensor.Float64)
	ln.Weight.Value = tensor.New(tensor.WithShape(5), tensor.WithBacking(uniform(1, 5, 1, rng)))
	ln.Bias.Value = tensor.New(tensor.WithShape(5), tensor.WithBacking(uniform(1, 5, 1, rng)))
	x := inputParam("x", rng, 2, 3, 5)
	worst := gradCheck(t, func(g *Graph) (*G.Node, error) {
		return ln.Forward(g, g.Param(x), nil)
	}, 0)
	t.Logf("largest relative error %.2g", worst)
}
