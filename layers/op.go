package layers

import (
	"fmt"
	"hash"
	"hash/fnv"
	"unsafe"

	"github.com/chewxy/hm"
	"github.com/classify/classify/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// float is the element type of the graphs the layers build and of the
// kernels their fused operations run: the one constraint of both packages.
type float = kernels.Float

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
func (op *funcOp) Hashcode() uint32      { return hashOf(op) }
func (op *funcOp) String() string        { return op.name }

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
func (op *funcGradOp) Hashcode() uint32 { return hashOf(op) }
func (op *funcGradOp) String() string   { return fmt.Sprintf("∂%s/∂in%d", op.of.name, op.input) }

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

// hashOf is the hash Gorgonia asks of an op, from the op's WriteHash. Every
// custom op writes its own pointer (or its kernel's) into it: Gorgonia merges
// nodes of equal hashes, and two nodes holding state must stay two.
func hashOf(op interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

// data returns the elements of v, a tensor or a scalar, as a slice of T; a
// view is materialised first.
func data[T float](v G.Value) ([]T, error) {
	if d, ok := v.(*tensor.Dense); ok && d.IsView() {
		if v, ok = d.Materialize().(*tensor.Dense); !ok {
			return nil, fmt.Errorf("cannot materialise a view of shape %v", d.Shape())
		}
	}
	switch d := v.Data().(type) {
	case []T:
		return d, nil
	case T:
		return []T{d}, nil
	}
	var zero T
	return nil, fmt.Errorf("value of type %v, want %T", v.Dtype(), zero)
}

// dtypeOf is the tensor element type of F.
func dtypeOf[F float]() tensor.Dtype {
	if unsafe.Sizeof(F(0)) == 4 {
		return tensor.Float32
	}
	return tensor.Float64
}

// newTensor allocates a zeroed tensor of shape s and type dt.
func newTensor(dt tensor.Dtype, s ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(s...), tensor.Of(dt))
}

// reuse returns t when it is a tensor of element type F and shape s that
// is not a view, else a new zeroed one: a fused op's output and gradients
// are reused from run to run.
func reuse[F float](t *tensor.Dense, s ...int) *tensor.Dense {
	if t != nil && t.Dtype() == dtypeOf[F]() && !t.IsView() && t.Shape().Eq(tensor.Shape(s)) {
		return t
	}
	return newTensor(dtypeOf[F](), s...)
}

// wrap makes a tensor of shape s over the elements of x, without copying:
// a kernel's own buffers handed out as node values.
func wrap[F float](x []F, s ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(s...), tensor.WithBacking(x))
}

// dtypeError reports a value whose element type no layer supports.
func dtypeError(op string, dt tensor.Dtype) error {
	return fmt.Errorf("%s: element type %v, want float32 or float64", op, dt)
}

// onesMask is the [b, t] mask of a batch without padding, of element type
// dt, for layers given a nil mask. It is a constant whose name carries its
// shape, so g holds one per shape however many layers ask for it:
// Gorgonia's AddNode returns the constant of that name that g already has.
func onesMask(g *G.ExprGraph, dt tensor.Dtype, b, t int) *G.Node {
	ones := tensor.New(tensor.WithShape(b, t), tensor.Of(dt))
	if dt == tensor.Float32 {
		_ = ones.Memset(float32(1))
	} else {
		_ = ones.Memset(float64(1))
	}
	c := G.NewConstant(ones, G.WithName(fmt.Sprintf("ones_mask_%v_%dx%d", dt, b, t)))
	if g == nil {
		return c
	}
	return g.AddNode(c)
}

// A fused operation is one Gorgonia node whose value and gradients a
// hand-written kernel computes over whole tensors: the LSTM over a
// sequence, relative attention, the convolution. Writing one takes a type
// that implements fusedKernel, usually a thin wrapper over a kernel of the
// kernels package, and a call to applyFused; fusedOp makes the nodes.
//
// For gorgonia.Grad the forward node gives one backward node, whose
// children are the forward node's inputs, its output and the output's
// gradient, and which computes every gradient at once; its value is the
// gradient of the first differentiated input. Each other differentiated
// input gets a node that hands out the gradient the backward pass left in
// the kernel; its child is the backward node, so Gorgonia runs it after.
// Gorgonia's LispMachine calls DoDiff instead.
type fusedKernel interface {
	// forward computes the node's value from its inputs. It may return the
	// same tensor every time: the node's consumers read it before the next
	// pass.
	forward(in []G.Value) (G.Value, error)
	// differentiated says that a backward pass follows every forward
	// pass, so that forward keeps what backward needs.
	differentiated()
	// backward computes the gradient of every differentiated input from
	// the forward pass's inputs, its output and the output's gradient dy,
	// and keeps them for grad.
	backward(in []G.Value, out, dy G.Value) error
	// grad returns the gradient of input i that the last backward pass
	// computed.
	grad(i int) (G.Value, error)
}

