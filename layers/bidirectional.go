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

// Bidirectional runs a forward and a backward LSTM over the same sequence
// and merges their outputs, as Keras's Bidirectional. Without
// ReturnSequences the two outputs are the forward state after the last
// real token and the backward state after the first (Keras's
// Bidirectional(LSTM(return_sequences=False)), SPEC's "last" pooling).
type Bidirectional struct {
	named
	ForwardLayer, BackwardLayer *LSTM
	Merge                       MergeMode

	// states are the fused node's kernel states, lent to the graph of
	// whichever batch shape runs.
	states *lstmStates
}

// NewBidirectional pairs two LSTMs of the same size and output kind; the
// backward one must be made with GoBackwards.
func NewBidirectional(forward, backward *LSTM, merge MergeMode) *Bidirectional {
	return &Bidirectional{named: named{"bidirectional"}, ForwardLayer: forward, BackwardLayer: backward, Merge: merge,
		states: new(lstmStates)}
}

// Params returns the forward layer's parameters, then the backward one's.
func (b *Bidirectional) Params() []*Param {
	return append(b.ForwardLayer.Params(), b.BackwardLayer.Params()...)
}

// OutputShape is the forward layer's, with twice the features for
// MergeConcat.
func (b *Bidirectional) OutputShape(in []int) []int {
	s := b.ForwardLayer.OutputShape(in)
	if b.Merge == MergeConcat {
		s[len(s)-1] += b.BackwardLayer.hidden
	}
	return s
}

func (b *Bidirectional) check() error {
	f, k := b.ForwardLayer, b.BackwardLayer
	switch {
	case f.backwards || !k.backwards:
		return fmt.Errorf("%s: want a forward layer and a GoBackwards layer", b.name)
	case f.in != k.in || f.returnSequences != k.returnSequences:
		return fmt.Errorf("%s: the two layers differ in input size or output kind", b.name)
	case b.Merge != MergeConcat && f.hidden != k.hidden:
		return fmt.Errorf("%s: merge %v needs equal sizes, have %d and %d", b.name, b.Merge, f.hidden, k.hidden)
	}
	return nil
}

// Forward runs both directions over x, [batch, time, in], with mask
// [batch, time] (nil: every step is real), and merges them.
func (b *Bidirectional) Forward(g *Graph, x, mask *G.Node) (*G.Node, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	f, k := b.ForwardLayer, b.BackwardLayer
	if b.Merge == MergeConcat && !f.unrolled && !k.unrolled && f.hidden == k.hidden {
		// Both directions in one node, on two goroutines. Training on
		// frozen embeddings with fixed positions, nothing needs the
		// gradient of x: the backward pass skips it.
		inputGrad := !g.Training || trainableUpstream(g, x)
		seq, err := applyLSTM(x, mask, [][3]*G.Node{
			{g.Param(f.WeightIH), g.Param(f.WeightHH), g.Param(f.Bias)},
			{g.Param(k.WeightIH), g.Param(k.WeightHH), g.Param(k.Bias)}}, []bool{false, true}, inputGrad, b.states)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.name, err)
		}
		if f.returnSequences {
			return seq, nil
		}
		return pool(g, poolEnds, f.hidden, seq, mask)
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
