package layers

import (
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// cyclicSource replays the same n draws over and over, so that every run
// of a graph with n dropout elements draws the same mask.
type cyclicSource struct {
	vals []int64
	i    int
}

func (s *cyclicSource) Int63() int64 { v := s.vals[s.i%len(s.vals)]; s.i++; return v }
func (s *cyclicSource) Seed(int64)   {}

func newCyclicRand(n int) *rand.Rand {
	r := rand.New(rand.NewSource(5))
	s := &cyclicSource{vals: make([]int64, n)}
	for i := range s.vals {
		s.vals[i] = r.Int63()
	}
	return rand.New(s)
}

func TestDropoutGradient(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	x := inputParam("x", rng, 3, 4, 5)
	d := NewDropout(0.4, newCyclicRand(3*4*5))
	worst := gradCheck(t, func(g *Graph) (*G.Node, error) { return d.Forward(g, g.Param(x), nil) }, 0)
	t.Logf("worst relative error %.2g", worst)
}

func TestDropoutForward(t *testing.T) {
	const n, rate = 10000, 0.3
	x := tensor.New(tensor.WithShape(n), tensor.WithBacking(ones(n)))
	run := func(d *Dropout, training bool, runs int) [][]float64 {
		g := NewGraph(tensor.Float64, training)
		xn := G.NodeFromAny(g.ExprGraph, x, G.WithName("x"))
		y, err := d.Forward(g, xn, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !training && y != xn {
			t.Errorf("Forward at inference added a node")
		}
		m := G.NewTapeMachine(g.ExprGraph)
		defer m.Close()
		var outs [][]float64
		for i := 0; i < runs; i++ {
			if err := m.RunAll(); err != nil {
				t.Fatal(err)
			}
			outs = append(outs, append([]float64{}, y.Value().Data().([]float64)...))
			m.Reset()
		}
		return outs
	}
	outs := run(NewDropout(rate, rand.New(rand.NewSource(1))), true, 2)
	zeros, same := 0, 0
	for i, v := range outs[0] {
		switch v {
		case 0:
			zeros++
		case 1 / (1 - rate):
		default:
			t.Fatalf("y[%d] = %v, want 0 or %v", i, v, 1/(1-rate))
		}
		if v == outs[1][i] {
			same++
		}
	}
	if got := float64(zeros) / n; got < rate-0.02 || got > rate+0.02 {
		t.Errorf("dropped share = %.3f, want about %v", got, rate)
	}
	if same == n {
		t.Errorf("two runs drew the same mask")
	}
	again := run(NewDropout(rate, rand.New(rand.NewSource(1))), true, 1)
	for i := range again[0] {
		if again[0][i] != outs[0][i] {
			t.Fatalf("same seed, different mask at %d", i)
		}
	}
	run(NewDropout(rate, rand.New(rand.NewSource(1))), false, 1)
}
