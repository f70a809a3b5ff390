package layers_test

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/classify/classify/layers"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// relNaive is the layer written out as in Shaw et al. (2018), with
// plain loops and no shared code with the layer: y[b][i] for x[b][i][:]
// under mask[b][i].
func relNaive(a *layers.RelativeAttention, x [][][]float64, mask [][]bool) [][][]float64 {
	d, k := a.Dim, a.MaxRelative
	wq, wk, wv, wo := relF64s(a.Query.Value), relF64s(a.Key.Value), relF64s(a.Value.Value), relF64s(a.Output.Value)
	ak, av := relF64s(a.KeyEmbedding.Value), relF64s(a.ValueEmbedding.Value)
	// proj returns W v for W in [out, in] layout.
	proj := func(w, v []float64) []float64 {
		out := make([]float64, d)
		for o := 0; o < d; o++ {
			for i := 0; i < d; i++ {
				out[o] += w[o*d+i] * v[i]
			}
		}
		return out
	}
	rel := func(table []float64, dist int) []float64 {
		dist = max(-k, min(k, dist))
		return table[(dist+k)*d : (dist+k+1)*d]
	}
	y := make([][][]float64, len(x))
	for b, seq := range x {
		n := len(seq)
		q, key, v := make([][]float64, n), make([][]float64, n), make([][]float64, n)
		for i := range seq {
			q[i], key[i], v[i] = proj(wq, seq[i]), proj(wk, seq[i]), proj(wv, seq[i])
		}
		y[b] = make([][]float64, n)
		for i := range seq {
			y[b][i] = append([]float64(nil), seq[i]...)
			if !mask[b][i] {
				continue
			}
			logits := make([]float64, n)
			maxLogit := math.Inf(-1)
			for j := range seq {
				if !mask[b][j] {
					continue
				}
				rk := rel(ak, j-i)
				for c := 0; c < d; c++ {
					logits[j] += q[i][c] * (key[j][c] + rk[c])
				}
				logits[j] /= math.Sqrt(float64(d))
				maxLogit = math.Max(maxLogit, logits[j])
			}
			var sum float64
			for j := range seq {
				if mask[b][j] {
					logits[j] = math.Exp(logits[j] - maxLogit)
					sum += logits[j]
				}
			}
			z := make([]float64, d)
			for j := range seq {
				if !mask[b][j] {
					continue
				}
				rv := rel(av, j-i)
				for c := 0; c < d; c++ {
					z[c] += logits[j] / sum * (v[j][c] + rv[c])
				}
			}
			out := proj(wo, z)
			for c := range out {
				y[b][i][c] += out[c]
			}
		}
	}
	return y
}

func relF64s(t *tensor.Dense) []float64 {
	switch d := t.Data().(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	default:
		return d.([]float64)
	}
}

func relSet(t *tensor.Dense, i int, v float64) {
	switch d := t.Data().(type) {
	case []float32:
		d[i] = float32(v)
	case []float64:
		d[i] = v
	}
}

// relCase is a batch for the layer: x [B,T,D] and per-row real lengths.
type relCase struct {
	x       [][][]float64
	lengths []int
}

func relRandomCase(rng *rand.Rand, lengths []int, t, d int) relCase {
	x := make([][][]float64, len(lengths))
	for b := range x {
		x[b] = make([][]float64, t)
		for i := range x[b] {
			x[b][i] = make([]float64, d)
			for c := range x[b][i] {
				x[b][i][c] = rng.NormFloat64()
			}
		}
	}
	return relCase{x: x, lengths: lengths}
}

func (c relCase) mask() [][]bool {
	m := make([][]bool, len(c.x))
	for b := range m {
		m[b] = make([]bool, len(c.x[b]))
		for i := 0; i < c.lengths[b]; i++ {
			m[b][i] = true
		}
	}
	return m
}

