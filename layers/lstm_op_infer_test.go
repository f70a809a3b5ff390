package layers

import (
	"math/rand"
	randv2 "math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestTrainableUpstream(t *testing.T) {
	rng := rand.New(rand.NewSource(31))
	frozen := NewParam("frozen", tensor.New(tensor.WithShape(2, 3), tensor.WithBacking(uniform(1, 6, 1, rng))), false)
	learned := inputParam("learned", rng, 2, 3)
	tests := []struct {
		name  string
		build func(g *Graph) *G.Node
		want  bool
	}{
		{"input node", func(g *Graph) *G.Node {
			return G.NewMatrix(g.ExprGraph, tensor.Float64, G.WithShape(2, 3), G.WithName("x"))
		}, false},
		{"frozen parameter", func(g *Graph) *G.Node { return g.Param(frozen) }, false},
		{"trainable parameter", func(g *Graph) *G.Node { return g.Param(learned) }, true},
		{"frozen plus trainable", func(g *Graph) *G.Node { return G.Must(G.Add(g.Param(frozen), g.Param(learned))) }, true},
		{"frozen doubled", func(g *Graph) *G.Node { return G.Must(G.Add(g.Param(frozen), g.Param(frozen))) }, false},
		{"beside a trainable parameter", func(g *Graph) *G.Node {
			g.Param(learned) // in the graph, but not upstream of x
			return G.Must(G.Neg(g.Param(frozen)))
		}, false},
	}
	for _, tt := range tests {
		g := NewGraph(tensor.Float64, true)
		if got := trainableUpstream(g, tt.build(g)); got != tt.want {
			t.Errorf("%s: trainableUpstream = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// With a frozen input the Bidirectional skips the input gradient; the
// weights' gradients must still match finite differences.
func TestBidirectionalFrozenInputGradient(t *testing.T) {
	const B, T, In, H = 3, 5, 2, 3
	for _, seq := range []bool{false, true} {
		rng := rand.New(rand.NewSource(32))
		bi := newBiLSTM(rng, In, H, MergeConcat, seq, false)
		x := inputParam("x", rng, B, T, In)
		x.Trainable, x.Grad = false, nil
		mask, _ := randomMask(rng, B, T)
		worst := gradCheck(t, func(g *Graph) (*G.Node, error) {
			return bi.Forward(g, g.Param(x), G.NodeFromAny(g.ExprGraph, mask, G.WithName("mask")))
		}, 12)
		t.Logf("sequences=%v: worst relative error %.2g", seq, worst)
	}
}

// TestBidirectionalSkipsInputGradient checks that the fused node is told to
// skip the gradient of its input exactly when nothing trainable feeds it.
func TestBidirectionalSkipsInputGradient(t *testing.T) {
	for _, trainable := range []bool{false, true} {
		rng := rand.New(rand.NewSource(35))
		bi := newBiLSTM(rng, 2, 3, MergeConcat, true, false)
		x := inputParam("x", rng, 2, 4, 2)
		if !trainable {
			x.Trainable, x.Grad = false, nil
		}
		g := NewGraph(tensor.Float64, true)
		if _, err := bi.Forward(g, g.Param(x), nil); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, n := range g.AllNodes() {
			op, ok := n.Op().(*lstmOp)
			if !ok {
				continue
			}
			found = true
			if got := op.run.(*lstmRun[float64]).inputGrad; got != trainable {
				t.Errorf("input trainable %v: the fused node computes the input gradient: %v, want %v", trainable, got, trainable)
			}
		}
		if !found {
			t.Fatal("no fused LSTM node in the graph")
		}
	}
}

// A fused node that is never differentiated runs the kernels' Infer; its
// outputs equal those of the same node in a graph with a backward pass.
func TestFusedBiLSTMInferenceEqualsTraining(t *testing.T) {
	const B, T, In, H = 4, 9, 5, 6
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		rng := randv2.New(randv2.NewPCG(33, 34))
		xv := randomDense(rng, dt, 1, B, T, In)
		mask := lengthsMask(dt, T, []int{9, 1, 4, 0})
		ws := [2][3]*tensor.Dense{}
		for d := range ws {
			ws[d] = [3]*tensor.Dense{randomDense(rng, dt, 0.5, 4*H, In), randomDense(rng, dt, 0.5, 4*H, H), randomDense(rng, dt, 0.5, 4*H)}
		}
		run := func(train bool) []float64 {
			g := G.NewGraph()
			x := G.NodeFromAny(g, xv, G.WithName("x"))
			m := G.NodeFromAny(g, mask, G.WithName("mask"))
			var nodes [2][3]*G.Node
			var wrt G.Nodes
			for d := range ws {
				for i, w := range ws[d] {
					nodes[d][i] = G.NodeFromAny(g, w, G.WithName(string(rune('a'+3*d+i))))
					wrt = append(wrt, nodes[d][i])
				}
			}
			out, err := FusedBiLSTM(x, m, nodes[0], nodes[1])
			if err != nil {
				t.Fatal(err)
			}
			if train {
				loss := G.Must(G.Sum(out))
				if _, err := G.Grad(loss, wrt...); err != nil {
					t.Fatal(err)
				}
			}
			vm := G.NewTapeMachine(g)
			defer vm.Close()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			return toFloat64s(out.Value().Data())
		}
		got, want := run(false), run(true)
		if i, ok := closeToRel(got, want, 1e-6); !ok {
			t.Errorf("%v: inference output[%d] = %g, training graph's %g", dt, i, got[i], want[i])
		}
	}
}
