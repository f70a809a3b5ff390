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
// norm. It reports the process's CPU time per step too (cpu-ms/op), as
// the reference reports cpu_ms. "full" has every token real, as the reference does by default;
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
			g := NewGraph(tensor.Float32, true)
			x := G.NodeFromAny(g.ExprGraph, fromFloat64s(tensor.Float32, uniform(benchB*benchT, dim, 1, rng), benchB, benchT, dim), G.WithName("x"))
			var mask *G.Node
			if padded {
				m, _ := randomMask(rng, benchB, benchT)
				mask = G.NodeFromAny(g.ExprGraph, fromFloat64s(tensor.Float32, m.Data().([]float64), benchB, benchT), G.WithName("mask"))
			}
			y, err := enc.Forward(g, x, mask)
			if err != nil {
				b.Fatal(err)
			}
			loss, err := G.Sum(y)
			if err != nil {
				b.Fatal(err)
			}
			m, err := Compile(g, loss)
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			if err := m.Run(nil); err != nil { // the first run allocates
				b.Fatal(err)
			}
			b.ResetTimer()
			cpu0, ok0 := processCPU()
			for i := 0; i < b.N; i++ {
				if err := m.Run(nil); err != nil {
					b.Fatal(err)
				}
			}
			// CPU time per step, all threads: on a machine shared with
			// other jobs it moves less than wall time does.
			if cpu1, ok1 := processCPU(); ok0 && ok1 {
				b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/1e6/float64(b.N), "cpu-ms/op")
			}
		})
	}
}
