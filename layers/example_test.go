package layers_test

import (
	"fmt"
	"math/rand"

	"github.com/classify/classify/layers"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The reference model's layers, built into a graph for one batch shape
// (2 rows of 4 steps), compiled with its backward pass and run on a batch.
func ExampleCompile() {
	rng := rand.New(rand.NewSource(42))
	const vocab, dim, hidden = 20, 8, 4
	stack := []layers.Layer{
		layers.NewEmbedding(layers.RandomEmbedding(vocab, dim, tensor.Float32, rng), false),
		layers.NewSinusoidalEncoding(100, dim),
		layers.NewBidirectional(
			layers.NewLSTM(dim, hidden, tensor.Float32, rng),
			layers.NewLSTM(dim, hidden, tensor.Float32, rng, layers.GoBackwards()),
			layers.MergeConcat),
		layers.NewDense(2*hidden, 1, layers.Linear, tensor.Float32, rng),
	}

	g := layers.NewGraph(tensor.Float32, true)
	ids := G.NewMatrix(g.ExprGraph, tensor.Int, G.WithShape(2, 4), G.WithName("ids"))
	mask := G.NewMatrix(g.ExprGraph, tensor.Float32, G.WithShape(2, 4), G.WithName("mask"))
	labels := G.NewVector(g.ExprGraph, tensor.Float32, G.WithShape(2), G.WithName("labels"))
	y := ids
	var err error
	for _, l := range stack {
		if y, err = l.Forward(g, y, mask); err != nil {
			fmt.Println(err)
			return
		}
	}
	loss, err := layers.BinaryCrossEntropy(y, labels)
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := layers.Compile(g, loss)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()

	batchIDs := []int{5, 3, 9, 0, 7, 0, 0, 0} // lengths 3 and 1
	err = m.Run(map[*G.Node]*tensor.Dense{
		ids:    tensor.New(tensor.WithShape(2, 4), tensor.WithBacking(batchIDs)),
		mask:   layers.PaddingMask(batchIDs, 2, 4, tensor.Float32),
		labels: tensor.New(tensor.WithShape(2), tensor.WithBacking([]float32{1, 0})),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	params, _ := g.Trainable()
	for _, p := range params {
		fmt.Println(p.Name, p.Grad.Shape())
	}
	// Output:
	// lstm.weight_ih_l0 (16, 8)
	// lstm.weight_hh_l0 (16, 4)
	// lstm.bias_ih_l0 (16)
	// lstm.weight_ih_l0_reverse (16, 8)
	// lstm.weight_hh_l0_reverse (16, 4)
	// lstm.bias_ih_l0_reverse (16)
	// dense.weight (1, 8)
	// dense.bias (1)
}

func ExampleBinaryCrossEntropy() {
	g := layers.NewGraph(tensor.Float64, false)
	z := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{0, 1000})), G.WithName("z"))
	y := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{1, 1})), G.WithName("y"))
	loss, _ := layers.BinaryCrossEntropy(z, y)
	m, _ := layers.Compile(g, nil)
	defer m.Close()
	if err := m.Run(nil); err != nil {
		fmt.Println(err)
		return
	}
	// (log 2 + 0) / 2: finite where sigmoid(z) rounds to 1.
	fmt.Printf("%.6f\n", loss.Value().Data())
	// Output: 0.346574
}

func ExampleNewSinusoidalEncoding() {
	pe := layers.NewSinusoidalEncoding(100, 4)
	g := layers.NewGraph(tensor.Float64, false)
	x := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(1, 3, 4), tensor.Of(tensor.Float64)), G.WithName("x"))
	y, _ := pe.Forward(g, x, nil)
	m, _ := layers.Compile(g, nil)
	defer m.Close()
	if err := m.Run(nil); err != nil {
		fmt.Println(err)
		return
	}
	v := y.Value().Data().([]float64)
	for p := 0; p < 3; p++ {
		fmt.Printf("%.4f\n", v[p*4:(p+1)*4])
	}
	// Output:
	// [0.0000 1.0000 0.0000 1.0000]
	// [0.8415 0.5403 0.0100 1.0000]
	// [0.9093 -0.4161 0.0200 0.9998]
}
