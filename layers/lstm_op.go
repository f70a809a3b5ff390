package layers

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync"
	"unsafe"

	"github.com/chewxy/hm"
	"github.com/classify/classify/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// FusedLSTM adds one direction of an LSTM over x [B,T,In] with mask [B,T]
// (1 for a real token, 0 for padding; nil means no padding) as a single
// node of shape [B,T,H]. wih [4H,In], whh [4H,H] and bias [4H] are the
// weights in PyTorch's layout, gates in the order i, f, g, o. reverse reads
// the sequence from its end; a masked step keeps the state, so the reverse
// direction starts at each row's last real token. The node's output at
// step t is the hidden state after that step.
//
// The whole sequence runs in the kernels package, and its gradient is one
// backpropagation-through-time node; it works with Gorgonia's TapeMachine
// in float32 and float64. The mask gets no gradient. A node that is never
// differentiated (a graph for prediction) runs the kernels' Infer, which
// keeps nothing for a backward pass. The node keeps its kernel buffers from
// pass to pass; the LSTM and Bidirectional layers instead lend theirs to
// whichever of their graphs (one per batch shape) runs.
func FusedLSTM(x, mask, wih, whh, bias *G.Node, reverse bool) (*G.Node, error) {
	return applyLSTM(x, mask, [][3]*G.Node{{wih, whh, bias}}, []bool{reverse}, true, nil)
}

// FusedBiLSTM runs both directions of a bidirectional LSTM at once, on two
// goroutines, and returns their outputs side by side, [B,T,2H]: the forward
// direction's in [:,:,0:H], the backward direction's in [:,:,H:2H]. fwd and
// bwd hold each direction's wih, whh and bias as FusedLSTM takes them.
func FusedBiLSTM(x, mask *G.Node, fwd, bwd [3]*G.Node) (*G.Node, error) {
	return applyLSTM(x, mask, [][3]*G.Node{fwd, bwd}, []bool{false, true}, true, nil)
}

// applyLSTM builds the node. Without inputGrad the backward pass skips the
// gradient of x (about a sixth of its work) and hands out zeros for it:
// for callers that know nothing trainable lies upstream of x. The node
// borrows its kernel states from states for each pass; with states nil it
// keeps its own.
func applyLSTM(x, mask *G.Node, weights [][3]*G.Node, reverse []bool, inputGrad bool, states *lstmStates) (*G.Node, error) {
	if x == nil {
		return nil, fmt.Errorf("fused lstm: nil input")
	}
	xs := x.Shape()
	if len(xs) != 3 {
		return nil, shapeError("fused lstm", xs, "[batch, time, features]")
	}
	B, T, in := xs[0], xs[1], xs[2]
	dt := x.Dtype()
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, fmt.Errorf("fused lstm: element type %v, want float32 or float64", dt)
	}
	if mask == nil {
		ones := tensor.New(tensor.WithShape(B, T), tensor.Of(dt))
		if err := ones.Memset(lstmOne(dt)); err != nil {
			return nil, fmt.Errorf("fused lstm: %w", err)
		}
		// Gorgonia merges constants of one name in a graph: the name
		// carries the shape, so masks of two shapes stay apart.
		mask = G.NewConstant(ones, G.WithName(fmt.Sprintf("fused_lstm_no_mask_%dx%d", B, T)))
	}
	hidden := -1
	children := G.Nodes{x, mask}
	for d, w := range weights {
		for i, n := range w {
			if n == nil {
				return nil, fmt.Errorf("fused lstm: direction %d: nil %s", d, lstmWeightNames[i])
			}
			if n.Dtype() != dt {
				return nil, fmt.Errorf("fused lstm: %s of type %v, input of type %v", lstmWeightNames[i], n.Dtype(), dt)
			}
			children = append(children, n)
		}
		s := w[1].Shape()
		if len(s) != 2 || s[0] != 4*s[1] {
			return nil, shapeError("fused lstm", s, "whh [4H, H]")
		}
		if hidden >= 0 && s[1] != hidden {
			return nil, fmt.Errorf("fused lstm: directions of %d and %d units", hidden, s[1])
		}
		hidden = s[1]
	}
	op := &lstmOp{reverse: reverse, in: in, hidden: hidden}
	if dt == tensor.Float32 {
		op.run = &lstmRun[float32]{states: statesOf[float32](states), dirs: make([]lstmDirection[float32], len(reverse)), reverse: reverse, inputGrad: inputGrad}
	} else {
		op.run = &lstmRun[float64]{states: statesOf[float64](states), dirs: make([]lstmDirection[float64], len(reverse)), reverse: reverse, inputGrad: inputGrad}
	}
	return G.ApplyOp(op, children...)
}

