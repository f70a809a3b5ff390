package layers

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The Transformer's fused nodes (layer norm, multi-head attention, the
// feed-forward block) share one shape of custom op, in the manner of
// relAttnOp: the forward op runs a kernel that keeps its intermediates,
// a backward op takes the forward inputs and dL/dy, runs the kernel's
// backward pass and is itself the gradient of input 0, and one small op
// per other differentiable input hands that input's gradient out, taking
// the backward node as its input so that Gorgonia runs it afterwards.

// fusedKernel is the numeric side of a fused node of fixed shapes.
type fusedKernel interface {
	// forward computes the output from the input values into out.
	forward(in []G.Value, out *tensor.Dense) error
	// backward computes the gradients of every input from dy, writes that
	// of input 0 into dx and keeps the others for grad.
	backward(in []G.Value, dy G.Value, dx *tensor.Dense) error
	// grad copies the gradient of input i left by backward into out.
	grad(i int, out *tensor.Dense) error
}

// differentiable is a fusedKernel that wants to know that a backward
// node follows its forward pass, so that it keeps its intermediates.
type differentiable interface{ differentiated() }

// fusedOp is the forward node.
type fusedOp struct {
	name   string
	shapes []tensor.Shape // of the inputs
	out    tensor.Shape
	dtype  tensor.Dtype
	diff   []bool // which inputs get a gradient; input 0 always does
	kernel fusedKernel
	value  *tensor.Dense // the output, reused from run to run
}

func (op *fusedOp) types(extra ...tensor.Shape) hm.Type {
	a := hm.TypeVariable('a')
	var ts []hm.Type
	for _, s := range append(append([]tensor.Shape{}, op.shapes...), extra...) {
		ts = append(ts, G.TensorType{Dims: s.Dims(), Of: a})
	}
	return hm.NewFnType(ts...)
}

func (op *fusedOp) Arity() int    { return len(op.shapes) }
func (op *fusedOp) Type() hm.Type { return op.types(op.out) }

func (op *fusedOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	shapes, err := G.DimSizersToShapes(ds)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op.name, err)
	}
	if err := op.checkShapes(shapes); err != nil {
		return nil, err
	}
	return op.out.Clone(), nil
}

func (op *fusedOp) checkShapes(shapes []tensor.Shape) error {
	if len(shapes) != len(op.shapes) {
		return fmt.Errorf("%s: %d inputs, want %d", op.name, len(shapes), len(op.shapes))
	}
	for i, s := range shapes {
		if !s.Eq(op.shapes[i]) {
			return fmt.Errorf("%s: input %d of shape %v, want %v", op.name, i, s, op.shapes[i])
		}
	}
	return nil
}

func (op *fusedOp) checkValues(vs []G.Value) error {
	shapes := make([]tensor.Shape, len(vs))
	for i, v := range vs {
		if v.Dtype() != op.dtype {
			return fmt.Errorf("%s: input %d of type %v, want %v", op.name, i, v.Dtype(), op.dtype)
		}
		shapes[i] = v.Shape()
	}
	return op.checkShapes(shapes)
}

// Do runs the forward pass into the op's own output tensor, the same one
// every run: allocating a fresh one per run costs more, in page faults,
// than the arithmetic of a layer norm.
func (op *fusedOp) Do(vs ...G.Value) (G.Value, error) {
	if err := op.checkValues(vs); err != nil {
		return nil, err
	}
	op.value = ownTensor(op.value, op.out, op.dtype)
	if err := op.kernel.forward(vs, op.value); err != nil {
		return nil, fmt.Errorf("%s: %w", op.name, err)
	}
	return op.value, nil
}

func (op *fusedOp) ReturnsPtr() bool     { return true }
func (op *fusedOp) CallsExtern() bool    { return false }
func (op *fusedOp) OverwritesInput() int { return -1 }

