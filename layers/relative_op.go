package layers

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The relative attention layer is one custom Gorgonia op with a
// hand-written backward, in the manner of gorgonia's BatchNormOp: the
// forward op keeps its intermediates in a relAttnState, the gradient op
// reads them and computes every input's gradient at once, and one small op
// per weight hands that weight's share out as a node for gorgonia.Grad.
//
// Node inputs, in order: x [B,T,D], mask [B,T], Wq, Wk, Wv, Wo [D,D],
// rK, rV [2k+1,D]. The gradient op takes the same inputs and dL/dy.

const (
	relInX = iota
	relInMask
	relInWq
	relInWk
	relInWv
	relInWo
	relInRK
	relInRV
	relArity
)

// relAttnState is what the ops of one layer application share: its shape
// and the kernel holding the forward pass's intermediates.
type relAttnState struct {
	b, t, d, k int
	dtype      tensor.Dtype
	k32        *relKernel[float32]
	k64        *relKernel[float64]
}

func newRelAttnState(b, t, d, k int, dt tensor.Dtype) (*relAttnState, error) {
	st := &relAttnState{b: b, t: t, d: d, k: k, dtype: dt}
	switch dt {
	case tensor.Float32:
		st.k32 = newRelKernel[float32](b, t, d, k)
	case tensor.Float64:
		st.k64 = newRelKernel[float64](b, t, d, k)
	default:
		return nil, fmt.Errorf("relative attention: dtype %v, want float32 or float64", dt)
	}
	return st, nil
}

// forward runs the kernel on the op's input values and writes y into out.
func (st *relAttnState) forward(in []G.Value, out *tensor.Dense) error {
	real, err := st.realTokens(in[relInMask])
	if err != nil {
		return err
	}
	switch st.dtype {
	case tensor.Float32:
		ws, err := relSlices[float32](in, relInWq, relInWk, relInWv, relInWo, relInRK, relInRV)
		if err != nil {
			return err
		}
		x, err := relSlice[float32](in[relInX])
		if err != nil {
			return err
		}
		st.k32.forward(x, real, ws[0], ws[1], ws[2], ws[3], ws[4], ws[5], out.Data().([]float32))
	default:
		ws, err := relSlices[float64](in, relInWq, relInWk, relInWv, relInWo, relInRK, relInRV)
		if err != nil {
			return err
		}
		x, err := relSlice[float64](in[relInX])
		if err != nil {
			return err
		}
		st.k64.forward(x, real, ws[0], ws[1], ws[2], ws[3], ws[4], ws[5], out.Data().([]float64))
	}
	return nil
}

// backward runs the kernel's backward pass; in holds the forward inputs
// followed by dL/dy.
func (st *relAttnState) backward(in []G.Value) error {
	switch st.dtype {
	case tensor.Float32:
		ws, err := relSlices[float32](in, relInX, relInWq, relInWk, relInWv, relInWo, relInRK, relInRV, relArity)
		if err != nil {
			return err
		}
		st.k32.backward(ws[0], ws[1], ws[2], ws[3], ws[4], ws[5], ws[6], ws[7])
	default:
		ws, err := relSlices[float64](in, relInX, relInWq, relInWk, relInWv, relInWo, relInRK, relInRV, relArity)
		if err != nil {
			return err
		}
		st.k64.backward(ws[0], ws[1], ws[2], ws[3], ws[4], ws[5], ws[6], ws[7])
	}
	return nil
}

// grad returns the gradient the last backward pass left for input i, as
// a slice of the state's dtype.
func (st *relAttnState) grad(i int) any {
	if st.k32 != nil {
		return relKernelGrad(st.k32, i)
	}
	return relKernelGrad(st.k64, i)
}

func relKernelGrad[F relFloat](kn *relKernel[F], i int) []F {
	switch i {
	case relInX:
		return kn.dx
	case relInWq:
		return kn.dwq
	case relInWk:
		return kn.dwk
	case relInWv:
		return kn.dwv
	case relInWo:
		return kn.dwo
	case relInRK:
		return kn.drk
	case relInRV:
		return kn.drv
	}
	return nil
}

func (st *relAttnState) shapeOf(i int) tensor.Shape {
	switch i {
	case relInX, relArity:
		return tensor.Shape{st.b, st.t, st.d}
	case relInMask:
		return tensor.Shape{st.b, st.t}
	case relInRK, relInRV:
		return tensor.Shape{2*st.k + 1, st.d}
	}
	return tensor.Shape{st.d, st.d}
}

// realTokens reads a mask value: nonzero is a real token.
func (st *relAttnState) realTokens(v G.Value) ([]bool, error) {
	t, err := relDense(v, st.shapeOf(relInMask))
	if err != nil {
		return nil, fmt.Errorf("relative attention mask: %w", err)
	}
	real := make([]bool, st.b*st.t)
	switch m := t.Data().(type) {
	case []float32:
		for i, x := range m {
			real[i] = x != 0
		}
	case []float64:
		for i, x := range m {
			real[i] = x != 0
		}
	default:
		return nil, fmt.Errorf("relative attention: mask dtype %v, want float32 or float64", t.Dtype())
	}
	return real, nil
}

