package layers

import (
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// gradCheck compares the symbolic gradients of a float64 graph with
// central finite differences. build adds a layer stack to g and returns its
// output; the loss is sum(out ⊙ R) for a fixed random R (or out itself when
// it is a scalar), so every output element's gradient is exercised. Every
// trainable parameter used in g is checked, element by element (at most
// maxElems random elements per parameter); inputs that need checking are
// passed as trainable Params. It returns the largest relative error.
func gradCheck(t *testing.T, build func(g *Graph) (*G.Node, error), maxElems int) float64 {
	t.Helper()
	g := NewGraph(tensor.Float64, true)
	out, err := build(g)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	loss := out
	if !out.IsScalar() {
		rng := rand.New(rand.NewSource(99))
		r := tensor.New(tensor.WithShape(out.Shape().Clone()...), tensor.WithBacking(uniform(1, out.Shape().TotalSize(), 1, rng)))
		rn := G.NodeFromAny(g.ExprGraph, r, G.WithName("gradcheck.r"))
		if loss, err = G.HadamardProd(out, rn); err != nil {
			t.Fatalf("loss: %v", err)
		}
		if loss, err = G.Sum(loss); err != nil {
			t.Fatalf("loss: %v", err)
		}
	}
	params, nodes := g.Trainable()
	if len(nodes) == 0 {
		t.Fatal("no trainable parameter in the graph")
	}
	if _, err := G.Grad(loss, nodes...); err != nil {
		t.Fatalf("Grad: %v", err)
	}
	m := G.NewTapeMachine(g.ExprGraph, G.BindDualValues(nodes...))
	defer m.Close()
	run := func() float64 {
		t.Helper()
		if err := m.RunAll(); err != nil {
			t.Fatalf("RunAll: %v", err)
		}
		v := loss.Value().Data().(float64)
		m.Reset()
		return v
	}
	if err := m.RunAll(); err != nil {
		t.Fatalf("RunAll: %v", err)
	}
	if err := g.ReadGrads(); err != nil {
		t.Fatalf("ReadGrads: %v", err)
	}
	m.Reset()
	analytic := map[*Param][]float64{}
	for _, p := range params {
		analytic[p] = append([]float64{}, p.Grad.Data().([]float64)...)
	}

	const eps = 1e-6
	worst := 0.0
	pick := rand.New(rand.NewSource(7))
	for _, p := range params {
		w := p.Value.Data().([]float64)
		idx := pick.Perm(len(w))
		if maxElems > 0 && len(idx) > maxElems {
			idx = idx[:maxElems]
		}
		for _, i := range idx {
			orig := w[i]
			w[i] = orig + eps
			up := run()
			w[i] = orig - eps
			down := run()
			w[i] = orig
			num := (up - down) / (2 * eps)
			got := analytic[p][i]
			diff := math.Abs(got - num)
			rel := diff / math.Max(math.Abs(got)+math.Abs(num), 1e-12)
			if math.Abs(got)+math.Abs(num) > 1e-6 && rel > worst {
				worst = rel
			}
			if diff > 1e-7+1e-5*(math.Abs(got)+math.Abs(num)) {
				t.Errorf("%s[%d]: gradient %.9g, finite difference %.9g", p.Name, i, got, num)
			}
		}
	}
	return worst
}

// inputParam makes a trainable float64 input of the given shape drawn from
// U(-1, 1), so that gradCheck checks the gradient reaching a layer's input.
func inputParam(name string, rng *rand.Rand, shape ...int) *Param {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return NewParam(name, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(uniform(1, n, 1, rng))), true)
}

// randomMask makes a [batch, time] float64 mask whose rows have random
// lengths between 1 and time, padding at the end; it returns the lengths.
func randomMask(rng *rand.Rand, batch, time int) (*tensor.Dense, []int) {
	m := make([]float64, batch*time)
	lens := make([]int, batch)
	for b := range lens {
		lens[b] = 1 + rng.Intn(time)
		for t := 0; t < lens[b]; t++ {
			m[b*time+t] = 1
		}
	}
	return tensor.New(tensor.WithShape(batch, time), tensor.WithBacking(m)), lens
}

// randomIDs makes [batch, time] ids in [1, vocab) padded with 0 after each
// row's length.
func randomIDs(rng *rand.Rand, vocab int, lens []int, time int) *tensor.Dense {
	ids := make([]int, len(lens)*time)
	for b, l := range lens {
		for t := 0; t < l; t++ {
			ids[b*time+t] = 1 + rng.Intn(vocab-1)
		}
	}
	return tensor.New(tensor.WithShape(len(lens), time), tensor.WithBacking(ids))
}
