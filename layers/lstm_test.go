package layers

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// refLSTM is a plain-loop LSTM written from SPEC section 2, independent of
// the graph code: it returns each step's output [B,T,H] and the final
// state [B,H]. A masked step keeps h and c and outputs the carried h.
func refLSTM(l *LSTM, x, mask []float64, B, T int) (seq, final []float64) {
	In, H := l.in, l.hidden
	wih := l.WeightIH.Value.Data().([]float64)
	whh := l.WeightHH.Value.Data().([]float64)
	bias := l.Bias.Value.Data().([]float64)
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	seq = make([]float64, B*T*H)
	final = make([]float64, B*H)
	for b := 0; b < B; b++ {
		h, c := make([]float64, H), make([]float64, H)
		for s := 0; s < T; s++ {
			t := s
			if l.backwards {
				t = T - 1 - s
			}
			if mask == nil || mask[b*T+t] != 0 {
				z := make([]float64, 4*H)
				for r := range z {
					z[r] = bias[r]
					for k := 0; k < In; k++ {
						z[r] += wih[r*In+k] * x[(b*T+t)*In+k]
					}
					for k := 0; k < H; k++ {
						z[r] += whh[r*H+k] * h[k]
					}
				}
				for j := 0; j < H; j++ {
					i, f, g, o := sig(z[j]), sig(z[H+j]), math.Tanh(z[2*H+j]), sig(z[3*H+j])
					c[j] = f*c[j] + i*g
					h[j] = o * math.Tanh(c[j])
				}
			}
			copy(seq[(b*T+t)*H:], h)
		}
		copy(final[b*H:], h)
	}
	return seq, final
}

// runForward compiles g without gradients, runs it once and returns y's
// values.
func runForward(t *testing.T, g *Graph, y *G.Node) []float64 {
	t.Helper()
	m := G.NewTapeMachine(g.ExprGraph)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatalf("RunAll: %v", err)
	}
	return append([]float64{}, y.Value().Data().([]float64)...)
}

// lstmForward runs l on x [B,T,In] with mask [B,T] (nil: none).
func lstmForward(t *testing.T, l *LSTM, x, mask []float64, B, T int) []float64 {
	t.Helper()
	g := NewGraph(tensor.Float64, false)
	xn := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(B, T, l.in), tensor.WithBacking(x)), G.WithName("x"))
	var mn *G.Node
	if mask != nil {
		mn = G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(B, T), tensor.WithBacking(mask)), G.WithName("mask"))
	}
	y, err := l.Forward(g, xn, mn)
	if err != nil {
		t.Fatalf("Forward: %v", err)
	}
	return runForward(t, g, y)
}

// randomize gives every weight of l a U(-1, 1) value, the bias included,
// so that no gate is left at its initial symmetry.
func randomize(rng *rand.Rand, ps ...*Param) {
	for _, p := range ps {
		for i := range p.Value.Data().([]float64) {
			p.Value.Data().([]float64)[i] = 2*rng.Float64() - 1
		}
	}
}

func closeTo(got, want []float64, tol float64) (int, bool) {
	if len(got) != len(want) {
		return -1, false
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol {
			return i, false
		}
	}
	return 0, true
}

// lstmVariants lists the four configurations of a direction and an output.
func lstmVariants(unrolled bool) map[string][]LSTMOption {
	vs := map[string][]LSTMOption{}
	for _, back := range []bool{false, true} {
		for _, seq := range []bool{false, true} {
			opts := []LSTMOption{ReturnSequences(seq)}
			if back {
				opts = append(opts, GoBackwards())
			}
			if unrolled {
				opts = append(opts, Unrolled())
			}
			vs[fmt.Sprintf("backwards=%v/sequences=%v", back, seq)] = opts
		}
	}
	return vs
}

func TestLSTMMatchesReference(t *testing.T) {
	const B, T, In, H = 3, 5, 4, 3
	for _, unrolled := range []bool{true, false} {
		for name, opts := range lstmVariants(unrolled) {
			t.Run(fmt.Sprintf("unrolled=%v/%s", unrolled, name), func(t *testing.T) {
				rng := rand.New(rand.NewSource(10))
				l := NewLSTM(In, H, tensor.Float64, rng, opts...)
				randomize(rng, l.Params()...)
				x := uniform(B*T, In, 1, rng)
				mask, _ := randomMask(rng, B, T)
				m := mask.Data().([]float64)
				seq, final := refLSTM(l, x, m, B, T)
				want := final
				if l.returnSequences {
					want = seq
				}
				got := lstmForward(t, l, x, m, B, T)
				if i, ok := closeTo(got, want, 1e-12); !ok {
					t.Errorf("output[%d] = %v, want %v", i, got, want)
				}
			})
		}
	}
}

func TestLSTMGradient(t *testing.T) {
	const B, T, In, H = 3, 4, 3, 2
	for _, unrolled := range []bool{true, false} {
		for name, opts := range lstmVariants(unrolled) {
			t.Run(fmt.Sprintf("unrolled=%v/%s", unrolled, name), func(t *testing.T) {
				rng := rand.New(rand.NewSource(11))
				l := NewLSTM(In, H, tensor.Float64, rng, opts...)
				randomize(rng, l.Params()...)
				x := inputParam("x", rng, B, T, In)
				mask, _ := randomMask(rng, B, T)
				worst := gradCheck(t, func(g *Graph) (*G.Node, error) {
					return l.Forward(g, g.Param(x), G.NodeFromAny(g.ExprGraph, mask, G.WithName("mask")))
				}, 0)
				t.Logf("worst relative error %.2g", worst)
			})
		}
	}
}

