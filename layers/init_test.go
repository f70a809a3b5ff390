package layers

import (
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/tensor"
)

func TestOrthogonal(t *testing.T) {
	// Tall matrices have orthonormal columns, wide ones orthonormal rows.
	for _, shape := range [][2]int{{8, 3}, {3, 8}, {5, 5}} {
		r, c := shape[0], shape[1]
		w := Orthogonal(r, c, tensor.Float64, rand.New(rand.NewSource(1))).Data().([]float64)
		n, m := c, r // Gram matrix of the columns: n×n, summing over m rows
		at := func(k, i int) float64 { return w[k*c+i] }
		if r < c {
			n, m = r, c
			at = func(k, i int) float64 { return w[i*c+k] }
		}
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				var dot float64
				for k := 0; k < m; k++ {
					dot += at(k, i) * at(k, j)
				}
				want := 0.0
				if i == j {
					want = 1
				}
				if math.Abs(dot-want) > 1e-12 {
					t.Errorf("%dx%d: Gram[%d,%d] = %v, want %v", r, c, i, j, dot, want)
				}
			}
		}
	}
}

func TestGlorotUniform(t *testing.T) {
	const rows, cols = 40, 60
	w := GlorotUniform(rows, cols, tensor.Float64, rand.New(rand.NewSource(2))).Data().([]float64)
	limit := math.Sqrt(6.0 / (rows + cols))
	var sumSq float64
	for i, v := range w {
		if math.Abs(v) > limit {
			t.Errorf("w[%d] = %v, outside ±%v", i, v, limit)
		}
		sumSq += v * v
	}
	// The variance of U(-l, l) is l²/3 = 2/(rows+cols).
	if got, want := sumSq/float64(len(w)), 2.0/(rows+cols); math.Abs(got-want) > 0.1*want {
		t.Errorf("variance %v, want about %v", got, want)
	}
}
