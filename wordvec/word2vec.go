package wordvec

import (
	"math"
	"sync"
)

// maxSentence caps the words trained as one sentence; longer lines are
// cut, as word2vec.c's MAX_SENTENCE_LENGTH.
const maxSentence = 1000

// publishEvery is how many words a worker trains between updates of the
// learning rate and the progress counters (word2vec.c: 10000).
const publishEvery = 10000

// word2vec holds the weights and tables of a skip-gram or CBOW run.
type word2vec struct {
	opts     Options
	dim      int
	in, out  []float32 // input vectors (the result) and output vectors
	negTable []int32   // noiseTable: word ids in proportion to count^NoisePower
	keep     []float32 // probability of keeping each word (subsampling)
	lr0      float32
}

func newWord2Vec(c *Corpus, opts Options) *word2vec {
	v, d := c.Vocab.Len(), opts.Dim
	m := &word2vec{opts: opts, dim: d, lr0: opts.lr(),
		in: make([]float32, v*d), out: make([]float32, v*d)}
	// fastText's range: input weights uniform in [-1/dim, 1/dim), output
	// zero (word2vec.c's half-width [-0.5/dim, 0.5/dim) scored 0.6 points
	// lower for CBOW on 3M tokens of IMDB, two seeds).
	r := seedRNG(opts.Seed, -1)
	for i := range m.in {
		m.in[i] = (2*r.float() - 1) / float32(d)
	}
	m.negTable = noiseTable(c.Vocab.Counts, opts)
	m.keep = keepProbabilities(c.Vocab.Counts, opts.Sample)
	return m
}

// unigramTable fills size slots with word ids in proportion to
// count^power, the noise distribution of negative sampling (word2vec.c's
// InitUnigramTable).
func unigramTable(counts []int64, power float64, size int) []int32 {
	if len(counts) == 0 {
		return nil
	}
	var z float64
	for _, c := range counts {
		z += math.Pow(float64(c), power)
	}
	table := make([]int32, size)
	i := 0
	cum := math.Pow(float64(counts[0]), power) / z
	for a := range table {
		table[a] = int32(i)
		if float64(a)/float64(size) > cum && i < len(counts)-1 {
			i++
			cum += math.Pow(float64(counts[i]), power) / z
		}
	}
	return table
}

// noiseTable returns the noise distribution of negative sampling for a
// vocabulary of the given counts: unigramTable's slots for count^power
// (up to 10,000,000, fastText's size), shuffled with the run's seed.
// Workers read it in order, each from a position of its own (w2vState.noise),
// as fastText 0.1 did: a draw then costs no random number and the reads
// stream through memory, where a random slot of a 40 MB table is a cache
// miss a negative.
func noiseTable(counts []int64, opts Options) []int32 {
	table := unigramTable(counts, opts.NoisePower, min(10_000_000, max(1000, 1000*len(counts))))
	r := seedRNG(opts.Seed, -2)
	for i := len(table) - 1; i > 0; i-- {
		j := r.intn(i + 1)
		table[i], table[j] = table[j], table[i]
	}
	return table
}

// keepProbabilities returns, for each word, the probability that
// subsampling keeps an occurrence: sqrt(t/f) + t/f for corpus frequency f
// and threshold t (word2vec.c; fastText's pdiscard is its complement).
// A probability of 1 or more keeps every occurrence.
func keepProbabilities(counts []int64, t float64) []float32 {
	keep := make([]float32, len(counts))
	var total int64
	for _, c := range counts {
		total += c
	}
	for i, c := range counts {
		if t <= 0 || c == 0 {
			keep[i] = 1
			continue
		}
		r := t * float64(total) / float64(c)
		keep[i] = float32(math.Sqrt(r) + r)
	}
	return keep
}

// train runs the epochs over c with the options' threads.
func (m *word2vec) train(c *Corpus) { trainParts(c, m.opts, m.lr0, m.worker) }

// trainParts runs the epochs over c: one worker per thread of opts, each
// over its part of the corpus with a random stream of its own, sharing one
// tracker of the progress and the learning rate, starting at lr0.
func trainParts(c *Corpus, opts Options, lr0 float32, worker func(part []int32, r rng, tr *tracker)) {
	threads := opts.threads()
	perPass := c.Tokens()
	tr := newTracker(perPass*int64(opts.Epochs), perPass, threads, lr0, opts)
	var wg sync.WaitGroup
	for k, part := range c.parts(threads) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			worker(part, seedRNG(opts.Seed, k), tr)
		}()
	}
	wg.Wait()
	tr.finish()
}

