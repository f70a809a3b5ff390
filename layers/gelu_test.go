package layers

import (
	"math"
	"math/rand"
	"testing"

	"github.com/classify/classify/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestGELUValues(t *testing.T) {
	// x·Φ(x) with Φ from tables of the normal distribution:
	// Φ(1) = 0.8413447460685429, Φ(-1) = 0.15865525393145707,
	// Φ(0.5) = 0.6914624612740131, Φ(-3) = 0.0013498980316301.
	in := []float64{0, 1, -1, 0.5, -3}
	want := []float64{0, 0.8413447460685429, -0.15865525393145707, 0.34573123063700656, -3 * 0.0013498980316301}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		g := NewGraph(dt, false)
		x := G.NodeFromAny(g.ExprGraph, fromFloat64s(dt, in, len(in)), G.WithName("x"))
		y, err := NewGELU().Forward(g, x, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := runValues(t, g, y)
		tol := 1e-12
		if dt == tensor.Float32 {
			tol = 3e-7
		}
		for i := range want {
			if math.Abs(got[i]-want[i]) > tol {
				t.Errorf("%v: GELU(%v) = %.9g, want %.9g", dt, in[i], got[i], want[i])
			}
		}
	}
}

// TestGELUFloat32 compares the float32 approximation with the float64
// erf GELU and its derivative over [-10, 10].
func TestGELUFloat32(t *testing.T) {
	var x32 []float32
	var x64 []float64
	for v := -10.0; v <= 10; v += 0.001 {
		x32 = append(x32, float32(v))
		x64 = append(x64, float64(float32(v)))
	}
	y32, y64 := make([]float32, len(x32)), make([]float64, len(x64))
	kernels.GELU(x32, y32)
	kernels.GELU(x64, y64)
	ones32, ones64 := make([]float32, len(x32)), make([]float64, len(x64))
	for i := range ones32 {
		ones32[i], ones64[i] = 1, 1
	}
	d32, d64 := make([]float32, len(x32)), make([]float64, len(x64))
	kernels.GELUBackward(x32, ones32, d32)
	kernels.GELUBackward(x64, ones64, d64)
	for i := range x32 {
		if e := math.Abs(float64(y32[i]) - y64[i]); e > 1e-6*math.Max(1, math.Abs(y64[i])) {
			t.Fatalf("GELU(%v) float32 %.9g, float64 %.9g", x32[i], y32[i], y64[i])
		}
		if e := math.Abs(float64(d32[i]) - d64[i]); e > 1e-6 {
			t.Fatalf("GELU'(%v) float32 %.9g, float64 %.9g", x32[i], d32[i], d64[i])
		}
	}
}

func TestGELUGradient(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	x := NewParam("x", tensor.New(tensor.WithShape(3, 7), tensor.WithBacking(uniform(3, 7, 3, rng))), true)
	gradCheck(t, func(g *Graph) (*G.Node, error) {
		return NewGELU().Forward(g, g.Param(x), nil)
	}, 0)
}