func (c relCase) tensors(dt tensor.Dtype) (x, mask *tensor.Dense) {
	b, t, d := len(c.x), len(c.x[0]), len(c.x[0][0])
	x = tensor.New(tensor.WithShape(b, t, d), tensor.Of(dt))
	mask = tensor.New(tensor.WithShape(b, t), tensor.Of(dt))
	for s := range c.x {
		for i := range c.x[s] {
			if i < c.lengths[s] {
				relSet(mask, s*t+i, 1)
			}
			for k, v := range c.x[s][i] {
				relSet(x, (s*t+i)*d+k, v)
			}
		}
	}
	return x, mask
}

// relRun is what one forward and backward pass of the layer gives.
type relRun struct {
	y     []float64
	dx    []float64
	grads map[string][]float64
}

// runRelative builds the layer into a graph with the loss Σ y⊙r, runs it
// forward and backward on machine ("tape" or "lisp") and returns y and the
// gradients of x and every weight.
func runRelative(t testing.TB, a *layers.RelativeAttention, c relCase, r *tensor.Dense, machine string) relRun {
	t.Helper()
	dt := a.Query.Value.Dtype()
	g := layers.NewGraph(dt, true)
	xv, mv := c.tensors(dt)
	x := G.NodeFromAny(g.ExprGraph, xv, G.WithName("x"))
	mask := G.NodeFromAny(g.ExprGraph, mv, G.WithName("mask"))
	y, err := a.Forward(g, x, mask)
	if err != nil {
		t.Fatalf("Forward: %v", err)
	}
	loss := G.Must(G.Sum(G.Must(G.HadamardProd(y, G.NodeFromAny(g.ExprGraph, r, G.WithName("r"))))))
	var yv G.Value
	G.Read(y, &yv)
	params, nodes := g.Trainable()
	wrt := append(G.Nodes{x}, nodes...)
	var m G.VM
	if machine == "lisp" {
		m = G.NewLispMachine(g.ExprGraph)
	} else {
		if _, err := G.Grad(loss, wrt...); err != nil {
			t.Fatalf("Grad: %v", err)
		}
		m = G.NewTapeMachine(g.ExprGraph, G.BindDualValues(wrt...))
	}
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatalf("RunAll: %v", err)
	}
	grad := func(n *G.Node) []float64 {
		v, err := n.Grad()
		if err != nil {
			t.Fatalf("gradient of %s: %v", n.Name(), err)
		}
		return relF64s(v.(*tensor.Dense))
	}
	run := relRun{y: relF64s(yv.(*tensor.Dense)), dx: grad(x), grads: map[string][]float64{}}
	for i, p := range params {
		run.grads[p.Name] = grad(nodes[i])
	}
	return run
}

func relFlatten(y [][][]float64) []float64 {
	var out []float64
	for _, s := range y {
		for _, v := range s {
			out = append(out, v...)
		}
	}
	return out
}

func relMaxAbsDiff(a, b []float64) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

func TestRelativeAttentionMatchesNaive(t *testing.T) {
	tests := []struct {
		name       string
		dt         tensor.Dtype
		d, k, t    int
		lengths    []int
		tol        float64
		wantShapes [][]int
	}{
		{"float64 full", tensor.Float64, 3, 2, 4, []int{4, 4}, 1e-12, nil},
		{"float64 masked and clipped", tensor.Float64, 5, 1, 7, []int{7, 3, 1, 0}, 1e-12, nil},
		{"float64 no clipping", tensor.Float64, 4, 16, 6, []int{6, 2}, 1e-12, nil},
		{"float64 k=0", tensor.Float64, 2, 0, 5, []int{5, 4}, 1e-12, nil},
		{"float32 masked", tensor.Float32, 8, 3, 9, []int{9, 5, 2}, 1e-5, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(1))
			a := layers.NewRelativeAttention(tt.d, tt.k, tt.dt, rng)
			c := relRandomCase(rng, tt.lengths, tt.t, tt.d)
			r := tensor.Ones(tt.dt, len(tt.lengths), tt.t, tt.d)
			got := runRelative(t, a, c, r, "tape").y
			want := relFlatten(relNaive(a, c.x, c.mask()))
			if diff := relMaxAbsDiff(got, want); diff > tt.tol || math.IsNaN(diff) {
				t.Errorf("Forward = %v,\nwant (naive loops) %v: max difference %g", got, want, diff)
			}
		})
	}
}