func (st *relAttnState) checkShapes(in []G.Value) error {
	for i, v := range in {
		if i == relInMask {
			continue
		}
		if want := st.shapeOf(i); !v.Shape().Eq(want) {
			return fmt.Errorf("relative attention: input %d has shape %v, want %v", i, v.Shape(), want)
		}
	}
	return nil
}

// relDense returns v as a contiguous dense tensor of shape want.
func relDense(v G.Value, want tensor.Shape) (*tensor.Dense, error) {
	t, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("value of type %T, want *tensor.Dense", v)
	}
	if !t.Shape().Eq(want) {
		return nil, fmt.Errorf("shape %v, want %v", t.Shape(), want)
	}
	if t.IsView() {
		t = t.Materialize().(*tensor.Dense)
	}
	return t, nil
}

func relSlice[F relFloat](v G.Value) ([]F, error) {
	t, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("relative attention: value of type %T, want *tensor.Dense", v)
	}
	if t.IsView() {
		t = t.Materialize().(*tensor.Dense)
	}
	s, ok := t.Data().([]F)
	if !ok {
		return nil, fmt.Errorf("relative attention: dtype %v, want %T", t.Dtype(), F(0))
	}
	return s, nil
}

func relSlices[F relFloat](in []G.Value, idx ...int) ([][]F, error) {
	out := make([][]F, len(idx))
	for n, i := range idx {
		s, err := relSlice[F](in[i])
		if err != nil {
			return nil, err
		}
		out[n] = s
	}
	return out, nil
}

// relOutput returns prealloc when it can hold a result of shape s and
// dtype dt, and a new tensor otherwise.
func relOutput(prealloc G.Value, s tensor.Shape, dt tensor.Dtype) *tensor.Dense {
	if t, ok := prealloc.(*tensor.Dense); ok && t.Shape().Eq(s) && t.Dtype() == dt && !t.IsView() {
		return t
	}
	return tensor.New(tensor.WithShape(s.Clone()...), tensor.Of(dt))
}

func relTypes(n int) []hm.Type {
	a := hm.TypeVariable('a')
	ts := make([]hm.Type, n)
	for i := range ts {
		ts[i] = G.TensorType{Dims: 2, Of: a}
	}
	return ts
}

// relAttnOp is y = x + Attn(x), the forward op.
type relAttnOp struct{ st *relAttnState }

func (op *relAttnOp) Arity() int { return relArity }

func (op *relAttnOp) Type() hm.Type {
	ts := relTypes(relArity + 1)
	ts[relInX] = G.TensorType{Dims: 3, Of: hm.TypeVariable('a')}
	ts[relInMask] = G.TensorType{Dims: 2, Of: hm.TypeVariable('a')}
	ts[relArity] = ts[relInX]
	return hm.NewFnType(ts...)
}

func (op *relAttnOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return op.st.shapeOf(relInX), nil
}

func (op *relAttnOp) Do(in ...G.Value) (G.Value, error) {
	return op.UsePreallocDo(nil, in...)
}

// UsePreallocDo computes the output into prealloc when it fits. The
// kernel reads x fully before writing y, so prealloc may even be x.
func (op *relAttnOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	if len(in) != relArity {
		return nil, fmt.Errorf("relative attention: %d inputs, want %d", len(in), relArity)
	}
	if err := op.st.checkShapes(in); err != nil {
		return nil, err
	}
	out := relOutput(prealloc, op.st.shapeOf(relInX), op.st.dtype)
	if err := op.st.forward(in, out); err != nil {
		return nil, err
	}
	return out, nil
}

// DoDiff is the backward pass for gorgonia's LispMachine: it adds the
// gradients into the inputs' dual values.
func (op *relAttnOp) DoDiff(ctx G.ExecutionContext, inputs G.Nodes, output *G.Node) error {
	in := make([]G.Value, relArity+1)
	for i, n := range inputs {
		in[i] = n.Value()
	}
	dy, err := output.Grad()
	if err != nil {
		return fmt.Errorf("relative attention: %w", err)
	}
	in[relArity] = dy
	if err := op.st.backward(in); err != nil {
		return err
	}
	for i, n := range inputs {
		if i == relInMask {
			continue
		}
		g, err := n.Grad()
		if err != nil {
			continue // a constant input, such as frozen weights
		}
		if err := relAddInto(g, op.st.grad(i)); err != nil {
			return err
		}
	}
	return nil
}

func relAddInto(dst G.Value, src any) error {
	t, ok := dst.(*tensor.Dense)
	if !ok {
		return fmt.Errorf("relative attention: gradient of type %T, want *tensor.Dense", dst)
	}
	switch s := src.(type) {
	case []float32:
		d := t.Data().([]float32)
		for i := range s {
			d[i] += s[i]
		}
	case []float64:
		d := t.Data().([]float64)
		for i := range s {
			d[i] += s[i]
		}
	}
	return nil
}

func (op *relAttnOp) DiffWRT(inputs int) []bool {
	w := make([]bool, inputs)
	for i := range w {
		w[i] = i != relInMask
	}
	return w
}

