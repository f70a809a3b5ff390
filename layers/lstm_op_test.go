package layers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/classify/classify/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// lstmCase is a small fused-LSTM graph with its loss sum(w ⊙ out), the
// weights and the input as trainable Params so that every gradient is
// checked.
type lstmCase struct {
	g        *Graph
	x        *Param
	weights  [][3]*Param
	mask     *G.Node // input node, bound by run
	out      *G.Node
	loss     *G.Node
	wrt      G.Nodes
	grads    G.Nodes
	vm       G.VM
	B, T, In int
	H        int
}

func randomDense(rng *rand.Rand, dt tensor.Dtype, scale float64, shape ...int) *tensor.Dense {
	t := tensor.New(tensor.WithShape(shape...), tensor.Of(dt))
	switch s := t.Data().(type) {
	case []float64:
		for i := range s {
			s[i] = (2*rng.Float64() - 1) * scale
		}
	case []float32:
		for i := range s {
			s[i] = float32((2*rng.Float64() - 1) * scale)
		}
	}
	return t
}

// lengthsMask makes a [B,T] mask of rows with the given numbers of real
// tokens, padded at the end.
func lengthsMask(dt tensor.Dtype, T int, lengths []int) *tensor.Dense {
	m := make([]float64, len(lengths)*T)
	for b, n := range lengths {
		for t := 0; t < n; t++ {
			m[b*T+t] = 1
		}
	}
	return fromFloat64sTo(dt, m, len(lengths), T)
}

func fromFloat64sTo(dt tensor.Dtype, v []float64, shape ...int) *tensor.Dense {
	if dt == tensor.Float64 {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), v...)))
	}
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
}

// newLSTMCase builds the graph: bi runs FusedBiLSTM, else FusedLSTM in the
// given direction.
func newLSTMCase(t testing.TB, rng *rand.Rand, dt tensor.Dtype, B, T, In, H int, bi, reverse bool) *lstmCase {
	t.Helper()
	c := &lstmCase{g: NewGraph(dt, true), B: B, T: T, In: In, H: H}
	c.x = NewParam("x", randomDense(rng, dt, 1, B, T, In), true)
	dirs := 1
	if bi {
		dirs = 2
	}
	for d := 0; d < dirs; d++ {
		c.weights = append(c.weights, [3]*Param{
			NewParam(fmt.Sprintf("wih%d", d), randomDense(rng, dt, 0.5, 4*H, In), true),
			NewParam(fmt.Sprintf("whh%d", d), randomDense(rng, dt, 0.5, 4*H, H), true),
			NewParam(fmt.Sprintf("bias%d", d), randomDense(rng, dt, 0.5, 4*H), true),
		})
	}
	c.mask = G.NewTensor(c.g.ExprGraph, dt, 2, G.WithShape(B, T), G.WithName("mask"))
	x := c.g.Param(c.x)
	var ws [][3]*G.Node
	for _, w := range c.weights {
		ws = append(ws, [3]*G.Node{c.g.Param(w[0]), c.g.Param(w[1]), c.g.Param(w[2])})
	}
	var err error
	if bi {
		c.out, err = FusedBiLSTM(x, c.mask, ws[0], ws[1])
	} else {
		c.out, err = FusedLSTM(x, c.mask, ws[0][0], ws[0][1], ws[0][2], reverse)
	}
	if err != nil {
		t.Fatal(err)
	}
	wOut := G.NewConstant(randomDense(rng, dt, 1, B, T, dirs*H), G.WithName("w"))
	prod, err := G.HadamardProd(c.out, wOut)
	if err != nil {
		t.Fatal(err)
	}
	if c.loss, err = G.Sum(prod); err != nil {
		t.Fatal(err)
	}
	_, c.wrt = c.g.Trainable()
	if c.grads, err = G.Grad(c.loss, c.wrt...); err != nil {
		t.Fatal(err)
	}
	c.vm = G.NewTapeMachine(c.g.ExprGraph, G.BindDualValues(c.wrt...))
	return c
}