// worker trains on its part of the corpus for every epoch.
func (m *word2vec) worker(part []int32, r rng, tr *tracker) {
	s := m.newState(r)
	s.neu1, s.sentence = make([]float32, m.dim), make([]int32, 0, maxSentence)
	total := float64(tr.total) + 1
	floor := m.lr0 * 1e-4
	var pending int64
	for range m.opts.Epochs {
		for _, id := range part {
			if id >= 0 {
				pending++
				if k := m.keep[id]; k < 1 && k < s.r.float() {
					continue
				}
				s.sentence = append(s.sentence, id)
				if len(s.sentence) < maxSentence {
					continue
				}
			}
			s.trainSentence()
			s.sentence = s.sentence[:0]
			if pending >= publishEvery {
				done := tr.add(pending, s.loss, s.lossN)
				pending, s.loss, s.lossN = 0, 0, 0
				s.lr = max(floor, m.lr0*float32(1-float64(done)/total))
				tr.setLR(s.lr)
			}
		}
	}
	tr.add(pending, s.loss, s.lossN)
}

// w2vState is one worker's scratch space.
type w2vState struct {
	m           *word2vec
	r           rng
	lr          float32
	neu1, neu1e []float32
	sentence    []int32
	loss        float64
	lossN       int64
	negPos      int // the slot of negTable read last
}

// newState returns a worker's state for negative sampling against m: its
// random stream r, the starting learning rate, the gradient buffer of the
// hidden vector, and a start in the noise table drawn from r, so that the
// workers read the table from places of their own.
func (m *word2vec) newState(r rng) *w2vState {
	start := r.intn(max(1, len(m.negTable)))
	return &w2vState{m: m, r: r, lr: m.lr0, negPos: start, neu1e: make([]float32, m.dim)}
}

func (s *w2vState) trainSentence() {
	if s.m.opts.Method == CBOW {
		s.cbow()
	} else {
		s.skipGram()
	}
}

// skipGram trains each (context, centre) pair of the sentence: the
// context word's input vector predicts the centre word against Negative
// noise words (word2vec.c's skip-gram loop).
func (s *w2vState) skipGram() {
	m, d, win := s.m, s.m.dim, s.m.opts.Window
	sen := s.sentence
	for i, w := range sen {
		b := s.r.intn(win)
		lo, hi := max(0, i-win+b), min(len(sen)-1, i+win-b)
		for c := lo; c <= hi; c++ {
			if c == i {
				continue
			}
			ctx := int(sen[c])
			l1 := m.in[ctx*d : ctx*d+d]
			clear(s.neu1e)
			s.negativeSampling(l1, int(w))
			axpy(1, s.neu1e, l1)
		}
	}
}

// cbow trains each centre word from the mean of its context's input
// vectors (word2vec.c's CBOW with cbow_mean=1); every context word gets
// the whole gradient of the mean, as in word2vec.c.
func (s *w2vState) cbow() {
	m, d, win := s.m, s.m.dim, s.m.opts.Window
	sen := s.sentence
	for i, w := range sen {
		b := s.r.intn(win)
		lo, hi := max(0, i-win+b), min(len(sen)-1, i+win-b)
		if hi-lo < 1 {
			continue
		}
		clear(s.neu1)
		for c := lo; c <= hi; c++ {
			if c != i {
				ctx := int(sen[c])
				axpy(1, m.in[ctx*d:ctx*d+d], s.neu1)
			}
		}
		inv := 1 / float32(hi-lo)
		for j := range s.neu1 {
			s.neu1[j] *= inv
		}
		clear(s.neu1e)
		s.negativeSampling(s.neu1, int(w))
		for c := lo; c <= hi; c++ {
			if c != i {
				ctx := int(sen[c])
				axpy(1, s.neu1e, m.in[ctx*d:ctx*d+d])
			}
		}
	}
}

// negativeSampling does one step of the loss
// -log σ(h·u_target) - Σ log σ(-h·u_noise) for hidden vector h: it updates
// the output vectors u in place and adds the gradient step for h to neu1e.
func (s *w2vState) negativeSampling(h []float32, target int) {
	m, d := s.m, s.m.dim
	for k := 0; k <= m.opts.Negative; k++ {
		t, label := target, float32(1)
		if k > 0 {
			var ok bool
			if t, ok = s.noise(target); !ok {
				continue
			}
			label = 0
		}
		u := m.out[t*d : t*d+d]
		f := dot(h, u)
		if label == 1 {
			s.loss -= float64(logSigmoid(f))
		} else {
			s.loss -= float64(logSigmoid(-f))
		}
		g := (label - sigmoid(f)) * s.lr
		axpy(g, u, s.neu1e)
		axpy(g, h, u)
	}
	s.lossN++
}

// maxRedraws bounds the draws of one negative sample; only a table that
// is nearly all the target (a vocabulary of one or two words) reaches it.
const maxRedraws = 64

// noise takes the next negative sample for target from the shuffled noise
// table, taking another while it hits the target, as fastText does
// (word2vec.c skips the sample instead, so frequent targets got fewer
// negatives); false when maxRedraws slots in a row all hold it.
func (s *w2vState) noise(target int) (int, bool) {
	table := s.m.negTable
	for range maxRedraws {
		if s.negPos++; s.negPos >= len(table) {
			s.negPos = 0
		}
		if t := int(table[s.negPos]); t != target {
			return t, true
		}
	}
	return 0, false
}