var lstmWeightNames = [3]string{"wih", "whh", "bias"}

func lstmOne(dt tensor.Dtype) any {
	if dt == tensor.Float32 {
		return float32(1)
	}
	return float64(1)
}

// lstmRunner is an lstmRun of either element type.
type lstmRunner interface {
	forward(vs []G.Value) (G.Value, error)
	backward(dOut G.Value) (G.Value, error)
	// grad returns the gradient of weight i of direction d (wih, whh,
	// bias) that the last backward pass computed.
	grad(d, i int) (G.Value, error)
	// differentiated tells the run that a backward node follows it, so
	// that its forward pass keeps what backward needs.
	differentiated()
}

// lstmDirection is one direction's kernel state, weights and gradients.
type lstmDirection[F kernels.Float] struct {
	// lstm is borrowed from lstmStates from the forward pass to the end of
	// the backward pass, or for the forward pass alone without one.
	lstm    *kernels.LSTM[F]
	weights kernels.LSTMWeights[F]
	grads   [3]*tensor.Dense // dWih, dWhh, dBias
	dx      []F              // this direction's share of dx, when it is not the first
}

// lstmRun holds the kernels and buffers of one fused LSTM node. The
// forward op, its backward op and the gradient ops share it: the forward
// pass leaves in it what the backward pass needs, the backward pass leaves
// the gradients for the gradient ops to hand out. Its output and gradient
// tensors are reused from run to run.
type lstmRun[F kernels.Float] struct {
	states      *lstmStateList[F] // nil: the node keeps its own states
	reverse     []bool
	dirs        []lstmDirection[F]
	b, t, in, h int
	out, dx     *tensor.Dense
	ready       bool // forward ran; backward may follow
	training    bool // a backward node follows: forward keeps its state
	inputGrad   bool // backward computes the gradient of x
}

func (r *lstmRun[F]) differentiated() { r.training = true }

// lstmStateList is a free list of the kernels' LSTM states. Those hold
// buffers of O(B·T·(In+7H)) floats; a model keeps a graph, hence a fused
// node, per batch shape, but runs one at a time, so borrowing the state
// for a pass rather than keeping one per node makes a model's memory the
// largest shape's instead of the sum over all shapes. Replicas running at
// once borrow one each.
type lstmStateList[F kernels.Float] struct {
	mu   sync.Mutex
	free []*kernels.LSTM[F]
}

// lstmStatesKept bounds the idle states kept for reuse.
const lstmStatesKept = 8

// lstmStates is the free lists of one layer, which every graph that the
// layer is built into shares: one list per element type.
type lstmStates struct {
	f32 lstmStateList[float32]
	f64 lstmStateList[float64]
}

// statesOf returns the free list of element type F in s; nil (each node
// keeps its own state) when s is nil.
func statesOf[F kernels.Float](s *lstmStates) *lstmStateList[F] {
	if s == nil {
		return nil
	}
	if l, ok := any(&s.f32).(*lstmStateList[F]); ok {
		return l
	}
	if l, ok := any(&s.f64).(*lstmStateList[F]); ok {
		return l
	}
	return nil
}

func (l *lstmStateList[F]) get() *kernels.LSTM[F] {
	if l == nil {
		return new(kernels.LSTM[F])
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.free); n > 0 {
		s := l.free[n-1]
		l.free = l.free[:n-1]
		return s
	}
	return new(kernels.LSTM[F])
}

func (l *lstmStateList[F]) put(s *kernels.LSTM[F]) {
	if l == nil || s == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.free) < lstmStatesKept {
		l.free = append(l.free, s)
	}
}

// borrow gives every direction a kernel state, unless it holds one from a
// forward pass whose backward pass never came, or keeps its own.
func (r *lstmRun[F]) borrow() {
	for d := range r.dirs {
		if r.dirs[d].lstm == nil {
			r.dirs[d].lstm = r.states.get()
		}
	}
}

