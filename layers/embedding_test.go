package layers

import (
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestEmbeddingGradient(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	_, lens := randomMask(rng, 3, 5)
	ids := randomIDs(rng, 7, lens, 5)
	e := NewEmbedding(RandomEmbedding(7, 4, tensor.Float64, rng), true)
	worst := gradCheck(t, func(g *Graph) (*G.Node, error) {
		return e.Forward(g, G.NodeFromAny(g.ExprGraph, ids, G.WithName("ids")), nil)
	}, 0)
	t.Logf("embedding: worst relative error %.2g", worst)
}
