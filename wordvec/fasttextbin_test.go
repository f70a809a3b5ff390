package wordvec

import (
	"bufio"
	"bytes"
	"math"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/classify/classify/data"
)

// TestFastTextModelRoundTrip writes a trained model and reads it back
// with data.LoadVectors: the same words, vectors and n-gram vectors.
func TestFastTextModelRoundTrip(t *testing.T) {
	m, err := TrainFastText(subwordCorpus(100), fastTextOptions(false))
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.Vectors()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "m.bin")
	if err := SaveFastTextModel(p, m); err != nil {
		t.Fatal(err)
	}
	got, err := data.LoadVectors(p)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Words, want.Words) || !slices.Equal(got.Values, want.Values) || got.Subwords == nil {
		t.Fatalf("read back %d words, want %d, or other values", len(got.Words), len(want.Words))
	}
	a, b := make([]float32, m.Opts.Dim), make([]float32, m.Opts.Dim)
	got.Subwords.WordVector(a, "alpha99")
	want.Subwords.WordVector(b, "alpha99")
	if !slices.Equal(a, b) {
		t.Errorf("unseen word: read back %v, want %v", a, b)
	}
}

// TestFastTextModelByFastText has fastText itself read a model written
// here, when it is installed: the vectors that print-word-vectors gives,
// which fastText computes from the n-grams it hashes itself, must equal
// ours for seen and unseen words (words with multi-byte characters too).
func TestFastTextModelByFastText(t *testing.T) {
	ft, err := exec.LookPath("fasttext")
	if err != nil {
		t.Skip("fasttext is not installed (apt-get install fasttext)")
	}
	if testing.Short() {
		t.Skip("-short: fasttext's runs take seconds each on a loaded machine")
	}
	c := NewCounter()
	text := [][]string{}
	for i := range 200 {
		s := []string{"naïve", "café", "the", "film", "crème", "brûlée", strconv.Itoa(i % 7)}
		text = append(text, s)
		c.Add(s)
	}
	corpus := NewCorpus(c.Vocabulary(1))
	for _, s := range text {
		corpus.Add(s)
	}
	for _, cbow := range []bool{false, true} {
		opts := fastTextOptions(cbow)
		opts.Buckets = 5000
		m, err := TrainFastText(corpus, opts)
		if err != nil {
			t.Fatal(err)
		}
		vec, _ := m.Vectors()
		p := filepath.Join(t.TempDir(), "m.bin")
		if err := SaveFastTextModel(p, m); err != nil {
			t.Fatal(err)
		}
		words := []string{"naïve", "café", "film", "3", "naïvement", "cafés", "brûlé", "zzz"}
		cmd := exec.Command(ft, "print-word-vectors", p)
		cmd.Stdin = strings.NewReader(strings.Join(words, "\n") + "\n")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
		sc := bufio.NewScanner(bytes.NewReader(out))
		n := 0
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			got := make([]float32, opts.Dim)
			vec.Subwords.WordVector(got, f[0])
			if i := slices.Index(vec.Words, f[0]); i >= 0 && !slices.Equal(got, vec.Vector(i)) {
				t.Errorf("%q: Subwords and Vectors disagree", f[0])
			}
			for j, s := range f[1:] {
				x, _ := strconv.ParseFloat(s, 64)
				// fastText prints 5 significant digits.
				if d := math.Abs(float64(got[j]) - x); d > 5e-5*math.Abs(x)+1e-9 {
					t.Errorf("cbow %v: %q[%d] = %v here, %v by fastText", cbow, f[0], j, got[j], x)
				}
			}
			n++
		}
		if n != len(words) {
			t.Errorf("fastText printed %d words, want %d:\n%s", n, len(words), out)
		}
	}
}
