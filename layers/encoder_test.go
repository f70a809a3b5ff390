package layers

import (
	"encoding/json"
	"math"
	"math/rand"
	"os"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// transformerGolden is testdata/transformer_golden.json, written by
// testdata/transformer_golden.py from PyTorch.
type transformerGolden struct {
	Batch, Time, Dim, Heads, FF int
	Lengths                     []int
	Params                      map[string][]float64
	X, R                        []float64
	Cases                       map[string]struct {
		Y, DX []float64
		Grads map[string][]float64
	}
}

// TestEncoderBlockMatchesPyTorch runs one block with PyTorch's weights and
// compares its output on the real positions, the input's gradient and
// every parameter's gradient with nn.TransformerEncoderLayer (norm_first,
// GELU) and with the same block with RoPE or ALiBi attention written out
// in PyTorch.
func TestEncoderBlockMatchesPyTorch(t *testing.T) {
	raw, err := os.ReadFile("testdata/transformer_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var gold transformerGolden
	if err := json.Unmarshal(raw, &gold); err != nil {
		t.Fatal(err)
	}
	B, T, D := gold.Batch, gold.Time, gold.Dim
	mask := make([]float64, B*T)
	for b, n := range gold.Lengths {
		for s := 0; s < n; s++ {
			mask[b*T+s] = 1
		}
	}
	for _, name := range []string{"none", "rope", "alibi"} {
		t.Run(name, func(t *testing.T) {
			want, ok := gold.Cases[name]
			if !ok {
				t.Fatalf("no case %q in the golden file", name)
			}
			cfg := EncoderConfig{Dim: D, Heads: gold.Heads, FF: gold.FF, Rotary: name == "rope", ALiBi: name == "alibi"}
			blk, err := NewEncoderBlock("", cfg, tensor.Float64, rand.New(rand.NewSource(1)))
			if err != nil {
				t.Fatal(err)
			}
			if len(blk.Params()) != len(gold.Params) {
				t.Fatalf("%d parameters, PyTorch has %d", len(blk.Params()), len(gold.Params))
			}
			for _, p := range blk.Params() {
				v, ok := gold.Params[p.Name]
				if !ok || len(v) != p.Size() {
					t.Fatalf("parameter %s %v: PyTorch has %d values", p.Name, p.Value.Shape(), len(v))
				}
				p.Value = tensor.New(tensor.WithShape(p.Value.Shape().Clone()...), tensor.WithBacking(append([]float64{}, v...)))
			}
			x := NewParam("x", tensor.New(tensor.WithShape(B, T, D), tensor.WithBacking(append([]float64{}, gold.X...))), true)
			g := NewGraph(tensor.Float64, true)
			m := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(B, T), tensor.WithBacking(mask)), G.WithName("mask"))
			y, err := blk.Forward(g, g.Param(x), m)
			if err != nil {
				t.Fatal(err)
			}
			r := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(B, T, D), tensor.WithBacking(gold.R)), G.WithName("r"))
			loss, err := G.HadamardProd(y, r)
			if err != nil {
				t.Fatal(err)
			}
			if loss, err = G.Sum(loss); err != nil {
				t.Fatal(err)
			}
			var yv G.Value
			G.Read(y, &yv)
			mc, err := Compile(g, loss)
			if err != nil {
				t.Fatal(err)
			}
			defer mc.Close()
			// Twice: the second run must neither add to the first's
			// gradients nor read stale values.
			for run := 0; run < 2; run++ {
				if err := mc.Run(nil); err != nil {
					t.Fatal(err)
				}
			}
			got := yv.Data().([]float64)
			for i, w := range want.Y {
				if mask[i/D] == 0 {
					continue
				}
				if math.Abs(got[i]-w) > 1e-10 {
					t.Fatalf("y[%d] = %.12g, PyTorch %.12g", i, got[i], w)
				}
			}
			compare := func(what string, got, want []float64) {
				t.Helper()
				for i := range want {
					if math.Abs(got[i]-want[i]) > 1e-10 {
						t.Errorf("%s[%d] = %.12g, PyTorch %.12g", what, i, got[i], want[i])
						return
					}
				}
			}
			compare("dx", x.Grad.Data().([]float64), want.DX)
			for _, p := range blk.Params() {
				compare("d"+p.Name, p.Grad.Data().([]float64), want.Grads[p.Name])
			}
		})
	}
}

