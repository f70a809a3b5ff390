package layers

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// outputAndGrads runs layer on x [B,T,In] (a trainable input) with mask
// (nil: none) in a graph of type dt, with the loss sum(y ⊙ R), and returns
// y and the gradients of x and of every parameter, as float64.
func outputAndGrads(t *testing.T, layer Layer, dt tensor.Dtype, x, mask, r []float64, B, T, In int) (y []float64, grads [][]float64) {
	t.Helper()
	g := NewGraph(dt, true)
	xp := NewParam("x", fromFloat64s(dt, x, B, T, In), true)
	var mn *G.Node
	if mask != nil {
		mn = G.NodeFromAny(g.ExprGraph, fromFloat64s(dt, mask, B, T), G.WithName("mask"))
	}
	out, err := layer.Forward(g, g.Param(xp), mn)
	if err != nil {
		t.Fatal(err)
	}
	rn := G.NodeFromAny(g.ExprGraph, fromFloat64s(dt, r[:out.Shape().TotalSize()], out.Shape()...), G.WithName("r"))
	loss, err := G.HadamardProd(out, rn)
	if err != nil {
		t.Fatal(err)
	}
	if loss, err = G.Sum(loss); err != nil {
		t.Fatal(err)
	}
	m, err := Compile(g, loss)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Run(nil); err != nil {
		t.Fatal(err)
	}
	y = asFloat64s(out.Value().Data())
	for _, p := range append([]*Param{xp}, layer.Params()...) {
		grads = append(grads, asFloat64s(p.Grad.Data()))
	}
	return y, grads
}

func asFloat64s(d any) []float64 {
	switch v := d.(type) {
	case []float64:
		return append([]float64{}, v...)
	case []float32:
		out := make([]float64, len(v))
		for i, f := range v {
			out[i] = float64(f)
		}
		return out
	}
	return nil
}

// setUnrolled switches every LSTM of layer between the fused operation and
// the unrolled reference graph.
func setUnrolled(layer Layer, on bool) {
	switch l := layer.(type) {
	case *LSTM:
		l.unrolled = on
	case *Bidirectional:
		l.ForwardLayer.(*LSTM).unrolled = on
		l.BackwardLayer.(*LSTM).unrolled = on
	}
}

// TestFusedMatchesUnrolled runs each LSTM configuration through the fused
// operation and through the unrolled graph of Gorgonia primitives, with
// and without a mask, and expects the same outputs and gradients.
func TestFusedMatchesUnrolled(t *testing.T) {
	const B, T, In, H = 3, 6, 4, 5
	type config struct {
		name  string
		layer func(dt tensor.Dtype, rng *rand.Rand) Layer
	}
	var configs []config
	for name, opts := range lstmVariants(false) {
		configs = append(configs, config{"lstm/" + name, func(dt tensor.Dtype, rng *rand.Rand) Layer {
			return NewLSTM(In, H, dt, rng, opts...)
		}})
	}
	for _, seq := range []bool{false, true} {
		configs = append(configs, config{fmt.Sprintf("bidirectional/sequences=%v", seq), func(dt tensor.Dtype, rng *rand.Rand) Layer {
			return NewBidirectional(
				NewLSTM(In, H, dt, rng, ReturnSequences(seq)),
				NewLSTM(In, H, dt, rng, ReturnSequences(seq), GoBackwards()),
				MergeConcat)
		}})
	}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		tol := 1e-5
		if dt == tensor.Float32 {
			tol = 1e-4
		}
		for _, c := range configs {
			for _, masked := range []bool{false, true} {
				t.Run(fmt.Sprintf("%v/%s/masked=%v", dt, c.name, masked), func(t *testing.T) {
					rng := rand.New(rand.NewSource(40))
					layer := c.layer(dt, rng)
					x := uniform(B*T, In, 1, rng)
					r := uniform(B*T, 2*H, 1, rng)
					var mask []float64
					if masked {
						m, _ := randomMask(rng, B, T)
						mask = m.Data().([]float64)
					}
					setUnrolled(layer, false)
					fy, fg := outputAndGrads(t, layer, dt, x, mask, r, B, T, In)
					setUnrolled(layer, true)
					uy, ug := outputAndGrads(t, layer, dt, x, mask, r, B, T, In)
					if i, ok := closeToRel(fy, uy, tol); !ok {
						t.Errorf("output[%d]: fused %v, unrolled %v", i, fy[i], uy[i])
					}
					names := []string{"x"}
					for _, p := range layer.Params() {
						names = append(names, p.Name)
					}
					for k := range fg {
						if i, ok := closeToRel(fg[k], ug[k], tol); !ok {
							t.Errorf("gradient of %s[%d]: fused %v, unrolled %v", names[k], i, fg[k][i], ug[k][i])
						}
					}
				})
			}
		}
	}
}

// closeToRel reports whether got and want agree within tol, relative to
// the larger magnitude (absolute below 1).
func closeToRel(got, want []float64, tol float64) (int, bool) {
	if len(got) != len(want) {
		return 0, false
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol*math.Max(1, math.Max(math.Abs(got[i]), math.Abs(want[i]))) {
			return i, false
		}
	}
	return 0, true
}
