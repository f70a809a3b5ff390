package layers

import (
	"fmt"
	"sync"

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
		mask = onesMask(x.Graph(), dt, B, T)
	} else if m := mask.Shape(); len(m) != 2 || m[0] != B || m[1] != T {
		return nil, shapeError("fused lstm mask", m, fmt.Sprintf("[%d %d]", B, T))
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
		want := []tensor.Shape{{4 * hidden, in}, {4 * hidden, hidden}, {4 * hidden}}
		for i, n := range w {
			if s := n.Shape(); !s.Eq(want[i]) {
				return nil, shapeError("fused lstm "+lstmWeightNames[i], s, fmt.Sprint(want[i]))
			}
		}
	}
	var run lstmRunner
	if dt == tensor.Float32 {
		run = &lstmRun[float32]{states: statesOf[float32](states), dirs: make([]lstmDirection[float32], len(reverse)), reverse: reverse, inputGrad: inputGrad}
	} else {
		run = &lstmRun[float64]{states: statesOf[float64](states), dirs: make([]lstmDirection[float64], len(reverse)), reverse: reverse, inputGrad: inputGrad}
	}
	name := fmt.Sprintf("FusedLSTM(%d, reverse=%v)", hidden, reverse[0])
	if len(reverse) == 2 {
		name = fmt.Sprintf("FusedBiLSTM(%d)", hidden)
	}
	diff := make([]bool, len(children))
	for i := range diff {
		diff[i] = i != 1 // everything but the mask
	}
	return applyFused[lstmRunner](name, run, tensor.Shape{B, T, len(reverse) * hidden}, diff, children...)
}

var lstmWeightNames = [3]string{"wih", "whh", "bias"}

// lstmRunner is an lstmRun of either element type.
type lstmRunner interface{ fusedKernel }

// lstmOp is the node of FusedLSTM and FusedBiLSTM. Its inputs are x, mask,
// then wih, whh, bias of each direction.
type lstmOp = fusedOp[lstmRunner]

// lstmDirection is one direction's kernel state, weights and gradients.
type lstmDirection[F float] struct {
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
type lstmRun[F float] struct {
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
type lstmStateList[F float] struct {
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
func statesOf[F float](s *lstmStates) *lstmStateList[F] {
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

// lstmData returns the elements of v, a tensor of element type F.
func lstmData[F float](v G.Value, what string) ([]F, error) {
	s, err := data[F](v)
	if err != nil {
		return nil, fmt.Errorf("fused lstm: %s: %w", what, err)
	}
	return s, nil
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
	r.out = reuse[F](r.out, B, T, nd*H)
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

func (r *lstmRun[F]) backward(_ []G.Value, _, dOut G.Value) error {
	if !r.ready {
		return fmt.Errorf("fused lstm: backward pass without a forward pass")
	}
	r.ready = false
	B, T, in, H, nd := r.b, r.t, r.in, r.h, len(r.dirs)
	if s := dOut.Shape(); !s.Eq(tensor.Shape{B, T, nd * H}) {
		return fmt.Errorf("fused lstm: output gradient of shape %v, want %v", s, tensor.Shape{B, T, nd * H})
	}
	g, err := lstmData[F](dOut, "output gradient")
	if err != nil {
		return err
	}
	if r.dx == nil || !r.dx.Shape().Eq(tensor.Shape{B, T, in}) {
		r.dx = reuse[F](nil, B, T, in) // zeros, and stays so without inputGrad
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
			dir.grads[i] = reuse[F](dir.grads[i], shapes[i]...)
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
	return nil
}

// grad returns the gradient of input i: x, or weight i%3 of direction
// (i-2)/3.
func (r *lstmRun[F]) grad(i int) (G.Value, error) {
	if i == 0 && r.dx != nil {
		return r.dx, nil
	}
	if d, w := (i-2)/3, (i-2)%3; i >= 2 && d < len(r.dirs) {
		if g := r.dirs[d].grads[w]; g != nil {
			return g, nil
		}
	}
	return nil, fmt.Errorf("fused lstm: gradient of input %d before a backward pass", i)
}