func TestEncoderGradient(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	enc, err := NewEncoder("encoder", EncoderConfig{Layers: 2, Dim: 8, Heads: 2, FF: 12, Rotary: true, FinalNorm: true}, tensor.Float64, rng)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range enc.Params() {
		p.Value = tensor.New(tensor.WithShape(p.Value.Shape().Clone()...), tensor.WithBacking(uniform(1, p.Size(), 0.6, rng)))
	}
	x := inputParam("x", rng, 2, 4, 8)
	mask, _ := randomMask(rng, 2, 4)
	worst := gradCheck(t, func(g *Graph) (*G.Node, error) {
		m := G.NodeFromAny(g.ExprGraph, mask, G.WithName("mask"))
		return enc.Forward(g, g.Param(x), m)
	}, 12)
	t.Logf("largest relative error %.2g", worst)
}

func TestEncoderNames(t *testing.T) {
	enc, err := NewEncoder("encoder", EncoderConfig{Layers: 2, Dim: 8, Heads: 2, FF: 16, FinalNorm: true}, tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	ps := enc.Params()
	for i, want := range map[int]string{
		0:  "encoder.layers.0.self_attn.in_proj_weight",
		3:  "encoder.layers.0.self_attn.out_proj.bias",
		4:  "encoder.layers.0.linear1.weight",
		11: "encoder.layers.0.norm2.bias",
		12: "encoder.layers.1.self_attn.in_proj_weight",
		24: "encoder.norm.weight",
	} {
		if ps[i].Name != want {
			t.Errorf("parameter %d is %q, want %q", i, ps[i].Name, want)
		}
	}
	if len(ps) != 26 {
		t.Errorf("%d parameters, want 26", len(ps))
	}
}

// TestEncoderGraphsShareStates builds one encoder into training graphs of
// two shapes, which borrow the same kernel states in turn, and checks that
// a graph's gradients do not change when the other ran in between.
func TestEncoderGraphsShareStates(t *testing.T) {
	rng := rand.New(rand.NewSource(10))
	enc, err := NewEncoder("encoder", EncoderConfig{Layers: 2, Dim: 8, Heads: 2, FF: 12, ALiBi: true}, tensor.Float64, rng)
	if err != nil {
		t.Fatal(err)
	}
	type built struct {
		m *Machine
		g *Graph
	}
	build := func(b, tt int) built {
		g := NewGraph(tensor.Float64, true)
		x := G.NodeFromAny(g.ExprGraph, inputParam("x", rng, b, tt, 8).Value, G.WithName("x"))
		mask, _ := randomMask(rng, b, tt)
		y, err := enc.Forward(g, x, G.NodeFromAny(g.ExprGraph, mask, G.WithName("mask")))
		if err != nil {
			t.Fatal(err)
		}
		loss, err := G.Sum(y)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Compile(g, loss)
		if err != nil {
			t.Fatal(err)
		}
		return built{m, g}
	}
	grads := func() [][]float64 {
		var out [][]float64
		for _, p := range enc.Params() {
			out = append(out, append([]float64{}, p.Grad.Data().([]float64)...))
		}
		return out
	}
	a, b := build(2, 5), build(3, 9)
	defer a.m.Close()
	defer b.m.Close()
	if err := a.m.Run(nil); err != nil {
		t.Fatal(err)
	}
	first := grads()
	if err := b.m.Run(nil); err != nil {
		t.Fatal(err)
	}
	if err := a.m.Run(nil); err != nil {
		t.Fatal(err)
	}
	for i, g := range grads() {
		for j := range g {
			if g[j] != first[i][j] {
				t.Fatalf("%s[%d]: %v after the other graph ran, %v before", enc.Params()[i].Name, j, g[j], first[i][j])
			}
		}
	}
}

var (
	_ Layer = (*Encoder)(nil)
	_ Layer = (*EncoderBlock)(nil)
	_ Layer = (*FeedForward)(nil)
	_ Layer = (*MultiHeadAttention)(nil)
	_ Layer = (*LayerNorm)(nil)
	_ Layer = (*GELU)(nil)
	_ Layer = (*Rotary)(nil)
)

// TestEncoderFloat32 runs the encoder in a float32 graph against the same
// weights in float64, for each position scheme, in training mode without
// dropout: outputs and gradients.
func TestEncoderFloat32(t *testing.T) {
	for _, pos := range []string{"none", "rope", "alibi"} {
		t.Run(pos, func(t *testing.T) {
			cfg := EncoderConfig{Layers: 2, Dim: 16, Heads: 4, FF: 24, Rotary: pos == "rope", ALiBi: pos == "alibi", FinalNorm: true}
			rng := rand.New(rand.NewSource(11))
			x := uniform(3*7, 16, 1, rng)
			mask, _ := randomMask(rng, 3, 7)
			results := map[tensor.Dtype][][]float64{}
			for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
				enc, err := NewEncoder("encoder", cfg, dt, rand.New(rand.NewSource(12)))
				if err != nil {
					t.Fatal(err)
				}
				g := NewGraph(dt, true)
				xn := G.NodeFromAny(g.ExprGraph, fromFloat64s(dt, x, 3, 7, 16), G.WithName("x"))
				mn := G.NodeFromAny(g.ExprGraph, fromFloat64s(dt, mask.Data().([]float64), 3, 7), G.WithName("mask"))
				y, err := enc.Forward(g, xn, mn)
				if err != nil {
					t.Fatal(err)
				}
				var yv G.Value
				G.Read(y, &yv)
				loss, err := G.Sum(y)
				if err != nil {
					t.Fatal(err)
				}
				m, err := Compile(g, loss)
				if err != nil {
					t.Fatal(err)
				}
				if err := m.Run(nil); err != nil {
					t.Fatal(err)
				}
				out := [][]float64{denseF64s(yv.(*tensor.Dense))}
				for _, p := range enc.Params() {
					out = append(out, denseF64s(p.Grad))
				}
				results[dt] = out
				m.Close()
			}
			for i, want := range results[tensor.Float64] {
				got := results[tensor.Float32][i]
				for j := range want {
					if math.Abs(got[j]-want[j]) > 2e-4*math.Max(1, math.Abs(want[j])) {
						t.Fatalf("value %d[%d]: float32 %v, float64 %v", i, j, got[j], want[j])
					}
				}
			}
		})
	}
}

