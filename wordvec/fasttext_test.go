package wordvec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// subwordCorpus makes sentences in which the words alpha0..alpha4 only
// appear with the contexts p0..p4 and omega0..omega4 only with q0..q4.
func subwordCorpus(sentences int) *Corpus {
	r := rand.New(rand.NewPCG(3, 3))
	var text [][]string
	for n := range sentences {
		word, ctx := "alpha", "p"
		if n%2 == 1 {
			word, ctx = "omega", "q"
		}
		var s []string
		for k := range 8 {
			if k%2 == 0 {
				s = append(s, fmt.Sprintf("%s%d", ctx, r.IntN(5)))
			} else {
				s = append(s, fmt.Sprintf("%s%d", word, r.IntN(5)))
			}
		}
		text = append(text, s)
	}
	c := NewCounter()
	for _, s := range text {
		c.Add(s)
	}
	corpus := NewCorpus(c.Vocabulary(1))
	for _, s := range text {
		corpus.Add(s)
	}
	return corpus
}

func fastTextOptions(cbow bool) Options {
	o := MethodDefaults(FastText)
	o.Dim, o.Threads, o.Sample, o.Window, o.Buckets, o.CBOW = 16, 1, 0, 2, 100_000, cbow
	return o
}

// referenceSkipGram is fastText's skip-gram loop as written there: the
// hidden vector recomputed from the centre word's rows and the gradient
// added to them after every (centre, context) pair.
func (s *ftState) referenceSkipGram() {
	m, win := s.m, s.m.Opts.Window
	sen := s.sentence
	for i, w := range sen {
		b := s.w2v.r.intn(win)
		lo, hi := max(0, i-win+b), min(len(sen)-1, i+win-b)
		rows := m.rows[m.start[w]:m.start[w+1]]
		for c := lo; c <= hi; c++ {
			if c == i {
				continue
			}
			s.mean(rows)
			clear(s.w2v.neu1e)
			s.w2v.negativeSampling(s.hidden, int(sen[c]))
			s.addRows(rows, s.w2v.neu1e)
		}
	}
}

// TestFastTextSkipGramMatchesPerPairUpdates trains the same sentences with
// the skip-gram loop that adds each centre word's gradient once per window
// and with fastText's per-pair loop, from the same weights and random
// draws: the weights must agree to float32 rounding.
func TestFastTextSkipGramMatchesPerPairUpdates(t *testing.T) {
	corpus := subwordCorpus(40)
	opts := fastTextOptions(false)
	fast, ref := newFastText(corpus, opts), newFastText(corpus, opts)
	for _, m := range []*fastText{fast, ref} {
		// Non-zero output weights, so that the first steps move the input.
		r := seedRNG(5, 0)
		for i := range m.Output {
			m.Output[i] = r.float() - 0.5
		}
	}
	state := func(m *fastText) *ftState {
		w2 := &word2vec{opts: m.Opts, dim: m.dim, out: m.Output, negTable: m.negTable, keep: m.keep}
		return &ftState{m: m, w2v: w2vState{m: w2, r: seedRNG(9, 0), lr: 0.1, neu1e: make([]float32, m.dim)},
			hidden: make([]float32, m.dim), grad: make([]float32, m.dim)}
	}
	a, b := state(fast), state(ref)
	corpus.Each(func(ids []int32) {
		a.sentence, b.sentence = append(a.sentence[:0], ids...), append(b.sentence[:0], ids...)
		a.skipGram()
		b.referenceSkipGram()
	})
	var worst float64
	for i := range fast.Input {
		worst = max(worst, math.Abs(float64(fast.Input[i]-ref.Input[i])))
	}
	for i := range fast.Output {
		worst = max(worst, math.Abs(float64(fast.Output[i]-ref.Output[i])))
	}
	if worst > 1e-5 || slices.Equal(fast.Input, newFastText(corpus, opts).Input) {
		t.Errorf("largest weight difference %.2g, want below 1e-5 (and weights that moved)", worst)
	}
}

// TestFastTextRows checks a word's rows: its own, then its n-grams'
// buckets after the word rows, as fastText lays out its input matrix.
func TestFastTextRows(t *testing.T) {
	corpus := subwordCorpus(10)
	opts := fastTextOptions(false)
	m := newFastText(corpus, opts)
	id, _ := corpus.Vocab.ID("alpha3")
	rows := m.rows[m.start[id]:m.start[id+1]]
	// "<alpha3>" has 8 characters: 6 3-grams, 5 4-grams, 4 5-grams and
	// 3 6-grams.
	if len(rows) != 1+6+5+4+3 || rows[0] != id {
		t.Fatalf("rows of alpha3 = %v, want its id %d and 18 n-grams", rows, id)
	}
	for _, r := range rows[1:] {
		if int(r) < corpus.Vocab.Len() || int(r) >= corpus.Vocab.Len()+opts.Buckets {
			t.Errorf("n-gram row %d outside [%d, %d)", r, corpus.Vocab.Len(), corpus.Vocab.Len()+opts.Buckets)
		}
	}
	opts.Maxn = 0
	if m := newFastText(corpus, opts); len(m.rows) != corpus.Vocab.Len() || len(m.Input) != corpus.Vocab.Len()*opts.Dim {
		t.Errorf("maxn 0: %d rows for %d words, input of %d values: want words alone", len(m.rows), corpus.Vocab.Len(), len(m.Input))
	}
}

