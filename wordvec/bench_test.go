package wordvec

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// zipfCorpus makes a corpus of n tokens over a vocabulary of v words with
// Zipfian frequencies, in sentences of 20 words: the shape of real text.
func zipfCorpus(n, v int) *Corpus {
	r := rand.New(rand.NewPCG(1, 2))
	z := rand.NewZipf(r, 1.1, 1, uint64(v-1))
	counts := make(map[string]int64, v)
	names := make([]string, v)
	for i := range names {
		names[i] = fmt.Sprintf("w%d", i)
	}
	ids := make([]int32, n)
	for i := range ids {
		ids[i] = int32(z.Uint64())
		counts[names[ids[i]]]++
	}
	c := NewCorpus(NewVocabulary(counts, 1))
	sentence := make([]string, 0, 20)
	for i, id := range ids {
		sentence = append(sentence, names[id])
		if len(sentence) == 20 || i == n-1 {
			c.Add(sentence)
			sentence = sentence[:0]
		}
	}
	return c
}

func benchmarkWord2Vec(b *testing.B, m Method) {
	c := zipfCorpus(100_000, 10_000)
	opts := DefaultOptions()
	opts.Method, opts.Threads, opts.Epochs = m, 1, 1
	if m == FastText {
		// 2,000,000 buckets would time their initialisation, not training.
		opts = MethodDefaults(m)
		opts.Threads, opts.Epochs, opts.Buckets = 1, 1, 100_000
	}
	b.ResetTimer()
	for range b.N {
		if _, err := Train(c, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(c.Tokens())*float64(b.N)/b.Elapsed().Seconds(), "words/s")
}

// BenchmarkSkipGram measures one thread's skip-gram speed (dim 100,
// window 5, 5 negatives, sample 1e-4) in corpus words per second.
func BenchmarkSkipGram(b *testing.B) { benchmarkWord2Vec(b, SkipGram) }

// BenchmarkCBOW measures one thread's CBOW speed.
func BenchmarkCBOW(b *testing.B) { benchmarkWord2Vec(b, CBOW) }

// BenchmarkFastText measures one thread's subword skip-gram speed (n-grams
// of 3 to 6 characters in 100,000 buckets).
func BenchmarkFastText(b *testing.B) { benchmarkWord2Vec(b, FastText) }

// BenchmarkEvaluateAnalogies measures answering 1000 analogy questions
// among 30000 vectors of dimension 100, in questions per second.
func BenchmarkEvaluateAnalogies(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const v, d = 30000, 100
	words := make([]string, v)
	values := make([]float32, v*d)
	for i := range words {
		words[i] = fmt.Sprint(i)
	}
	for i := range values {
		values[i] = r.Float32() - 0.5
	}
	qs := &Analogies{Sections: []string{"s"}}
	for range 1000 {
		qs.Questions = append(qs.Questions, Question{Words: [4]string{words[r.IntN(v)], words[r.IntN(v)], words[r.IntN(v)], words[r.IntN(v)]}})
	}
	b.ResetTimer()
	for range b.N {
		if _, err := EvaluateAnalogies(words, d, values, qs, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(qs.Questions))*float64(b.N)/b.Elapsed().Seconds(), "questions/s")
}

// BenchmarkGloVeStep measures one AdaGrad step on a pair (dim 100).
func BenchmarkGloVeStep(b *testing.B) {
	opts := DefaultOptions()
	g := newGloVe(1000, opts)
	upd := make([]float32, 2*opts.Dim)
	b.ResetTimer()
	for i := range b.N {
		g.step(i%1000, (i*7+3)%1000, 3.5, upd)
	}
}

// BenchmarkCooccurrence measures counting the pairs of a corpus (window
// 5), in tokens per second.
func BenchmarkCooccurrence(b *testing.B) {
	c := zipfCorpus(100_000, 10_000)
	b.ResetTimer()
	for range b.N {
		x := NewCooccurrence()
		c.Each(func(ids []int32) { x.AddSentence(ids, 5) })
		x.Len()
	}
	b.ReportMetric(float64(c.Tokens())*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkNeighbors measures a 10-nearest query among 10000 vectors of
// dimension 100.
func BenchmarkNeighbors(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	words := make([]string, 10000)
	values := make([]float32, 10000*100)
	for i := range words {
		words[i] = fmt.Sprint(i)
	}
	for i := range values {
		values[i] = r.Float32() - 0.5
	}
	ix, _ := NewIndex(words, 100, values)
	b.ResetTimer()
	for i := range b.N {
		ix.Neighbors(words[i%len(words)], 10)
	}
}
