package layers

import (
	"fmt"
	"sync"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The Transformer's fused nodes (layer norm, multi-head attention, the
// feed-forward block) are fusedKernels (op.go) over the kernels package.

// kernelStates is a free list of the kernel states of one layer, which
// every graph the layer is built into shares. The attention's and the
// feed-forward block's states hold O(B·H·T²) and O(B·T·FF) floats; a model
// keeps a graph, hence a fused node, per batch shape but runs one at a
// time, so a node borrows a state from its forward pass to the end of its
// backward pass (of its forward pass, in a graph without one) rather than
// keeping one, and the layer's memory is the largest shape's instead of
// the sum over all shapes. Runs at once borrow one each. A nil
// *kernelStates lends nothing: each node makes its own.
type kernelStates struct {
	mu   sync.Mutex
	free map[tensor.Dtype][]any
}

// kernelStatesKept bounds the idle states kept per element type.
const kernelStatesKept = 8

// get returns an idle state of element type dt, or nil.
func (s *kernelStates) get(dt tensor.Dtype) any {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.free[dt]
	if len(l) == 0 {
		return nil
	}
	v := l[len(l)-1]
	s.free[dt] = l[:len(l)-1]
	return v
}

// put hands a state back; it reports false when s keeps none, and the
// node should hold on to its state.
func (s *kernelStates) put(dt tensor.Dtype, v any) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.free == nil {
		s.free = map[tensor.Dtype][]any{}
	}
	if len(s.free[dt]) < kernelStatesKept {
		s.free[dt] = append(s.free[dt], v)
	}
	return true
}

// gradTensors holds a fused kernel's gradient tensors, one per input,
// reused from run to run.
type gradTensors[F float] []*tensor.Dense

// set copies src into the gradient of input i, of shape s.
func (g gradTensors[F]) set(i int, src []F, s tensor.Shape) {
	g[i] = reuse[F](g[i], s...)
	copy(g[i].Data().([]F), src)
}

// get returns the gradient of input i.
func (g gradTensors[F]) get(i int) (G.Value, error) {
	if i < 0 || i >= len(g) || g[i] == nil {
		return nil, fmt.Errorf("no gradient of input %d: no backward pass ran", i)
	}
	return g[i], nil
}

// floatsOf returns the elements of in[i] for each i of idx.
func floatsOf[F float](in []G.Value, idx ...int) ([][]F, error) {
	out := make([][]F, len(idx))
	for n, i := range idx {
		s, err := data[F](in[i])
		if err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
		out[n] = s
	}
	return out, nil
}

// realMask reads a [B, T] padding mask: nonzero is a real token.
func realMask(v G.Value, real []bool) error {
	switch m := v.Data().(type) {
	case []float32:
		for i := range real {
			real[i] = m[i] != 0
		}
	case []float64:
		for i := range real {
			real[i] = m[i] != 0
		}
	default:
		return fmt.Errorf("mask of type %v, want float32 or float64", v.Dtype())
	}
	return nil
}

// maskOrOnes returns mask, checked against [b, t], or an all-real mask
// when it is nil.
func maskOrOnes(g *Graph, layer string, mask *G.Node, b, t int) (*G.Node, error) {
	if mask == nil {
		return onesMask(g.ExprGraph, g.Dtype, b, t), nil
	}
	if ms := mask.Shape(); ms.Dims() != 2 || ms[0] != b || ms[1] != t || mask.Dtype() != g.Dtype {
		return nil, fmt.Errorf("%s: mask %v of shape %v, want %v [%d %d]", layer, mask.Dtype(), ms, g.Dtype, b, t)
	}
	return mask, nil
}