// WriteHash makes every fused node distinct: each keeps its own kernel.
func (op *fusedOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s-%p", op.name, op) }
func (op *fusedOp) Hashcode() uint32      { return fusedHash(op) }
func (op *fusedOp) String() string        { return op.name }

func (op *fusedOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	copy(d, op.diff)
	return d
}

func (op *fusedOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != len(op.shapes) {
		return nil, fmt.Errorf("%s: %d inputs, want %d", op.name, len(inputs), len(op.shapes))
	}
	if d, ok := op.kernel.(differentiable); ok {
		d.differentiated()
	}
	back, err := G.ApplyOp(&fusedBackOp{of: op}, append(append(G.Nodes{}, inputs...), grad)...)
	if err != nil {
		return nil, fmt.Errorf("%s backward: %w", op.name, err)
	}
	grads := make(G.Nodes, len(inputs))
	grads[0] = back
	for i := 1; i < len(inputs); i++ {
		if i >= len(op.diff) || !op.diff[i] {
			continue
		}
		if grads[i], err = G.ApplyOp(&fusedGradOp{of: op, input: i}, back); err != nil {
			return nil, fmt.Errorf("%s gradient of input %d: %w", op.name, i, err)
		}
	}
	return grads, nil
}

// fusedBackOp runs the backward pass; its value is the gradient of input 0.
type fusedBackOp struct {
	of    *fusedOp
	value *tensor.Dense
}

func (op *fusedBackOp) Arity() int    { return len(op.of.shapes) + 1 }
func (op *fusedBackOp) Type() hm.Type { return op.of.types(op.of.out, op.of.shapes[0]) }
func (op *fusedBackOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.of.shapes[0].Clone(), nil
}
func (op *fusedBackOp) Do(vs ...G.Value) (G.Value, error) {
	n := len(op.of.shapes)
	if len(vs) != n+1 {
		return nil, fmt.Errorf("%s backward: %d inputs, want %d", op.of.name, len(vs), n+1)
	}
	if err := op.of.checkValues(vs[:n]); err != nil {
		return nil, err
	}
	if !vs[n].Shape().Eq(op.of.out) {
		return nil, fmt.Errorf("%s backward: gradient of shape %v, want %v", op.of.name, vs[n].Shape(), op.of.out)
	}
	op.value = ownTensor(op.value, op.of.shapes[0], op.of.dtype)
	if err := op.of.kernel.backward(vs[:n], vs[n], op.value); err != nil {
		return nil, fmt.Errorf("%s backward: %w", op.of.name, err)
	}
	return op.value, nil
}
func (op *fusedBackOp) ReturnsPtr() bool      { return true }
func (op *fusedBackOp) CallsExtern() bool     { return false }
func (op *fusedBackOp) OverwritesInput() int  { return -1 }
func (op *fusedBackOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s-backward-%p", op.of.name, op.of) }
func (op *fusedBackOp) Hashcode() uint32      { return fusedHash(op) }
func (op *fusedBackOp) String() string        { return op.of.name + "Backward" }
func (op *fusedBackOp) DiffWRT(n int) []bool  { return make([]bool, n) }
func (op *fusedBackOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("%s: no second derivatives", op.of.name)
}

// fusedGradOp hands out the gradient of one input that the backward pass
// it takes as input computed.
type fusedGradOp struct {
	of    *fusedOp
	input int
	value *tensor.Dense
}

func (op *fusedGradOp) Arity() int { return 1 }
func (op *fusedGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(G.TensorType{Dims: op.of.shapes[0].Dims(), Of: a}, G.TensorType{Dims: op.of.shapes[op.input].Dims(), Of: a})
}
func (op *fusedGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.of.shapes[op.input].Clone(), nil
}
func (op *fusedGradOp) Do(...G.Value) (G.Value, error) {
	op.value = ownTensor(op.value, op.of.shapes[op.input], op.of.dtype)
	if err := op.of.kernel.grad(op.input, op.value); err != nil {
		return nil, fmt.Errorf("%s gradient of input %d: %w", op.of.name, op.input, err)
	}
	return op.value, nil
}
func (op *fusedGradOp) ReturnsPtr() bool     { return true }
func (op *fusedGradOp) CallsExtern() bool    { return false }
func (op *fusedGradOp) OverwritesInput() int { return -1 }
func (op *fusedGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "%s-grad%d-%p", op.of.name, op.input, op.of)
}
func (op *fusedGradOp) Hashcode() uint32     { return fusedHash(op) }
func (op *fusedGradOp) String() string       { return fmt.Sprintf("%sGrad(%d)", op.of.name, op.input) }
func (op *fusedGradOp) DiffWRT(n int) []bool { return make([]bool, n) }
func (op *fusedGradOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("%s: no second derivatives", op.of.name)
}

var (
	_ G.SDOp = (*fusedOp)(nil)
	_ G.Op   = (*fusedBackOp)(nil)
	_ G.Op   = (*fusedGradOp)(nil)
)

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

func fusedHash(op interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

// ownTensor returns t, or a new tensor of shape s and type dt when t is
// nil or no longer of that shape (Gorgonia may reshape a value in place).
func ownTensor(t *tensor.Dense, s tensor.Shape, dt tensor.Dtype) *tensor.Dense {
	if t != nil && t.Shape().Eq(s) && t.Dtype() == dt && !t.IsView() {
		return t
	}
	return tensor.New(tensor.WithShape(s.Clone()...), tensor.Of(dt))
}

// floats returns the elements of a dense value as a contiguous []F.
func floats[F float](v G.Value) ([]F, error) {
	t, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("value of type %T, want *tensor.Dense", v)
	}
	if t.IsView() {
		t = t.Materialize().(*tensor.Dense)
	}
	s, ok := t.Data().([]F)
	if !ok {
		var zero F
		return nil, fmt.Errorf("value of type %v, want %T", t.Dtype(), zero)
	}
	return s, nil
}

// floatsOf returns the elements of in[i] for each i of idx.
func floatsOf[F float](in []G.Value, idx ...int) ([][]F, error) {
	out := make([][]F, len(idx))
	for n, i := range idx {
		s, err := floats[F](in[i])
		if err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
		out[n] = s
	}
	return out, nil
}

// copyInto copies src into the tensor out of the same element type.
func copyInto[F float](out *tensor.Dense, src []F) error {
	d, ok := out.Data().([]F)
	if !ok || len(d) != len(src) {
		return fmt.Errorf("gradient buffer of %d %v, want %d", out.Shape().TotalSize(), out.Dtype(), len(src))
	}
	copy(d, src)
	return nil
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
// constant when it is nil.
func maskOrOnes(g *Graph, layer string, mask *G.Node, b, t int) (*G.Node, error) {
	if mask == nil {
		return G.NodeFromAny(g.ExprGraph, fromFloat64s(g.Dtype, ones(b*t), b, t), G.WithName(fmt.Sprintf("%s.ones.%dx%d.%d", layer, b, t, g.AllNodes().Len()))), nil
	}
	if ms := mask.Shape(); ms.Dims() != 2 || ms[0] != b || ms[1] != t || mask.Dtype() != g.Dtype {
		return nil, fmt.Errorf("%s: mask %v of shape %v, want %v [%d %d]", layer, mask.Dtype(), ms, g.Dtype, b, t)
	}
	return mask, nil
}
