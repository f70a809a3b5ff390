package wordvec

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/classify/classify/data"
)

func TestVocabularyOrder(t *testing.T) {
	c := NewCounter()
	c.Add(strings.Fields("b a c a b a d e e"))
	c.Add(strings.Fields("z"))
	tests := []struct {
		minCount int
		want     []string
	}{
		{1, []string{"a", "b", "e", "c", "d", "z"}},
		{2, []string{"a", "b", "e"}},
		{4, nil},
	}
	for _, tt := range tests {
		v := c.Vocabulary(tt.minCount)
		if !slices.Equal(v.Words, tt.want) {
			t.Errorf("Vocabulary(%d).Words = %v, want %v", tt.minCount, v.Words, tt.want)
		}
	}
	v := c.Vocabulary(1)
	if got, want := v.Counts, []int64{3, 2, 2, 1, 1, 1}; !slices.Equal(got, want) {
		t.Errorf("Counts = %v, want %v", got, want)
	}
	if id, ok := v.ID("e"); id != 2 || !ok {
		t.Errorf("ID(e) = %d, %v, want 2, true", id, ok)
	}
	if _, ok := v.ID("q"); ok {
		t.Errorf("ID(q) found, want missing")
	}
	if got := c.Tokens(); got != 10 {
		t.Errorf("Tokens() = %d, want 10", got)
	}
}

func TestCorpusDropsUnknownWordsAndEmptySentences(t *testing.T) {
	c := NewCounter()
	c.Add(strings.Fields("a a b b c"))
	corpus := NewCorpus(c.Vocabulary(2))
	corpus.Add(strings.Fields("a c b"))
	corpus.Add(strings.Fields("c c"))
	corpus.Add(strings.Fields("b"))
	var got [][]int32
	corpus.Each(func(ids []int32) { got = append(got, slices.Clone(ids)) })
	want := [][]int32{{0, 1}, {1}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sentences = %v, want %v", got, want)
	}
	if corpus.Tokens() != 3 || corpus.Sentences() != 2 {
		t.Errorf("Tokens, Sentences = %d, %d, want 3, 2", corpus.Tokens(), corpus.Sentences())
	}
}

func TestCorpusPartsKeepSentencesWhole(t *testing.T) {
	c := NewCounter()
	c.Add([]string{"a"})
	corpus := NewCorpus(c.Vocabulary(1))
	r := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		corpus.AddIDs(make([]int32, 1+r.IntN(9)))
	}
	for _, n := range []int{1, 2, 3, 7, 60} {
		parts := corpus.parts(n)
		if len(parts) != n {
			t.Fatalf("parts(%d) has %d parts", n, len(parts))
		}
		var all []int32
		for _, p := range parts {
			if len(p) > 0 && p[len(p)-1] != -1 {
				t.Errorf("parts(%d): a part ends inside a sentence: %v", n, p)
			}
			all = append(all, p...)
		}
		if !slices.Equal(all, corpus.ids) {
			t.Errorf("parts(%d) do not add up to the corpus", n)
		}
	}
}

func TestKeepProbabilities(t *testing.T) {
	// t = 1e-3, total 10000: a word of count 1000 has f = 0.1, t/f = 0.01,
	// kept with probability sqrt(0.01) + 0.01 = 0.11; count 5: t/f = 2,
	// sqrt(2)+2 > 1, always kept.
	got := keepProbabilities([]int64{1000, 8995, 5}, 1e-3)
	want := []float64{0.11, math.Sqrt(1e-3*10000/8995) + 1e-3*10000/8995, math.Sqrt(2) + 2}
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > 1e-6 {
			t.Errorf("keep[%d] = %g, want %g", i, got[i], want[i])
		}
	}
	if got := keepProbabilities([]int64{10}, 0); got[0] != 1 {
		t.Errorf("keep with sample 0 = %g, want 1", got[0])
	}
}

func TestUnigramTable(t *testing.T) {
	counts := []int64{81, 16, 1}
	table := unigramTable(counts, 0.75, 100000)
	// count^0.75: 27, 8, 1 of 36.
	want := []float64{27.0 / 36, 8.0 / 36, 1.0 / 36}
	got := make([]float64, 3)
	for _, id := range table {
		got[id]++
	}
	for i := range got {
		if got[i] /= float64(len(table)); math.Abs(got[i]-want[i]) > 1e-3 {
			t.Errorf("share of word %d = %.4f, want %.4f", i, got[i], want[i])
		}
	}
}

