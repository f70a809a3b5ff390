package layers

import (
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// smallModel is a reference-shaped stack with its compiled machine for one
// batch shape.
type smallModel struct {
	layers                  []Layer
	ids, mask, labels, loss *G.Node
	machine                 *Machine
}

func newSmallLayers(rng *rand.Rand, freeze bool) []Layer {
	emb := NewEmbedding(RandomEmbedding(11, 3, tensor.Float64, rng), !freeze)
	bi := newBiLSTM(rng, 3, 2, MergeConcat, false, false)
	return []Layer{emb, NewSinusoidalEncoding(8, 3), bi, NewDense(4, 1, Linear, tensor.Float64, rng)}
}

func compileSmall(t *testing.T, ls []Layer, batch, steps int) *smallModel {
	t.Helper()
	g := NewGraph(tensor.Float64, true)
	m := &smallModel{
		layers: ls,
		ids:    G.NewMatrix(g.ExprGraph, tensor.Int, G.WithShape(batch, steps), G.WithName("ids")),
		mask:   G.NewMatrix(g.ExprGraph, tensor.Float64, G.WithShape(batch, steps), G.WithName("mask")),
		labels: G.NewVector(g.ExprGraph, tensor.Float64, G.WithShape(batch), G.WithName("labels")),
	}
	y := m.ids
	var err error
	for _, l := range ls {
		if y, err = l.Forward(g, y, m.mask); err != nil {
			t.Fatal(err)
		}
	}
	if m.loss, err = BinaryCrossEntropy(y, m.labels); err != nil {
		t.Fatal(err)
	}
	if m.machine, err = Compile(g, m.loss); err != nil {
		t.Fatal(err)
	}
	return m
}

type batch struct{ ids, mask, labels *tensor.Dense }

func newBatch(rng *rand.Rand, size, steps int) batch {
	mask, lens := randomMask(rng, size, steps)
	labels := make([]float64, size)
	for i := range labels {
		labels[i] = float64(rng.Intn(2))
	}
	return batch{randomIDs(rng, 11, lens, steps), mask, tensor.New(tensor.WithShape(size), tensor.WithBacking(labels))}
}

// run feeds b and returns the loss and a copy of every gradient.
func (m *smallModel) run(t *testing.T, b batch) (float64, [][]float64) {
	t.Helper()
	if err := m.machine.Run(map[*G.Node]*tensor.Dense{m.ids: b.ids, m.mask: b.mask, m.labels: b.labels}); err != nil {
		t.Fatal(err)
	}
	var grads [][]float64
	for _, l := range m.layers {
		for _, p := range l.Params() {
			if p.Trainable {
				grads = append(grads, append([]float64{}, p.Grad.Data().([]float64)...))
			}
		}
	}
	return m.loss.Value().Data().(float64), grads
}

// TestMachineReuse runs one compiled machine on several batches and checks
// each result against a machine compiled afresh for that batch: no state
// leaks from run to run, gradients are not accumulated, and weights
// changed in place are seen.
func TestMachineReuse(t *testing.T) {
	rng := rand.New(rand.NewSource(30))
	ls := newSmallLayers(rng, false)
	shared := compileSmall(t, ls, 3, 5)
	defer shared.machine.Close()
	batches := []batch{newBatch(rng, 3, 5), newBatch(rng, 3, 5), newBatch(rng, 3, 5)}
	for i, b := range append(batches, batches[0]) {
		if i == 3 {
			// An optimizer step, in place.
			w := ls[3].Params()[0].Value.Data().([]float64)
			w[0] += 0.5
		}
		gotLoss, gotGrads := shared.run(t, b)
		fresh := compileSmall(t, ls, 3, 5)
		wantLoss, wantGrads := fresh.run(t, b)
		fresh.machine.Close()
		if gotLoss != wantLoss {
			t.Errorf("batch %d: loss %v from the reused machine, %v from a fresh one", i, gotLoss, wantLoss)
		}
		for p := range wantGrads {
			if j, ok := closeTo(gotGrads[p], wantGrads[p], 0); !ok {
				t.Errorf("batch %d: gradient %d[%d] = %v reused, %v fresh", i, p, j, gotGrads[p][j], wantGrads[p][j])
			}
		}
	}
}

func TestFrozenEmbeddingHasNoGradient(t *testing.T) {
	rng := rand.New(rand.NewSource(31))
	ls := newSmallLayers(rng, true)
	m := compileSmall(t, ls, 2, 4)
	defer m.machine.Close()
	before := append([]float64{}, ls[0].Params()[0].Value.Data().([]float64)...)
	m.run(t, newBatch(rng, 2, 4))
	emb := ls[0].(*Embedding)
	if emb.Weight.Grad != nil {
		t.Errorf("frozen embedding has a gradient buffer")
	}
	params, _ := m.machine.graph.Trainable()
	for _, p := range params {
		if p == emb.Weight {
			t.Errorf("frozen embedding is among the trainable parameters")
		}
	}
	if n := m.machine.graph.nodes[emb.Weight]; n.Deriv() != nil {
		t.Errorf("frozen embedding node has a gradient node %v", n.Deriv())
	}
	if _, ok := closeTo(emb.Weight.Value.Data().([]float64), before, 0); !ok {
		t.Errorf("running changed the frozen embedding")
	}
}