func denseF64s(t *tensor.Dense) []float64 {
	switch d := t.Data().(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	case []float64:
		return append([]float64{}, d...)
	}
	return nil
}

// TestEncoderReseed checks that reseeding repeats the dropout masks, as a
// resumed training run needs, and that another seed draws others.
func TestEncoderReseed(t *testing.T) {
	rng := rand.New(rand.NewSource(13))
	enc, err := NewEncoder("encoder", EncoderConfig{Layers: 2, Dim: 8, Heads: 2, FF: 12, Dropout: 0.3}, tensor.Float64, rng)
	if err != nil {
		t.Fatal(err)
	}
	g := NewGraph(tensor.Float64, true)
	x := G.NodeFromAny(g.ExprGraph, inputParam("x", rng, 2, 5, 8).Value, G.WithName("x"))
	y, err := enc.Forward(g, x, nil)
	if err != nil {
		t.Fatal(err)
	}
	run := func(seed int64) []float64 {
		enc.Reseed(seed)
		return runValues(t, g, y)
	}
	a, b, c := run(1), run(1), run(2)
	same, differ := true, false
	for i := range a {
		same = same && a[i] == b[i]
		differ = differ || a[i] != c[i]
	}
	if !same {
		t.Error("one seed drew two sets of masks")
	}
	if !differ {
		t.Error("two seeds drew the same masks")
	}
}
