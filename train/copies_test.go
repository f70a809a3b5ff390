package train

import (
	"math"
	"testing"

	"gorgonia.org/tensor"

	"github.com/classify/classify/layers"
)

// TestAdamCopiesMatchesTwoTensors checks that a parameter standing for two
// PyTorch tensors (an LSTM's bias_ih + bias_hh) moves exactly as the sum of
// two separately optimized tensors that receive the same gradient, with and
// without global-norm clipping.
func TestAdamCopiesMatchesTwoTensors(t *testing.T) {
	grads := [][]float64{{0.5, -1.5}, {0.25, 2}, {-3, 0.125}}
	for _, clip := range []float64{0, 0.7} {
		one := layers.NewParam("b", tensor.New(tensor.WithBacking([]float64{0.1, -0.2})), true)
		one.Copies = 2
		w := layers.NewParam("w", tensor.New(tensor.WithBacking([]float64{1, 2})), true)
		bih := layers.NewParam("b_ih", tensor.New(tensor.WithBacking([]float64{0.1, -0.2})), true)
		bhh := layers.NewParam("b_hh", tensor.New(tensor.WithBacking([]float64{0, 0})), true)
		w2 := layers.NewParam("w", tensor.New(tensor.WithBacking([]float64{1, 2})), true)
		a, err := NewAdam([]*layers.Param{one, w}, WithClipNorm(clip))
		if err != nil {
			t.Fatal(err)
		}
		b, err := NewAdam([]*layers.Param{bih, bhh, w2}, WithClipNorm(clip))
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range grads {
			copy(one.Grad.Data().([]float64), g)
			copy(bih.Grad.Data().([]float64), g)
			copy(bhh.Grad.Data().([]float64), g)
			copy(w.Grad.Data().([]float64), []float64{g[1], g[0]})
			copy(w2.Grad.Data().([]float64), []float64{g[1], g[0]})
			na, _ := a.Step()
			nb, _ := b.Step()
			if math.Abs(na-nb) > 1e-12 {
				t.Errorf("clip %g: grad norm %v, want %v", clip, na, nb)
			}
		}
		got := one.Value.Data().([]float64)
		for j := range got {
			want := bih.Value.Data().([]float64)[j] + bhh.Value.Data().([]float64)[j]
			if math.Abs(got[j]-want) > 1e-12 {
				t.Errorf("clip %g: bias[%d] = %v, want bias_ih+bias_hh = %v", clip, j, got[j], want)
			}
			if gw, ww := w.Value.Data().([]float64)[j], w2.Value.Data().([]float64)[j]; math.Abs(gw-ww) > 1e-12 {
				t.Errorf("clip %g: w[%d] = %v, want %v", clip, j, gw, ww)
			}
		}
	}
}
