package layers

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

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
	return G.ApplyOp(bceOp(ls.Dims()), logits, labels)
}

func bceOp(dims int) *funcOp {
	return &funcOp{
		name:  "binary_crossentropy",
		in:    []hm.Type{tensorType(dims), tensorType(1)},
		out:   scalarType(),
		diff:  []bool{true, false},
		shape: func([]tensor.Shape) (tensor.Shape, error) { return tensor.ScalarShape(), nil },
		forward: func(in []G.Value) (G.Value, error) {
			switch z := in[0].Data().(type) {
			case []float32:
				return G.NewF32(float32(bce(z, in[1].Data().([]float32)))), nil
			case []float64:
				return G.NewF64(bce(z, in[1].Data().([]float64))), nil
			}
			return nil, dtypeError("binary cross-entropy", in[0].Dtype())
		},
		grad: func(_ int, in []G.Value, _, dy G.Value) (G.Value, error) {
			dz := newTensor(in[0].Dtype(), in[0].Shape()...)
			switch d := dz.Data().(type) {
			case []float32:
				g, err := data[float32](dy)
				if err != nil {
					return nil, err
				}
				bceGrad(d, in[0].Data().([]float32), in[1].Data().([]float32), g[0])
			case []float64:
				g, err := data[float64](dy)
				if err != nil {
					return nil, err
				}
				bceGrad(d, in[0].Data().([]float64), in[1].Data().([]float64), g[0])
			default:
				return nil, dtypeError("binary cross-entropy", in[0].Dtype())
			}
			return dz, nil
		},
	}
}

// bce accumulates in float64 so that a float32 batch loses nothing to the
// sum.
func bce[T float](z, y []T) float64 {
	var s float64
	for i, zi := range z {
		v := float64(zi)
		s += max(v, 0) - v*float64(y[i]) + math.Log1p(math.Exp(-math.Abs(v)))
	}
	return s / float64(len(z))
}

func bceGrad[T float](dz, z, y []T, dy T) {
	n := float64(len(z))
	for i, zi := range z {
		p := 1 / (1 + math.Exp(-float64(zi)))
		dz[i] = T((p - float64(y[i])) / n * float64(dy))
	}
}