// TestRelativeAttentionHandComputed checks tiny cases worked out on paper:
// D = 1, Wv = Wo = 1.
func TestRelativeAttentionHandComputed(t *testing.T) {
	ln2 := math.Log(2)
	tests := []struct {
		name   string
		wq, wk float64
		aK, aV []float64 // k = 1: rows for distances -1, 0, +1
		x      []float64
		length int
		want   []float64
	}{
		// Wq = 0: uniform attention, z_i = mean_j (x_j + aV[clip(j-i)]).
		{"uniform", 0, 0, []float64{0, 0, 0}, []float64{-1, 0, 1}, []float64{1, 2, 3}, 3,
			[]float64{1 + 8.0/3, 2 + 6.0/3, 3 + 4.0/3}},
		{"uniform, last padded", 0, 0, []float64{0, 0, 0}, []float64{-1, 0, 1}, []float64{1, 2, 3}, 2,
			[]float64{1 + 4.0/2, 2 + 2.0/2, 3}},
		{"all padding", 0, 0, []float64{0, 0, 0}, []float64{-1, 0, 1}, []float64{1, 2, 3}, 0,
			[]float64{1, 2, 3}},
		// Wq = 1, Wk = 0: e_ij = x_i aK[clip(j-i)]; row 0 gets weights
		// 1/3, 2/3 (e = 0, ln 2), row 1 gets 1/2, 1/2 (e = 0, 0).
		{"key embedding", 1, 0, []float64{0, 0, ln2}, []float64{0, 0, 0}, []float64{1, 2}, 2,
			[]float64{1 + 1.0/3 + 2*2.0/3, 2 + 1.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := layers.NewRelativeAttention(1, 1, tensor.Float64, rand.New(rand.NewSource(1)))
			copy(a.Query.Value.Data().([]float64), []float64{tt.wq})
			copy(a.Key.Value.Data().([]float64), []float64{tt.wk})
			copy(a.Value.Value.Data().([]float64), []float64{1})
			copy(a.Output.Value.Data().([]float64), []float64{1})
			copy(a.KeyEmbedding.Value.Data().([]float64), tt.aK)
			copy(a.ValueEmbedding.Value.Data().([]float64), tt.aV)
			x := make([][]float64, len(tt.x))
			for i, v := range tt.x {
				x[i] = []float64{v}
			}
			c := relCase{x: [][][]float64{x}, lengths: []int{tt.length}}
			got := runRelative(t, a, c, tensor.Ones(tensor.Float64, 1, len(tt.x), 1), "tape").y
			if diff := relMaxAbsDiff(got, tt.want); diff > 1e-12 || math.IsNaN(diff) {
				t.Errorf("Forward(%v, length %d) = %v, want %v", tt.x, tt.length, got, tt.want)
			}
		})
	}
}

