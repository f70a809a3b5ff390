package layers

import (
	"fmt"

	"github.com/classify/classify/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The relative attention layer is one fused op (op.go) over the kernels
// package's RelativeAttention. Node inputs, in order: x [B,T,D], mask
// [B,T], Wq, Wk, Wv, Wo [D,D], rK, rV [2k+1,D].
const (
	relInX = iota
	relInMask
	relInWq
	relInWk
	relInWv
	relInWo
	relInRK
	relInRV
	relArity
)

// applyRelative adds y = x + Attn(x) to the graph; the caller has checked
// the shapes.
func applyRelative(x, mask *G.Node, weights [6]*G.Node, k int) (*G.Node, error) {
	s := x.Shape()
	b, t, d := s[0], s[1], s[2]
	diff := make([]bool, relArity)
	for i := range diff {
		diff[i] = i != relInMask
	}
	inputs := append(G.Nodes{x, mask}, weights[:]...)
	name := fmt.Sprintf("RelativeAttention{k=%d}", k)
	switch x.Dtype() {
	case tensor.Float32:
		return applyFused(name, newRelRun[float32](b, t, d, k), s, diff, inputs...)
	case tensor.Float64:
		return applyFused(name, newRelRun[float64](b, t, d, k), s, diff, inputs...)
	}
	return nil, dtypeError("relative attention", x.Dtype())
}

// relRun is the fused op's kernel: the kernels package's, with the node
// values it hands out wrapped around its buffers.
type relRun[F float] struct {
	kn    *kernels.RelativeAttention[F]
	real  []bool
	out   *tensor.Dense
	grads [relArity]*tensor.Dense // nil for the mask
}

func newRelRun[F float](b, t, d, k int) *relRun[F] {
	kn := kernels.NewRelativeAttention[F](b, t, d, k)
	r := 2*k + 1
	return &relRun[F]{
		kn:   kn,
		real: make([]bool, b*t),
		out:  newTensor(dtypeOf[F](), b, t, d),
		grads: [relArity]*tensor.Dense{
			relInX:  wrap(kn.DX, b, t, d),
			relInWq: wrap(kn.DWq, d, d), relInWk: wrap(kn.DWk, d, d),
			relInWv: wrap(kn.DWv, d, d), relInWo: wrap(kn.DWo, d, d),
			relInRK: wrap(kn.DRK, r, d), relInRV: wrap(kn.DRV, r, d),
		},
	}
}

// slices returns the float inputs (all but the mask) as slices.
func (r *relRun[F]) slices(in []G.Value) ([relArity][]F, error) {
	var s [relArity][]F
	for i, v := range in[:relArity] {
		if i == relInMask {
			continue
		}
		var err error
		if s[i], err = data[F](v); err != nil {
			return s, fmt.Errorf("relative attention: input %d: %w", i, err)
		}
	}
	return s, nil
}

func (r *relRun[F]) forward(in []G.Value) (G.Value, error) {
	m, err := data[F](in[relInMask])
	if err != nil {
		return nil, fmt.Errorf("relative attention mask: %w", err)
	}
	for i, v := range m {
		r.real[i] = v != 0
	}
	s, err := r.slices(in)
	if err != nil {
		return nil, err
	}
	r.kn.Forward(s[relInX], r.real, s[relInWq], s[relInWk], s[relInWv], s[relInWo], s[relInRK], s[relInRV], r.out.Data().([]F))
	return r.out, nil
}

// differentiated does nothing: the kernel always keeps its intermediates.
func (r *relRun[F]) differentiated() {}

func (r *relRun[F]) backward(in []G.Value, _, dy G.Value) error {
	s, err := r.slices(in)
	if err != nil {
		return err
	}
	g, err := data[F](dy)
	if err != nil {
		return fmt.Errorf("relative attention: output gradient: %w", err)
	}
	r.kn.Backward(s[relInX], s[relInWq], s[relInWk], s[relInWv], s[relInWo], s[relInRK], s[relInRV], g)
	return nil
}

func (r *relRun[F]) grad(i int) (G.Value, error) {
	if i < 0 || i >= relArity || r.grads[i] == nil {
		return nil, fmt.Errorf("relative attention: no gradient of input %d", i)
	}
	return r.grads[i], nil
}
