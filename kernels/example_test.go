package kernels_test

import (
	"fmt"

	"github.com/classify/classify/kernels"
)

func ExampleGemm() {
	// C = A·Bᵀ with A 2×3 and B 2×3, both row-major.
	a := []float64{1, 2, 3, 4, 5, 6}
	b := []float64{1, 0, 1, 0, 1, 0}
	c := make([]float64, 4)
	kernels.Gemm(false, true, 2, 2, 3, 1, a, 3, b, 3, 0, c, 2)
	fmt.Println(c)
	// Output: [4 2 10 5]
}

func ExampleLSTM() {
	// One unit over one input feature; two rows of three steps, the second
	// row one real token long and padded.
	w := &kernels.LSTMWeights[float64]{
		In: 1, Hidden: 1,
		Wih:  []float64{1, 1, 1, 1}, // i, f, g, o
		Whh:  []float64{0.5, 0.5, 0.5, 0.5},
		Bias: []float64{0, 1, 0, 0}, // forget gate bias 1, as Keras sets it
	}
	x := []float64{1, 2, 3, 1, 0, 0}
	mask := []float64{1, 1, 1, 1, 0, 0}
	out := make([]float64, 6)
	var l kernels.LSTM[float64]
	l.Forward(w, x, mask, 2, 3, false, out, 1)
	fmt.Printf("%.4f\n", out)

	// Gradients of sum(out): dOut is all ones. (Both outputs checked by
	// hand and by finite differences in a few lines of Python.)
	dOut := []float64{1, 1, 1, 1, 1, 1}
	dWih, dWhh, dBias := make([]float64, 4), make([]float64, 4), make([]float64, 4)
	l.Backward(w, dOut, 1, nil, dWih, dWhh, dBias)
	fmt.Printf("%.4f\n", dBias)
	// Output:
	// [0.3696 0.7979 0.9506 0.3696 0.3696 0.3696]
	// [0.3846 0.0054 0.7553 0.5162]
}