// TestRelativeAttentionGradient compares the hand-written backward pass,
// run through gorgonia.Grad on the TapeMachine and through the LispMachine,
// with central finite differences of the naive reference.
func TestRelativeAttentionGradient(t *testing.T) {
	for _, machine := range []string{"tape", "lisp"} {
		t.Run(machine, func(t *testing.T) {
			const d, k, steps = 4, 2, 6
			rng := rand.New(rand.NewSource(7))
			a := layers.NewRelativeAttention(d, k, tensor.Float64, rng)
			// Scale up the weights so that the attention is far from uniform.
			for _, p := range a.Params() {
				for i, v := range p.Value.Data().([]float64) {
					p.Value.Data().([]float64)[i] = 2 * v
				}
			}
			c := relRandomCase(rng, []int{6, 4, 1, 0}, steps, d)
			r := tensor.New(tensor.WithShape(len(c.x), steps, d), tensor.Of(tensor.Float64))
			for i := range r.Data().([]float64) {
				r.Data().([]float64)[i] = rng.NormFloat64()
			}
			rw := r.Data().([]float64)
			mask := c.mask()
			loss := func() float64 {
				var l float64
				for i, v := range relFlatten(relNaive(a, c.x, mask)) {
					l += v * rw[i]
				}
				return l
			}
			got := runRelative(t, a, c, r, machine)

			const h = 1e-6
			var worst float64
			defer func() { t.Logf("largest relative error %.2g", worst) }()
			check := func(name string, v *float64, got float64) {
				t.Helper()
				old := *v
				*v = old + h
				up := loss()
				*v = old - h
				down := loss()
				*v = old
				want := (up - down) / (2 * h)
				worst = math.Max(worst, math.Abs(got-want)/math.Max(1, math.Abs(want)))
				if math.Abs(got-want) > 1e-7*math.Max(1, math.Abs(want)) {
					t.Errorf("d loss/d %s = %.10g, want %.10g (finite difference)", name, got, want)
				}
			}
			for b := range c.x {
				for i := range c.x[b] {
					for j := range c.x[b][i] {
						check(fmt.Sprintf("x[%d,%d,%d]", b, i, j), &c.x[b][i][j], got.dx[(b*steps+i)*d+j])
					}
				}
			}
			for _, p := range a.Params() {
				g, ok := got.grads[p.Name]
				if !ok {
					t.Fatalf("no gradient for %s", p.Name)
				}
				w := p.Value.Data().([]float64)
				for i := range w {
					check(fmt.Sprintf("%s[%d]", p.Name, i), &w[i], g[i])
				}
			}
		})
	}
}

// TestRelativeAttentionPaddingInvariance checks that padding, whatever
// its content, changes nothing at the real positions and is passed
// through unchanged itself.
func TestRelativeAttentionPaddingInvariance(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		t.Run(dt.String(), func(t *testing.T) {
			const d, n, padded = 6, 5, 9
			rng := rand.New(rand.NewSource(3))
			a := layers.NewRelativeAttention(d, 2, dt, rng)
			long := relRandomCase(rng, []int{n, padded}, padded, d)
			short := relCase{x: [][][]float64{long.x[0][:n]}, lengths: []int{n}}
			gotLong := runRelative(t, a, long, tensor.Ones(dt, 2, padded, d), "tape").y
			gotShort := runRelative(t, a, short, tensor.Ones(dt, 1, n, d), "tape").y
			xv, _ := long.tensors(dt)
			x := relF64s(xv)
			for i := 0; i < padded*d; i++ {
				want := x[i] // padding passes through
				if i < n*d {
					want = gotShort[i]
				}
				if gotLong[i] != want {
					t.Errorf("padded y[0,%d,%d] = %v, want %v", i/d, i%d, gotLong[i], want)
				}
			}
		})
	}
}

