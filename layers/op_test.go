package layers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A graph holds one all-ones mask per shape however many layers ask.
func TestOnesMaskOnePerShape(t *testing.T) {
	g := G.NewGraph()
	a := onesMask(g, tensor.Float32, 2, 3)
	b := onesMask(g, tensor.Float32, 2, 3)
	c := onesMask(g, tensor.Float32, 3, 2)
	d := onesMask(g, tensor.Float64, 2, 3)
	if a != b {
		t.Errorf("two masks of shape [2 3]: %p and %p, want one node", a, b)
	}
	if a == c || a == d {
		t.Errorf("masks of other shapes or types share the [2 3] float32 node")
	}
	for _, n := range []*G.Node{a, c} {
		for i, v := range n.Value().Data().([]float32) {
			if v != 1 {
				t.Fatalf("%s[%d] = %v, want 1", n.Name(), i, v)
			}
		}
	}
}

// The fused op's DoDiff gives Gorgonia's LispMachine the gradients that
// gorgonia.Grad gives the TapeMachine, for the LSTM too.
func TestFusedOpLispMachine(t *testing.T) {
	const B, T, In, H = 3, 4, 2, 3
	grads := func(machine string) [][]float64 {
		rng := rand.New(rand.NewPCG(5, 6))
		g := NewGraph(tensor.Float64, true)
		x := NewParam("x", randomDense(rng, tensor.Float64, 1, B, T, In), true)
		var ws [2][3]*G.Node
		var wrt G.Nodes
		for d := range ws {
			for i, s := range [][]int{{4 * H, In}, {4 * H, H}, {4 * H}} {
				p := NewParam(fmt.Sprintf("%s_%d", lstmWeightNames[i], d), randomDense(rng, tensor.Float64, 0.5, s...), true)
				ws[d][i] = g.Param(p)
				wrt = append(wrt, ws[d][i])
			}
		}
		xn := g.Param(x)
		mask := G.NodeFromAny(g.ExprGraph, lengthsMask(tensor.Float64, T, []int{4, 2, 0}), G.WithName("mask"))
		out, err := FusedBiLSTM(xn, mask, ws[0], ws[1])
		if err != nil {
			t.Fatal(err)
		}
		r := G.NodeFromAny(g.ExprGraph, randomDense(rng, tensor.Float64, 1, B, T, 2*H), G.WithName("r"))
		loss := G.Must(G.Sum(G.Must(G.HadamardProd(out, r))))
		wrt = append(G.Nodes{xn}, wrt...)
		var m G.VM
		if machine == "lisp" {
			m = G.NewLispMachine(g.ExprGraph)
		} else {
			if _, err := G.Grad(loss, wrt...); err != nil {
				t.Fatal(err)
			}
			m = G.NewTapeMachine(g.ExprGraph, G.BindDualValues(wrt...))
		}
		defer m.Close()
		if err := m.RunAll(); err != nil {
			t.Fatalf("%s: %v", machine, err)
		}
		var res [][]float64
		for _, n := range wrt {
			v, err := n.Grad()
			if err != nil {
				t.Fatalf("%s: gradient of %s: %v", machine, n.Name(), err)
			}
			res = append(res, append([]float64(nil), v.Data().([]float64)...))
		}
		return res
	}
	tape, lisp := grads("tape"), grads("lisp")
	for i := range tape {
		for j := range tape[i] {
			if math.Abs(tape[i][j]-lisp[i][j]) > 1e-12 {
				t.Fatalf("input %d: gradient[%d] = %v on the LispMachine, %v on the TapeMachine", i, j, lisp[i][j], tape[i][j])
			}
		}
	}
}
