package layers

import (
	"math"
	"math/rand"

	"gonum.org/v1/gonum/mat"
	"gorgonia.org/tensor"
)

// Gorgonia's own initialisers draw from a clock-seeded source and it has no
// orthogonal one, so the layers draw their weights here, from the caller's
// rng, which makes a seed reproduce a run.

// fromFloat64s makes a tensor of type dt and shape s holding vals.
func fromFloat64s(dt tensor.Dtype, vals []float64, s ...int) *tensor.Dense {
	if dt == tensor.Float32 {
		f := make([]float32, len(vals))
		for i, v := range vals {
			f[i] = float32(v)
		}
		return tensor.New(tensor.WithShape(s...), tensor.WithBacking(f))
	}
	return tensor.New(tensor.WithShape(s...), tensor.WithBacking(vals))
}

// uniform draws rows×cols values from U(-limit, limit).
func uniform(rows, cols int, limit float64, rng *rand.Rand) []float64 {
	v := make([]float64, rows*cols)
	for i := range v {
		v[i] = (2*rng.Float64() - 1) * limit
	}
	return v
}

// GlorotUniform returns a [rows, cols] tensor drawn from U(-l, l) with
// l = sqrt(6 / (rows + cols)), Keras's default kernel initialiser. The
// limit is symmetric in rows and cols, so it serves PyTorch's [out, in]
// layout as well as Keras's [in, out].
func GlorotUniform(rows, cols int, dt tensor.Dtype, rng *rand.Rand) *tensor.Dense {
	limit := math.Sqrt(6 / float64(rows+cols))
	return fromFloat64s(dt, uniform(rows, cols, limit, rng), rows, cols)
}

// Orthogonal returns a [rows, cols] tensor whose columns (rows >= cols) or
// rows (rows < cols) are orthonormal, as Keras's Orthogonal initialiser
// with gain 1: the Q factor of a standard normal matrix, its columns'
// signs fixed by the diagonal of R so that the result is uniformly
// distributed (Saxe et al. 2014).
func Orthogonal(rows, cols int, dt tensor.Dtype, rng *rand.Rand) *tensor.Dense {
	r, c := rows, cols
	if r < c {
		r, c = c, r
	}
	a := mat.NewDense(r, c, nil)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			a.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(a)
	var q, rr mat.Dense
	qr.QTo(&q)
	qr.RTo(&rr)
	out := make([]float64, rows*cols)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			v := q.At(i, j)
			if rr.At(j, j) < 0 {
				v = -v
			}
			if rows >= cols {
				out[i*cols+j] = v
			} else {
				out[j*cols+i] = v
			}
		}
	}
	return fromFloat64s(dt, out, rows, cols)
}

// RandomEmbedding returns a [vocab, dim] matrix drawn from U(-0.05, 0.05)
// with row 0, the padding token's, all zeros (SPEC section 2).
func RandomEmbedding(vocab, dim int, dt tensor.Dtype, rng *rand.Rand) *tensor.Dense {
	v := uniform(vocab, dim, 0.05, rng)
	for j := 0; j < dim && vocab > 0; j++ {
		v[j] = 0
	}
	return fromFloat64s(dt, v, vocab, dim)
}
