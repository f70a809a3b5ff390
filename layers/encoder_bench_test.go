package layers

import (
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BenchmarkTransformerEncoder times one training step (forward and
// backward, loss the sum of the outputs) of the encoder at the shapes of
// bench/transformer_reference.py: batch 32, 100 steps, width 128, 4
// heads, 2 pre-norm blocks with feed-forward 512, dropout 0.1, a final
// norm. "full" has every token real, as the reference does by default;
// "padded" has random lengths, whose padding the attention skips.
func BenchmarkTransformerEncoder(b *testing.B) {
	const dim, heads, ff, layers = 128, 4, 512, 2
	for _, padded := range []bool{false, true} {
		name := "full"
		if padded {
			name = "padded"
		}
		b.Run(name, func(b *testing.B) {
			rng := rand.New(rand.NewSource(5))
			enc, err := NewEncoder("encoder", EncoderConfig{Layers: layers, Dim: dim, Heads: heads, FF: ff, Dropout: 0.1, FinalNorm: true}, tensor.Float32, rng)
			if err != nil {
				b.Fatal(err)
			}
			benchRun(b, func(g *Graph) (*G.Node, error) {
				x := G.NodeFromAny(g.ExprGraph, fromFloat64s(tensor.Float32, uniform(benchB*benchT, dim, 1, rng), benchB, benchT, dim), G.WithName("x"))
				var mask *G.Node
				if padded {
					m, _ := randomMask(rng, benchB, benchT)
					mask = G.NodeFromAny(g.ExprGraph, fromFloat64s(tensor.Float32, m.Data().([]float64), benchB, benchT), G.WithName("mask"))
				}
				return enc.Forward(g, x, mask)
			})
		})
	}
}