// TestLSTMMaskedEqualsUnpadded runs each row of a padded batch alone,
// without its padding and without a mask, and expects the same outputs.
func TestLSTMMaskedEqualsUnpadded(t *testing.T) {
	const B, T, In, H = 4, 6, 3, 4
	for _, unrolled := range []bool{true, false} {
		for name, opts := range lstmVariants(unrolled) {
			t.Run(fmt.Sprintf("unrolled=%v/%s", unrolled, name), func(t *testing.T) {
				rng := rand.New(rand.NewSource(12))
				l := NewLSTM(In, H, tensor.Float64, rng, opts...)
				randomize(rng, l.Params()...)
				x := uniform(B*T, In, 1, rng)
				mask, lens := randomMask(rng, B, T)
				padded := lstmForward(t, l, x, mask.Data().([]float64), B, T)
				for b, n := range lens {
					alone := lstmForward(t, l, x[b*T*In:(b*T+n)*In], nil, 1, n)
					var got []float64
					if l.returnSequences {
						got = padded[b*T*H : (b*T+n)*H]
					} else {
						got = padded[b*H : (b+1)*H]
					}
					if i, ok := closeTo(got, alone, 1e-12); !ok {
						t.Errorf("row %d (length %d): padded output[%d] = %v, alone %v", b, n, i, got, alone)
					}
				}
			})
		}
	}
}

// TestLSTMBackwardEqualsForwardOnReversed checks that the backward
// direction of a sequence is the forward direction of its real tokens
// reversed: the same final state, and the same outputs read backwards.
func TestLSTMBackwardEqualsForwardOnReversed(t *testing.T) {
	const B, T, In, H = 3, 5, 2, 3
	for _, unrolled := range []bool{true, false} {
		t.Run(fmt.Sprint("unrolled=", unrolled), func(t *testing.T) {
			rng := rand.New(rand.NewSource(13))
			var opts []LSTMOption
			if unrolled {
				opts = append(opts, Unrolled())
			}
			fwd := NewLSTM(In, H, tensor.Float64, rng, append(opts, ReturnSequences(true))...)
			randomize(rng, fwd.Params()...)
			bwd := NewLSTM(In, H, tensor.Float64, rng, append(opts, ReturnSequences(true), GoBackwards())...)
			for i, p := range bwd.Params() {
				copy(p.Value.Data().([]float64), fwd.Params()[i].Value.Data().([]float64))
			}
			x := uniform(B*T, In, 1, rng)
			mask, lens := randomMask(rng, B, T)
			rev := make([]float64, len(x))
			copy(rev, x)
			for b, n := range lens {
				for s := 0; s < n; s++ {
					copy(rev[(b*T+s)*In:(b*T+s+1)*In], x[(b*T+n-1-s)*In:(b*T+n-s)*In])
				}
			}
			back := lstmForward(t, bwd, x, mask.Data().([]float64), B, T)
			forth := lstmForward(t, fwd, rev, mask.Data().([]float64), B, T)
			for b, n := range lens {
				for s := 0; s < n; s++ {
					got := back[(b*T+s)*H : (b*T+s+1)*H]
					want := forth[(b*T+n-1-s)*H : (b*T+n-s)*H]
					if i, ok := closeTo(got, want, 1e-12); !ok {
						t.Errorf("row %d step %d: backward[%d] = %v, forward on reversed %v", b, s, i, got, want)
					}
				}
			}
		})
	}
}

func TestLSTMInit(t *testing.T) {
	const In, H = 10, 6
	l := NewLSTM(In, H, tensor.Float64, rand.New(rand.NewSource(14)), GoBackwards())
	names := []string{"lstm.weight_ih_l0_reverse", "lstm.weight_hh_l0_reverse", "lstm.bias_ih_l0_reverse"}
	for i, p := range l.Params() {
		if p.Name != names[i] || !p.Trainable {
			t.Errorf("param %d = %q (trainable %v), want %q (trainable)", i, p.Name, p.Trainable, names[i])
		}
	}
	limit := math.Sqrt(6.0 / (In + 4*H))
	for i, v := range l.WeightIH.Value.Data().([]float64) {
		if math.Abs(v) > limit {
			t.Errorf("weight_ih[%d] = %v, outside ±%v", i, v, limit)
		}
	}
	// The recurrent kernel [4H, H] has orthonormal columns: WᵀW = I.
	w := l.WeightHH.Value.Data().([]float64)
	for a := 0; a < H; a++ {
		for b := 0; b < H; b++ {
			var dot float64
			for r := 0; r < 4*H; r++ {
				dot += w[r*H+a] * w[r*H+b]
			}
			want := 0.0
			if a == b {
				want = 1
			}
			if math.Abs(dot-want) > 1e-12 {
				t.Errorf("(WᵀW)[%d,%d] = %v, want %v", a, b, dot, want)
			}
		}
	}
	for i, v := range l.Bias.Value.Data().([]float64) {
		want := 0.0
		if i >= H && i < 2*H {
			want = 1
		}
		if v != want {
			t.Errorf("bias[%d] = %v, want %v", i, v, want)
		}
	}
	// Keras's count for LSTM(128) on 100 features: 4·128·(100+128+1).
	if got, _ := CountParams(NewLSTM(100, 128, tensor.Float32, rand.New(rand.NewSource(1))).Params()); got != 117248 {
		t.Errorf("LSTM(100, 128) has %d parameters, want 117248", got)
	}
}
