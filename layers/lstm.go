package layers

import (
	"fmt"
	"math/rand"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LSTM is a long short-term memory layer with Keras's semantics (SPEC
// section 2): gates i, f, g (Keras's c), o; i, f, o = sigmoid, g = tanh;
// c' = f*c + i*g, h' = o*tanh(c'); one bias per gate. A masked step leaves
// h and c unchanged and outputs the carried h, so a padded sequence gives
// the same result as the sequence without its padding (PyTorch's
// pack_padded_sequence). The weights are in PyTorch's layout.
type LSTM struct {
	named
	// WeightIH is the input kernel [4H, In], WeightHH the recurrent kernel
	// [4H, H], Bias the one bias [4H]: "lstm.weight_ih_l0",
	// "lstm.weight_hh_l0", "lstm.bias_ih_l0" (suffix "_reverse" going
	// backwards).
	WeightIH, WeightHH, Bias *Param

	in, hidden      int
	returnSequences bool
	backwards       bool
	unrolled        bool

	// states are the fused node's kernel states, lent to the graph of
	// whichever batch shape runs.
	states *lstmStates
}

// LSTMOption configures an LSTM.
type LSTMOption func(*LSTM)

// ReturnSequences makes the layer return its output at every step,
// [batch, time, hidden], instead of its final state [batch, hidden].
func ReturnSequences(on bool) LSTMOption { return func(l *LSTM) { l.returnSequences = on } }

// GoBackwards makes the layer read the real tokens from the last to the
// first. Unlike Keras's go_backwards, a returned sequence stays in input
// order (as PyTorch's reverse direction, and Keras's Bidirectional after
// it reverses the backward layer's output again), and the final state is
// the state after the first real token.
func GoBackwards() LSTMOption { return func(l *LSTM) { l.backwards = true } }

// Unrolled makes the layer build its reference graph, one set of Gorgonia
// primitives per step, instead of the fused LSTM operation. It is slow and
// meant for checking the fused one.
func Unrolled() LSTMOption { return func(l *LSTM) { l.unrolled = true } }

// NewLSTM makes an LSTM from in features to hidden units with Keras's
// initialisers drawn from rng: Glorot-uniform kernel, orthogonal recurrent
// kernel, zero bias but for the forget gate's, which is 1.
func NewLSTM(in, hidden int, dt tensor.Dtype, rng *rand.Rand, opts ...LSTMOption) *LSTM {
	l := &LSTM{named: named{"lstm"}, in: in, hidden: hidden, states: new(lstmStates)}
	for _, o := range opts {
		o(l)
	}
	suffix := "_l0"
	if l.backwards {
		suffix += "_reverse"
	}
	bias := make([]float64, 4*hidden)
	for j := hidden; j < 2*hidden; j++ {
		bias[j] = 1
	}
	l.WeightIH = NewParam("lstm.weight_ih"+suffix, GlorotUniform(4*hidden, in, dt, rng), true)
	l.WeightHH = NewParam("lstm.weight_hh"+suffix, Orthogonal(4*hidden, hidden, dt, rng), true)
	l.Bias = NewParam("lstm.bias_ih"+suffix, fromFloat64s(dt, bias, 4*hidden), true)
	// The one Keras bias is PyTorch's bias_ih + bias_hh (see Param.Copies).
	l.Bias.Copies = 2
	return l
}

var _ Recurrent = (*LSTM)(nil)

// Hidden is the number of units.
func (l *LSTM) Hidden() int { return l.hidden }

// Backwards reports whether the layer reads its input from the end.
func (l *LSTM) Backwards() bool { return l.backwards }

// Sequences reports whether the layer returns its output at every step.
func (l *LSTM) Sequences() bool { return l.returnSequences }

// Params returns the input kernel, the recurrent kernel and the bias.
func (l *LSTM) Params() []*Param { return []*Param{l.WeightIH, l.WeightHH, l.Bias} }

// OutputShape is [batch, time, hidden] with ReturnSequences, else
// [batch, hidden].
func (l *LSTM) OutputShape(in []int) []int {
	if l.returnSequences {
		return []int{in[0], in[1], l.hidden}
	}
	return []int{in[0], l.hidden}
}

// Forward runs the layer over x, [batch, time, in], where mask, [batch,
// time], is 1 (every step when mask is nil).
func (l *LSTM) Forward(g *Graph, x, mask *G.Node) (*G.Node, error) {
	if err := l.checkInput(g, x, mask); err != nil {
		return nil, err
	}
	if !l.unrolled {
		return l.fused(g, x, mask)
	}
	return l.unroll(g, x, mask)
}

// checkInput checks the shapes and element types of x and mask.
func (l *LSTM) checkInput(g *Graph, x, mask *G.Node) error {
	s := x.Shape()
	if s.Dims() != 3 || s[2] != l.in {
		return shapeError(l.name, s, fmt.Sprintf("[batch, time, %d]", l.in))
	}
	if dt := l.WeightIH.Value.Dtype(); dt != g.Dtype || x.Dtype() != g.Dtype {
		return fmt.Errorf("%s: weights of type %v and input of type %v in a %v graph", l.name, dt, x.Dtype(), g.Dtype)
	}
	if mask != nil {
		if ms := mask.Shape(); ms.Dims() != 2 || ms[0] != s[0] || ms[1] != s[1] {
			return fmt.Errorf("%s: mask of shape %v for input %v", l.name, ms, s)
		}
	}
	return nil
}

// final picks the final state out of a sequence of outputs: the output at
// the last real step going forwards, at the first going backwards.
func (l *LSTM) final(g *Graph, seq, mask *G.Node) (*G.Node, error) {
	if l.backwards {
		return pool(g, poolEnds, 0, seq, mask)
	}
	return pool(g, PoolLast, 0, seq, mask)
}

// unroll builds the reference graph: per step, the gates from slices of
// x·Wihᵀ + h·Whhᵀ + b, and the masked update h = h + m*(h' - h).
func (l *LSTM) unroll(g *Graph, x, mask *G.Node) (*G.Node, error) {
	s := x.Shape()
	batch, steps, H := s[0], s[1], l.hidden
	wrap := func(err error) error { return fmt.Errorf("%s (unrolled): %w", l.name, err) }

	x2, err := G.Reshape(x, tensor.Shape{batch * steps, l.in})
	if err != nil {
		return nil, wrap(err)
	}
	wih, err := G.Transpose(g.Param(l.WeightIH))
	if err != nil {
		return nil, wrap(err)
	}
	whh, err := G.Transpose(g.Param(l.WeightHH))
	if err != nil {
		return nil, wrap(err)
	}
	xw, err := G.Mul(x2, wih)
	if err != nil {
		return nil, wrap(err)
	}
	bias, err := G.Reshape(g.Param(l.Bias), tensor.Shape{1, 4 * H})
	if err != nil {
		return nil, wrap(err)
	}
	if xw, err = G.BroadcastAdd(xw, bias, nil, []byte{0}); err != nil {
		return nil, wrap(err)
	}
	if xw, err = G.Reshape(xw, tensor.Shape{batch, steps, 4 * H}); err != nil {
		return nil, wrap(err)
	}

	zeros := func(what string) *G.Node {
		return G.NodeFromAny(g.ExprGraph, newTensor(g.Dtype, batch, H), G.WithName(fmt.Sprintf("%s.%s0.%p", l.name, what, l)))
	}
	h, c := zeros("h"), zeros("c")
	outputs := make([]*G.Node, steps)
	for i := 0; i < steps; i++ {
		t := i
		if l.backwards {
			t = steps - 1 - i
		}
		hNew, cNew, err := l.cell(xw, h, c, whh, t)
		if err != nil {
			return nil, wrap(err)
		}
		if mask != nil {
			m, err := G.Slice(mask, nil, G.S(t))
			if err != nil {
				return nil, wrap(err)
			}
			if m, err = G.Reshape(m, tensor.Shape{batch, 1}); err != nil {
				return nil, wrap(err)
			}
			if hNew, err = keepMasked(h, hNew, m); err != nil {
				return nil, wrap(err)
			}
			if cNew, err = keepMasked(c, cNew, m); err != nil {
				return nil, wrap(err)
			}
		}
		h, c = hNew, cNew
		outputs[t] = h
	}
	if !l.returnSequences {
		return h, nil
	}
	for t, o := range outputs {
		if outputs[t], err = G.Reshape(o, tensor.Shape{batch, 1, H}); err != nil {
			return nil, wrap(err)
		}
	}
	if steps == 1 {
		return outputs[0], nil
	}
	seq, err := G.Concat(1, outputs...)
	if err != nil {
		return nil, wrap(err)
	}
	return seq, nil
}

// cell adds one LSTM step at time t to the graph.
func (l *LSTM) cell(xw, h, c, whhT *G.Node, t int) (hNew, cNew *G.Node, err error) {
	H := l.hidden
	z, err := G.Slice(xw, nil, G.S(t))
	if err != nil {
		return nil, nil, err
	}
	hw, err := G.Mul(h, whhT)
	if err != nil {
		return nil, nil, err
	}
	if z, err = G.Add(z, hw); err != nil {
		return nil, nil, err
	}
	gate := func(k int, act func(*G.Node) (*G.Node, error)) (*G.Node, error) {
		s, err := G.Slice(z, nil, G.S(k*H, (k+1)*H))
		if err != nil {
			return nil, err
		}
		return act(s)
	}
	i, err := gate(0, G.Sigmoid)
	if err != nil {
		return nil, nil, err
	}
	f, err := gate(1, G.Sigmoid)
	if err != nil {
		return nil, nil, err
	}
	gg, err := gate(2, G.Tanh)
	if err != nil {
		return nil, nil, err
	}
	o, err := gate(3, G.Sigmoid)
	if err != nil {
		return nil, nil, err
	}
	fc, err := G.HadamardProd(f, c)
	if err != nil {
		return nil, nil, err
	}
	ig, err := G.HadamardProd(i, gg)
	if err != nil {
		return nil, nil, err
	}
	if cNew, err = G.Add(fc, ig); err != nil {
		return nil, nil, err
	}
	tc, err := G.Tanh(cNew)
	if err != nil {
		return nil, nil, err
	}
	if hNew, err = G.HadamardProd(o, tc); err != nil {
		return nil, nil, err
	}
	return hNew, cNew, nil
}

// keepMasked returns old + m*(updated - old) for m of shape [batch, 1]:
// the updated state where m is 1, the old one where it is 0.
func keepMasked(old, updated, m *G.Node) (*G.Node, error) {
	d, err := G.Sub(updated, old)
	if err != nil {
		return nil, err
	}
	if d, err = G.BroadcastHadamardProd(d, m, nil, []byte{1}); err != nil {
		return nil, err
	}
	return G.Add(old, d)
}

// fused runs the layer through the fused LSTM operation (lstm_op.go).
func (l *LSTM) fused(g *Graph, x, mask *G.Node) (*G.Node, error) {
	seq, err := applyLSTM(x, mask, [][3]*G.Node{{g.Param(l.WeightIH), g.Param(l.WeightHH), g.Param(l.Bias)}},
		[]bool{l.backwards}, true, l.states)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.name, err)
	}
	if l.returnSequences {
		return seq, nil
	}
	return l.final(g, seq, mask)
}