// giveBack returns the directions' kernel states to the free list; without
// one, the node keeps them for its next pass.
func (r *lstmRun[F]) giveBack() {
	if r.states == nil {
		return
	}
	for d := range r.dirs {
		r.states.put(r.dirs[d].lstm)
		r.dirs[d].lstm = nil
	}
}

// lstmData returns the elements of v, which must be a float tensor of type F,
// materialising a view.
func lstmData[F kernels.Float](v G.Value, what string) ([]F, error) {
	d, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("fused lstm: %s is a %T, want a dense tensor", what, v)
	}
	if d.IsView() {
		if d, ok = d.Materialize().(*tensor.Dense); !ok {
			return nil, fmt.Errorf("fused lstm: %s: cannot materialise view", what)
		}
	}
	s, ok := d.Data().([]F)
	if !ok {
		return nil, fmt.Errorf("fused lstm: %s holds %v", what, d.Dtype())
	}
	return s, nil
}

// lstmReuse returns t if it has shape s, else a new tensor of that shape.
func lstmReuse[F kernels.Float](t *tensor.Dense, s ...int) *tensor.Dense {
	if t != nil && t.Shape().Eq(tensor.Shape(s)) {
		return t
	}
	dt := tensor.Float64
	if unsafe.Sizeof(F(0)) == 4 {
		dt = tensor.Float32
	}
	return tensor.New(tensor.WithShape(s...), tensor.Of(dt))
}

func (r *lstmRun[F]) forward(vs []G.Value) (G.Value, error) {
	shape := vs[0].Shape()
	B, T, in := shape[0], shape[1], shape[2]
	x, err := lstmData[F](vs[0], "input")
	if err != nil {
		return nil, err
	}
	mask, err := lstmData[F](vs[1], "mask")
	if err != nil {
		return nil, err
	}
	if len(mask) != B*T {
		return nil, fmt.Errorf("fused lstm: mask of %d values for a [%d %d] batch", len(mask), B, T)
	}
	H := vs[3].Shape()[1]
	for d := range r.dirs {
		w := &r.dirs[d].weights
		w.In, w.Hidden = in, H
		ws := [3]*[]F{&w.Wih, &w.Whh, &w.Bias}
		for i := range ws {
			if *ws[i], err = lstmData[F](vs[2+3*d+i], lstmWeightNames[i]); err != nil {
				return nil, err
			}
		}
		if len(w.Wih) != 4*H*in || len(w.Whh) != 4*H*H || len(w.Bias) != 4*H {
			return nil, fmt.Errorf("fused lstm: weights of shapes %v %v %v for %d inputs and %d units",
				vs[2+3*d].Shape(), vs[3+3*d].Shape(), vs[4+3*d].Shape(), in, H)
		}
	}
	r.b, r.t, r.in, r.h = B, T, in, H
	nd := len(r.dirs)
	r.out = lstmReuse[F](r.out, B, T, nd*H)
	out := r.out.Data().([]F)
	r.borrow()
	if !r.training {
		r.parallel(func(d int) {
			dir := &r.dirs[d]
			dir.lstm.Infer(&dir.weights, x, mask, B, T, r.reverse[d], out[d*H:], nd*H)
		})
		r.giveBack()
		return r.out, nil
	}
	r.parallel(func(d int) {
		dir := &r.dirs[d]
		dir.lstm.Forward(&dir.weights, x, mask, B, T, r.reverse[d], out[d*H:], nd*H)
	})
	r.ready = true
	return r.out, nil
}

// parallel runs f for every direction, each on its own goroutine when
// there are two.
func (r *lstmRun[F]) parallel(f func(d int)) {
	if len(r.dirs) == 1 {
		f(0)
		return
	}
	var wg sync.WaitGroup
	for d := 1; d < len(r.dirs); d++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(d)
		}()
	}
	f(0)
	wg.Wait()
}

