package wordvec

import (
	"math"
	"strings"
	"testing"
)

// TestEvaluateAnalogies checks the counts on vectors whose answers were
// worked out by hand: with unit vectors man = e1, woman = e2,
// king = (e1+e3)/√2, queen = (e2+e3)/√2 and apple = e3, woman - man + king
// = (-0.293, 1, 0.707) is closest to queen (1.207, against apple's 0.707),
// and man - woman + queen to king (1.207). "zzz" is the sixth word, outside
// a search of the first five; "xyz" has no vector.
func TestEvaluateAnalogies(t *testing.T) {
	r := float32(1 / math.Sqrt2)
	words := []string{"man", "woman", "King", "queen", "apple", "zzz"}
	values := []float32{
		2, 0, 0, // not unit: the evaluation normalises
		0, 1, 0,
		r, 0, r,
		0, r, r,
		0, 0, 1,
		0, 0, -1,
	}
	qs, err := ReadAnalogies(strings.NewReader(`: family
man woman king queen
WOMAN Man queen king
: gram-test
man king woman apple
man king woman zzz
: capital
man xyz woman queen
`), "q.txt")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		maxVocab                             int
		family, gram, capital, sem, syn, all Score
	}{
		{5, Score{2, 2, 0}, Score{0, 1, 1}, Score{0, 0, 1}, Score{2, 2, 1}, Score{0, 1, 1}, Score{2, 3, 2}},
		// zzz searched too: king - man + woman is still nearest queen.
		{0, Score{2, 2, 0}, Score{0, 2, 0}, Score{0, 0, 1}, Score{2, 2, 1}, Score{0, 2, 0}, Score{2, 4, 1}},
	}
	for _, tt := range tests {
		got, err := EvaluateAnalogies(words, 3, values, qs, tt.maxVocab)
		if err != nil {
			t.Fatal(err)
		}
		want := []SectionScore{{"family", tt.family}, {"gram-test", tt.gram}, {"capital", tt.capital}}
		for i, s := range got.Sections {
			if s != want[i] {
				t.Errorf("max-vocab %d: section %d = %+v, want %+v", tt.maxVocab, i, s, want[i])
			}
		}
		if got.Semantic != tt.sem || got.Syntactic != tt.syn || got.Overall != tt.all {
			t.Errorf("max-vocab %d: semantic, syntactic, overall = %+v %+v %+v, want %+v %+v %+v",
				tt.maxVocab, got.Semantic, got.Syntactic, got.Overall, tt.sem, tt.syn, tt.all)
		}
	}
	if a := (Score{2, 3, 2}).Accuracy(); math.Abs(a-2.0/3) > 1e-12 {
		t.Errorf("Accuracy = %v, want 2/3", a)
	}
}

// TestEvaluateAnalogiesBatches answers more questions than one matrix
// product holds and checks each against Index.Analogy, the one-question
// path.
func TestEvaluateAnalogiesBatches(t *testing.T) {
	const v, d = 40, 5
	words := make([]string, v)
	values := make([]float32, v*d)
	r := seedRNG(7, 0)
	for i := range words {
		words[i] = string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	for i := range values {
		values[i] = r.float() - 0.5
	}
	ix, err := NewIndex(words, d, values)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(": s\n")
	var want Score
	for n := 0; n < 3*analogyBatch+7; n++ {
		q := [3]string{words[r.intn(v)], words[r.intn(v)], words[r.intn(v)]}
		if q[0] == q[1] || q[1] == q[2] || q[0] == q[2] {
			continue
		}
		d := words[r.intn(v)]
		nb, err := ix.Analogy(q[0], q[1], q[2], 1)
		if err != nil {
			t.Fatal(err)
		}
		want.Answered++
		if nb[0].Word == d {
			want.Correct++
		}
		b.WriteString(strings.Join([]string{q[0], q[1], q[2], d}, " ") + "\n")
	}
	qs, err := ReadAnalogies(strings.NewReader(b.String()), "q.txt")
	if err != nil {
		t.Fatal(err)
	}
	got, err := EvaluateAnalogies(words, d, values, qs, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got.Overall != want || want.Correct == 0 {
		t.Errorf("overall = %+v, want %+v from Index.Analogy", got.Overall, want)
	}
}

func TestReadAnalogiesErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{": a\nx y z\n", "q.txt:2: 3 words, want 4"},
		{": a b\n", "q.txt:1: section header"},
		{"\n\n", "q.txt:2: no analogy questions"},
	} {
		_, err := ReadAnalogies(strings.NewReader(tt.in), "q.txt")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ReadAnalogies(%q) error = %v, want %q", tt.in, err, tt.want)
		}
	}
}

// TestMeanCosine: vectors that all point one way have mean cosine 1; two
// opposite ones -1; orthogonal ones 0.
func TestMeanCosine(t *testing.T) {
	words := []string{"a", "b", "c"}
	for _, tt := range []struct {
		values []float32
		first  int
		want   float64
	}{
		{[]float32{1, 1, 2, 2, 3, 3}, 0, 1},
		{[]float32{1, 0, -2, 0, 0, 5}, 2, -1},
		{[]float32{1, 0, 0, 3, 0, 0}, 2, 0},
	} {
		if got := MeanCosine(words, 2, tt.values, tt.first, 100, 1); math.Abs(got-tt.want) > 1e-6 {
			t.Errorf("MeanCosine(%v, first %d) = %v, want %v", tt.values, tt.first, got, tt.want)
		}
	}
}
