package layers

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// mhaNaive is multi-head self-attention written out with plain loops and
// nothing shared with the layer: x[b][t] under real[b][t], the rotation
// and the ALiBi slopes spelled out from the papers.
func mhaNaive(a *MultiHeadAttention, x [][][]float64, real [][]bool) [][][]float64 {
	d := a.Dim()
	h := a.Heads
	dh := d / h
	win, bin := a.InProjWeight.Value.Data().([]float64), a.InProjBias.Value.Data().([]float64)
	wout, bout := a.OutProjWeight.Value.Data().([]float64), a.OutProjBias.Value.Data().([]float64)
	var slopes []float64
	if a.ALiBi != nil {
		// 2^(-8/n), squared, cubed, ...: the paper's slopes for n a power of 2.
		for i := 1; i <= h; i++ {
			slopes = append(slopes, math.Pow(math.Pow(2, -8/float64(h)), float64(i)))
		}
	}
	y := make([][][]float64, len(x))
	for b, seq := range x {
		n := len(seq)
		q, k, v := make([][]float64, n), make([][]float64, n), make([][]float64, n)
		for t := range seq {
			q[t], k[t], v[t] = make([]float64, d), make([]float64, d), make([]float64, d)
			for o := 0; o < d; o++ {
				q[t][o], k[t][o], v[t][o] = bin[o], bin[d+o], bin[2*d+o]
				for i := 0; i < d; i++ {
					q[t][o] += win[o*d+i] * seq[t][i]
					k[t][o] += win[(d+o)*d+i] * seq[t][i]
					v[t][o] += win[(2*d+o)*d+i] * seq[t][i]
				}
			}
			if a.Rotary != nil {
				for hd := 0; hd < h; hd++ {
					for i := 0; i < dh/2; i++ {
						theta := float64(t) / math.Pow(a.Rotary.Base, float64(2*i)/float64(dh))
						c, s := math.Cos(theta), math.Sin(theta)
						for _, z := range [][]float64{q[t], k[t]} {
							x0, x1 := z[hd*dh+2*i], z[hd*dh+2*i+1]
							z[hd*dh+2*i], z[hd*dh+2*i+1] = x0*c-x1*s, x0*s+x1*c
						}
					}
				}
			}
		}
		span := 0
		for t := range seq {
			if real[b][t] {
				span = t + 1
			}
		}
		y[b] = make([][]float64, n)
		for i := range seq {
			ctx := make([]float64, d)
			for hd := 0; hd < h && i < span; hd++ {
				logits := make([]float64, n)
				top := math.Inf(-1)
				for j := range seq {
					if !real[b][j] {
						continue
					}
					for c := 0; c < dh; c++ {
						logits[j] += q[i][hd*dh+c] * k[j][hd*dh+c]
					}
					logits[j] /= math.Sqrt(float64(dh))
					if slopes != nil {
						logits[j] -= slopes[hd] * math.Abs(float64(i-j))
					}
					top = math.Max(top, logits[j])
				}
				var sum float64
				for j := range seq {
					if real[b][j] {
						logits[j] = math.Exp(logits[j] - top)
						sum += logits[j]
					}
				}
				for j := range seq {
					if real[b][j] {
						for c := 0; c < dh; c++ {
							ctx[hd*dh+c] += logits[j] / sum * v[j][hd*dh+c]
						}
					}
				}
			}
			y[b][i] = make([]float64, d)
			for o := 0; o < d; o++ {
				y[b][i][o] = bout[o]
				for c := 0; c < d; c++ {
					y[b][i][o] += wout[o*d+c] * ctx[c]
				}
			}
		}
	}
	return y
}

// attentionCases are the position schemes of the attention.
var attentionCases = []struct {
	name string
	opts func(dh, heads int) []AttentionOption
}{
	{"none", func(int, int) []AttentionOption { return nil }},
	{"rope", func(dh, _ int) []AttentionOption { return []AttentionOption{WithRotary(NewRotary(dh))} }},
	{"alibi", func(_, h int) []AttentionOption { return []AttentionOption{WithALiBi(NewALiBi(h))} }},
}

// randomAttention makes a float64 attention with every weight and bias
// random, so that no term of the gradient hides behind a zero.
func randomAttention(t *testing.T, rng *rand.Rand, d, heads int, opts ...AttentionOption) *MultiHeadAttention {
	t.Helper()
	a, err := NewMultiHeadAttention("self_attn", d, heads, tensor.Float64, rng, opts...)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range a.Params() {
		p.Value = tensor.New(tensor.WithShape(p.Value.Shape().Clone()...), tensor.WithBacking(uniform(1, p.Size(), 0.7, rng)))
	}
	return a
}

