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
		k = &layerNormKernel[float32]{rows: rows, dim: d, eps: l.Eps, shape: s, grads: make(gradTensors[float32], 3)}
	case tensor.Float64:
		k = &layerNormKernel[float64]{rows: rows, dim: d, eps: l.Eps, shape: s, grads: make(gradTensors[float64], 3)}
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
	rows, dim  int
	eps        float64
	shape      tensor.Shape
	out        *tensor.Dense
	mean, rstd []F
	dgamma     []F
	dbeta      []F
	grads      gradTensors[F]
}

func (k *layerNormKernel[F]) differentiated() {}

func (k *layerNormKernel[F]) forward(in []G.Value) (G.Value, error) {
	v, err := floatsOf[F](in, 0, 1, 2)
	if err != nil {
		return nil, err
	}
	if k.mean == nil {
		k.mean, k.rstd = make([]F, k.rows), make([]F, k.rows)
	}
	k.out = reuse[F](k.out, k.shape...)
	kernels.LayerNorm(v[0], v[1], v[2], k.rows, k.dim, k.eps, k.out.Data().([]F), k.mean, k.rstd)
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
	if k.dgamma == nil {
		k.dgamma, k.dbeta = make([]F, k.dim), make([]F, k.dim)
	}
	clear(k.dgamma)
	clear(k.dbeta)
	k.grads[0] = reuse[F](k.grads[0], k.shape...)
	kernels.LayerNormBackward(d, v[0], v[1], k.mean, k.rstd, k.rows, k.dim, k.grads[0].Data().([]F), k.dgamma, k.dbeta)
	k.grads.set(1, k.dgamma, tensor.Shape{k.dim})
	k.grads.set(2, k.dbeta, tensor.Shape{k.dim})
	return nil
}

func (k *layerNormKernel[F]) grad(i int) (G.Value, error) { return k.grads.get(i) }
