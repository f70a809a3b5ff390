package train

import (
	"bufio"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/classify/classify/data"
	"github.com/classify/classify/internal/shareddata"
	"github.com/classify/classify/kernels"
	"github.com/classify/classify/layers"
	"gorgonia.org/tensor"
)

// TestBowOptimizers trains fastText's classifier (mean of word and bigram
// rows, one logit) on sentence polarity with each sparse optimizer and
// logs test accuracy and wall time: the measurement behind the choice of
// the bow model's optimizer. It runs only with CLASSIFY_BOW_EXPERIMENT=1.
func TestBowOptimizers(t *testing.T) {
	if os.Getenv("CLASSIFY_BOW_EXPERIMENT") == "" {
		t.Skip("set CLASSIFY_BOW_EXPERIMENT=1 to run the bow optimizer experiment")
	}
	train := readBowPolarity(t, shareddata.Path(t, "rt-polarity/train.tsv"))
	test := readBowPolarity(t, shareddata.Path(t, "rt-polarity/test.tsv"))
	vocab := map[string]int{}
	for _, e := range train {
		for _, w := range e.words {
			if _, ok := vocab[w]; !ok {
				vocab[w] = len(vocab)
			}
		}
	}
	const dim, buckets, epochs = 100, 2000000, 5
	hasher := data.NgramHasher{N: 2, Buckets: buckets, Offset: len(vocab)}
	encode := func(es []bowExample) {
		for i := range es {
			ids := es[i].ids[:0]
			for _, w := range es[i].words {
				if id, ok := vocab[w]; ok {
					ids = append(ids, id)
				}
			}
			es[i].ids = hasher.Append(ids, es[i].words)
		}
	}
	encode(train)
	encode(test)
	t.Logf("load average %s", loadAverage())
	for _, cfg := range []struct {
		name  string
		batch int
		opt   func() SparseOptimizer
	}{
		{"sgd lr 0.5 batch 1", 1, func() SparseOptimizer { return &SparseSGD{LR: 0.5} }},
		{"sgd lr 16 batch 32", 32, func() SparseOptimizer { return &SparseSGD{LR: 16} }},
		{"sparse adam lr 0.003 batch 32", 32, func() SparseOptimizer { return NewSparseAdam(0.003) }},
	} {
		for _, seed := range []uint64{42, 1, 2} {
			acc, took := trainBow(train, test, len(vocab)+buckets, dim, epochs, cfg.batch, seed, cfg.opt)
			t.Logf("%-32s seed %2d: test accuracy %.4f, %d epochs in %.2fs", cfg.name, seed, acc, epochs, took.Seconds())
		}
	}
}

type bowExample struct {
	words []string
	ids   []int
	label float32
}

func readBowPolarity(t *testing.T, path string) []bowExample {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []bowExample
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		label, text, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			continue
		}
		words := append(data.Words(text), data.FastTextEOS)
		out = append(out, bowExample{words: words, label: map[string]float32{"1": 1}[label]})
	}
	return out
}

// trainBow runs the plain-loop bow classifier: table rows averaged by the
// EmbeddingBag kernel, one logit, binary cross-entropy; the table steps
// with opt, the [1, dim+1] head with the same kind of optimizer.
func trainBow(train, test []bowExample, rows, dim, epochs, batch int, seed uint64, opt func() SparseOptimizer) (float64, time.Duration) {
	rng := rand.New(rand.NewPCG(seed, 0))
	tv := make([]float32, rows*dim)
	for i := range tv {
		tv[i] = float32((2*rng.Float64() - 1) / float64(dim))
	}
	table := layers.NewParam("table", tensor.New(tensor.WithShape(rows, dim), tensor.WithBacking(tv)), false)
	head := layers.NewParam("head", tensor.New(tensor.WithShape(1, dim+1), tensor.Of(tensor.Float32)), false)
	tableOpt, headOpt := opt(), opt()
	bag := kernels.NewEmbeddingBag[float32](dim)
	headGrad := &layers.SparseGrad{Rows: []int{0}, Values: tensor.New(tensor.WithShape(1, dim+1), tensor.Of(tensor.Float32))}
	tableGrad := &layers.SparseGrad{}
	h := make([]float32, batch*dim)
	dh := make([]float32, batch*dim)
	var ids []int
	var weights []float32
	order := rng.Perm(len(train))
	start := time.Now()
	steps, total := 0, epochs*((len(train)+batch-1)/batch)
	for e := 0; e < epochs; e++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for s := 0; s < len(order); s += batch {
			idx := order[s:min(s+batch, len(order))]
			B, L := len(idx), 0
			for _, i := range idx {
				L = max(L, len(train[i].ids))
			}
			ids, weights = ids[:0], weights[:0]
			for _, i := range idx {
				ex := train[i].ids
				ids = append(ids, ex...)
				for range ex {
					weights = append(weights, 1)
				}
				for range L - len(ex) {
					ids, weights = append(ids, 0), append(weights, 0)
				}
			}
			bag.Forward(tv, ids, weights, B, L, h)
			w := head.Value.Data().([]float32)
			gw := headGrad.Values.Data().([]float32)
			clear(gw)
			for b := 0; b < B; b++ {
				z := float64(w[dim])
				for d := 0; d < dim; d++ {
					z += float64(w[d] * h[b*dim+d])
				}
				g := float32((1/(1+math.Exp(-z)) - float64(train[idx[b]].label)) / float64(B))
				for d := 0; d < dim; d++ {
					gw[d] += g * h[b*dim+d]
					dh[b*dim+d] = g * w[d]
				}
				gw[dim] += g
			}
			bag.Backward(dh[:B*dim], rows)
			tableGrad.Rows = bag.Rows
			tableGrad.Values = tensor.New(tensor.WithShape(len(bag.Rows), dim), tensor.WithBacking(bag.Grads))
			progress := float64(steps) / float64(total)
			_ = tableOpt.Step(table, tableGrad, progress)
			_ = headOpt.Step(head, headGrad, progress)
			steps++
		}
	}
	took := time.Since(start)
	right := 0
	w := head.Value.Data().([]float32)
	for _, ex := range test {
		ones := make([]float32, len(ex.ids))
		for i := range ones {
			ones[i] = 1
		}
		bag.Forward(tv, ex.ids, ones, 1, len(ex.ids), h[:dim])
		z := float64(w[dim])
		for d := 0; d < dim; d++ {
			z += float64(w[d] * h[d])
		}
		if (z > 0) == (ex.label == 1) {
			right++
		}
	}
	return float64(right) / float64(len(test)), took
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}
