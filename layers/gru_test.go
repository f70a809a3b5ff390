package layers

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// refGRU is a plain-loop GRU written from PyTorch's nn.GRU equations: it
// returns each step's output [B,T,H] and the final state [B,H]. A masked
// step keeps h and outputs it.
func refGRU(l *GRU, x, mask []float64, B, T int) (seq, final []float64) {
	In, H := l.in, l.hidden
	wih, whh := l.WeightIH.Value.Data().([]float64), l.WeightHH.Value.Data().([]float64)
	bih, bhh := l.BiasIH.Value.Data().([]float64), l.BiasHH.Value.Data().([]float64)
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	seq, final = make([]float64, B*T*H), make([]float64, B*H)
	for b := 0; b < B; b++ {
		h := make([]float64, H)
		for s := 0; s < T; s++ {
			t := s
			if l.backwards {
				t = T - 1 - s
			}
			if mask == nil || mask[b*T+t] != 0 {
				gi, gh := make([]float64, 3*H), make([]float64, 3*H)
				for r := 0; r < 3*H; r++ {
					gi[r], gh[r] = bih[r], bhh[r]
					for k := 0; k < In; k++ {
						gi[r] += wih[r*In+k] * x[(b*T+t)*In+k]
					}
					for k := 0; k < H; k++ {
						gh[r] += whh[r*H+k] * h[k]
					}
				}
				next := make([]float64, H)
				for j := 0; j < H; j++ {
					r, z := sig(gi[j]+gh[j]), sig(gi[H+j]+gh[H+j])
					n := math.Tanh(gi[2*H+j] + r*gh[2*H+j])
					next[j] = (1-z)*n + z*h[j]
				}
				h = next
			}
			copy(seq[(b*T+t)*H:], h)
		}
		copy(final[b*H:], h)
	}
	return seq, final
}

func gruVariants() map[string][]LSTMOption {
	return map[string][]LSTMOption{
		"final":              nil,
		"sequences":          {ReturnSequences(true)},
		"backwards/final":    {GoBackwards()},
		"backwards/sequence": {GoBackwards(), ReturnSequences(true)},
	}
}

func TestGRUMatchesReference(t *testing.T) {
	const B, T, In, H = 3, 5, 4, 3
	for name, opts := range gruVariants() {
		rng := rand.New(rand.NewSource(40))
		l := NewGRU(In, H, tensor.Float64, rng, opts...)
		randomize(rng, l.Params()...)
		x := uniform(B*T, In, 1, rng)
		mask, _ := randomMask(rng, B, T)
		m := mask.Data().([]float64)
		seq, final := refGRU(l, x, m, B, T)
		want := final
		if l.returnSequences {
			want = seq
		}
		g := NewGraph(tensor.Float64, false)
		xn := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(B, T, In), tensor.WithBacking(x)), G.WithName("x"))
		mn := G.NodeFromAny(g.ExprGraph, mask, G.WithName("mask"))
		y, err := l.Forward(g, xn, mn)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := fmt.Sprint([]int(y.Shape())), fmt.Sprint(l.OutputShape([]int{B, T, In})); got != want {
			t.Errorf("%s: output shape %v, OutputShape says %v", name, got, want)
		}
		if i, ok := closeTo(runForward(t, g, y), want, 1e-12); !ok {
			t.Errorf("%s: output[%d] differs from the reference", name, i)
		}
	}
}

func TestGRUGradient(t *testing.T) {
	const B, T, In, H = 3, 4, 3, 2
	for name, opts := range gruVariants() {
		rng := rand.New(rand.NewSource(41))
		l := NewGRU(In, H, tensor.Float64, rng, opts...)
		randomize(rng, l.Params()...)
		x := inputParam("x", rng, B, T, In)
		mask, _ := randomMask(rng, B, T)
		worst := gradCheck(t, func(g *Graph) (*G.Node, error) {
			return l.Forward(g, g.Param(x), G.NodeFromAny(g.ExprGraph, mask, G.WithName("mask")))
		}, 0)
		t.Logf("%s: worst relative error %.2g", name, worst)
	}
}

// Bidirectional pairs two GRUs through the Recurrent interface.
func TestBidirectionalGRU(t *testing.T) {
	const B, T, In, H = 2, 4, 3, 2
	rng := rand.New(rand.NewSource(42))
	f := NewGRU(In, H, tensor.Float64, rng)
	k := NewGRU(In, H, tensor.Float64, rng, GoBackwards())
	bi := NewBidirectional(f, k, MergeSum)
	randomize(rng, bi.Params()...)
	x := uniform(B*T, In, 1, rng)
	mask, _ := randomMask(rng, B, T)
	_, ff := refGRU(f, x, mask.Data().([]float64), B, T)
	_, kf := refGRU(k, x, mask.Data().([]float64), B, T)
	want := make([]float64, len(ff))
	for i := range want {
		want[i] = ff[i] + kf[i]
	}
	g := NewGraph(tensor.Float64, false)
	xn := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(B, T, In), tensor.WithBacking(x)), G.WithName("x"))
	y, err := bi.Forward(g, xn, G.NodeFromAny(g.ExprGraph, mask, G.WithName("mask")))
	if err != nil {
		t.Fatal(err)
	}
	if i, ok := closeTo(runForward(t, g, y), want, 1e-12); !ok {
		t.Errorf("output[%d] differs from the two reference GRUs summed", i)
	}
}
