package wordvec

import (
	"errors"

	"github.com/classify/classify/data"
)

// FastTextModel is a trained FastText model: the input matrix of word and
// n-gram vectors and the output matrix, in fastText's layout, so that it
// can be written as a fastText .bin model (WriteFastTextModel).
type FastTextModel struct {
	Vocab *Vocabulary
	Opts  Options
	// Input holds Vocab.Len() word rows, then Opts.Buckets n-gram rows, of
	// Opts.Dim values; Output holds Vocab.Len() rows.
	Input, Output []float32
	// Tokens is the number of corpus tokens trained on, once.
	Tokens int64
}

// Vectors returns the vocabulary's words with the vectors fastText's
// get_word_vector gives them, and Subwords for any other word.
func (m *FastTextModel) Vectors() (*data.Vectors, error) {
	d := m.Opts.Dim
	sub, err := data.NewSubwordVectors(m.Vocab.Words, d, m.Opts.Minn, m.Opts.Maxn, m.buckets(), m.Input)
	if err != nil {
		return nil, err
	}
	v := &data.Vectors{Words: m.Vocab.Words, Dim: d, Values: make([]float32, m.Vocab.Len()*d), Subwords: sub}
	for i, w := range m.Vocab.Words {
		sub.WordVector(v.Values[i*d:(i+1)*d], w)
	}
	return v, nil
}

// buckets is the number of n-gram rows: none when Maxn is 0.
func (m *FastTextModel) buckets() int {
	if m.Opts.Maxn <= 0 {
		return 0
	}
	return m.Opts.Buckets
}

// fastText holds a FastText run's weights and tables.
type fastText struct {
	*FastTextModel
	dim      int
	rows     []int32 // input rows of each word: its own, then its n-grams'
	start    []int   // word i's rows are rows[start[i]:start[i+1]]
	negTable []int32
	keep     []float32
	lr0      float32
}

// TrainFastText fits a FastText model to the corpus c (opts.Method is
// taken to be FastText).
func TrainFastText(c *Corpus, opts Options) (*FastTextModel, error) {
	opts.Method = FastText
	if err := opts.Check(); err != nil {
		return nil, err
	}
	if c.Vocab.Len() == 0 {
		return nil, errors.New("the corpus has no word seen often enough to train")
	}
	m := newFastText(c, opts)
	m.train(c)
	return m.FastTextModel, nil
}

func newFastText(c *Corpus, opts Options) *fastText {
	v, d := c.Vocab.Len(), opts.Dim
	model := &FastTextModel{Vocab: c.Vocab, Opts: opts, Tokens: c.Tokens()}
	b := model.buckets()
	model.Input = make([]float32, (v+b)*d)
	model.Output = make([]float32, v*d)
	m := &fastText{FastTextModel: model, dim: d, lr0: opts.lr(), start: make([]int, v+1)}
	// fastText: input uniform in [-1/dim, 1/dim], output zero.
	r := seedRNG(opts.Seed, -1)
	for i := range model.Input {
		model.Input[i] = (2*r.float() - 1) / float32(d)
	}
	var grams []int
	for i, w := range c.Vocab.Words {
		m.rows = append(m.rows, int32(i))
		grams = data.NgramBuckets(grams[:0], w, opts.Minn, opts.Maxn, b)
		for _, g := range grams {
			m.rows = append(m.rows, int32(v+g))
		}
		m.start[i+1] = len(m.rows)
	}
	m.negTable = noiseTable(c.Vocab.Counts, opts)
	m.keep = keepProbabilities(c.Vocab.Counts, opts.Sample)
	return m
}

func (m *fastText) train(c *Corpus) { trainParts(c, m.Opts, m.lr0, m.worker) }

// ftState is one FastText worker's scratch space.
type ftState struct {
	m        *fastText
	w2v      w2vState // negative sampling against the output matrix
	hidden   []float32
	grad     []float32
	bow      []int32
	sentence []int32
}