// TestRelativeAttentionClipping checks that distances beyond k share the
// end vectors: a layer clipped at k gives the same outputs as an unclipped
// one whose tables repeat the end rows for the far distances.
func TestRelativeAttentionClipping(t *testing.T) {
	const d, k, steps = 3, 2, 7
	big := steps - 1
	rng := rand.New(rand.NewSource(5))
	clipped := layers.NewRelativeAttention(d, k, tensor.Float64, rng)
	wide := layers.NewRelativeAttention(d, big, tensor.Float64, rng)
	for i, p := range clipped.Params()[:4] {
		wide.Params()[i].Value = p.Value
	}
	expand := func(dst, src *tensor.Dense) {
		s, w := src.Data().([]float64), dst.Data().([]float64)
		for dist := -big; dist <= big; dist++ {
			row := max(-k, min(k, dist)) + k
			copy(w[(dist+big)*d:(dist+big+1)*d], s[row*d:(row+1)*d])
		}
	}
	expand(wide.KeyEmbedding.Value, clipped.KeyEmbedding.Value)
	expand(wide.ValueEmbedding.Value, clipped.ValueEmbedding.Value)
	c := relRandomCase(rng, []int{steps, 6}, steps, d)
	r := tensor.Ones(tensor.Float64, 2, steps, d)
	got := runRelative(t, clipped, c, r, "tape")
	want := runRelative(t, wide, c, r, "tape")
	if diff := relMaxAbsDiff(got.y, want.y); diff > 1e-12 {
		t.Errorf("clipped at %d = %v,\nwant (tables repeated to %d) %v", k, got.y, big, want.y)
	}
	// The far rows of the wide tables get the gradient that the clipped
	// layer gives its end rows.
	for _, name := range []string{"relpos.key_embedding", "relpos.value_embedding"} {
		g, w := got.grads[name], want.grads[name]
		for row := 0; row <= 2*k; row++ {
			lo, hi := row-k, row-k // distances folded into this row
			if row == 0 {
				lo = -big
			}
			if row == 2*k {
				hi = big
			}
			for c := 0; c < d; c++ {
				var sum float64
				for dist := lo; dist <= hi; dist++ {
					sum += w[(dist+big)*d+c]
				}
				if math.Abs(g[row*d+c]-sum) > 1e-12 {
					t.Errorf("d/d %s[%d,%d] = %v, want %v (sum over distances %d..%d)", name, row, c, g[row*d+c], sum, lo, hi)
				}
			}
		}
	}
}

// TestRelativeAttentionReuse runs one compiled graph (a layers.Machine)
// on two batches of the same shape, the second with more padding, as a
// model reuses its graph per bucket: the second run must see nothing left
// from the first.
func TestRelativeAttentionReuse(t *testing.T) {
	const d, steps = 3, 6
	rng := rand.New(rand.NewSource(11))
	a := layers.NewRelativeAttention(d, 2, tensor.Float64, rng)
	first := relRandomCase(rng, []int{6, 6}, steps, d)
	second := relRandomCase(rng, []int{2, 0}, steps, d)
	r := tensor.New(tensor.WithShape(2, steps, d), tensor.Of(tensor.Float64))
	for i := range r.Data().([]float64) {
		r.Data().([]float64)[i] = rng.NormFloat64()
	}
	want := runRelative(t, a, second, r, "tape")

	g := layers.NewGraph(tensor.Float64, true)
	x := G.NewTensor(g.ExprGraph, tensor.Float64, 3, G.WithShape(2, steps, d), G.WithName("x"))
	mask := G.NewMatrix(g.ExprGraph, tensor.Float64, G.WithShape(2, steps), G.WithName("mask"))
	y, err := a.Forward(g, x, mask)
	if err != nil {
		t.Fatalf("Forward: %v", err)
	}
	loss := G.Must(G.Sum(G.Must(G.HadamardProd(y, G.NodeFromAny(g.ExprGraph, r, G.WithName("r"))))))
	var yv G.Value
	G.Read(y, &yv)
	m, err := layers.Compile(g, loss)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	defer m.Close()
	for _, c := range []relCase{first, second} {
		xv, mv := c.tensors(tensor.Float64)
		if err := m.Run(map[*G.Node]*tensor.Dense{x: xv, mask: mv}); err != nil {
			t.Fatalf("Run: %v", err)
		}
	}
	if got := relF64s(yv.(*tensor.Dense)); relMaxAbsDiff(got, want.y) > 1e-12 {
		t.Errorf("second run y = %v, want %v", got, want.y)
	}
	for _, p := range a.Params() {
		if got := relF64s(p.Grad); relMaxAbsDiff(got, want.grads[p.Name]) > 1e-12 {
			t.Errorf("second run d/d %s = %v, want %v", p.Name, got, want.grads[p.Name])
		}
	}
}