// fusedOp is the forward node of a fused operation whose kernel is a K.
// Its input shapes are fixed when it is built, as every Gorgonia graph's.
type fusedOp[K fusedKernel] struct {
	name  string // in errors and String
	run   K
	in    []tensor.Shape
	types []hm.Type // of the inputs, then of the output
	out   tensor.Shape
	diff  []bool // which inputs get a gradient
}

// applyFused adds a fused operation to the graph of inputs: name is its
// name in errors and in the graph's String, run its kernel, out its output
// shape and diff the inputs it differentiates. The caller checks the
// inputs' shapes and element types; float inputs share the graph's type.
func applyFused[K fusedKernel](name string, run K, out tensor.Shape, diff []bool, inputs ...*G.Node) (*G.Node, error) {
	op := &fusedOp[K]{name: name, run: run, out: out.Clone(), diff: make([]bool, len(inputs))}
	copy(op.diff, diff)
	for i, n := range inputs {
		if n == nil {
			return nil, fmt.Errorf("%s: input %d is nil", name, i)
		}
		op.in = append(op.in, n.Shape().Clone())
		op.types = append(op.types, nodeType(n.Dtype(), n.Dims()))
	}
	op.types = append(op.types, nodeType(tensor.Float64, len(out)))
	return G.ApplyOp(op, inputs...)
}

// nodeType is the hm type of a node of element type dt and dims
// dimensions: a float is the type variable that every float input and the
// output share, anything else (token ids) its own type.
func nodeType(dt tensor.Dtype, dims int) hm.Type {
	var of hm.Type = hm.TypeVariable('a')
	if dt != tensor.Float32 && dt != tensor.Float64 {
		of = dt
	}
	if dims == 0 {
		return of
	}
	return G.TensorType{Dims: dims, Of: of}
}

func (op *fusedOp[K]) Arity() int    { return len(op.in) }
func (op *fusedOp[K]) Type() hm.Type { return hm.NewFnType(op.types...) }

func (op *fusedOp[K]) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	shapes, err := G.DimSizersToShapes(ds)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op.name, err)
	}
	if err := op.checkShapes(len(shapes), func(i int) tensor.Shape { return shapes[i] }); err != nil {
		return nil, err
	}
	return op.out.Clone(), nil
}

// checkShapes checks n input shapes, shape(i) being input i's, against
// those the op was built for.
func (op *fusedOp[K]) checkShapes(n int, shape func(i int) tensor.Shape) error {
	if n != len(op.in) {
		return fmt.Errorf("%s: %d inputs, want %d", op.name, n, len(op.in))
	}
	for i, want := range op.in {
		if s := shape(i); !s.Eq(want) {
			return fmt.Errorf("%s: input %d of shape %v, want %v", op.name, i, s, want)
		}
	}
	return nil
}

func (op *fusedOp[K]) Do(vs ...G.Value) (G.Value, error) {
	if err := op.checkShapes(len(vs), func(i int) tensor.Shape { return vs[i].Shape() }); err != nil {
		return nil, err
	}
	return op.run.forward(vs)
}

func (op *fusedOp[K]) ReturnsPtr() bool      { return true }
func (op *fusedOp[K]) CallsExtern() bool     { return false }
func (op *fusedOp[K]) OverwritesInput() int  { return -1 }
func (op *fusedOp[K]) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s-%p", op.name, op) }
func (op *fusedOp[K]) Hashcode() uint32      { return hashOf(op) }
func (op *fusedOp[K]) String() string        { return op.name }

func (op *fusedOp[K]) DiffWRT(n int) []bool {
	d := make([]bool, n)
	copy(d, op.diff)
	return d
}

// SymDiff returns the backward node for the first differentiated input
// and a hand-out node for each other one.
func (op *fusedOp[K]) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != len(op.in) {
		return nil, fmt.Errorf("%s: %d inputs, want %d", op.name, len(inputs), len(op.in))
	}
	res := make(G.Nodes, len(inputs))
	first := -1
	for i, d := range op.diff {
		if d {
			first = i
			break
		}
	}
	if first < 0 {
		return res, nil
	}
	op.run.differentiated()
	children := append(append(G.Nodes{}, inputs...), output, grad)
	bw, err := G.ApplyOp(&fusedBackwardOp[K]{of: op, first: first}, children...)
	if err != nil {
		return nil, fmt.Errorf("%s backward: %w", op.name, err)
	}
	res[first] = bw
	for i := first + 1; i < len(inputs); i++ {
		if !op.diff[i] {
			continue
		}
		if res[i], err = G.ApplyOp(&fusedGradOp[K]{of: op, input: i, first: first}, bw); err != nil {
			return nil, fmt.Errorf("%s: gradient of input %d: %w", op.name, i, err)
		}
	}
	return res, nil
}