// SymDiff gives gorgonia.Grad one gradient op for all inputs and one
// extraction op per weight.
func (op *relAttnOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != relArity {
		return nil, fmt.Errorf("relative attention: %d inputs, want %d", len(inputs), relArity)
	}
	args := append(append(G.Nodes{}, inputs...), grad)
	dx, err := G.ApplyOp(&relAttnGradOp{op.st}, args...)
	if err != nil {
		return nil, err
	}
	out := make(G.Nodes, relArity)
	out[relInX] = dx
	for i := relInWq; i < relArity; i++ {
		if out[i], err = G.ApplyOp(&relAttnWeightGradOp{op.st, i}, dx); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (op *relAttnOp) ReturnsPtr() bool     { return false }
func (op *relAttnOp) CallsExtern() bool    { return false }
func (op *relAttnOp) OverwritesInput() int { return -1 }
func (op *relAttnOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "relattn-%p", op.st)
}
func (op *relAttnOp) Hashcode() uint32 { return relHash(op) }
func (op *relAttnOp) String() string {
	return fmt.Sprintf("RelativeAttention{k=%d}", op.st.k)
}

// relAttnGradOp runs the backward pass and returns dL/dx; the weights'
// gradients stay in the state for relAttnWeightGradOp.
type relAttnGradOp struct{ st *relAttnState }

func (op *relAttnGradOp) Arity() int { return relArity + 1 }

func (op *relAttnGradOp) Type() hm.Type {
	ts := relTypes(relArity + 2)
	ts[relInX] = G.TensorType{Dims: 3, Of: hm.TypeVariable('a')}
	ts[relInMask] = G.TensorType{Dims: 2, Of: hm.TypeVariable('a')}
	ts[relArity] = ts[relInX]
	ts[relArity+1] = ts[relInX]
	return hm.NewFnType(ts...)
}

func (op *relAttnGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return op.st.shapeOf(relInX), nil
}

func (op *relAttnGradOp) Do(in ...G.Value) (G.Value, error) {
	return op.UsePreallocDo(nil, in...)
}

func (op *relAttnGradOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	if len(in) != relArity+1 {
		return nil, fmt.Errorf("relative attention gradient: %d inputs, want %d", len(in), relArity+1)
	}
	if err := op.st.checkShapes(in); err != nil {
		return nil, err
	}
	if err := op.st.backward(in); err != nil {
		return nil, err
	}
	out := relOutput(prealloc, op.st.shapeOf(relInX), op.st.dtype)
	relCopy(out, op.st.grad(relInX))
	return out, nil
}

func (op *relAttnGradOp) DiffWRT(inputs int) []bool { return make([]bool, inputs) }
func (op *relAttnGradOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("relative attention: no second derivative")
}
func (op *relAttnGradOp) ReturnsPtr() bool     { return false }
func (op *relAttnGradOp) CallsExtern() bool    { return false }
func (op *relAttnGradOp) OverwritesInput() int { return -1 }
func (op *relAttnGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "relattngrad-%p", op.st)
}
func (op *relAttnGradOp) Hashcode() uint32 { return relHash(op) }
func (op *relAttnGradOp) String() string   { return "RelativeAttentionGrad" }

// relAttnWeightGradOp returns the gradient of one weight, which the
// gradient op it takes as input has computed.
type relAttnWeightGradOp struct {
	st    *relAttnState
	input int
}

func (op *relAttnWeightGradOp) Arity() int { return 1 }

func (op *relAttnWeightGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(G.TensorType{Dims: 3, Of: a}, G.TensorType{Dims: 2, Of: a})
}

func (op *relAttnWeightGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return op.st.shapeOf(op.input), nil
}

func (op *relAttnWeightGradOp) Do(in ...G.Value) (G.Value, error) {
	return op.UsePreallocDo(nil, in...)
}

func (op *relAttnWeightGradOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	out := relOutput(prealloc, op.st.shapeOf(op.input), op.st.dtype)
	relCopy(out, op.st.grad(op.input))
	return out, nil
}

func (op *relAttnWeightGradOp) DiffWRT(inputs int) []bool { return make([]bool, inputs) }
func (op *relAttnWeightGradOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("relative attention: no second derivative")
}
func (op *relAttnWeightGradOp) ReturnsPtr() bool     { return false }
func (op *relAttnWeightGradOp) CallsExtern() bool    { return false }
func (op *relAttnWeightGradOp) OverwritesInput() int { return -1 }
func (op *relAttnWeightGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "relattnweightgrad-%p-%d", op.st, op.input)
}
func (op *relAttnWeightGradOp) Hashcode() uint32 { return relHash(op) }
func (op *relAttnWeightGradOp) String() string {
	return fmt.Sprintf("RelativeAttentionWeightGrad{%d}", op.input)
}

func relCopy(dst *tensor.Dense, src any) {
	switch s := src.(type) {
	case []float32:
		copy(dst.Data().([]float32), s)
	case []float64:
		copy(dst.Data().([]float64), s)
	}
}

func relHash(op interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
