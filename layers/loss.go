package layers

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LossFunc computes a mean loss of logits z against targets y, in float64,
// and when dz is not nil writes its gradient with respect to each logit
// into dz. The output heads of package train are LossFuncs.
type LossFunc func(z, y, dz []float64) float64

// Loss returns a scalar node holding f of the logits against the targets,
// whose gradient with respect to the logits is f's (scaled by the
// gradient reaching the loss); the targets get none. name names the node.
func Loss(name string, logits, targets *G.Node, f LossFunc) (*G.Node, error) {
	return G.ApplyOp(lossOp(name, logits.Shape().Dims(), targets.Shape().Dims(), f), logits, targets)
}

// BinaryCrossEntropy returns the mean over the batch of
// max(z,0) - z*y + log(1 + exp(-|z|)), the binary cross-entropy of
// sigmoid(z) against y computed from the logits z, which stays finite
// where Gorgonia's BinaryXent gives NaN (p = 1). logits is [batch] or
// [batch, 1], labels [batch] of 0s and 1s; the result is a scalar node
// whose gradient with respect to z is (sigmoid(z) - y) / batch.
func BinaryCrossEntropy(logits, labels *G.Node) (*G.Node, error) {
	ls, ys := logits.Shape(), labels.Shape()
	if ys.Dims() != 1 || ls.TotalSize() != ys[0] || (ls.Dims() == 2 && ls[1] != 1) || ls.Dims() > 2 {
		return nil, fmt.Errorf("binary cross-entropy: logits of shape %v and labels of shape %v, want [batch] or [batch, 1] and [batch]", ls, ys)
	}
	return Loss("binary_crossentropy", logits, labels, bce)
}

// lossOp is the operation of Loss for logits and targets of the given
// numbers of dimensions.
func lossOp(name string, zDims, yDims int, f LossFunc) *funcOp {
	return &funcOp{
		name:  name,
		in:    []hm.Type{tensorType(zDims), tensorType(yDims)},
		out:   scalarType(),
		diff:  []bool{true, false},
		shape: func([]tensor.Shape) (tensor.Shape, error) { return tensor.ScalarShape(), nil },
		forward: func(in []G.Value) (G.Value, error) {
			switch z := in[0].Data().(type) {
			case []float32:
				return G.NewF32(float32(f(widen(z), widen(in[1].Data().([]float32)), nil))), nil
			case []float64:
				return G.NewF64(f(z, in[1].Data().([]float64), nil)), nil
			}
			return nil, dtypeError(name, in[0].Dtype())
		},
		grad: func(_ int, in []G.Value, _, dy G.Value) (G.Value, error) {
			dz := newTensor(in[0].Dtype(), in[0].Shape()...)
			switch d := dz.Data().(type) {
			case []float32:
				g, err := data[float32](dy)
				if err != nil {
					return nil, err
				}
				lossGrad(d, widen(in[0].Data().([]float32)), widen(in[1].Data().([]float32)), float64(g[0]), f)
			case []float64:
				g, err := data[float64](dy)
				if err != nil {
					return nil, err
				}
				lossGrad(d, in[0].Data().([]float64), in[1].Data().([]float64), g[0], f)
			default:
				return nil, dtypeError(name, in[0].Dtype())
			}
			return dz, nil
		},
	}
}

// widen copies float32s into float64s.
func widen(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// lossGrad writes f's gradient, scaled by dy, into dz.
func lossGrad[T float](dz []T, z, y []float64, dy float64, f LossFunc) {
	g := make([]float64, len(z))
	f(z, y, g)
	for i, v := range g {
		dz[i] = T(v * dy)
	}
}

// bce is the binary cross-entropy of BinaryCrossEntropy, accumulated in
// float64 so that a float32 batch loses nothing to the sum.
func bce(z, y, dz []float64) float64 {
	n := float64(len(z))
	var s float64
	for i, v := range z {
		s += max(v, 0) - v*y[i] + math.Log1p(math.Exp(-math.Abs(v)))
		if dz != nil {
			dz[i] = (1/(1+math.Exp(-v)) - y[i]) / n
		}
	}
	return s / n
}