func TestNewRelativeAttention(t *testing.T) {
	const d, k = 10, 16
	a := layers.NewRelativeAttention(d, k, tensor.Float32, rand.New(rand.NewSource(42)))
	b := layers.NewRelativeAttention(d, k, tensor.Float32, rand.New(rand.NewSource(42)))
	tests := []struct {
		param *layers.Param
		name  string
		shape []int
	}{
		{a.Query, "relpos.query.weight", []int{d, d}},
		{a.Key, "relpos.key.weight", []int{d, d}},
		{a.Value, "relpos.value.weight", []int{d, d}},
		{a.Output, "relpos.output.weight", []int{d, d}},
		{a.KeyEmbedding, "relpos.key_embedding", []int{2*k + 1, d}},
		{a.ValueEmbedding, "relpos.value_embedding", []int{2*k + 1, d}},
	}
	if got := len(a.Params()); got != len(tests) {
		t.Fatalf("len(Params()) = %d, want %d", got, len(tests))
	}
	for i, tt := range tests {
		p := a.Params()[i]
		if p != tt.param || p.Name != tt.name || !p.Value.Shape().Eq(tensor.Shape(tt.shape)) || !p.Trainable {
			t.Errorf("Params()[%d] = %s %v trainable=%v, want %s %v trainable", i, p.Name, p.Value.Shape(), p.Trainable, tt.name, tt.shape)
		}
		limit := math.Sqrt(6 / float64(tt.shape[0]+tt.shape[1]))
		var sumSq float64
		vals := relF64s(p.Value)
		for j, v := range vals {
			if math.Abs(v) > limit {
				t.Errorf("%s[%d] = %v, outside the Glorot limit ±%v", p.Name, j, v, limit)
			}
			if w := relF64s(b.Params()[i].Value)[j]; v != w {
				t.Fatalf("%s[%d] = %v with seed 42, then %v with seed 42", p.Name, j, v, w)
			}
			sumSq += v * v
		}
		// U(-l, l) has variance l²/3.
		if got, want := sumSq/float64(len(vals)), limit*limit/3; math.Abs(got-want) > 0.35*want {
			t.Errorf("%s: mean square %v, want about %v", p.Name, got, want)
		}
	}
	if got := a.OutputShape([]int{-1, -1, d}); fmt.Sprint(got) != fmt.Sprint([]int{-1, -1, d}) {
		t.Errorf("OutputShape = %v, want [-1 -1 %d]", got, d)
	}
	if got := layers.NewRelativeAttention(d, -3, tensor.Float32, rand.New(rand.NewSource(1))).KeyEmbedding.Value.Shape(); !got.Eq(tensor.Shape{1, d}) {
		t.Errorf("NewRelativeAttention(%d, -3).KeyEmbedding shape %v, want (1, %d)", d, got, d)
	}
	trainable, frozen := layers.CountParams(a.Params())
	if want := 4*d*d + 2*(2*k+1)*d; trainable != want || frozen != 0 {
		t.Errorf("CountParams = %d, %d, want %d, 0", trainable, frozen, want)
	}
}

func TestRelativeAttentionForwardErrors(t *testing.T) {
	a := layers.NewRelativeAttention(4, 2, tensor.Float32, rand.New(rand.NewSource(1)))
	tests := []struct {
		name string
		x    *tensor.Dense
		mask *tensor.Dense
	}{
		{"wrong width", tensor.New(tensor.WithShape(2, 3, 5), tensor.Of(tensor.Float32)), nil},
		{"not a sequence", tensor.New(tensor.WithShape(2, 4), tensor.Of(tensor.Float32)), nil},
		{"wrong dtype", tensor.New(tensor.WithShape(2, 3, 4), tensor.Of(tensor.Float64)), nil},
		{"wrong mask", tensor.New(tensor.WithShape(2, 3, 4), tensor.Of(tensor.Float32)), tensor.New(tensor.WithShape(2, 4), tensor.Of(tensor.Float32))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := layers.NewGraph(tensor.Float32, true)
			x := G.NodeFromAny(g.ExprGraph, tt.x, G.WithName("x"))
			var mask *G.Node
			if tt.mask != nil {
				mask = G.NodeFromAny(g.ExprGraph, tt.mask, G.WithName("mask"))
			}
			if y, err := a.Forward(g, x, mask); err == nil {
				t.Errorf("Forward(%v) = %v, want an error", tt.x.Shape(), y.Shape())
			}
		})
	}
}

