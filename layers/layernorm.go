package layers

import (
	"fmt"

	"github.com/classify/classify/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LayerNorm normalises the last axis of its input to zero mean and unit
// variance and then scales and shifts it, as torch.nn.LayerNorm(dim):
// y = (x - mean)/sqrt(var + Eps)·weight + bias, the variance biased (Ba,
// Kiros & Hinton 2016). It runs as one fused node with a hand-written
// backward pass.
type LayerNorm struct {
	named
	// Weight is "<name>.weight" [dim], initially ones; Bias "<name>.bias"
	// [dim], initially zeros.
	Weight, Bias *Param
	// Eps is added to the variance; PyTorch's default 1e-5.
	Eps float64
}

// NewLayerNorm makes a layer norm over dim features whose parameters are
// called prefix.weight and prefix.bias ("norm1.weight"), PyTorch's names.
func NewLayerNorm(prefix string, dim int, dt tensor.Dtype) *LayerNorm {
	w := fromFloat64s(dt, ones(dim), dim)
	return &LayerNorm{
		named:  named{"layer_norm"},
		Weight: NewParam(prefix+".weight", w, true),
		Bias:   NewParam(prefix+".bias", newTensor(dt, dim), true),
		Eps:    1e-5,
	}
}

// Dim is the number of features normalised.
func (l *LayerNorm) Dim() int { return l.Weight.Value.Shape()[0] }

// Params returns the weight and the bias.
func (l *LayerNorm) Params() []*Param { return []*Param{l.Weight, l.Bias} }

// OutputShape is the input shape.
func (l *LayerNorm) OutputShape(in []int) []int { return append([]int{}, in...) }

// Forward normalises x, [..., dim], along its last axis; mask is not used
// (padded rows are normalised too and stay out of later layers through
// the mask).
func (l *LayerNorm) Forward(g *Graph, x, mask *G.Node) (*G.Node, error) {
	s := x.Shape().Clone()
	d := l.Dim()
	if s.Dims() < 1 || s[s.Dims()-1] != d {
		return nil, shapeError(l.name, s, fmt.Sprintf("[..., %d]", d))
	}
	if dt := l.Weight.Value.Dtype(); dt != g.Dtype || x.Dtype() != g.Dtype {
		return nil, fmt.Errorf("%s: weights of type %v and input of type %v in a %v graph", l.name, dt, x.Dtype(), g.Dtype)
	}
	rows := s.TotalSize() / d
	var k fusedKernel
	switch g.Dtype {
	case tensor.Float32:
		k = &layerNormKernel[float32]{normState: newNormState[float32](rows, d, l.Eps, s)}
	case tensor.Float64:
		k = &layerNormKernel[float64]{normState: newNormState[float64](rows, d, l.Eps, s)}
	default:
		return nil, dtypeError(l.name, g.Dtype)
	}
	y, err := applyFused("LayerNorm", k, s, []bool{true, l.Weight.Trainable, l.Bias.Trainable}, x, g.Param(l.Weight), g.Param(l.Bias))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.name, err)
	}
	return y, nil
}

// layerNormKernel holds one node's row statistics and gradients.
type layerNormKernel[F kernels.Float] struct {
	normState[F]
	out *tensor.Dense
}

// normState is the layer norm's arithmetic over rows of dim values, shared
// by the LayerNorm node and the fused pre-norm block: the rows' means and
// reciprocal deviations kept from forward, and the gradients of x, the
// weight and the bias.
type normState[F kernels.Float] struct {
	rows, dim  int
	eps        float64
	shape      tensor.Shape
	mean, rstd []F
	dgamma     []F
	dbeta      []F
	grads      gradTensors[F] // of x, the norm's weight and bias
}

func newNormState[F kernels.Float](rows, dim int, eps float64, shape tensor.Shape) normState[F] {
	return normState[F]{rows: rows, dim: dim, eps: eps, shape: shape, grads: make(gradTensors[F], 3)}
}

// normalize writes LayerNorm(x) with weight gamma and bias beta to out.
func (k *normState[F]) normalize(x, gamma, beta, out []F) {
	if k.mean == nil {
		k.mean, k.rstd = make([]F, k.rows), make([]F, k.rows)
	}
	kernels.LayerNorm(x, gamma, beta, k.rows, k.dim, k.eps, out, k.mean, k.rstd)
}

// normGrad takes dy, the gradient of the norm's output, and sets the
// gradients of x (returned, for a caller to add to), gamma and beta.
func (k *normState[F]) normGrad(dy, x, gamma []F) []F {
	if k.dgamma == nil {
		k.dgamma, k.dbeta = make([]F, k.dim), make([]F, k.dim)
	}
	clear(k.dgamma)
	clear(k.dbeta)
	k.grads[0] = reuse[F](k.grads[0], k.shape...)
	dx := k.grads[0].Data().([]F)
	kernels.LayerNormBackward(dy, x, gamma, k.mean, k.rstd, k.rows, k.dim, dx, k.dgamma, k.dbeta)
	k.grads.set(1, k.dgamma, tensor.Shape{k.dim})
	k.grads.set(2, k.dbeta, tensor.Shape{k.dim})
	return dx
}

func (k *layerNormKernel[F]) differentiated() {}

func (k *layerNormKernel[F]) forward(in []G.Value) (G.Value, error) {
	v, err := floatsOf[F](in, 0, 1, 2)
	if err != nil {
		return nil, err
	}
	k.out = reuse[F](k.out, k.shape...)
	k.normalize(v[0], v[1], v[2], k.out.Data().([]F))
	return k.out, nil
}

func (k *layerNormKernel[F]) backward(in []G.Value, _, dy G.Value) error {
	v, err := floatsOf[F](in, 0, 1)
	if err != nil {
		return err
	}
	d, err := data[F](dy)
	if err != nil {
		return err
	}
	k.normGrad(d, v[0], v[1])
	return nil
}

func (k *layerNormKernel[F]) grad(i int) (G.Value, error) { return k.grads.get(i) }
