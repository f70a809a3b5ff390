package layers

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"os"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// convNaive is Conv1D written as its definition reads, in float64: for
// each row, width and filter, the largest of relu(bias + Σ W·window) over
// the windows that start in the text, the padding read as zeros.
func convNaive(c *Conv1D, x, mask []float64, B, T int) []float64 {
	D, M := c.dim, c.Maps
	y := make([]float64, B*c.Features())
	for b := 0; b < B; b++ {
		n := T
		for n > 0 && mask[b*T+n-1] == 0 {
			n--
		}
		at := func(t, d int) float64 {
			if t < n && mask[b*T+t] != 0 {
				return x[(b*T+t)*D+d]
			}
			return 0
		}
		for i, w := range c.Widths {
			wt := toFloat64s(c.Weights[i].Value.Data())
			bias := toFloat64s(c.Biases[i].Value.Data())
			for f := 0; f < M; f++ {
				best := math.Inf(-1)
				for t := 0; t < max(n-w+1, 1); t++ {
					z := bias[f]
					for d := 0; d < D; d++ {
						for k := 0; k < w; k++ {
							z += wt[(f*D+d)*w+k] * at(t+k, d)
						}
					}
					best = math.Max(best, math.Max(z, 0))
				}
				y[b*c.Features()+i*M+f] = best
			}
		}
	}
	return y
}

// convForward runs the layer over x and mask in a graph of type dt.
func convForward(t *testing.T, c *Conv1D, dt tensor.Dtype, x, mask []float64, B, T int) []float64 {
	t.Helper()
	g := NewGraph(dt, false)
	xn := G.NodeFromAny(g.ExprGraph, fromFloat64s(dt, x, B, T, c.dim), G.WithName("x"))
	mn := G.NodeFromAny(g.ExprGraph, fromFloat64s(dt, mask, B, T), G.WithName("mask"))
	y, err := c.Forward(g, xn, mn)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := []int(y.Shape()), c.OutputShape([]int{B, T, c.dim}); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("output shape %v, OutputShape says %v", got, want)
	}
	m := G.NewTapeMachine(g.ExprGraph)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	return toFloat64s(y.Value().Data())
}

// convMask has rows of the given lengths, padded at the end.
func convMask(T int, lengths []int) []float64 {
	m := make([]float64, len(lengths)*T)
	for b, n := range lengths {
		for t := 0; t < n; t++ {
			m[b*T+t] = 1
		}
	}
	return m
}

// The fused layer computes what the naive loops do, in both element types,
// with texts longer than, as long as and shorter than the widest filter,
// and an empty one; what the padding holds does not matter.
func TestConv1DMatchesNaive(t *testing.T) {
	for _, tc := range []struct {
		T       int
		widths  []int
		lengths []int
	}{
		{9, []int{3, 4, 5}, []int{9, 5, 4, 2, 1, 0}},
		{3, []int{3, 4, 5}, []int{3, 2}},
		{6, []int{1}, []int{6, 3}},
		{4, []int{2, 2}, []int{4, 4}},
	} {
		rng := rand.New(rand.NewSource(int64(tc.T)))
		const D, M = 7, 6
		B := len(tc.lengths)
		c, err := NewConv1D(D, tc.widths, M, tensor.Float64, rng)
		if err != nil {
			t.Fatal(err)
		}
		randomize(rng, c.Params()...)
		x := uniform(B*tc.T, D, 1, rng)
		mask := convMask(tc.T, tc.lengths)
		want := convNaive(c, x, mask, B, tc.T)
		if got := convForward(t, c, tensor.Float64, x, mask, B, tc.T); !closeEnough(got, want, 1e-12) {
			t.Errorf("T=%d widths %v float64: y = %v, want %v", tc.T, tc.widths, got, want)
		}
		c32, err := NewConv1D(D, tc.widths, M, tensor.Float32, rng)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range c.Params() {
			c32.Params()[i].Value = fromFloat64s(tensor.Float32, toFloat64s(p.Value.Data()), p.Value.Shape()...)
		}
		if got := convForward(t, c32, tensor.Float32, x, mask, B, tc.T); !closeEnough(got, want, 1e-5) {
			t.Errorf("T=%d widths %v float32: y = %v, want %v", tc.T, tc.widths, got, want)
		}
		for i := range x {
			if mask[i/D] == 0 {
				x[i] = 100 * x[i]
			}
		}
		if got := convForward(t, c, tensor.Float64, x, mask, B, tc.T); !closeEnough(got, want, 1e-12) {
			t.Errorf("T=%d widths %v: the padding's values change y", tc.T, tc.widths)
		}
	}
}

func closeEnough(got, want []float64, tol float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol*math.Max(1, math.Abs(want[i])) {
			return false
		}
	}
	return true
}