func TestSigmoidTables(t *testing.T) {
	for _, x := range []float64{-10, -8, -3.3, -0.5, 0, 0.01, 2, 7.99, 8, 12} {
		s := 1 / (1 + math.Exp(-x))
		if got := float64(sigmoid(float32(x))); math.Abs(got-s) > 4e-3 {
			t.Errorf("sigmoid(%g) = %g, want %g", x, got, s)
		}
		if x > -8 {
			if got := float64(logSigmoid(float32(x))); math.Abs(got-math.Log(s)) > 1e-2 {
				t.Errorf("logSigmoid(%g) = %g, want %g", x, got, math.Log(s))
			}
		}
	}
}

// TestNegativeSamplingGradient checks one negative-sampling step against
// central finite differences of its loss
// L = -log σ(h·u_t) - log σ(-h·u_n), computed in float64 with the exact
// sigmoid: at learning rate 1 the step on h is -∂L/∂h and the step on
// each output vector -∂L/∂u.
func TestNegativeSamplingGradient(t *testing.T) {
	h := []float64{0.3, -0.2, 0.5}
	ut := []float64{0.1, 0.4, -0.3}
	un := []float64{-0.6, 0.2, 0.7}
	loss := func(h, ut, un []float64) float64 {
		var a, b float64
		for i := range h {
			a += h[i] * ut[i]
			b += h[i] * un[i]
		}
		return -math.Log(1/(1+math.Exp(-a))) - math.Log(1/(1+math.Exp(b)))
	}
	grad := func(x []float64) []float64 { // ∂L/∂x by central differences
		g := make([]float64, len(x))
		for i := range x {
			old, eps := x[i], 1e-6
			x[i] = old + eps
			up := loss(h, ut, un)
			x[i] = old - eps
			down := loss(h, ut, un)
			x[i] = old
			g[i] = (up - down) / (2 * eps)
		}
		return g
	}
	gh, gt, gn := grad(h), grad(ut), grad(un)

	m := &word2vec{opts: Options{Negative: 1}, dim: 3, out: f32(append(slices.Clone(ut), un...)), negTable: []int32{1}}
	s := &w2vState{m: m, lr: 1, neu1e: make([]float32, 3)}
	s.negativeSampling(f32(h), 0)
	for i := range 3 {
		for _, c := range []struct {
			name      string
			step, ref float64
		}{
			{"h", float64(s.neu1e[i]), -gh[i]},
			{"u_target", float64(m.out[i]) - ut[i], -gt[i]},
			{"u_noise", float64(m.out[3+i]) - un[i], -gn[i]},
		} {
			// The table sigmoid is good to about 4e-3.
			if math.Abs(c.step-c.ref) > 5e-3 {
				t.Errorf("step on %s[%d] = %.5f, want -dL/d%s = %.5f", c.name, i, c.step, c.name, c.ref)
			}
		}
	}
	if want := loss(h, ut, un); math.Abs(s.loss-want) > 1e-2 {
		t.Errorf("loss = %.4f, want %.4f", s.loss, want)
	}
}

func f32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

func TestGloVeWeight(t *testing.T) {
	tests := []struct{ x, want float64 }{
		{100, 1}, {250, 1}, {50, 0.5946035575}, // 0.5^0.75
		{1, 0.0316227766}, // 0.01^0.75 = 10^-1.5
		{0.5, 0.0188030155},
	}
	for _, tt := range tests {
		if got := gloveWeight(tt.x, 100, 0.75); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("gloveWeight(%g, 100, 0.75) = %.10f, want %.10f", tt.x, got, tt.want)
		}
	}
}

func TestCooccurrenceByHand(t *testing.T) {
	// "a b a c", window 2: b-a at 1; a-a at 2 (glove.c counts a self pair
	// in both halves: 2 × 1/2); a-b at 1; c-b at 2; c-a at 1.
	x := NewCooccurrence()
	x.AddSentence([]int32{0, 1, 0, 2}, 2)
	tests := []struct {
		i, j int32
		want float32
	}{
		{0, 1, 2}, {1, 0, 2}, {0, 0, 1}, {1, 2, 0.5}, {2, 1, 0.5}, {0, 2, 1}, {1, 1, 0}, {2, 2, 0},
	}
	for _, tt := range tests {
		if got := x.At(tt.i, tt.j); got != tt.want {
			t.Errorf("X[%d][%d] = %g, want %g", tt.i, tt.j, got, tt.want)
		}
	}
	if got := x.Len(); got != 4 {
		t.Errorf("Len() = %d, want 4", got)
	}
	// Sentences do not share windows.
	y := NewCooccurrence()
	y.AddSentence([]int32{0}, 5)
	y.AddSentence([]int32{1}, 5)
	if got := y.Len(); got != 0 {
		t.Errorf("pairs across sentences: Len() = %d, want 0", got)
	}
}

