package layers

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestSinusoidalValues(t *testing.T) {
	// Hand computed: for dim 4 the column pairs use p/1 and p/100.
	tests := []struct {
		pos, col int
		want     float64
	}{
		{0, 0, 0},
		{0, 1, 1},
		{0, 3, 1},
		{1, 0, 0.8414709848078965},   // sin 1
		{1, 1, 0.5403023058681398},   // cos 1
		{1, 2, 0.009999833334166665}, // sin 0.01
		{1, 3, 0.9999500004166653},   // cos 0.01
		{2, 1, -0.4161468365471424},  // cos 2
		{3, 2, 0.029995500202495664}, // sin 0.03
	}
	pe := NewSinusoidalEncoding(5, 4)
	for _, tc := range tests {
		if got := pe.sinusoid[tc.pos*4+tc.col]; math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("PE[%d,%d] = %.17g, want %.17g", tc.pos, tc.col, got, tc.want)
		}
	}
}

func TestPositionalForward(t *testing.T) {
	// x of zeros: the output is the table's first rows, for every batch row.
	pe := NewSinusoidalEncoding(10, 4)
	g := NewGraph(tensor.Float32, false)
	x := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(2, 3, 4), tensor.Of(tensor.Float32)), G.WithName("x"))
	y, err := pe.Forward(g, x, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g.ExprGraph)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	got := y.Value().Data().([]float32)
	for b := 0; b < 2; b++ {
		for j := 0; j < 12; j++ {
			if want := float32(pe.sinusoid[j]); got[b*12+j] != want {
				t.Errorf("y[%d][%d] = %v, want %v", b, j, got[b*12+j], want)
			}
		}
	}
	if _, err := pe.Forward(g, G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(1, 11, 4), tensor.Of(tensor.Float32))), nil); err == nil {
		t.Errorf("Forward on 11 steps with maxLen 10: no error")
	}
}

func TestPositionalGradient(t *testing.T) {
	for _, learned := range []bool{false, true} {
		t.Run(fmt.Sprint("learned=", learned), func(t *testing.T) {
			rng := rand.New(rand.NewSource(2))
			pe := NewSinusoidalEncoding(6, 4)
			if learned {
				pe = NewLearnedEncoding(6, 4, tensor.Float64, rng)
			}
			x := inputParam("x", rng, 2, 5, 4)
			worst := gradCheck(t, func(g *Graph) (*G.Node, error) {
				return pe.Forward(g, g.Param(x), nil)
			}, 0)
			t.Logf("worst relative error %.2g", worst)
		})
	}
}

// TestLearnedEncodingRange checks the learned table's Glorot-uniform draw:
// every value within sqrt(6/(maxLen+dim)), spread over the whole range
// (its largest magnitude near the bound, its mean near 0).
func TestLearnedEncodingRange(t *testing.T) {
	pe := NewLearnedEncoding(100, 128, tensor.Float64, rand.New(rand.NewSource(3)))
	limit := math.Sqrt(6.0 / 228)
	var most, sum float64
	w := pe.Table.Value.Data().([]float64)
	for _, x := range w {
		most = math.Max(most, math.Abs(x))
		sum += x
	}
	if most > limit || most < 0.99*limit {
		t.Errorf("largest |value| %v, want just under %v", most, limit)
	}
	if mean := sum / float64(len(w)); math.Abs(mean) > 0.01 {
		t.Errorf("mean %v, want about 0", mean)
	}
}