func (r *lstmRun[F]) backward(dOut G.Value) (G.Value, error) {
	if !r.ready {
		return nil, fmt.Errorf("fused lstm: backward pass without a forward pass")
	}
	r.ready = false
	B, T, in, H, nd := r.b, r.t, r.in, r.h, len(r.dirs)
	if s := dOut.Shape(); !s.Eq(tensor.Shape{B, T, nd * H}) {
		return nil, fmt.Errorf("fused lstm: output gradient of shape %v, want %v", s, tensor.Shape{B, T, nd * H})
	}
	g, err := lstmData[F](dOut, "output gradient")
	if err != nil {
		return nil, err
	}
	if r.dx == nil || !r.dx.Shape().Eq(tensor.Shape{B, T, in}) {
		r.dx = lstmReuse[F](nil, B, T, in) // zeros, and stays so without inputGrad
	}
	var dx []F
	if r.inputGrad {
		dx = r.dx.Data().([]F)
		clear(dx)
	}
	shapes := [3][]int{{4 * H, in}, {4 * H, H}, {4 * H}}
	for d := range r.dirs {
		dir := &r.dirs[d]
		for i := range dir.grads {
			dir.grads[i] = lstmReuse[F](dir.grads[i], shapes[i]...)
			clear(dir.grads[i].Data().([]F))
		}
		if d > 0 && r.inputGrad {
			if cap(dir.dx) < len(dx) {
				dir.dx = make([]F, len(dx))
			}
			dir.dx = dir.dx[:len(dx)]
			clear(dir.dx)
		}
	}
	r.parallel(func(d int) {
		dir := &r.dirs[d]
		ddx := dx
		if d > 0 && r.inputGrad {
			ddx = dir.dx
		}
		dir.lstm.Backward(&dir.weights, g[d*H:], nd*H, ddx,
			dir.grads[0].Data().([]F), dir.grads[1].Data().([]F), dir.grads[2].Data().([]F))
	})
	r.giveBack()
	for d := 1; d < nd && r.inputGrad; d++ {
		for i, v := range r.dirs[d].dx {
			dx[i] += v
		}
	}
	return r.dx, nil
}

func (r *lstmRun[F]) grad(d, i int) (G.Value, error) {
	if g := r.dirs[d].grads[i]; g != nil {
		return g, nil
	}
	return nil, fmt.Errorf("fused lstm: gradient of %s before a backward pass", lstmWeightNames[i])
}

// lstmOp is the forward node of FusedLSTM and FusedBiLSTM. Its inputs are
// x, mask, then wih, whh, bias of each direction.
type lstmOp struct {
	reverse    []bool
	in, hidden int
	run        lstmRunner
}

func (op *lstmOp) Arity() int { return 2 + 3*len(op.reverse) }

func (op *lstmOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	ts := []hm.Type{G.TensorType{Dims: 3, Of: a}, G.TensorType{Dims: 2, Of: a}}
	for range op.reverse {
		ts = append(ts, G.TensorType{Dims: 2, Of: a}, G.TensorType{Dims: 2, Of: a}, G.TensorType{Dims: 1, Of: a})
	}
	return hm.NewFnType(append(ts, G.TensorType{Dims: 3, Of: a})...)
}

func (op *lstmOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	shapes, err := G.DimSizersToShapes(ds)
	if err != nil {
		return nil, fmt.Errorf("fused lstm: %w", err)
	}
	if len(shapes) != op.Arity() {
		return nil, fmt.Errorf("fused lstm: %d inputs, want %d", len(shapes), op.Arity())
	}
	x := shapes[0]
	if len(x) != 3 {
		return nil, shapeError("fused lstm", x, "[batch, time, features]")
	}
	if m := shapes[1]; len(m) != 2 || m[0] != x[0] || m[1] != x[1] {
		return nil, shapeError("fused lstm mask", m, fmt.Sprintf("[%d %d]", x[0], x[1]))
	}
	H := op.hidden
	want := []tensor.Shape{{4 * H, x[2]}, {4 * H, H}, {4 * H}}
	for d := range op.reverse {
		for i, w := range want {
			if s := shapes[2+3*d+i]; !s.Eq(w) {
				return nil, shapeError("fused lstm "+lstmWeightNames[i], s, fmt.Sprint(w))
			}
		}
	}
	return tensor.Shape{x[0], x[1], len(op.reverse) * H}, nil
}

func (op *lstmOp) Do(vs ...G.Value) (G.Value, error) {
	if len(vs) != op.Arity() {
		return nil, fmt.Errorf("fused lstm: %d inputs, want %d", len(vs), op.Arity())
	}
	return op.run.forward(vs)
}

func (op *lstmOp) ReturnsPtr() bool     { return true }
func (op *lstmOp) CallsExtern() bool    { return false }
func (op *lstmOp) OverwritesInput() int { return -1 }