func (m *fastText) worker(part []int32, r rng, tr *tracker) {
	// negativeSampling of word2vec reads its model's output matrix,
	// negatives table and options: share them.
	w2 := &word2vec{opts: m.Opts, dim: m.dim, out: m.Output, negTable: m.negTable, keep: m.keep, lr0: m.lr0}
	s := &ftState{m: m, w2v: *w2.newState(r),
		hidden: make([]float32, m.dim), grad: make([]float32, m.dim), sentence: make([]int32, 0, maxSentence)}
	total := float64(tr.total) + 1
	floor := m.lr0 * 1e-4
	var pending int64
	for range m.Opts.Epochs {
		for _, id := range part {
			if id >= 0 {
				pending++
				if k := m.keep[id]; k < 1 && k < s.w2v.r.float() {
					continue
				}
				s.sentence = append(s.sentence, id)
				if len(s.sentence) < maxSentence {
					continue
				}
			}
			if m.Opts.CBOW {
				s.cbow()
			} else {
				s.skipGram()
			}
			s.sentence = s.sentence[:0]
			if pending >= publishEvery {
				done := tr.add(pending, s.w2v.loss, s.w2v.lossN)
				pending, s.w2v.loss, s.w2v.lossN = 0, 0, 0
				s.w2v.lr = max(floor, m.lr0*float32(1-float64(done)/total))
				tr.setLR(s.w2v.lr)
			}
		}
	}
	tr.add(pending, s.w2v.loss, s.w2v.lossN)
}

// mean sets s.hidden to the mean of the input rows given.
func (s *ftState) mean(rows []int32) {
	d, in := s.m.dim, s.m.Input
	clear(s.hidden)
	for _, r := range rows {
		axpy(1, in[int(r)*d:int(r)*d+d], s.hidden)
	}
	inv := 1 / float32(len(rows))
	for j := range s.hidden {
		s.hidden[j] *= inv
	}
}

// addRows adds g to each of the input rows given.
func (s *ftState) addRows(rows []int32, g []float32) {
	d, in := s.m.dim, s.m.Input
	for _, r := range rows {
		axpy(1, g, in[int(r)*d:int(r)*d+d])
	}
}

// skipGram trains, for each centre word, each word of its window against
// the mean of the centre's word and n-gram vectors (fastText's skipgram).
// fastText adds each pair's gradient to the centre's rows at once; since
// skip-gram reads those rows only through their mean, and every row gets
// the same gradient, adding it to the mean and to the rows once after the
// window gives the same arithmetic in fewer passes over the rows (unless
// two of the word's n-grams share a bucket, when the mean moves a little
// more than fastText's would).
func (s *ftState) skipGram() {
	m, win := s.m, s.m.Opts.Window
	sen := s.sentence
	for i, w := range sen {
		b := s.w2v.r.intn(win)
		lo, hi := max(0, i-win+b), min(len(sen)-1, i+win-b)
		if hi == lo {
			continue
		}
		rows := m.rows[m.start[w]:m.start[w+1]]
		s.mean(rows)
		clear(s.grad)
		for c := lo; c <= hi; c++ {
			if c == i {
				continue
			}
			clear(s.w2v.neu1e)
			s.w2v.negativeSampling(s.hidden, int(sen[c]))
			axpy(1, s.w2v.neu1e, s.hidden)
			axpy(1, s.w2v.neu1e, s.grad)
		}
		s.addRows(rows, s.grad)
	}
}

// cbow trains each centre word against the mean of the word and n-gram
// vectors of its window's words (fastText's cbow); each of those rows gets
// the whole gradient, as in fastText.
func (s *ftState) cbow() {
	m, win := s.m, s.m.Opts.Window
	sen := s.sentence
	for i, w := range sen {
		b := s.w2v.r.intn(win)
		lo, hi := max(0, i-win+b), min(len(sen)-1, i+win-b)
		if hi == lo {
			continue
		}
		s.bow = s.bow[:0]
		for c := lo; c <= hi; c++ {
			if c != i {
				s.bow = append(s.bow, m.rows[m.start[sen[c]]:m.start[sen[c]+1]]...)
			}
		}
		s.mean(s.bow)
		clear(s.w2v.neu1e)
		s.w2v.negativeSampling(s.hidden, int(w))
		s.addRows(s.bow, s.w2v.neu1e)
	}
}
