package layers

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestPreNormMatchesNodes checks the block's fused halves (preNorm)
// against the same block as separate nodes, norm, sublayer and sum each:
// outputs and every gradient, in float64, with padding and dropout on
// (the masks repeat for one seed), for each position scheme in the
// attention.
func TestPreNormMatchesNodes(t *testing.T) {
	const B, T, D = 3, 6, 8
	for _, tc := range []struct {
		name          string
		rotary, alibi bool
	}{{"none", false, false}, {"rope", true, false}, {"alibi", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			run := func(fused bool) (y, dx []float64, grads map[string][]float64) {
				rng := rand.New(rand.NewSource(21))
				blk, err := NewEncoderBlock("blk", EncoderConfig{Dim: D, Heads: 2, FF: 12, Dropout: 0.2, Rotary: tc.rotary, ALiBi: tc.alibi}, tensor.Float64, rng)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range blk.Params() { // norms away from ones and zeros
					if p.Name == "blk.norm1.weight" || p.Name == "blk.norm2.bias" {
						p.Value = tensor.New(tensor.WithShape(D), tensor.WithBacking(uniform(1, D, 1, rng)))
					}
				}
				mask, _ := randomMask(rng, B, T)
				x := inputParam("x", rng, B, T, D)
				r := uniform(B*T, D, 1, rng)
				g := NewGraph(tensor.Float64, true)
				m := G.NodeFromAny(g.ExprGraph, mask, G.WithName("mask"))
				var out *G.Node
				if fused {
					out, err = blk.Forward(g, g.Param(x), m)
				} else {
					out, err = blk.forwardNodes(g, g.Param(x), m)
				}
				if err != nil {
					t.Fatal(err)
				}
				rn := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(B, T, D), tensor.WithBacking(r)), G.WithName("r"))
				loss, err := G.HadamardProd(out, rn)
				if err != nil {
					t.Fatal(err)
				}
				if loss, err = G.Sum(loss); err != nil {
					t.Fatal(err)
				}
				var yv G.Value
				G.Read(out, &yv)
				mc, err := Compile(g, loss)
				if err != nil {
					t.Fatal(err)
				}
				defer mc.Close()
				blk.Reseed(5)
				if err := mc.Run(nil); err != nil {
					t.Fatal(err)
				}
				grads = map[string][]float64{}
				for _, p := range blk.Params() {
					grads[p.Name] = denseF64s(p.Grad)
				}
				return denseF64s(yv.(*tensor.Dense)), denseF64s(x.Grad), grads
			}
			y0, dx0, g0 := run(false)
			y1, dx1, g1 := run(true)
			compare := func(what string, got, want []float64) {
				t.Helper()
				if len(got) != len(want) {
					t.Fatalf("%s: %d values, separate nodes %d", what, len(got), len(want))
				}
				for i := range want {
					if math.Abs(got[i]-want[i]) > 1e-12*(1+math.Abs(want[i])) {
						t.Fatalf("%s[%d] = %.15g fused, %.15g as separate nodes", what, i, got[i], want[i])
					}
				}
			}
			compare("y", y1, y0)
			compare("dx", dx1, dx0)
			for name, want := range g0 {
				compare(fmt.Sprintf("d%s", name), g1[name], want)
			}
		})
	}
}
