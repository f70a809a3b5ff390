package layers

import (
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The benchmarks use the reference sizes of SPEC section 6: batch 32,
// 100 steps, 100-dim embeddings, 128 hidden units per direction.
const benchB, benchT, benchD, benchH = 32, 100, 100, 128

// benchRun compiles the scalar sum of the output of build (with its
// backward pass when a parameter is trainable) and times one run.
func benchRun(b *testing.B, build func(g *Graph) (*G.Node, error)) {
	b.Helper()
	g := NewGraph(tensor.Float32, true)
	y, err := build(g)
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
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := m.Run(nil); err != nil {
			b.Fatal(err)
		}
	}
}

// benchInputs makes a trainable [B,T,feats] input (none when feats is 0),
// a mask of random lengths and ids.
func benchInputs(g *Graph, rng *rand.Rand, feats int) (x, mask *G.Node, ids *tensor.Dense) {
	m, lens := randomMask(rng, benchB, benchT)
	ids = randomIDs(rng, 10000, lens, benchT)
	if feats > 0 {
		x = g.Param(NewParam("x", fromFloat64s(tensor.Float32, uniform(benchB*benchT, feats, 1, rng), benchB, benchT, feats), true))
	}
	mask = G.NodeFromAny(g.ExprGraph, fromFloat64s(tensor.Float32, m.Data().([]float64), benchB, benchT), G.WithName("mask"))
	return x, mask, ids
}

func BenchmarkEmbedding(b *testing.B) {
	for _, trainable := range []bool{false, true} {
		name := "frozen"
		if trainable {
			name = "trainable"
		}
		b.Run(name, func(b *testing.B) {
			rng := rand.New(rand.NewSource(1))
			e := NewEmbedding(RandomEmbedding(10000, benchD, tensor.Float32, rng), trainable)
			benchRun(b, func(g *Graph) (*G.Node, error) {
				_, _, ids := benchInputs(g, rng, 0)
				y, err := e.Forward(g, G.NodeFromAny(g.ExprGraph, ids, G.WithName("ids")), nil)
				if err != nil {
					return nil, err
				}
				// Something trainable downstream, so that a backward pass
				// exists even for the frozen table.
				return NewLearnedEncoding(benchT, benchD, tensor.Float32, rng).Forward(g, y, nil)
			})
		})
	}
}

func BenchmarkPooling(b *testing.B) {
	for _, mode := range []PoolMode{PoolLast, PoolMean, PoolMax} {
		b.Run(mode.String(), func(b *testing.B) {
			rng := rand.New(rand.NewSource(2))
			benchRun(b, func(g *Graph) (*G.Node, error) {
				x, mask, _ := benchInputs(g, rng, 2*benchH)
				return NewPooling(mode).Forward(g, x, mask)
			})
		})
	}
}

func BenchmarkSinusoidalEncoding(b *testing.B) {
	rng := rand.New(rand.NewSource(3))
	pe := NewSinusoidalEncoding(benchT, benchD)
	benchRun(b, func(g *Graph) (*G.Node, error) {
		x, _, _ := benchInputs(g, rng, benchD)
		return pe.Forward(g, x, nil)
	})
}

func BenchmarkBidirectional(b *testing.B) {
	rng := rand.New(rand.NewSource(4))
	bi := NewBidirectional(
		NewLSTM(benchD, benchH, tensor.Float32, rng),
		NewLSTM(benchD, benchH, tensor.Float32, rng, GoBackwards()),
		MergeConcat)
	benchRun(b, func(g *Graph) (*G.Node, error) {
		x, mask, _ := benchInputs(g, rng, benchD)
		return bi.Forward(g, x, mask)
	})
}