// The hand-written backward pass agrees with finite differences for x,
// the weights and the biases, with and without a mask, over rows shorter
// than the widest filter.
func TestConv1DGradient(t *testing.T) {
	for _, masked := range []bool{true, false} {
		rng := rand.New(rand.NewSource(31))
		const B, T, D, M = 3, 6, 4, 3
		c, err := NewConv1D(D, []int{2, 3, 5}, M, tensor.Float64, rng)
		if err != nil {
			t.Fatal(err)
		}
		randomize(rng, c.Params()...)
		x := inputParam("x", rng, B, T, D)
		worst := gradCheck(t, func(g *Graph) (*G.Node, error) {
			var mask *G.Node
			if masked {
				mask = G.NodeFromAny(g.ExprGraph, fromFloat64s(tensor.Float64, convMask(T, []int{6, 3, 1}), B, T), G.WithName("mask"))
			}
			return c.Forward(g, g.Param(x), mask)
		}, 0)
		t.Logf("masked=%v: worst relative error %.2g", masked, worst)
	}
}

// A graph whose input has nothing trainable upstream skips the input's
// gradient and still gets the weights' right.
func TestConv1DFrozenInput(t *testing.T) {
	rng := rand.New(rand.NewSource(32))
	c, err := NewConv1D(3, []int{2, 3}, 2, tensor.Float64, rng)
	if err != nil {
		t.Fatal(err)
	}
	x := inputParam("x", rng, 2, 4, 3)
	x.Trainable, x.Grad = false, nil
	gradCheck(t, func(g *Graph) (*G.Node, error) { return c.Forward(g, g.Param(x), nil) }, 0)
}

// The layer's outputs and gradients are PyTorch's (testdata/conv1d_golden.py).
func TestConv1DMatchesPyTorch(t *testing.T) {
	raw, err := os.ReadFile("testdata/conv1d_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Cases []struct {
			Batch, Time, Dim, Maps int
			Widths, Lengths        []int
			X, R, Y, DX            []float64
			Weights, Biases        [][]float64
			DWeights, DBiases      [][]float64
		}
	}
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatal(err)
	}
	for n, gc := range golden.Cases {
		B, T, D := gc.Batch, gc.Time, gc.Dim
		c, err := NewConv1D(D, gc.Widths, gc.Maps, tensor.Float64, rand.New(rand.NewSource(1)))
		if err != nil {
			t.Fatal(err)
		}
		for i := range gc.Widths {
			copy(c.Weights[i].Value.Data().([]float64), gc.Weights[i])
			copy(c.Biases[i].Value.Data().([]float64), gc.Biases[i])
		}
		x := NewParam("x", fromFloat64s(tensor.Float64, append([]float64(nil), gc.X...), B, T, D), true)
		g := NewGraph(tensor.Float64, true)
		mask := G.NodeFromAny(g.ExprGraph, fromFloat64s(tensor.Float64, convMask(T, gc.Lengths), B, T), G.WithName("mask"))
		y, err := c.Forward(g, g.Param(x), mask)
		if err != nil {
			t.Fatal(err)
		}
		r := G.NodeFromAny(g.ExprGraph, fromFloat64s(tensor.Float64, gc.R, y.Shape()...), G.WithName("r"))
		loss := G.Must(G.Sum(G.Must(G.HadamardProd(y, r))))
		_, nodes := g.Trainable()
		if _, err := G.Grad(loss, nodes...); err != nil {
			t.Fatal(err)
		}
		m := G.NewTapeMachine(g.ExprGraph, G.BindDualValues(nodes...))
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		m.Close()
		if err := g.ReadGrads(); err != nil {
			t.Fatal(err)
		}
		check := func(what string, got, want []float64) {
			t.Helper()
			if !closeEnough(got, want, 1e-12) {
				t.Errorf("case %d: %s = %v, PyTorch %v", n, what, got, want)
			}
		}
		check("y", toFloat64s(y.Value().Data()), gc.Y)
		for i := range gc.Widths {
			check(fmt.Sprintf("d convs.%d.weight", i), toFloat64s(c.Weights[i].Grad.Data()), gc.DWeights[i])
			check(fmt.Sprintf("d convs.%d.bias", i), toFloat64s(c.Biases[i].Grad.Data()), gc.DBiases[i])
		}
		// PyTorch's padding is the embedding's zero row, whose gradient the
		// layer does not compute: compare the real steps only.
		dx, want := toFloat64s(x.Grad.Data()), append([]float64(nil), gc.DX...)
		mk := convMask(T, gc.Lengths)
		for i := range want {
			if mk[i/D] == 0 {
				want[i] = 0
			}
		}
		check("dx", dx, want)
	}
}

func TestNewConv1DErrors(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, tc := range []struct {
		dim, maps int
		widths    []int
	}{{0, 1, []int{3}}, {3, 0, []int{3}}, {3, 1, nil}, {3, 1, []int{3, 0}}} {
		if _, err := NewConv1D(tc.dim, tc.widths, tc.maps, tensor.Float64, rng); err == nil {
			t.Errorf("NewConv1D(%d, %v, %d) gave no error", tc.dim, tc.widths, tc.maps)
		}
	}
}
