package layers

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MergeMode says how Bidirectional combines its two directions.
type MergeMode int

// The merge modes of Keras's Bidirectional.
const (
	MergeConcat MergeMode = iota // [forward, backward] on the feature axis
	MergeSum                     // forward + backward
	MergeAve                     // (forward + backward) / 2
	MergeMul                     // forward ⊙ backward
)

// String is the mode's Keras name.
func (m MergeMode) String() string {
	switch m {
	case MergeConcat:
		return "concat"
	case MergeSum:
		return "sum"
	case MergeAve:
		return "ave"
	case MergeMul:
		return "mul"
	}
	return fmt.Sprintf("MergeMode(%d)", int(m))
}

// Recurrent is a layer that reads a sequence one step at a time in one
// direction: what Bidirectional pairs. LSTM is one; a GRU or another cell
// needs only these methods to run in both directions.
type Recurrent interface {
	Layer
	// Hidden is the width of the layer's output at each step.
	Hidden() int
	// Backwards reports whether the layer reads the real tokens from the
	// last to the first, keeping a returned sequence in input order.
	Backwards() bool
	// Sequences reports whether the layer returns its output at every
	// step, [batch, time, hidden], rather than its final state [batch,
	// hidden]: the state after the last real token going forwards, after
	// the first going backwards.
	Sequences() bool
}

// Bidirectional runs a forward and a backward recurrent layer over the
// same sequence and merges their outputs, as Keras's Bidirectional.
// Without Sequences the two outputs are the forward state after the last
// real token and the backward state after the first (Keras's
// Bidirectional(LSTM(return_sequences=False)), SPEC's "last" pooling).
type Bidirectional struct {
	named
	ForwardLayer, BackwardLayer Recurrent
	Merge                       MergeMode

	// states are the fused LSTM node's kernel states, lent to the graph
	// of whichever batch shape runs.
	states *lstmStates
}

// NewBidirectional pairs two recurrent layers of the same output kind; the
// backward one must read backwards (an LSTM made with GoBackwards).
func NewBidirectional(forward, backward Recurrent, merge MergeMode) *Bidirectional {
	return &Bidirectional{named: named{"bidirectional"}, ForwardLayer: forward, BackwardLayer: backward, Merge: merge,
		states: new(lstmStates)}
}

// Params returns the forward layer's parameters, then the backward one's.
func (b *Bidirectional) Params() []*Param {
	return append(b.ForwardLayer.Params(), b.BackwardLayer.Params()...)
}

// OutputShape is the forward layer's, with both layers' features for
// MergeConcat.
func (b *Bidirectional) OutputShape(in []int) []int {
	s := b.ForwardLayer.OutputShape(in)
	if b.Merge == MergeConcat {
		s[len(s)-1] += b.BackwardLayer.Hidden()
	}
	return s
}

func (b *Bidirectional) check() error {
	f, k := b.ForwardLayer, b.BackwardLayer
	switch {
	case f == nil || k == nil:
		return fmt.Errorf("%s: want two recurrent layers", b.name)
	case f.Backwards() || !k.Backwards():
		return fmt.Errorf("%s: want a forward layer and a backwards one", b.name)
	case f.Sequences() != k.Sequences():
		return fmt.Errorf("%s: the two layers differ in output kind", b.name)
	case b.Merge != MergeConcat && f.Hidden() != k.Hidden():
		return fmt.Errorf("%s: merge %v needs equal sizes, have %d and %d", b.name, b.Merge, f.Hidden(), k.Hidden())
	}
	if fl, ok := f.(*LSTM); ok {
		if kl, ok := k.(*LSTM); ok && fl.in != kl.in {
			return fmt.Errorf("%s: the two layers differ in input size (%d and %d)", b.name, fl.in, kl.in)
		}
	}
	return nil
}

// Forward runs both directions over x, [batch, time, in], with mask
// [batch, time] (nil: every step is real), and merges them.
func (b *Bidirectional) Forward(g *Graph, x, mask *G.Node) (*G.Node, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	if y, ok, err := b.fusedLSTM(g, x, mask); ok {
		return y, err
	}
	fwd, err := b.ForwardLayer.Forward(g, x, mask)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.name, err)
	}
	bwd, err := b.BackwardLayer.Forward(g, x, mask)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.name, err)
	}
	y, err := merge(g, b.Merge, fwd, bwd)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.name, err)
	}
	return y, nil
}

// fusedLSTM runs two fused LSTMs of one size, concatenated, as one node
// on two goroutines; ok is false for any other pair.
func (b *Bidirectional) fusedLSTM(g *Graph, x, mask *G.Node) (y *G.Node, ok bool, err error) {
	f, fok := b.ForwardLayer.(*LSTM)
	k, kok := b.BackwardLayer.(*LSTM)
	if !fok || !kok || b.Merge != MergeConcat || f.unrolled || k.unrolled || f.hidden != k.hidden {
		return nil, false, nil
	}
	if err := f.checkInput(g, x, mask); err != nil {
		return nil, true, fmt.Errorf("%s: %w", b.name, err)
	}
	// Training on frozen embeddings with fixed positions, nothing needs
	// the gradient of x: the backward pass skips it.
	inputGrad := !g.Training || trainableUpstream(g, x)
	seq, err := applyLSTM(x, mask, [][3]*G.Node{
		{g.Param(f.WeightIH), g.Param(f.WeightHH), g.Param(f.Bias)},
		{g.Param(k.WeightIH), g.Param(k.WeightHH), g.Param(k.Bias)}}, []bool{false, true}, inputGrad, b.states)
	if err != nil {
		return nil, true, fmt.Errorf("%s: %w", b.name, err)
	}
	if f.returnSequences {
		return seq, true, nil
	}
	y, err = pool(g, poolEnds, f.hidden, seq, mask)
	return y, true, err
}

// trainableUpstream reports whether n is, or is computed from, a trainable
// parameter of g: only then does the backward pass need n's gradient.
func trainableUpstream(g *Graph, n *G.Node) bool {
	_, params := g.Trainable()
	if len(params) == 0 {
		return false
	}
	trainable := make(map[*G.Node]bool, len(params))
	for _, p := range params {
		trainable[p] = true
	}
	seen := map[*G.Node]bool{}
	stack := []*G.Node{n}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if trainable[n] {
			return true
		}
		if seen[n] {
			continue
		}
		seen[n] = true
		for it := g.From(n.ID()); it.Next(); {
			if c, ok := it.Node().(*G.Node); ok {
				stack = append(stack, c)
			}
		}
	}
	return false
}

// merge combines two outputs of the same shape but for the last axis.
func merge(g *Graph, mode MergeMode, a, b *G.Node) (*G.Node, error) {
	switch mode {
	case MergeConcat:
		return G.Concat(a.Dims()-1, a, b)
	case MergeSum:
		return G.Add(a, b)
	case MergeAve:
		s, err := G.Add(a, b)
		if err != nil {
			return nil, err
		}
		var half *G.Node
		if g.Dtype == tensor.Float32 {
			half = G.NewConstant(float32(0.5))
		} else {
			half = G.NewConstant(0.5)
		}
		return G.Mul(s, half)
	case MergeMul:
		return G.HadamardProd(a, b)
	}
	return nil, fmt.Errorf("unknown merge mode %v", mode)
}
