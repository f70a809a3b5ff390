package layers

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// PoolMode says how Pooling reduces the time axis.
type PoolMode int

// The pooling modes. Each reads real steps only (mask 1).
const (
	// PoolLast takes the output at the last real step.
	PoolLast PoolMode = iota
	// PoolMean averages the outputs of the real steps.
	PoolMean
	// PoolMax takes each feature's largest value over the real steps.
	PoolMax
	// poolEnds takes features [0, split) at the last real step and the
	// rest at the first: a bidirectional layer's two final states.
	poolEnds
)

// String is the mode's --pool name.
func (m PoolMode) String() string {
	switch m {
	case PoolLast:
		return "last"
	case PoolMean:
		return "mean"
	case PoolMax:
		return "max"
	case poolEnds:
		return "ends"
	}
	return fmt.Sprintf("PoolMode(%d)", int(m))
}

// Pooling reduces a [batch, time, features] sequence to [batch, features]
// over its real steps. For a Bidirectional layer's concatenated sequence,
// PoolLast would read the backward half at the wrong end: use the layer's
// own ReturnSequences(false) for SPEC's "last" pooling.
type Pooling struct {
	named
	Mode PoolMode
}

// NewPooling makes a pooling layer.
func NewPooling(mode PoolMode) *Pooling {
	return &Pooling{named: named{"pooling"}, Mode: mode}
}

// Params returns nothing: pooling has no weights.
func (p *Pooling) Params() []*Param { return nil }

// OutputShape drops the time axis.
func (p *Pooling) OutputShape(in []int) []int {
	return []int{in[0], in[len(in)-1]}
}

// Forward pools x, [batch, time, features], over the steps where mask,
// [batch, time], is 1 (every step when mask is nil). A row with no real
// step gives zeros.
func (p *Pooling) Forward(g *Graph, x, mask *G.Node) (*G.Node, error) {
	return pool(g, p.Mode, 0, x, mask)
}

// pool adds a pooling node; split is used by poolEnds only.
func pool(g *Graph, mode PoolMode, split int, x, mask *G.Node) (*G.Node, error) {
	s := x.Shape()
	if s.Dims() != 3 {
		return nil, shapeError("pooling", s, "[batch, time, features]")
	}
	if mask == nil {
		mask = onesMask(g.ExprGraph, g.Dtype, s[0], s[1])
	}
	if ms := mask.Shape(); ms.Dims() != 2 || ms[0] != s[0] || ms[1] != s[1] {
		return nil, fmt.Errorf("pooling: mask of shape %v for input %v", ms, s)
	}
	return G.ApplyOp(poolOp(mode, split), x, mask)
}

func ones(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 1
	}
	return v
}

func poolOp(mode PoolMode, split int) *funcOp {
	name := "pool." + mode.String()
	return &funcOp{
		name: name,
		in:   []hm.Type{tensorType(3), tensorType(2)},
		out:  tensorType(2),
		diff: []bool{true, false},
		shape: func(s []tensor.Shape) (tensor.Shape, error) {
			return tensor.Shape{s[0][0], s[0][2]}, nil
		},
		forward: func(in []G.Value) (G.Value, error) {
			s := in[0].Shape()
			out := newTensor(in[0].Dtype(), s[0], s[2])
			switch o := out.Data().(type) {
			case []float32:
				return out, poolForward(mode, split, o, in[0].Data().([]float32), in[1].Data().([]float32), s)
			case []float64:
				return out, poolForward(mode, split, o, in[0].Data().([]float64), in[1].Data().([]float64), s)
			}
			return nil, dtypeError(name, in[0].Dtype())
		},
		grad: func(_ int, in []G.Value, _, dy G.Value) (G.Value, error) {
			s := in[0].Shape()
			dx := newTensor(in[0].Dtype(), s...)
			switch d := dx.Data().(type) {
			case []float32:
				poolBackward(mode, split, d, in[0].Data().([]float32), in[1].Data().([]float32), dy.Data().([]float32), s)
			case []float64:
				poolBackward(mode, split, d, in[0].Data().([]float64), in[1].Data().([]float64), dy.Data().([]float64), s)
			default:
				return nil, dtypeError(name, in[0].Dtype())
			}
			return dx, nil
		},
	}
}

// realSteps returns the first and last real step of a mask row, or -1, -1.
func realSteps[T float](m []T) (first, last int) {
	first, last = -1, -1
	for t, v := range m {
		if v != 0 {
			if first < 0 {
				first = t
			}
			last = t
		}
	}
	return first, last
}

// source returns, for feature f, the step poolLast or poolEnds reads.
func source(mode PoolMode, split, f, first, last int) int {
	if mode == poolEnds && f >= split {
		return first
	}
	return last
}

func poolForward[T float](mode PoolMode, split int, out, x, mask []T, s tensor.Shape) error {
	batch, steps, feats := s[0], s[1], s[2]
	for b := 0; b < batch; b++ {
		m := mask[b*steps : (b+1)*steps]
		o := out[b*feats : (b+1)*feats]
		first, last := realSteps(m)
		if last < 0 {
			continue
		}
		switch mode {
		case PoolLast, poolEnds:
			for f := range o {
				o[f] = x[(b*steps+source(mode, split, f, first, last))*feats+f]
			}
		case PoolMean:
			var n T
			for t, w := range m {
				if w == 0 {
					continue
				}
				n++
				for f, v := range x[(b*steps+t)*feats : (b*steps+t+1)*feats] {
					o[f] += v
				}
			}
			for f := range o {
				o[f] /= n
			}
		case PoolMax:
			for f := range o {
				o[f] = T(math.Inf(-1))
			}
			for t, w := range m {
				if w == 0 {
					continue
				}
				for f, v := range x[(b*steps+t)*feats : (b*steps+t+1)*feats] {
					o[f] = max(o[f], v)
				}
			}
		default:
			return fmt.Errorf("pooling: unknown mode %v", mode)
		}
	}
	return nil
}

func poolBackward[T float](mode PoolMode, split int, dx, x, mask, dy []T, s tensor.Shape) {
	batch, steps, feats := s[0], s[1], s[2]
	for b := 0; b < batch; b++ {
		m := mask[b*steps : (b+1)*steps]
		d := dy[b*feats : (b+1)*feats]
		first, last := realSteps(m)
		if last < 0 {
			continue
		}
		switch mode {
		case PoolLast, poolEnds:
			for f, g := range d {
				dx[(b*steps+source(mode, split, f, first, last))*feats+f] += g
			}
		case PoolMean:
			var n T
			for _, w := range m {
				if w != 0 {
					n++
				}
			}
			for t, w := range m {
				if w == 0 {
					continue
				}
				row := dx[(b*steps+t)*feats : (b*steps+t+1)*feats]
				for f, g := range d {
					row[f] += g / n
				}
			}
		case PoolMax:
			// The gradient goes to the first step that holds the maximum.
			for f, g := range d {
				best := -1
				for t, w := range m {
					if w != 0 && (best < 0 || x[(b*steps+t)*feats+f] > x[(b*steps+best)*feats+f]) {
						best = t
					}
				}
				dx[(b*steps+best)*feats+f] += g
			}
		}
	}
}