// TestCooccurrenceMerge forces many merges of the pending map into the
// sorted arrays and compares with a plain map.
func TestCooccurrenceMerge(t *testing.T) {
	x := NewCooccurrence()
	x.minPending = 7
	want := map[[2]int32]float64{}
	r := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		i, j := int32(r.IntN(40)), int32(r.IntN(40))
		w := float32(1 + r.IntN(4))
		x.Add(i, j, w)
		if i > j {
			i, j = j, i
		}
		if i == j {
			w *= 2
		}
		want[[2]int32{i, j}] += float64(w)
	}
	if x.Len() != len(want) {
		t.Errorf("Len() = %d, want %d", x.Len(), len(want))
	}
	prev := int64(-1)
	x.Each(func(i, j int32, v float32) {
		if k := int64(i)<<32 | int64(j); k <= prev || i > j {
			t.Errorf("pair (%d, %d) out of order", i, j)
		} else {
			prev = k
		}
		if float64(v) != want[[2]int32{i, j}] {
			t.Errorf("X[%d][%d] = %g, want %g", i, j, v, want[[2]int32{i, j}])
		}
	})
}

// TestGloVeStepByHand checks the first AdaGrad step against the gradient
// of f(x)(w·c + bw + bc - log x)^2 / 2 worked out by hand: with the sums of
// squares at 1 the first step is plain gradient descent.
func TestGloVeStepByHand(t *testing.T) {
	g := &glove{dim: 2, vocab: 2, eta: 0.05, xMax: 100, alpha: 0.75,
		w:   []float32{0.1, -0.2, 0.05, 0, 0, 0, 0, 0, 0, 0.3, 0.4, -0.1},
		gsq: []float32{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}}
	// Word 0 against context 1 (row 3): w = (0.1, -0.2), bw = 0.05,
	// c = (0.3, 0.4), bc = -0.1, x = 10.
	// diff = 0.03 - 0.08 + 0.05 - 0.1 - ln 10 = -0.1 - 2.302585 = -2.402585
	// f = 0.1^0.75 = 0.177828; f·diff = -0.427244; scaled by eta: -0.0213622
	diff := -0.1 - math.Log(10)
	fd := math.Pow(0.1, 0.75) * diff
	e := 0.05 * fd
	cost := g.step(0, 1, 10, make([]float32, 4))
	if want := 0.5 * fd * diff; math.Abs(float64(cost)-want) > 1e-5 {
		t.Errorf("cost = %.6f, want %.6f", cost, want)
	}
	want := []float64{
		0.1 - e*0.3, -0.2 - e*0.4, 0.05 - e, // word 0 and its bias
		0.3 - e*0.1, 0.4 - e*-0.2, -0.1 - e, // context 1 and its bias
	}
	got := append(slices.Clone(g.w[:3]), g.w[9:]...)
	wantSq := []float64{1 + e*e*0.09, 1 + e*e*0.16, 1 + e*e}
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > 1e-6 {
			t.Errorf("weight %d after the step = %.7f, want %.7f", i, got[i], want[i])
		}
	}
	for i := range wantSq {
		if math.Abs(float64(g.gsq[i])-wantSq[i]) > 1e-6 {
			t.Errorf("gradsq %d = %.7f, want %.7f", i, g.gsq[i], wantSq[i])
		}
	}
}

