package wordvec

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/classify/classify/data"
)

// gradClip bounds each component of a GloVe gradient, glove.c's
// grad_clip_value.
const gradClip = 100

// gloveWeight is GloVe's weighting function f(x) = min(1, (x/xMax)^alpha)
// (Pennington et al. 2014, eq. 9).
func gloveWeight(x, xMax, alpha float64) float64 {
	if x >= xMax {
		return 1
	}
	return math.Pow(x/xMax, alpha)
}

// glove holds GloVe's parameters: for each word a word vector and a
// context vector, each followed by its bias, and AdaGrad's sums of squared
// gradients in the same layout, starting at 1 as in glove.c.
type glove struct {
	opts   Options
	dim    int
	vocab  int
	w, gsq []float32 // 2*vocab rows of dim+1: words, then contexts
	eta    float32
	xMax   float64
	alpha  float64
}

func newGloVe(vocab int, opts Options) *glove {
	row := opts.Dim + 1
	g := &glove{opts: opts, dim: opts.Dim, vocab: vocab, eta: opts.lr(), xMax: opts.XMax, alpha: opts.Alpha,
		w: make([]float32, 2*vocab*row), gsq: make([]float32, 2*vocab*row)}
	// glove.c: every weight and bias uniform in [-0.5, 0.5)/(dim+1).
	r := seedRNG(opts.Seed, -1)
	for i := range g.w {
		g.w[i] = (r.float() - 0.5) / float32(row)
		g.gsq[i] = 1
	}
	return g
}

func (g *glove) row(i int) (w, gsq []float32) {
	n := g.dim + 1
	return g.w[i*n : i*n+n], g.gsq[i*n : i*n+n]
}

// step does one AdaGrad step on the cost f(x)(w·c + bw + bc - log x)^2/2
// of word i against context j (glove.c's glove_thread), with upd as
// scratch, and returns the cost before the step.
func (g *glove) step(i, j int, x float32, upd []float32) float32 {
	d := g.dim
	w1, gs1 := g.row(i)
	w2, gs2 := g.row(g.vocab + j)
	diff := dot(w1[:d], w2[:d]) + w1[d] + w2[d] - float32(math.Log(float64(x)))
	fdiff := diff
	if float64(x) < g.xMax {
		fdiff *= float32(math.Pow(float64(x)/g.xMax, g.alpha))
	}
	if isNaNOrInf(diff) || isNaNOrInf(fdiff) {
		return 0
	}
	cost := 0.5 * fdiff * diff
	fdiff *= g.eta
	u1, u2 := upd[:d], upd[d:2*d]
	w1, w2, gs1, gs2 = w1[:d+1], w2[:d+1], gs1[:d+1], gs2[:d+1]
	for b := range u1 {
		t1 := clip(fdiff * w2[b])
		t2 := clip(fdiff * w1[b])
		u1[b] = t1 / sqrt32(gs1[b])
		u2[b] = t2 / sqrt32(gs2[b])
		gs1[b] += t1 * t1
		gs2[b] += t2 * t2
	}
	axpy(-1, u1, w1[:d])
	axpy(-1, u2, w2[:d])
	w1[d] -= fdiff / sqrt32(gs1[d])
	w2[d] -= fdiff / sqrt32(gs2[d])
	fdiff *= fdiff
	gs1[d] += fdiff
	gs2[d] += fdiff
	return cost
}

func clip(x float32) float32 { return min(gradClip, max(-gradClip, x)) }

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

func isNaNOrInf(x float32) bool { return x != x || x > math.MaxFloat32 || x < -math.MaxFloat32 }

// TrainGloVe fits GloVe vectors to the co-occurrence matrix x of vocab's
// words: each epoch visits every entry X[i][j] (both halves of the
// symmetric matrix) in one shuffled order drawn from opts.Seed, as
// glove.c's shuffle does once, and the result is the sum of each word's
// word and context vectors (glove.c's -model 2).
func TrainGloVe(vocab *Vocabulary, x *Cooccurrence, opts Options) (*data.Vectors, error) {
	opts.Method = GloVe
	if err := opts.Check(); err != nil {
		return nil, err
	}
	if vocab.Len() == 0 {
		return nil, errors.New("the corpus has no word seen often enough to train")
	}
	n := x.Len()
	if n > math.MaxUint32 {
		return nil, fmt.Errorf("co-occurrence matrix has %d entries, more than %d", n, math.MaxUint32)
	}
	for _, k := range x.keys {
		if int(k>>32) >= vocab.Len() || int(uint32(k)) >= vocab.Len() {
			return nil, fmt.Errorf("co-occurrence pair (%d, %d) is outside the %d-word vocabulary", k>>32, uint32(k), vocab.Len())
		}
	}
	g := newGloVe(vocab.Len(), opts)
	order := make([]uint32, n)
	for i := range order {
		order[i] = uint32(i)
	}
	s := rand.New(rand.NewPCG(uint64(opts.Seed), 0x676c6f7665))
	s.Shuffle(n, func(a, b int) { order[a], order[b] = order[b], order[a] })

	threads := opts.threads()
	tr := newTracker(int64(n)*int64(opts.Epochs), int64(n), threads, g.eta, opts)
	var wg sync.WaitGroup
	for k := range threads {
		part := order[n*k/threads : n*(k+1)/threads]
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.worker(x, part, tr)
		}()
	}
	wg.Wait()
	tr.finish()
	return g.vectors(vocab), nil
}

func (g *glove) worker(x *Cooccurrence, part []uint32, tr *tracker) {
	upd := make([]float32, 2*g.dim)
	var loss float64
	var pending, lossN int64
	for range g.opts.Epochs {
		for _, e := range part {
			k, v := x.keys[e], x.vals[e]
			i, j := int(k>>32), int(uint32(k))
			loss += float64(g.step(i, j, v, upd))
			lossN++
			if i != j {
				loss += float64(g.step(j, i, v, upd))
				lossN++
			}
			if pending++; pending >= publishEvery {
				tr.add(pending, loss, lossN)
				pending, loss, lossN = 0, 0, 0
			}
		}
	}
	tr.add(pending, loss, lossN)
}

// vectors returns word plus context vector for every word.
func (g *glove) vectors(vocab *Vocabulary) *data.Vectors {
	d := g.dim
	out := &data.Vectors{Words: vocab.Words, Dim: d, Values: make([]float32, vocab.Len()*d)}
	for i := range vocab.Len() {
		w, _ := g.row(i)
		c, _ := g.row(g.vocab + i)
		o := out.Values[i*d : i*d+d]
		copy(o, w[:d])
		axpy(1, c[:d], o)
	}
	return out
}
