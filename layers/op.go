package layers

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// float is the element type of the graphs the layers build.
type float interface{ ~float32 | ~float64 }

// funcOp is a Gorgonia operation given by plain functions over values. The
// layers use it where Gorgonia has no operation (masked pooling, the
// embedding gather with a scatter-add backward, binary cross-entropy on
// logits) or where its own is unreliable in v0.9.18. It implements Op and
// SDOp: the gradient with respect to input i is a node of its own, a
// funcGradOp, whose children are the inputs, the output and the output's
// gradient.
type funcOp struct {
	name string
	// in holds the type of each input, out the type of the output; type
	// variables are shared between them as in any hm.FnType.
	in  []hm.Type
	out hm.Type
	// shape gives the output shape from the input shapes.
	shape func(in []tensor.Shape) (tensor.Shape, error)
	// forward computes the output from the inputs.
	forward func(in []G.Value) (G.Value, error)
	// grad computes the gradient with respect to input i from the inputs,
	// the output and the output's gradient dy. It is called only for the
	// inputs marked in diff.
	grad func(i int, in []G.Value, out, dy G.Value) (G.Value, error)
	diff []bool
}

func (op *funcOp) Arity() int { return len(op.in) }

func (op *funcOp) Type() hm.Type {
	ts := append(append([]hm.Type{}, op.in...), op.out)
	return hm.NewFnType(ts...)
}

func (op *funcOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	shapes, err := G.DimSizersToShapes(ds)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op.name, err)
	}
	return op.shape(shapes)
}

func (op *funcOp) Do(vs ...G.Value) (G.Value, error) {
	if len(vs) != len(op.in) {
		return nil, fmt.Errorf("%s: %d inputs, want %d", op.name, len(vs), len(op.in))
	}
	return op.forward(vs)
}

func (op *funcOp) ReturnsPtr() bool     { return false }
func (op *funcOp) CallsExtern() bool    { return false }
func (op *funcOp) OverwritesInput() int { return -1 }

// WriteHash makes every funcOp distinct: Gorgonia merges nodes with equal
// hashes, and two dropout nodes on the same input must stay two.
func (op *funcOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s-%p", op.name, op) }
func (op *funcOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op *funcOp) String() string { return op.name }

func (op *funcOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	copy(d, op.diff)
	return d
}

func (op *funcOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != len(op.in) {
		return nil, fmt.Errorf("%s: %d inputs, want %d", op.name, len(inputs), len(op.in))
	}
	res := make(G.Nodes, len(inputs))
	for i := range inputs {
		if i >= len(op.diff) || !op.diff[i] {
			continue
		}
		children := append(append(G.Nodes{}, inputs...), output, grad)
		n, err := G.ApplyOp(&funcGradOp{of: op, input: i}, children...)
		if err != nil {
			return nil, fmt.Errorf("%s: gradient of input %d: %w", op.name, i, err)
		}
		res[i] = n
	}
	return res, nil
}

// funcGradOp is the gradient of a funcOp with respect to one of its inputs.
type funcGradOp struct {
	of    *funcOp
	input int
}

func (op *funcGradOp) Arity() int { return len(op.of.in) + 2 }

func (op *funcGradOp) Type() hm.Type {
	ts := append(append([]hm.Type{}, op.of.in...), op.of.out, op.of.out, op.of.in[op.input])
	return hm.NewFnType(ts...)
}

func (op *funcGradOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, ok := ds[op.input].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("%s: input %d has no shape", op, op.input)
	}
	return s.Clone(), nil
}

func (op *funcGradOp) Do(vs ...G.Value) (G.Value, error) {
	n := len(op.of.in)
	if len(vs) != n+2 {
		return nil, fmt.Errorf("%s: %d inputs, want %d", op, len(vs), n+2)
	}
	return op.of.grad(op.input, vs[:n], vs[n], vs[n+1])
}

func (op *funcGradOp) ReturnsPtr() bool     { return false }
func (op *funcGradOp) CallsExtern() bool    { return false }
func (op *funcGradOp) OverwritesInput() int { return -1 }
func (op *funcGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "grad%d-%s-%p", op.input, op.of.name, op.of)
}
func (op *funcGradOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op *funcGradOp) String() string { return fmt.Sprintf("∂%s/∂in%d", op.of.name, op.input) }

var (
	_ G.SDOp = (*funcOp)(nil)
	_ G.Op   = (*funcGradOp)(nil)
)

// tensorType is the hm type of a tensor of dims dimensions whose element
// type is the type variable a (the graph's float type).
func tensorType(dims int) hm.Type { return G.TensorType{Dims: dims, Of: hm.TypeVariable('a')} }

// intTensorType is the hm type of a tensor of token ids.
func intTensorType(dims int) hm.Type { return G.TensorType{Dims: dims, Of: tensor.Int} }

// scalarType is the hm type of a scalar of the graph's float type.
func scalarType() hm.Type { return hm.TypeVariable('a') }

// data returns the elements of v, a tensor or a scalar, as a slice of T.
func data[T float](v G.Value) ([]T, error) {
	switch d := v.Data().(type) {
	case []T:
		return d, nil
	case T:
		return []T{d}, nil
	}
	var zero T
	return nil, fmt.Errorf("value of type %v, want %T", v.Dtype(), zero)
}

// newTensor allocates a zeroed tensor of shape s and type dt.
func newTensor(dt tensor.Dtype, s ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(s...), tensor.Of(dt))
}

// dtypeError reports a value whose element type no layer supports.
func dtypeError(op string, dt tensor.Dtype) error {
	return fmt.Errorf("%s: element type %v, want float32 or float64", op, dt)
}
