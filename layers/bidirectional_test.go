package layers

import (
	"fmt"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// newBiLSTM makes a Bidirectional of two LSTMs with random weights.
func newBiLSTM(rng *rand.Rand, in, hidden int, merge MergeMode, seq, unrolled bool) *Bidirectional {
	opts := []LSTMOption{ReturnSequences(seq)}
	if unrolled {
		opts = append(opts, Unrolled())
	}
	f := NewLSTM(in, hidden, tensor.Float64, rng, opts...)
	b := NewLSTM(in, hidden, tensor.Float64, rng, append(opts, GoBackwards())...)
	bi := NewBidirectional(f, b, merge)
	randomize(rng, bi.Params()...)
	return bi
}

func TestBidirectionalMatchesReference(t *testing.T) {
	const B, T, In, H = 3, 5, 2, 3
	for _, unrolled := range []bool{true, false} {
		for _, mode := range []MergeMode{MergeConcat, MergeSum, MergeAve, MergeMul} {
			for _, seq := range []bool{false, true} {
				t.Run(fmt.Sprintf("unrolled=%v/%v/sequences=%v", unrolled, mode, seq), func(t *testing.T) {
					rng := rand.New(rand.NewSource(20))
					bi := newBiLSTM(rng, In, H, mode, seq, unrolled)
					x := uniform(B*T, In, 1, rng)
					mask, _ := randomMask(rng, B, T)
					m := mask.Data().([]float64)
					fs, ff := refLSTM(bi.ForwardLayer.(*LSTM), x, m, B, T)
					bs, bf := refLSTM(bi.BackwardLayer.(*LSTM), x, m, B, T)
					f, b, rows := ff, bf, B
					if seq {
						f, b, rows = fs, bs, B*T
					}
					var want []float64
					for r := 0; r < rows; r++ {
						fr, br := f[r*H:(r+1)*H], b[r*H:(r+1)*H]
						switch mode {
						case MergeConcat:
							want = append(append(want, fr...), br...)
						default:
							for j := range fr {
								want = append(want, map[MergeMode]float64{
									MergeSum: fr[j] + br[j], MergeAve: (fr[j] + br[j]) / 2, MergeMul: fr[j] * br[j],
								}[mode])
							}
						}
					}
					g := NewGraph(tensor.Float64, false)
					xn := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(B, T, In), tensor.WithBacking(x)), G.WithName("x"))
					mn := G.NodeFromAny(g.ExprGraph, mask, G.WithName("mask"))
					y, err := bi.Forward(g, xn, mn)
					if err != nil {
						t.Fatal(err)
					}
					if got, want := []int(y.Shape()), bi.OutputShape([]int{B, T, In}); fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("output shape %v, OutputShape says %v", got, want)
					}
					got := runForward(t, g, y)
					if i, ok := closeTo(got, want, 1e-12); !ok {
						t.Errorf("output[%d] = %v, want %v", i, got, want)
					}
				})
			}
		}
	}
}

func TestBidirectionalGradient(t *testing.T) {
	const B, T, In, H = 3, 4, 2, 2
	for _, unrolled := range []bool{true, false} {
		for _, mode := range []MergeMode{MergeConcat, MergeSum, MergeAve, MergeMul} {
			for _, seq := range []bool{false, true} {
				t.Run(fmt.Sprintf("unrolled=%v/%v/sequences=%v", unrolled, mode, seq), func(t *testing.T) {
					rng := rand.New(rand.NewSource(21))
					bi := newBiLSTM(rng, In, H, mode, seq, unrolled)
					x := inputParam("x", rng, B, T, In)
					mask, _ := randomMask(rng, B, T)
					worst := gradCheck(t, func(g *Graph) (*G.Node, error) {
						return bi.Forward(g, g.Param(x), G.NodeFromAny(g.ExprGraph, mask, G.WithName("mask")))
					}, 12)
					t.Logf("worst relative error %.2g", worst)
				})
			}
		}
	}
}

