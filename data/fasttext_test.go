package data

import (
	"bufio"
	"bytes"
	"hash/fnv"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// printedVectors reads the output of "fasttext print-word-vectors": a word
// and its values a line.
func printedVectors(t *testing.T, b []byte) (words []string, vecs [][]float64) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			t.Fatalf("print-word-vectors line %q", sc.Text())
		}
		vec := make([]float64, len(f)-1)
		for i, s := range f[1:] {
			x, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatal(err)
			}
			vec[i] = x
		}
		words = append(words, f[0])
		vecs = append(vecs, vec)
	}
	return words, vecs
}

// checkAgainstFastText loads model with LoadVectors and compares the vector
// of every word that fastText printed, in its vocabulary or not, within
// 1e-5 and within the 5 significant digits that fastText prints.
func checkAgainstFastText(t *testing.T, model string, printed []byte) {
	t.Helper()
	v, err := LoadVectors(model)
	if err != nil {
		t.Fatal(err)
	}
	if v.Subwords == nil {
		t.Fatalf("%s: no subword vectors", model)
	}
	idx := v.Index()
	words, want := printedVectors(t, printed)
	var in, out int
	for k, w := range words {
		got := make([]float32, v.Dim)
		if i, ok := idx[w]; ok {
			copy(got, v.Vector(i))
			in++
		} else {
			v.Subwords.WordVector(got, w)
			out++
		}
		if len(want[k]) != v.Dim {
			t.Fatalf("%q: fastText printed %d values, the model has dimension %d", w, len(want[k]), v.Dim)
		}
		for j, x := range want[k] {
			if d := math.Abs(float64(got[j]) - x); d > 1e-5 || d > 1e-4*math.Abs(x)+1e-9 {
				t.Errorf("%s: vector of %q [%d] = %v, fastText prints %v", filepath.Base(model), w, j, got[j], x)
			}
		}
	}
	if in == 0 || out == 0 {
		t.Errorf("%d words in the vocabulary and %d outside: want both", in, out)
	}
}

// TestReadFastTextModel compares the vectors of a model made by Debian's
// fastText 0.9.2 ("fasttext skipgram -dim 8 -minn 2 -maxn 5 -bucket 500
// -epoch 40 -lr 0.2 -minCount 2 -seed 1" on testdata/fasttext/corpus.txt)
// with what "fasttext print-word-vectors" printed for words in and out of
// its vocabulary (ASCII and not), testdata/fasttext/vectors.txt.
func TestReadFastTextModel(t *testing.T) {
	printed, err := os.ReadFile("testdata/fasttext/vectors.txt")
	if err != nil {
		t.Fatal(err)
	}
	checkAgainstFastText(t, "testdata/fasttext/model.bin", printed)
	// Gzipped, the same.
	gz := gzipFile(t, "testdata/fasttext/model.bin", filepath.Join(t.TempDir(), "model.bin.gz"))
	checkAgainstFastText(t, gz, printed)
}

// TestReadFastTextModelLive trains fresh models with the fasttext command
// when it is installed (CBOW and skip-gram, other n-gram lengths, and
// words alone) and compares again.
func TestReadFastTextModelLive(t *testing.T) {
	ft, err := exec.LookPath("fasttext")
	if err != nil {
		t.Skip("fasttext is not installed (apt-get install fasttext); the committed model is checked by TestReadFastTextModel")
	}
	if testing.Short() {
		t.Skip("-short: fasttext's runs take seconds each on a loaded machine")
	}
	dir := t.TempDir()
	words, _ := os.ReadFile("testdata/fasttext/words.txt")
	for _, args := range [][]string{
		{"cbow", "-dim", "5", "-minn", "3", "-maxn", "6", "-bucket", "2000"},
		{"skipgram", "-dim", "7", "-minn", "1", "-maxn", "3", "-bucket", "300"},
		{"skipgram", "-dim", "4", "-minn", "0", "-maxn", "0"},
	} {
		out := filepath.Join(dir, args[0]+args[2])
		cmd := exec.Command(ft, append(args, "-input", "testdata/fasttext/corpus.txt", "-output", out, "-epoch", "20", "-lr", "0.2", "-minCount", "2", "-thread", "1")...)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", cmd, err, b)
		}
		pr := exec.Command(ft, "print-word-vectors", out+".bin")
		pr.Stdin = bytes.NewReader(words)
		printed, err := pr.Output()
		if err != nil {
			t.Fatalf("%v: %v", pr, err)
		}
		if args[4] == "0" {
			// No n-grams: words outside the vocabulary get zeros.
			v, err := LoadVectors(out + ".bin")
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float32, v.Dim)
			if v.Subwords.WordVector(got, "unseen") {
				t.Errorf("word-only model: %q got a vector %v", "unseen", got)
			}
		}
		// Word-only too: words of the vocabulary get their rows, the
		// others the zeros that fastText prints.
		checkAgainstFastText(t, out+".bin", printed)
	}
}