// DoDiff is the backward pass for Gorgonia's LispMachine: it adds the
// gradients into the inputs' dual values. The machine ran Do before
// anything said that a backward pass follows, so DoDiff repeats the
// forward pass keeping what backward needs.
func (op *fusedOp[K]) DoDiff(_ G.ExecutionContext, inputs G.Nodes, output *G.Node) error {
	in := make([]G.Value, len(inputs))
	for i, n := range inputs {
		in[i] = n.Value()
	}
	dy, err := output.Grad()
	if err != nil {
		return fmt.Errorf("%s: %w", op.name, err)
	}
	op.run.differentiated()
	out, err := op.run.forward(in)
	if err != nil {
		return err
	}
	if err := op.run.backward(in, out, dy); err != nil {
		return err
	}
	for i, n := range inputs {
		if !op.diff[i] {
			continue
		}
		dv, err := n.Grad()
		if err != nil {
			continue // a constant input, such as frozen weights
		}
		g, err := op.run.grad(i)
		if err != nil {
			return err
		}
		if err := addInto(dv, g); err != nil {
			return fmt.Errorf("%s: gradient of input %d: %w", op.name, i, err)
		}
	}
	return nil
}

// addInto adds src to dst, two tensors of one element type and size.
func addInto(dst, src G.Value) error {
	switch d := dst.Data().(type) {
	case []float32:
		return addSlices(d, src)
	case []float64:
		return addSlices(d, src)
	}
	return dtypeError("gradient", dst.Dtype())
}

func addSlices[F float](dst []F, src G.Value) error {
	s, err := data[F](src)
	if err != nil {
		return err
	}
	if len(s) != len(dst) {
		return fmt.Errorf("%d values into %d", len(s), len(dst))
	}
	for i, v := range s {
		dst[i] += v
	}
	return nil
}

// fusedBackwardOp runs the backward pass of a fusedOp. Its children are
// the forward node's inputs, its output and the output's gradient; its
// value is the gradient of input first.
type fusedBackwardOp[K fusedKernel] struct {
	of    *fusedOp[K]
	first int
}

func (op *fusedBackwardOp[K]) Arity() int { return len(op.of.in) + 2 }

func (op *fusedBackwardOp[K]) Type() hm.Type {
	n := len(op.of.in)
	ts := append(append([]hm.Type{}, op.of.types...), op.of.types[n], op.of.types[op.first])
	return hm.NewFnType(ts...)
}

func (op *fusedBackwardOp[K]) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.of.in[op.first].Clone(), nil
}

func (op *fusedBackwardOp[K]) Do(vs ...G.Value) (G.Value, error) {
	n := len(op.of.in)
	if len(vs) != n+2 {
		return nil, fmt.Errorf("%s: %d inputs, want %d", op, len(vs), n+2)
	}
	if err := op.of.run.backward(vs[:n], vs[n], vs[n+1]); err != nil {
		return nil, err
	}
	return op.of.run.grad(op.first)
}

func (op *fusedBackwardOp[K]) ReturnsPtr() bool     { return true }
func (op *fusedBackwardOp[K]) CallsExtern() bool    { return false }
func (op *fusedBackwardOp[K]) OverwritesInput() int { return -1 }
func (op *fusedBackwardOp[K]) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "%s-backward-%p", op.of.name, op.of)
}
func (op *fusedBackwardOp[K]) Hashcode() uint32     { return hashOf(op) }
func (op *fusedBackwardOp[K]) String() string       { return op.of.name + "Backward" }
func (op *fusedBackwardOp[K]) DiffWRT(n int) []bool { return make([]bool, n) }
func (op *fusedBackwardOp[K]) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("%s: no second derivatives", op.of.name)
}

// fusedGradOp hands out the gradient of one input that the backward pass
// of its fusedOp computed. Its one child is the backward node.
type fusedGradOp[K fusedKernel] struct {
	of           *fusedOp[K]
	input, first int
}

func (op *fusedGradOp[K]) Arity() int { return 1 }
func (op *fusedGradOp[K]) Type() hm.Type {
	return hm.NewFnType(op.of.types[op.first], op.of.types[op.input])
}
func (op *fusedGradOp[K]) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.of.in[op.input].Clone(), nil
}
func (op *fusedGradOp[K]) Do(...G.Value) (G.Value, error) { return op.of.run.grad(op.input) }
func (op *fusedGradOp[K]) ReturnsPtr() bool               { return true }
func (op *fusedGradOp[K]) CallsExtern() bool              { return false }
func (op *fusedGradOp[K]) OverwritesInput() int           { return -1 }
func (op *fusedGradOp[K]) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "%s-grad%d-%p", op.of.name, op.input, op.of)
}
func (op *fusedGradOp[K]) Hashcode() uint32     { return hashOf(op) }
func (op *fusedGradOp[K]) String() string       { return fmt.Sprintf("∂%s/∂in%d", op.of.name, op.input) }
func (op *fusedGradOp[K]) DiffWRT(n int) []bool { return make([]bool, n) }
func (op *fusedGradOp[K]) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("%s: no second derivatives", op.of.name)
}

var (
	_ G.SDOp = (*fusedOp[fusedKernel])(nil)
	_ G.ADOp = (*fusedOp[fusedKernel])(nil)
	_ G.Op   = (*fusedBackwardOp[fusedKernel])(nil)
	_ G.Op   = (*fusedGradOp[fusedKernel])(nil)
)