// run binds mask and runs the machine once; it returns the loss.
func (c *lstmCase) run(t testing.TB, mask *tensor.Dense) float64 {
	t.Helper()
	if err := G.Let(c.mask, mask); err != nil {
		t.Fatal(err)
	}
	defer c.vm.Reset()
	if err := c.vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	switch v := c.loss.Value().Data().(type) {
	case float64:
		return v
	case float32:
		return float64(v)
	}
	t.Fatalf("loss of type %T", c.loss.Value().Data())
	return 0
}

// gradient returns a copy of the gradient of wrt node i after a run.
func (c *lstmCase) gradient(i int) []float64 {
	return toFloat64s(c.grads[i].Value().Data())
}

func toFloat64s(v any) []float64 {
	switch s := v.(type) {
	case []float64:
		return append([]float64(nil), s...)
	case []float32:
		out := make([]float64, len(s))
		for i, x := range s {
			out[i] = float64(x)
		}
		return out
	}
	return nil
}

// The gradients of sum(w ⊙ out) through the whole TapeMachine pipeline
// against central finite differences, in float64, with masks that hold an
// all-padding row and a one-token row.
func TestFusedLSTMGradientFiniteDifference(t *testing.T) {
	tests := []struct {
		name        string
		bi, reverse bool
	}{
		{"FusedBiLSTM", true, false},
		{"FusedLSTM/forward", false, false},
		{"FusedLSTM/reverse", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(21, 22))
			const B, T, In, H = 4, 5, 3, 2
			c := newLSTMCase(t, rng, tensor.Float64, B, T, In, H, tt.bi, tt.reverse)
			mask := lengthsMask(tensor.Float64, T, []int{0, 1, 5, 3})
			c.run(t, mask)
			params := []*Param{c.x}
			for _, w := range c.weights {
				params = append(params, w[:]...)
			}
			grads := make([][]float64, len(params))
			for i := range params {
				grads[i] = c.gradient(i)
			}
			for i, p := range params {
				got := grads[i]
				if got == nil || len(got) != p.Size() {
					t.Fatalf("gradient of %s: %d values, want %d", p.Name, len(got), p.Size())
				}
				vals := p.Value.Data().([]float64)
				const eps = 1e-6
				for k := range vals {
					v := vals[k]
					vals[k] = v + eps
					up := c.run(t, mask)
					vals[k] = v - eps
					down := c.run(t, mask)
					vals[k] = v
					want := (up - down) / (2 * eps)
					if math.Abs(got[k]-want) > 1e-7*(1+math.Abs(want)) {
						t.Errorf("d loss/d %s[%d] = %.10g, finite difference %.10g", p.Name, k, got[k], want)
					}
				}
			}
		})
	}
}

// kernelBiLSTM runs the two directions with the kernels directly, the
// reference for the repeated-runs test.
func kernelBiLSTM(c *lstmCase, mask []float32) (out []float32, grads [][]float32) {
	B, T, In, H := c.B, c.T, c.In, c.H
	x := c.x.Value.Data().([]float32)
	out = make([]float32, B*T*2*H)
	dOut := toFloat32s(c.g.ExprGraph, "w")
	dx := make([]float32, B*T*In)
	grads = [][]float32{dx}
	for d, w := range c.weights {
		kw := &kernels.LSTMWeights[float32]{In: In, Hidden: H,
			Wih: w[0].Value.Data().([]float32), Whh: w[1].Value.Data().([]float32), Bias: w[2].Value.Data().([]float32)}
		var l kernels.LSTM[float32]
		l.Forward(kw, x, mask, B, T, d == 1, out[d*H:], 2*H)
		gih, ghh, gb := make([]float32, 4*H*In), make([]float32, 4*H*H), make([]float32, 4*H)
		l.Backward(kw, dOut[d*H:], 2*H, dx, gih, ghh, gb)
		grads = append(grads, gih, ghh, gb)
	}
	return out, grads
}

func toFloat32s(g *G.ExprGraph, name string) []float32 {
	return g.ByName(name)[0].Value().Data().([]float32)
}