// TestFastTextClustersAndOOV trains skip-gram and CBOW FastText on words
// whose classes share their spelling: the classes must cluster, and words
// never seen (alpha9, omega9) must land nearer their own class than the
// other, from their n-grams alone.
func TestFastTextClustersAndOOV(t *testing.T) {
	corpus := subwordCorpus(2000)
	for _, cbow := range []bool{false, true} {
		opts := fastTextOptions(cbow)
		v, err := Train(corpus, opts)
		if err != nil {
			t.Fatal(err)
		}
		ix, err := NewIndex(v.Words, v.Dim, v.Values)
		if err != nil {
			t.Fatal(err)
		}
		var same, other float64
		for i := range 5 {
			for j := range 5 {
				a, b := fmt.Sprintf("alpha%d", i), fmt.Sprintf("alpha%d", j)
				if i != j {
					same += ix.similarity(a, b) / 20
				}
				other += ix.similarity(a, fmt.Sprintf("omega%d", j)) / 25
			}
		}
		if same < other+0.3 {
			t.Errorf("cbow %v: mean cosine within a class %.3f, across %.3f: want the first 0.3 above", cbow, same, other)
		}
		cos := func(word, class string) float64 {
			x := make([]float32, v.Dim)
			if !v.Subwords.WordVector(x, word) {
				t.Fatalf("%q has no n-gram vector", word)
			}
			var s float64
			for i := range 5 {
				y := v.Vector(slices.Index(v.Words, fmt.Sprintf("%s%d", class, i)))
				s += float64(dot(x, y)) / math.Sqrt(float64(dot(x, x))*float64(dot(y, y))) / 5
			}
			return s
		}
		for _, c := range [][2]string{{"alpha", "omega"}, {"omega", "alpha"}} {
			own, far := cos(c[0]+"9", c[0]), cos(c[0]+"9", c[1])
			if own < far+0.2 {
				t.Errorf("cbow %v: unseen %s9 has mean cosine %.3f with its class, %.3f with the other: want 0.2 more", cbow, c[0], own, far)
			}
			t.Logf("cbow %v: within %.3f, across %.3f; unseen %s9: %.3f own class, %.3f other", cbow, same, other, c[0], own, far)
		}
	}
}

func TestFastTextOneThreadIsDeterministic(t *testing.T) {
	corpus := subwordCorpus(200)
	opts := fastTextOptions(true)
	a, _ := Train(corpus, opts)
	b, _ := Train(corpus, opts)
	if !slices.Equal(a.Values, b.Values) {
		t.Errorf("two runs with seed %d differ", opts.Seed)
	}
}

func TestMethodDefaults(t *testing.T) {
	for _, tt := range []struct {
		m                        Method
		epochs, window, negative int
		lr, sample               float64
	}{
		{SkipGram, 5, 5, 5, 0.05, 1e-3},
		{CBOW, 5, 5, 10, 0.05, 1e-3},
		{FastText, 5, 5, 5, 0.05, 1e-4},
		{GloVe, 25, 15, 5, 0.05, 1e-3},
	} {
		o := MethodDefaults(tt.m)
		if o.Epochs != tt.epochs || o.Window != tt.window || o.Negative != tt.negative || float64(o.lr()) != float64(float32(tt.lr)) || o.Sample != tt.sample || o.Check() != nil {
			t.Errorf("MethodDefaults(%s) = %+v, want epochs %d, window %d, negative %d, lr %g, sample %g", tt.m, o, tt.epochs, tt.window, tt.negative, tt.lr, tt.sample)
		}
	}
	if o := MethodDefaults(GloVe); o.XMax != 10 || o.Alpha != 0.75 {
		t.Errorf("GloVe x_max %g, alpha %g, want glove.c's demo 10 and 0.75", o.XMax, o.Alpha)
	}
	if o := MethodDefaults(FastText); o.Minn != 3 || o.Maxn != 6 || o.Buckets != 2_000_000 {
		t.Errorf("FastText n-grams %d..%d in %d buckets, want fastText's 3..6 in 2000000", o.Minn, o.Maxn, o.Buckets)
	}
	bad := MethodDefaults(SkipGram)
	bad.CBOW = true
	if bad.Check() == nil {
		t.Errorf("CBOW with skipgram passed Check")
	}
}