// The layer needs no mask when every token is real.
func TestRelativeAttentionNilMask(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	a := layers.NewRelativeAttention(3, 1, tensor.Float64, rng)
	c := relRandomCase(rng, []int{4, 4}, 4, 3)
	xv, _ := c.tensors(tensor.Float64)
	g := layers.NewGraph(tensor.Float64, false)
	y, err := a.Forward(g, G.NodeFromAny(g.ExprGraph, xv, G.WithName("x")), nil)
	if err != nil {
		t.Fatalf("Forward: %v", err)
	}
	m := G.NewTapeMachine(g.ExprGraph)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatalf("RunAll: %v", err)
	}
	got := relF64s(y.Value().(*tensor.Dense))
	want := relFlatten(relNaive(a, c.x, c.mask()))
	if diff := relMaxAbsDiff(got, want); diff > 1e-12 {
		t.Errorf("Forward without mask = %v, want %v", got, want)
	}
}

func ExampleRelativeAttention() {
	rng := rand.New(rand.NewSource(42))
	a := layers.NewRelativeAttention(4, 16, tensor.Float32, rng)
	g := layers.NewGraph(tensor.Float32, false)
	// Two sequences of three tokens; the second has one real token.
	x := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(2, 3, 4), tensor.WithBacking([]float32{
		1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0,
		0, 0, 0, 1, 9, 9, 9, 9, 9, 9, 9, 9,
	})), G.WithName("x"))
	mask := G.NodeFromAny(g.ExprGraph, tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{
		1, 1, 1,
		1, 0, 0,
	})), G.WithName("mask"))
	y, err := a.Forward(g, x, mask)
	if err != nil {
		fmt.Println(err)
		return
	}
	m := G.NewTapeMachine(g.ExprGraph)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		fmt.Println(err)
		return
	}
	out := y.Value().(*tensor.Dense).Data().([]float32)
	fmt.Println(y.Shape(), a.Params()[4].Name, a.Params()[4].Value.Shape())
	fmt.Println("padding passes through:", out[16:24])
	// Output:
	// (2, 3, 4) relpos.key_embedding (33, 4)
	// padding passes through: [9 9 9 9 9 9 9 9]
}

// BenchmarkRelativeAttention times a forward and backward pass of the layer
// at the reference model's size (B=32, T=100, D=100, k=16, float32) on the
// TapeMachine: every token real, then random lengths 1..100.
func BenchmarkRelativeAttention(b *testing.B) {
	const batch, steps, d = 32, 100, 100
	for _, bm := range []struct {
		name   string
		padded bool
	}{{"full", false}, {"padded", true}} {
		b.Run(bm.name, func(b *testing.B) {
			rng := rand.New(rand.NewSource(1))
			a := layers.NewRelativeAttention(d, 16, tensor.Float32, rng)
			lengths := make([]int, batch)
			for i := range lengths {
				lengths[i] = steps
				if bm.padded {
					lengths[i] = 1 + rng.Intn(steps)
				}
			}
			c := relRandomCase(rng, lengths, steps, d)
			g := layers.NewGraph(tensor.Float32, true)
			xv, mv := c.tensors(tensor.Float32)
			x := G.NodeFromAny(g.ExprGraph, xv, G.WithName("x"))
			y, err := a.Forward(g, x, G.NodeFromAny(g.ExprGraph, mv, G.WithName("mask")))
			if err != nil {
				b.Fatal(err)
			}
			loss := G.Must(G.Sum(y))
			_, nodes := g.Trainable()
			wrt := append(G.Nodes{x}, nodes...)
			if _, err := G.Grad(loss, wrt...); err != nil {
				b.Fatal(err)
			}
			m := G.NewTapeMachine(g.ExprGraph, G.BindDualValues(wrt...))
			defer m.Close()
			for b.Loop() {
				if err := m.RunAll(); err != nil {
					b.Fatal(err)
				}
				m.Reset()
			}
		})
	}
}