// A compiled float32 graph run again and again with new masks and inputs
// gives the right values and gradients every time, and its memory does not
// grow.
func TestFusedBiLSTMRepeatedRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	const B, T, In, H = 6, 7, 5, 4
	c := newLSTMCase(t, rng, tensor.Float32, B, T, In, H, true, false)
	var before runtime.MemStats
	const runs = 60
	for r := 0; r < runs; r++ {
		if r == runs/2 {
			runtime.GC()
			runtime.ReadMemStats(&before)
		}
		lengths := make([]int, B)
		for b := range lengths {
			lengths[b] = rng.IntN(T + 1)
		}
		mask := lengthsMask(tensor.Float32, T, lengths)
		x := c.x.Value.Data().([]float32)
		for i := range x {
			x[i] = float32(2*rng.Float64() - 1)
		}
		c.run(t, mask)
		wantOut, wantGrads := kernelBiLSTM(c, mask.Data().([]float32))
		gotOut := toFloat64s(c.out.Value().Data())
		for i, w := range wantOut {
			if math.Abs(gotOut[i]-float64(w)) > 1e-6 {
				t.Fatalf("run %d: out[%d] = %g, want %g", r, i, gotOut[i], w)
			}
		}
		for i, want := range wantGrads {
			got := c.gradient(i)
			for k := range want {
				if math.Abs(got[k]-float64(want[k])) > 1e-5*(1+math.Abs(float64(want[k]))) {
					t.Fatalf("run %d: gradient of %s [%d] = %g, want %g", r, c.wrt[i].Name(), k, got[k], want[k])
				}
			}
		}
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 1<<20 {
		t.Errorf("heap grew by %d bytes over %d runs", grown, runs/2)
	}
}

// Shapes that do not fit are errors at graph-building time.
func TestFusedLSTMShapeErrors(t *testing.T) {
	g := NewGraph(tensor.Float32, false)
	node := func(name string, shape ...int) *G.Node {
		return G.NewTensor(g.ExprGraph, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(name))
	}
	x := node("x", 2, 3, 4)
	mask := node("mask", 2, 3)
	wih, whh, bias := node("wih", 8, 4), node("whh", 8, 2), node("bias", 8)
	tests := []struct {
		name                 string
		x, mask, wih, whh, b *G.Node
	}{
		{"x not 3-d", node("x2", 6, 4), mask, wih, whh, bias},
		{"mask shape", x, node("m2", 3, 2), wih, whh, bias},
		{"wih columns", x, mask, node("wih2", 8, 5), whh, bias},
		{"whh not 4H×H", x, mask, wih, node("whh2", 8, 3), bias},
		{"bias length", x, mask, wih, whh, node("b2", 6)},
		{"nil weight", x, mask, nil, whh, bias},
	}
	for _, tt := range tests {
		if n, err := FusedLSTM(tt.x, tt.mask, tt.wih, tt.whh, tt.b, false); err == nil {
			t.Errorf("%s: FusedLSTM = %v, want an error", tt.name, n.Shape())
		}
	}
	if n, err := FusedLSTM(x, mask, wih, whh, bias, false); err != nil || !n.Shape().Eq(tensor.Shape{2, 3, 2}) {
		t.Errorf("FusedLSTM = %v, %v, want shape (2, 3, 2)", n, err)
	}
	if n, err := FusedBiLSTM(x, nil, [3]*G.Node{wih, whh, bias}, [3]*G.Node{wih, whh, bias}); err != nil || !n.Shape().Eq(tensor.Shape{2, 3, 4}) {
		t.Errorf("FusedBiLSTM = %v, %v, want shape (2, 3, 4)", n, err)
	}
}