// clusteredCorpus makes sentences in which the words a0..a4 only appear
// with the contexts p0..p4 and b0..b4 only with q0..q4.
func clusteredCorpus(sentences int) *Corpus {
	r := rand.New(rand.NewPCG(7, 7))
	var text [][]string
	for n := range sentences {
		word, ctx := "a", "p"
		if n%2 == 1 {
			word, ctx = "b", "q"
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

func TestDisjointContextsCluster(t *testing.T) {
	corpus := clusteredCorpus(2000)
	for _, m := range []Method{SkipGram, CBOW, GloVe} {
		opts := DefaultOptions()
		opts.Method, opts.Dim, opts.Threads, opts.Sample, opts.Window = m, 20, 1, 0, 2
		if m == GloVe {
			opts.Epochs = 50
		}
		v, err := Train(corpus, opts)
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		ix, err := NewIndex(v.Words, v.Dim, v.Values)
		if err != nil {
			t.Fatal(err)
		}
		var same, other float64
		for i := range 5 {
			for j := range 5 {
				a, b := fmt.Sprintf("a%d", i), fmt.Sprintf("a%d", j)
				if i != j {
					same += ix.similarity(a, b) / 20
				}
				other += ix.similarity(a, fmt.Sprintf("b%d", j)) / 25
			}
		}
		if same < other+0.3 {
			t.Errorf("%s: mean cosine within a class %.3f, across classes %.3f: want the first 0.3 above", m, same, other)
		}
		t.Logf("%s: mean cosine within %.3f, across %.3f", m, same, other)
	}
}

func (ix *Index) similarity(a, b string) float64 {
	return float64(dot(ix.row(ix.ids[a]), ix.row(ix.ids[b])))
}

func TestOneThreadIsDeterministic(t *testing.T) {
	corpus := clusteredCorpus(300)
	for _, m := range []Method{SkipGram, CBOW, GloVe} {
		opts := DefaultOptions()
		opts.Method, opts.Dim, opts.Threads, opts.Sample = m, 10, 1, 1e-2
		a, err := Train(corpus, opts)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Train(corpus, opts)
		if !slices.Equal(a.Values, b.Values) {
			t.Errorf("%s: two runs with seed %d differ", m, opts.Seed)
		}
		opts.Seed++
		c, _ := Train(corpus, opts)
		if slices.Equal(a.Values, c.Values) {
			t.Errorf("%s: seeds %d and %d give the same vectors", m, opts.Seed-1, opts.Seed)
		}
	}
}

func TestTrainReportsProgress(t *testing.T) {
	corpus := clusteredCorpus(100)
	opts := DefaultOptions()
	opts.Dim, opts.Threads = 8, 2
	if raceEnabled {
		opts.Threads = 1
	}
	var last Progress
	calls := 0
	opts.Progress = func(p Progress) { last = p; calls++ }
	if _, err := Train(corpus, opts); err != nil {
		t.Fatal(err)
	}
	if calls == 0 || last.Done != 1 || last.Epoch != opts.Epochs || last.WordsPerSecondPerThread <= 0 {
		t.Errorf("last progress = %+v after %d calls, want Done 1, Epoch %d, a speed", last, calls, opts.Epochs)
	}
}

func TestOptionsAreChecked(t *testing.T) {
	corpus := clusteredCorpus(10)
	tests := []struct {
		name string
		edit func(*Options)
	}{
		{"method", func(o *Options) { o.Method = "lsa" }},
		{"dim", func(o *Options) { o.Dim = 0 }},
		{"window", func(o *Options) { o.Window = 0 }},
		{"negative", func(o *Options) { o.Negative = 0 }},
		{"sample", func(o *Options) { o.Sample = -1 }},
		{"x-max", func(o *Options) { o.Method, o.XMax = GloVe, 0 }},
	}
	for _, tt := range tests {
		opts := DefaultOptions()
		tt.edit(&opts)
		if _, err := Train(corpus, opts); err == nil {
			t.Errorf("%s: Train accepted %+v", tt.name, opts)
		}
	}
	if _, err := Train(NewCorpus(NewCounter().Vocabulary(1)), DefaultOptions()); err == nil {
		t.Errorf("Train accepted an empty vocabulary")
	}
}

func TestWriteTextRoundTrip(t *testing.T) {
	v := &data.Vectors{Words: []string{"the", "é", "[x]"}, Dim: 2,
		Values: []float32{0.1, -2.5e-8, 3, float32(math.Pi), 1e30, -0}}
	path := filepath.Join(t.TempDir(), "v.txt")
	if err := SaveText(path, v); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), b)
	}
	for i, line := range lines {
		f := strings.Split(line, " ")
		if f[0] != v.Words[i] || len(f) != 3 {
			t.Errorf("line %d = %q, want word %q and 2 values", i+1, line, v.Words[i])
			continue
		}
		for j, s := range f[1:] {
			x, err := strconv.ParseFloat(s, 32)
			if err != nil || float32(x) != v.Vector(i)[j] {
				t.Errorf("line %d value %d = %q, want %g", i+1, j, s, v.Vector(i)[j])
			}
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("folder holds %d files, want only the output", len(entries))
	}
}

func TestWriteTextRefusesBadWords(t *testing.T) {
	for _, w := range []string{"", "a b", "tab\there"} {
		v := &data.Vectors{Words: []string{w}, Dim: 1, Values: []float32{1}}
		if err := WriteText(&bytes.Buffer{}, v); err == nil {
			t.Errorf("WriteText accepted the word %q", w)
		}
	}
	path := filepath.Join(t.TempDir(), "v.txt")
	if err := SaveText(path, &data.Vectors{Words: []string{"a b"}, Dim: 1, Values: []float32{1}}); err == nil {
		t.Errorf("SaveText accepted a word with a space")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("SaveText left %s after an error", path)
	}
}

// analogyVectors are unit-free hand-made vectors: the queen offset is
// king's plus woman minus man.
var analogyVectors = struct {
	words  []string
	values []float32
}{
	[]string{"man", "woman", "king", "queen", "apple"},
	[]float32{1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0.5, 0.5, -1},
}

func TestIndexNeighborsAndAnalogy(t *testing.T) {
	ix, err := NewIndex(analogyVectors.words, 3, analogyVectors.values)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ix.Neighbors("king", 2)
	if err != nil {
		t.Fatal(err)
	}
	// cos(king, man) = cos(king, queen) = 1/2 · √2 ≈ 0.7071 / ... both
	// (1,0,1)·(1,0,0)/√2 = 0.7071 and (1,0,1)·(0,1,1)/2 = 0.5.
	want := []Neighbor{{"man", 1 / math.Sqrt2}, {"queen", 0.5}}
	checkNeighbors(t, "Neighbors(king, 2)", got, want)

	got, err = ix.Analogy("man", "woman", "king", 2)
	if err != nil {
		t.Fatal(err)
	}
	// q = woman - man + king/√2 = (-0.2929, 1, 0.7071), normalised;
	// cos(q, queen) = 0.95857, cos(q, apple) = -0.22924 (by hand).
	checkNeighbors(t, "Analogy(man, woman, king)", got, []Neighbor{{"queen", 0.9585689}, {"apple", -0.2292382}})

	if _, err := ix.Neighbors("pear", 3); err == nil {
		t.Errorf("Neighbors(pear) found a word with no vector")
	}
	if _, err := ix.Analogy("man", "pear", "king", 3); err == nil {
		t.Errorf("Analogy with pear found a word with no vector")
	}
	if _, err := NewIndex([]string{"a"}, 2, []float32{1}); err == nil {
		t.Errorf("NewIndex accepted 1 value for 1 word × 2")
	}
}

func checkNeighbors(t *testing.T, call string, got, want []Neighbor) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s = %v, want %v", call, got, want)
	}
	for i := range want {
		if got[i].Word != want[i].Word || math.Abs(got[i].Similarity-want[i].Similarity) > 1e-5 {
			t.Errorf("%s = %v, want %v", call, got, want)
			return
		}
	}
}