// TestMaskedStackGradient checks the reference model end to end in
// float64: trainable embedding, learned positions, a masked BiLSTM, pooling,
// dropout, Dense(1) and the loss, on random ids with random lengths.
func TestMaskedStackGradient(t *testing.T) {
	const B, T, V, D, H = 3, 5, 9, 3, 2
	for _, unrolled := range []bool{true, false} {
		for _, pool := range []string{"last", "mean", "max"} {
			t.Run(fmt.Sprintf("unrolled=%v/pool=%s", unrolled, pool), func(t *testing.T) {
				rng := rand.New(rand.NewSource(22))
				mask, lens := randomMask(rng, B, T)
				ids := randomIDs(rng, V, lens, T)
				labels := tensor.New(tensor.WithShape(B), tensor.WithBacking([]float64{1, 0, 1}))
				emb := NewEmbedding(RandomEmbedding(V, D, tensor.Float64, rng), true)
				randomize(rng, emb.Weight)
				pos := NewLearnedEncoding(T, D, tensor.Float64, rng)
				bi := newBiLSTM(rng, D, H, MergeConcat, pool != "last", unrolled)
				drop := NewDropout(0.25, newCyclicRand(B*2*H))
				dense := NewDense(2*H, 1, Linear, tensor.Float64, rng)
				stack := []Layer{emb, pos, bi}
				if pool == "mean" {
					stack = append(stack, NewPooling(PoolMean))
				} else if pool == "max" {
					stack = append(stack, NewPooling(PoolMax))
				}
				stack = append(stack, drop, dense)
				worst := gradCheck(t, func(g *Graph) (*G.Node, error) {
					y := G.NodeFromAny(g.ExprGraph, ids, G.WithName("ids"))
					m := G.NodeFromAny(g.ExprGraph, mask, G.WithName("mask"))
					var err error
					for _, l := range stack {
						if y, err = l.Forward(g, y, m); err != nil {
							return nil, err
						}
					}
					return BinaryCrossEntropy(y, G.NodeFromAny(g.ExprGraph, labels, G.WithName("labels")))
				}, 10)
				t.Logf("worst relative error %.2g", worst)
			})
		}
	}
}

// TestLayersLendKernelStates checks that a layer built into graphs of two
// batch shapes lends one set of kernel states to whichever runs, so that
// its memory is that of the largest shape, not the sum: after a run of
// each shape its free list holds one state per direction.
func TestLayersLendKernelStates(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	const In, H = 3, 2
	bi := newBiLSTM(rng, In, H, MergeConcat, true, false)
	lstm := NewLSTM(In, H, tensor.Float64, rng, ReturnSequences(true))
	tests := []struct {
		name  string
		layer Layer
		free  func() int
		want  int
	}{
		{"Bidirectional", bi, func() int { return len(bi.states.f64.free) }, 2},
		{"LSTM", lstm, func() int { return len(lstm.states.f64.free) }, 1},
	}
	for _, tt := range tests {
		for _, shape := range [][2]int{{2, 5}, {3, 4}, {2, 5}} {
			B, T := shape[0], shape[1]
			x := make([]float64, B*T*In)
			for i := range x {
				x[i] = rng.Float64() - 0.5
			}
			r := make([]float64, B*T*2*H)
			outputAndGrads(t, tt.layer, tensor.Float64, x, nil, r, B, T, In)
		}
		if got := tt.free(); got != tt.want {
			t.Errorf("%s: %d idle kernel states after runs of 3 graphs of 2 shapes, want %d", tt.name, got, tt.want)
		}
	}
}

// otherRecurrent is a Recurrent layer that is not an *LSTM, so that
// Bidirectional runs it through the interface alone.
type otherRecurrent struct{ *LSTM }

// Bidirectional takes any Recurrent layer: two of them, concatenated, give
// the reference LSTM's outputs side by side.
func TestBidirectionalAnyRecurrent(t *testing.T) {
	const B, T, In, H = 3, 5, 2, 3
	for _, seq := range []bool{false, true} {
		rng := rand.New(rand.NewSource(21))
		f := NewLSTM(In, H, tensor.Float64, rng, ReturnSequences(seq))
		k := NewLSTM(In, H, tensor.Float64, rng, ReturnSequences(seq), GoBackwards())
		bi := NewBidirectional(otherRecurrent{f}, otherRecurrent{k}, MergeConcat)
		randomize(rng, bi.Params()...)
		x := uniform(B*T, In, 1, rng)
		mask, _ := randomMask(rng, B, T)
		m := mask.Data().([]float64)
		fs, ff := refLSTM(f, x, m, B, T)
		ks, kf := refLSTM(k, x, m, B, T)
		fw, kw, rows := ff, kf, B
		if seq {
			fw, kw, rows = fs, ks, B*T
		}
		var want []float64
		for r := 0; r < rows; r++ {
			want = append(append(want, fw[r*H:(r+1)*H]...), kw[r*H:(r+1)*H]...)
		}
		g := NewGraph(tensor.Float64, false)
		xn := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(B, T, In), tensor.WithBacking(x)), G.WithName("x"))
		mn := G.NodeFromAny(g.ExprGraph, mask, G.WithName("mask"))
		y, err := bi.Forward(g, xn, mn)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range g.AllNodes() {
			if n.Op() != nil && n.Op().String() == fmt.Sprintf("FusedBiLSTM(%d)", H) {
				t.Fatalf("sequences=%v: a Recurrent that is not an *LSTM ran as the paired LSTM node", seq)
			}
		}
		got := runForward(t, g, y)
		if i, ok := closeTo(got, want, 1e-12); !ok {
			t.Errorf("sequences=%v: output[%d] = %v, want %v", seq, i, got, want)
		}
	}
}
