package wordvec

import (
	"math"

	"gonum.org/v1/gonum/blas/gonum"
)

// blasImpl gives the SIMD dot product and axpy of gonum's assembly kernels.
var blasImpl gonum.Implementation

// dot returns x·y over len(x) elements.
func dot(x, y []float32) float32 { return blasImpl.Sdot(len(x), x, 1, y, 1) }

// axpy adds a*x to y.
func axpy(a float32, x, y []float32) { blasImpl.Saxpy(len(x), a, x, 1, y, 1) }

// The sigmoid and its logarithm are read from tables over [-maxExp, maxExp]
// as word2vec.c and fastText do, since the training loops call them
// billions of times; taking the nearest of the 1025 points rather than the
// one below halves their error.
const (
	maxExp    = 8
	tableSize = 1024
)

var sigmoidTable, logSigmoidTable = makeSigmoidTables()

func makeSigmoidTables() (sig, logSig [tableSize + 1]float32) {
	for i := range sig {
		x := (float64(i)/tableSize*2 - 1) * maxExp
		s := 1 / (1 + math.Exp(-x))
		sig[i] = float32(s)
		logSig[i] = float32(math.Log(s))
	}
	return sig, logSig
}

// sigmoid returns 1/(1+e^-x) from the table, 0 or 1 outside it.
func sigmoid(x float32) float32 {
	switch {
	case x <= -maxExp:
		return 0
	case x >= maxExp:
		return 1
	}
	return sigmoidTable[int((x+maxExp)*(tableSize/maxExp/2)+0.5)]
}

// logSigmoid returns log(sigmoid(x)) from the table, clamped at its ends.
func logSigmoid(x float32) float32 {
	switch {
	case x <= -maxExp:
		return logSigmoidTable[0]
	case x >= maxExp:
		return 0
	}
	return logSigmoidTable[int((x+maxExp)*(tableSize/maxExp/2)+0.5)]
}

// MeanCosine returns the mean cosine similarity of n pairs of distinct
// words drawn uniformly from the first words of v (all of them when words
// <= 0 or more than v holds), with seed: near 0 for healthy vectors,
// near 1 when every vector points the same way (GloVe stopped after a few
// epochs). Zero vectors count as cosine 0.
func MeanCosine(words []string, dim int, values []float32, first, n int, seed int64) float64 {
	v := len(words)
	if first > 0 {
		v = min(v, first)
	}
	if v < 2 || n < 1 || len(values) < v*dim {
		return 0
	}
	r := seedRNG(seed, 0)
	var sum float64
	for range n {
		i := r.intn(v)
		j := r.intn(v - 1)
		if j >= i {
			j++
		}
		x, y := values[i*dim:(i+1)*dim], values[j*dim:(j+1)*dim]
		if nx, ny := dot(x, x), dot(y, y); nx > 0 && ny > 0 {
			sum += float64(dot(x, y)) / math.Sqrt(float64(nx)*float64(ny))
		}
	}
	return sum / float64(n)
}