// WriteHash makes every fused LSTM node distinct: each keeps its own
// state, and Gorgonia merges nodes with equal hashes.
func (op *lstmOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "FusedLSTM-%p", op.run) }
func (op *lstmOp) Hashcode() uint32      { return lstmHash(op) }
func (op *lstmOp) String() string {
	if len(op.reverse) == 2 {
		return fmt.Sprintf("FusedBiLSTM(%d)", op.hidden)
	}
	return fmt.Sprintf("FusedLSTM(%d, reverse=%v)", op.hidden, op.reverse[0])
}

func (op *lstmOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = i != 1 // everything but the mask
	}
	return d
}

// SymDiff returns one backpropagation-through-time node, which computes
// every gradient at once and is itself the gradient of x, and for each
// weight a node that hands out the gradient it left behind. Those take the
// bptt node as their input, so Gorgonia runs them after it.
func (op *lstmOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != op.Arity() {
		return nil, fmt.Errorf("fused lstm: %d inputs, want %d", len(inputs), op.Arity())
	}
	op.run.differentiated()
	bptt, err := G.ApplyOp(&lstmBackwardOp{lstmOp: op, xShape: inputs[0].Shape().Clone()}, grad, output)
	if err != nil {
		return nil, fmt.Errorf("fused lstm backward: %w", err)
	}
	grads := G.Nodes{bptt, nil}
	for d := range op.reverse {
		for i := 0; i < 3; i++ {
			w := inputs[2+3*d+i]
			g, err := G.ApplyOp(&lstmGradOp{lstmOp: op, dir: d, weight: i, shape: w.Shape().Clone()}, bptt)
			if err != nil {
				return nil, fmt.Errorf("fused lstm gradient of %s: %w", lstmWeightNames[i], err)
			}
			grads = append(grads, g)
		}
	}
	return grads, nil
}

// lstmBackwardOp runs the backward pass of an lstmOp. Its inputs are the
// gradient of the output and the output itself (only so that it runs after
// the forward pass); its value is the gradient of x.
type lstmBackwardOp struct {
	*lstmOp
	xShape tensor.Shape
}

func (op *lstmBackwardOp) Arity() int { return 2 }
func (op *lstmBackwardOp) Type() hm.Type {
	t := G.TensorType{Dims: 3, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t, t)
}
func (op *lstmBackwardOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.xShape.Clone(), nil
}
func (op *lstmBackwardOp) Do(vs ...G.Value) (G.Value, error) {
	if len(vs) != 2 {
		return nil, fmt.Errorf("fused lstm backward: %d inputs, want 2", len(vs))
	}
	return op.run.backward(vs[0])
}
func (op *lstmBackwardOp) ReturnsPtr() bool      { return true }
func (op *lstmBackwardOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "FusedLSTMBackward-%p", op.run) }
func (op *lstmBackwardOp) Hashcode() uint32      { return lstmHash(op) }
func (op *lstmBackwardOp) String() string        { return op.lstmOp.String() + "Backward" }
func (op *lstmBackwardOp) DiffWRT(n int) []bool  { return make([]bool, n) }
func (op *lstmBackwardOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("fused lstm: no second derivatives")
}

// lstmGradOp hands out the gradient of one weight that the backward pass
// of its lstmOp computed. Its one input is that backward pass's node.
type lstmGradOp struct {
	*lstmOp
	dir, weight int
	shape       tensor.Shape
}

func (op *lstmGradOp) Arity() int { return 1 }
func (op *lstmGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(G.TensorType{Dims: 3, Of: a}, G.TensorType{Dims: len(op.shape), Of: a})
}
func (op *lstmGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}
func (op *lstmGradOp) Do(vs ...G.Value) (G.Value, error) { return op.run.grad(op.dir, op.weight) }
func (op *lstmGradOp) ReturnsPtr() bool                  { return true }
func (op *lstmGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "FusedLSTMGrad-%p-%d-%d", op.run, op.dir, op.weight)
}
func (op *lstmGradOp) Hashcode() uint32 { return lstmHash(op) }
func (op *lstmGradOp) String() string {
	return fmt.Sprintf("%sGrad(%d,%s)", op.lstmOp.String(), op.dir, lstmWeightNames[op.weight])
}
func (op *lstmGradOp) DiffWRT(n int) []bool { return make([]bool, n) }
func (op *lstmGradOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("fused lstm: no second derivatives")
}

func lstmHash(op interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
