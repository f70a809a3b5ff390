package layers

import (
	"fmt"

	"github.com/classify/classify/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// applyConv1D adds the fused convolution (op.go) over the kernels
// package's Conv1D. Its inputs are x [B,T,D], mask [B,T], then params:
// each width's weights [maps, D, w], then each width's bias [maps]. The
// caller has checked the shapes. Without inputGrad the backward pass
// hands out zeros for x.
func applyConv1D(x, mask *G.Node, params G.Nodes, widths []int, maps int, inputGrad bool) (*G.Node, error) {
	s := x.Shape()
	inputs := append(G.Nodes{x, mask}, params...)
	diff := make([]bool, len(inputs))
	for i := range diff {
		diff[i] = i != 1 // everything but the mask
	}
	out := tensor.Shape{s[0], len(widths) * maps}
	name := fmt.Sprintf("Conv1D(%v×%d)", widths, maps)
	switch x.Dtype() {
	case tensor.Float32:
		return applyFused(name, newConvRun[float32](s[2], maps, widths, inputGrad), out, diff, inputs...)
	case tensor.Float64:
		return applyFused(name, newConvRun[float64](s[2], maps, widths, inputGrad), out, diff, inputs...)
	}
	return nil, dtypeError("conv1d", x.Dtype())
}

// convRun is the fused op's kernel and the tensors it hands out.
type convRun[F float] struct {
	kn        *kernels.Conv1D[F]
	inputGrad bool
	out, dx   *tensor.Dense
	grads     []*tensor.Dense // per width the weights', then the biases'
	ready     bool
}

func newConvRun[F float](dim, maps int, widths []int, inputGrad bool) *convRun[F] {
	return &convRun[F]{kn: kernels.NewConv1D[F](dim, maps, widths), inputGrad: inputGrad}
}

func (r *convRun[F]) forward(in []G.Value) (G.Value, error) {
	s := in[0].Shape()
	B, T := s[0], s[1]
	x, err := data[F](in[0])
	if err != nil {
		return nil, fmt.Errorf("conv1d input: %w", err)
	}
	mask, err := data[F](in[1])
	if err != nil {
		return nil, fmt.Errorf("conv1d mask: %w", err)
	}
	n := len(r.kn.Widths)
	params := make([][]F, 2*n)
	for i := range params {
		if params[i], err = data[F](in[2+i]); err != nil {
			return nil, fmt.Errorf("conv1d %s: %w", convParamName(i, n), err)
		}
	}
	r.out = reuse[F](r.out, B, r.kn.Features())
	r.kn.Forward(x, mask, B, T, params[:n], params[n:], r.out.Data().([]F))
	r.ready = true
	return r.out, nil
}

// differentiated does nothing: the kernel keeps what backward needs on
// every pass, and that is little (the windows of the maxima).
func (r *convRun[F]) differentiated() {}

func (r *convRun[F]) backward(in []G.Value, _, dy G.Value) error {
	if !r.ready {
		return fmt.Errorf("conv1d: backward pass without a forward pass")
	}
	g, err := data[F](dy)
	if err != nil {
		return fmt.Errorf("conv1d output gradient: %w", err)
	}
	n := len(r.kn.Widths)
	if len(r.grads) != 2*n {
		r.grads = make([]*tensor.Dense, 2*n)
	}
	dw, db := make([][]F, n), make([][]F, n)
	for i := range r.grads {
		r.grads[i] = reuse[F](r.grads[i], in[2+i].Shape()...)
		if i < n {
			dw[i] = r.grads[i].Data().([]F)
		} else {
			db[i-n] = r.grads[i].Data().([]F)
		}
	}
	if r.dx == nil || !r.dx.Shape().Eq(in[0].Shape()) {
		r.dx = reuse[F](nil, in[0].Shape()...) // zeros, and stays so without inputGrad
	}
	var dx []F
	if r.inputGrad {
		dx = r.dx.Data().([]F)
	}
	r.kn.Backward(g, dx, dw, db)
	return nil
}

func (r *convRun[F]) grad(i int) (G.Value, error) {
	switch {
	case i == 0 && r.dx != nil:
		return r.dx, nil
	case i >= 2 && i-2 < len(r.grads) && r.grads[i-2] != nil:
		return r.grads[i-2], nil
	}
	return nil, fmt.Errorf("conv1d: gradient of input %d before a backward pass", i)
}

// convParamName names parameter input i of a convolution of n widths.
func convParamName(i, n int) string {
	if i < n {
		return fmt.Sprintf("convs.%d.weight", i)
	}
	return fmt.Sprintf("convs.%d.bias", i-n)
}
