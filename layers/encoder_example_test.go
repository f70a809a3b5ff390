package layers_test

import (
	"fmt"
	"math/rand"

	"github.com/classify/classify/layers"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// An encoder of two pre-norm blocks with rotary attention over a padded
// batch; its parameters carry nn.TransformerEncoder's names.
func ExampleNewEncoder() {
	rng := rand.New(rand.NewSource(1))
	enc, err := layers.NewEncoder("encoder", layers.EncoderConfig{
		Layers: 2, Dim: 16, Heads: 4, FF: 32, Dropout: 0.1, Rotary: true, FinalNorm: true,
	}, tensor.Float32, rng)
	if err != nil {
		fmt.Println(err)
		return
	}
	g := layers.NewGraph(tensor.Float32, false)
	x := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(2, 5, 16), tensor.Of(tensor.Float32)), G.WithName("x"))
	mask := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(2, 5), tensor.WithBacking([]float32{
		1, 1, 1, 1, 1,
		1, 1, 1, 0, 0,
	})), G.WithName("mask"))
	y, err := enc.Forward(g, x, mask)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(y.Shape())
	for _, p := range enc.Params()[:5] {
		fmt.Println(p.Name, p.Value.Shape())
	}
	// Output:
	// (2, 5, 16)
	// encoder.layers.0.self_attn.in_proj_weight (48, 16)
	// encoder.layers.0.self_attn.in_proj_bias (48)
	// encoder.layers.0.self_attn.out_proj.weight (16, 16)
	// encoder.layers.0.self_attn.out_proj.bias (16)
	// encoder.layers.0.linear1.weight (32, 16)
}