// TestNoiseRedrawsTheTarget checks that negative samples never hit the
// target while another word is in the table, and give up on a table of the
// target alone.
func TestNoiseRedrawsTheTarget(t *testing.T) {
	m := &word2vec{negTable: []int32{0, 0, 0, 0, 0, 0, 0, 1}}
	s := &w2vState{m: m, r: seedRNG(1, 0)}
	for range 1000 {
		if w, ok := s.noise(0); !ok || w != 1 {
			t.Fatalf("noise(0) = %d, %v; want 1, true", w, ok)
		}
	}
	m.negTable = []int32{0, 0}
	if w, ok := s.noise(0); ok {
		t.Errorf("noise(0) on a table of 0s = %d, true; want false", w)
	}
}

// TestNoiseTable checks that the shuffled noise table keeps the shares of
// count^power, is shuffled (not sorted by word), and depends on the seed.
func TestNoiseTable(t *testing.T) {
	counts := []int64{81, 16, 1}
	opts := MethodDefaults(CBOW)
	for _, power := range []float64{0.75, 0.5, 0} {
		opts.NoisePower = power
		table := noiseTable(counts, opts)
		var z float64
		for _, c := range counts {
			z += math.Pow(float64(c), power)
		}
		got := make([]float64, 3)
		for _, id := range table {
			got[id]++
		}
		for i, c := range counts {
			want := math.Pow(float64(c), power) / z
			if got[i] /= float64(len(table)); math.Abs(got[i]-want) > 1e-3 {
				t.Errorf("power %g: share of word %d = %.4f, want %.4f", power, i, got[i], want)
			}
		}
		if slices.IsSorted(table) {
			t.Errorf("power %g: the table is not shuffled", power)
		}
	}
	opts.NoisePower = 0.75
	a, b := noiseTable(counts, opts), noiseTable(counts, opts)
	opts.Seed++
	if c := noiseTable(counts, opts); !slices.Equal(a, b) || slices.Equal(a, c) {
		t.Error("the shuffle does not follow the seed alone")
	}
}