// TestFastTextHash checks the hash against FNV-1a of hash/fnv on ASCII,
// where the sign extension changes nothing, and on a byte >= 0x80 by hand:
// fastText xors 0xffffffc3 for the byte 0xc3, FNV-1a 0xc3.
func TestFastTextHash(t *testing.T) {
	for _, s := range []string{"", "a", "<fi", "film>", "the quick brown fox"} {
		h := fnv.New32a()
		h.Write([]byte(s))
		if got, want := FastTextHash(s), h.Sum32(); got != want {
			t.Errorf("FastTextHash(%q) = %#x, want %#x", s, got, want)
		}
	}
	basis, prime := uint32(2166136261), uint32(16777619)
	want := (basis ^ 0xffffffc3) * prime
	if got := FastTextHash("\xc3"); got != want {
		t.Errorf("FastTextHash(\"\\xc3\") = %#x, want %#x", got, want)
	}
}

// TestNgramBuckets lists the n-grams of a word by hand: "<ab>" with
// lengths 1 to 3 has a, b (the bare < and > are left out), <a, ab, b>,
// <ab, ab>; "é" is one character.
func TestNgramBuckets(t *testing.T) {
	const buckets = 1 << 30
	hash := func(grams ...string) []int {
		var out []int
		for _, g := range grams {
			out = append(out, int(FastTextHash(g)%buckets))
		}
		return out
	}
	tests := []struct {
		word       string
		minn, maxn int
		want       []int
	}{
		{"ab", 1, 3, hash("<a", "<ab", "a", "ab", "ab>", "b", "b>")},
		{"ab", 2, 2, hash("<a", "ab", "b>")},
		{"é", 2, 3, hash("<é", "<é>", "é>")},
		{"ab", 0, 0, nil},
	}
	for _, tt := range tests {
		got := NgramBuckets(nil, tt.word, tt.minn, tt.maxn, buckets)
		if !slicesEqual(got, tt.want) {
			t.Errorf("NgramBuckets(%q, %d, %d) = %v, want %v", tt.word, tt.minn, tt.maxn, got, tt.want)
		}
	}
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestEmbeddingMatrixSubwords gives a vocabulary word that the model lacks
// its n-gram vector, as fastText would.
func TestEmbeddingMatrixSubwords(t *testing.T) {
	v, err := LoadVectors("testdata/fasttext/model.bin")
	if err != nil {
		t.Fatal(err)
	}
	vocab, _ := NewVocabulary([]string{"film", "unseen"})
	m, found := EmbeddingMatrix(vocab, v, 1)
	if found != 2 {
		t.Errorf("found = %d, want 2 (film from the vocabulary, unseen from its n-grams)", found)
	}
	want := make([]float32, v.Dim)
	v.Subwords.WordVector(want, "unseen")
	id := vocab.ID("unseen")
	if got := m[id*v.Dim : (id+1)*v.Dim]; !float32sEqual(got, want) {
		t.Errorf("row of unseen = %v, want %v", got, want)
	}
}

func float32sEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestReadFastTextModelErrors cuts the model anywhere and flips its
// quantization flag: every file is an error naming it, none a panic.
func TestReadFastTextModelErrors(t *testing.T) {
	b, err := os.ReadFile("testdata/fasttext/model.bin")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "cut.bin")
	for _, n := range []int{4, 8, 30, 60, 61, 100, 400, len(b) / 2} {
		os.WriteFile(p, b[:n], 0o644)
		if _, err := LoadVectors(p); err == nil || !strings.HasPrefix(err.Error(), p+":") {
			t.Errorf("model cut at %d bytes: error %v, want one naming the file", n, err)
		}
	}
	// A header claiming 2^28 buckets in an 18 kB file is refused before
	// anything is allocated for them.
	huge := bytes.Clone(b)
	copy(huge[8+8*4:], []byte{0, 0, 0, 0x10})
	os.WriteFile(p, huge, 0o644)
	if _, err := LoadVectors(p); err == nil || !strings.Contains(err.Error(), "input matrix") {
		t.Errorf("2^28 buckets: error %v, want the input matrix refused", err)
	}
}

// FuzzReadFastTextModel reads any bytes after a fastText magic number and
// version: an error or vectors, never a panic or an allocation out of
// proportion to the input.
func FuzzReadFastTextModel(f *testing.F) {
	b, err := os.ReadFile("testdata/fasttext/model.bin")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b[:200])
	f.Add(b[:len(b)/3])
	f.Fuzz(func(t *testing.T, b []byte) {
		var v *Vectors
		var err error
		limit := uint64(64*len(b)) + 8<<20
		if n := allocated(func() { v, err = ReadFastTextModel(bytes.NewReader(b), "f.bin", -1) }); n > limit {
			t.Fatalf("%d bytes allocated for %d bytes of input", n, len(b))
		}
		if err == nil && len(v.Values) != len(v.Words)*v.Dim {
			t.Fatalf("%d words of %d, %d values", len(v.Words), v.Dim, len(v.Values))
		}
	})
}

// TestMeasureCoverageSubwords: a fastText model covers words outside its
// vocabulary through their n-grams.
func TestMeasureCoverageSubwords(t *testing.T) {
	v, err := LoadVectors("testdata/fasttext/model.bin")
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"the film unseenword", "film"}
	if got, want := MeasureCoverage(texts, v), (Coverage{Tokens: 4, TokensFound: 4, Words: 3, WordsFound: 3}); got != want {
		t.Errorf("MeasureCoverage with n-grams = %+v, want %+v", got, want)
	}
	v.Subwords = nil
	if got, want := MeasureCoverage(texts, v), (Coverage{Tokens: 4, TokensFound: 3, Words: 3, WordsFound: 2}); got != want {
		t.Errorf("MeasureCoverage without n-grams = %+v, want %+v", got, want)
	}
}