// BenchmarkFusedBiLSTMStep times one training step of a FusedBiLSTM node
// through the TapeMachine, forward and backward, at the reference model's
// sizes: B=32, T=100, D=100, H=128, float32, rows of 20 to 100 tokens.
func BenchmarkFusedBiLSTMStep(b *testing.B) {
	b.Run(kernels.BLAS(), func(b *testing.B) {
		rng := rand.New(rand.NewPCG(25, 26))
		const B, T, D, H = 32, 100, 100, 128
		g := NewGraph(tensor.Float32, true)
		x := G.NewTensor(g.ExprGraph, tensor.Float32, 3, G.WithShape(B, T, D), G.WithName("x"))
		mask := G.NewTensor(g.ExprGraph, tensor.Float32, 2, G.WithShape(B, T), G.WithName("mask"))
		var ws [2][3]*G.Node
		for d := range ws {
			ws[d] = [3]*G.Node{
				g.Param(NewParam(fmt.Sprintf("wih%d", d), randomDense(rng, tensor.Float32, 0.1, 4*H, D), true)),
				g.Param(NewParam(fmt.Sprintf("whh%d", d), randomDense(rng, tensor.Float32, 0.1, 4*H, H), true)),
				g.Param(NewParam(fmt.Sprintf("bias%d", d), randomDense(rng, tensor.Float32, 0.1, 4*H), true)),
			}
		}
		out, err := FusedBiLSTM(x, mask, ws[0], ws[1])
		if err != nil {
			b.Fatal(err)
		}
		loss, err := G.Mean(out)
		if err != nil {
			b.Fatal(err)
		}
		_, wrt := g.Trainable()
		if _, err := G.Grad(loss, wrt...); err != nil {
			b.Fatal(err)
		}
		vm := G.NewTapeMachine(g.ExprGraph, G.BindDualValues(wrt...))
		lengths := make([]int, B)
		for i := range lengths {
			lengths[i] = 20 + rng.IntN(T-19)
		}
		xv := randomDense(rng, tensor.Float32, 1, B, T, D)
		mv := lengthsMask(tensor.Float32, T, lengths)
		step := func() {
			if err := G.Let(x, xv); err != nil {
				b.Fatal(err)
			}
			if err := G.Let(mask, mv); err != nil {
				b.Fatal(err)
			}
			if err := vm.RunAll(); err != nil {
				b.Fatal(err)
			}
			vm.Reset()
		}
		step()
		for b.Loop() {
			step()
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/step")
	})
}

func ExampleFusedBiLSTM() {
	g := NewGraph(tensor.Float32, false)
	const B, T, In, H = 2, 3, 4, 5
	x := G.NewTensor(g.ExprGraph, tensor.Float32, 3, G.WithShape(B, T, In), G.WithName("x"))
	mask := G.NewTensor(g.ExprGraph, tensor.Float32, 2, G.WithShape(B, T), G.WithName("mask"))
	direction := func(suffix string) [3]*G.Node {
		zeros := func(shape ...int) *tensor.Dense {
			return tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float32))
		}
		return [3]*G.Node{
			g.Param(NewParam("lstm.weight_ih_l0"+suffix, zeros(4*H, In), true)),
			g.Param(NewParam("lstm.weight_hh_l0"+suffix, zeros(4*H, H), true)),
			g.Param(NewParam("lstm.bias_ih_l0"+suffix, zeros(4*H), true)),
		}
	}
	out, err := FusedBiLSTM(x, mask, direction(""), direction("_reverse"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out.Shape())
	// Output: (2, 3, 10)
}

// A nil mask means every token is real: the same output as a mask of ones.
func TestFusedLSTMNilMask(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	const B, T, In, H = 2, 4, 3, 2
	xv := randomDense(rng, tensor.Float64, 1, B, T, In)
	w := [3]*Param{
		NewParam("wih", randomDense(rng, tensor.Float64, 0.5, 4*H, In), true),
		NewParam("whh", randomDense(rng, tensor.Float64, 0.5, 4*H, H), true),
		NewParam("bias", randomDense(rng, tensor.Float64, 0.5, 4*H), true),
	}
	var outs [2][]float64
	for i, withMask := range []bool{false, true} {
		g := NewGraph(tensor.Float64, false)
		x := G.NewTensor(g.ExprGraph, tensor.Float64, 3, G.WithShape(B, T, In), G.WithName("x"), G.WithValue(xv))
		var mask *G.Node
		if withMask {
			mask = G.NewTensor(g.ExprGraph, tensor.Float64, 2, G.WithShape(B, T), G.WithName("mask"),
				G.WithValue(lengthsMask(tensor.Float64, T, []int{T, T})))
		}
		out, err := FusedLSTM(x, mask, g.Param(w[0]), g.Param(w[1]), g.Param(w[2]), true)
		if err != nil {
			t.Fatal(err)
		}
		vm := G.NewTapeMachine(g.ExprGraph)
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		outs[i] = toFloat64s(out.Value().Data())
	}
	for k := range outs[0] {
		if outs[0][k] != outs[1][k] {
			t.Fatalf("out[%d] = %g with no mask, %g with a mask of ones", k, outs[0][k], outs[1][k])
		}
	}
}