func TestMultiHeadAttentionMatchesLoops(t *testing.T) {
	const b, T, d, heads = 3, 6, 8, 2
	// Row 1 has padding inside it, row 2 at the end.
	real := [][]bool{
		{true, true, true, true, true, true},
		{true, false, true, true, false, false},
		{true, true, true, false, false, false},
	}
	for _, c := range attentionCases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(3))
			a := randomAttention(t, rng, d, heads, c.opts(d/heads, heads)...)
			xs := make([][][]float64, b)
			var flat, mask []float64
			for i := range xs {
				xs[i] = make([][]float64, T)
				for s := range xs[i] {
					xs[i][s] = uniform(1, d, 1, rng)
					flat = append(flat, xs[i][s]...)
					if real[i][s] {
						mask = append(mask, 1)
					} else {
						mask = append(mask, 0)
					}
				}
			}
			g := NewGraph(tensor.Float64, false)
			x := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(b, T, d), tensor.WithBacking(flat)), G.WithName("x"))
			m := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(b, T), tensor.WithBacking(mask)), G.WithName("mask"))
			y, err := a.Forward(g, x, m)
			if err != nil {
				t.Fatal(err)
			}
			got := runValues(t, g, y)
			want := mhaNaive(a, xs, real)
			for i := range want {
				for s := range want[i] {
					for o, w := range want[i][s] {
						if g := got[(i*T+s)*d+o]; math.Abs(g-w) > 1e-12 {
							t.Fatalf("y[%d][%d][%d] = %.15g, want %.15g", i, s, o, g, w)
						}
					}
				}
			}
		})
	}
}

func TestMultiHeadAttentionGradient(t *testing.T) {
	for _, c := range attentionCases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(4))
			const d, heads = 8, 2
			a := randomAttention(t, rng, d, heads, c.opts(d/heads, heads)...)
			x := inputParam("x", rng, 3, 5, d)
			mask, lens := randomMask(rng, 3, 5)
			worst := gradCheck(t, func(g *Graph) (*G.Node, error) {
				m := G.NodeFromAny(g.ExprGraph, mask, G.WithName("mask"))
				return a.Forward(g, g.Param(x), m)
			}, 40)
			t.Logf("lengths %v: largest relative error %.2g", lens, worst)
		})
	}
}

// TestMultiHeadAttentionDropout checks that training drops attention
// weights and outputs at about the rate asked and that inference does not.
func TestMultiHeadAttentionDropout(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	a := randomAttention(t, rng, 8, 2, WithAttentionDropout(0, 0.25))
	xv := inputParam("x", rng, 4, 16, 8).Value
	outputs := map[bool][]float64{}
	for _, training := range []bool{false, true} {
		g := NewGraph(tensor.Float64, training)
		x := G.NodeFromAny(g.ExprGraph, xv, G.WithName("x"))
		y, err := a.Forward(g, x, nil)
		if err != nil {
			t.Fatal(err)
		}
		outputs[training] = runValues(t, g, y)
	}
	zeros := 0
	for i, v := range outputs[true] {
		switch {
		case v == 0:
			zeros++
		case math.Abs(v-outputs[false][i]/0.75) > 1e-12:
			t.Fatalf("kept output %d = %v, want %v/0.75", i, v, outputs[false][i])
		}
	}
	if frac := float64(zeros) / float64(len(outputs[true])); math.Abs(frac-0.25) > 0.05 {
		t.Errorf("dropped %.3f of the outputs, want about 0.25", frac)
	}
}

func TestMultiHeadAttentionErrors(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	for _, c := range []struct {
		d, heads int
		opts     []AttentionOption
	}{
		{8, 3, nil},
		{8, 2, []AttentionOption{WithRotary(NewRotary(2))}},
		{8, 2, []AttentionOption{WithALiBi(NewALiBi(4))}},
		{8, 2, []AttentionOption{WithAttentionDropout(1, 0)}},
	} {
		if _, err := NewMultiHeadAttention("a", c.d, c.heads, tensor.Float64, rng, c.opts...); err == nil {
			t.Errorf("NewMultiHeadAttention(%d, %d, %s) gave no error", c.d, c.heads, fmt.Sprint(len(c.opts)))
		}
	}
}
