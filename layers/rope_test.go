package layers

import (
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestRotaryValues rotates a known vector by hand: head width 4, so the
// pair (0, 1) turns by m·1 rad and the pair (2, 3) by m·10000^(-1/2) =
// m/100 rad at position m.
func TestRotaryValues(t *testing.T) {
	in := []float64{
		1, 0, 1, 0, // position 0: no rotation
		1, 0, 1, 0, // position 1
		0, 2, 3, 4, // position 2
	}
	c1, s1 := math.Cos(1), math.Sin(1)
	c2, s2 := math.Cos(2), math.Sin(2)
	c02, s02 := math.Cos(0.02), math.Sin(0.02)
	want := []float64{
		1, 0, 1, 0,
		c1, s1, math.Cos(0.01), math.Sin(0.01),
		-2 * s2, 2 * c2, 3*c02 - 4*s02, 3*s02 + 4*c02,
	}
	g := NewGraph(tensor.Float64, false)
	x := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(1, 3, 4), tensor.WithBacking(in)), G.WithName("x"))
	y, err := NewRotary(4).Forward(g, x, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := runValues(t, g, y)
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Errorf("rotated[%d] = %.12f, want %.12f", i, got[i], want[i])
		}
	}
}

// TestRotaryRelative checks the property RoPE is built for: the product
// of a query at position m and a key at position n depends on m - n only.
func TestRotaryRelative(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	q, k := uniform(1, 8, 1, rng), uniform(1, 8, 1, rng)
	const T = 12
	var in []float64
	for p := 0; p < T; p++ {
		in = append(in, q...)
	}
	for p := 0; p < T; p++ {
		in = append(in, k...)
	}
	g := NewGraph(tensor.Float64, false)
	x := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(2, T, 8), tensor.WithBacking(in)), G.WithName("x"))
	y, err := NewRotary(4).Forward(g, x, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := runValues(t, g, y)
	dot := func(m, n int) float64 {
		var s float64
		for c := 0; c < 8; c++ {
			s += r[m*8+c] * r[(T+n)*8+c]
		}
		return s
	}
	for _, c := range [][4]int{{3, 1, 7, 5}, {0, 4, 6, 10}, {11, 11, 2, 2}} {
		if a, b := dot(c[0], c[1]), dot(c[2], c[3]); math.Abs(a-b) > 1e-12 {
			t.Errorf("q(%d)·k(%d) = %v, q(%d)·k(%d) = %v: want equal", c[0], c[1], a, c[2], c[3], b)
		}
	}
}

func TestRotaryGradient(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	x := inputParam("x", rng, 2, 5, 8)
	gradCheck(t, func(g *Graph) (*G.Node, error) {
		return NewRotary(4).Forward(g, g.Param(x), nil)
	}, 0)
}
