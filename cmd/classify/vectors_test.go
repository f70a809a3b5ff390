package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/classify/classify/data"
	"github.com/classify/classify/internal/shareddata"
)

func runVectors(args ...string) (status int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	status = run(&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}, args)
	return status, out.String(), errOut.String()
}

// vectorsCorpus writes a plain text corpus in which weekdays and numbers
// appear in disjoint contexts, and returns its folder.
func vectorsCorpus(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(1, 1))
	days := []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"}
	nums := []string{"two", "three", "four", "five", "six"}
	var b strings.Builder
	for n := range 600 {
		if n%2 == 0 {
			fmt.Fprintf(&b, "We met on %s, as on every %s.\n", days[r.IntN(5)], days[r.IntN(5)])
		} else {
			fmt.Fprintf(&b, "She bought %s apples and %s pears\n", nums[r.IntN(5)], nums[r.IntN(5)])
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestVectorsTrainWritesLoadableVectors(t *testing.T) {
	corpus := vectorsCorpus(t)
	for _, method := range []string{"skipgram", "cbow", "glove"} {
		out := filepath.Join(t.TempDir(), method+".txt")
		status, _, stderr := runVectors("vectors", "train", "--corpus", corpus, "--method", method,
			"--dim", "8", "--epochs", "3", "--min-count", "1", "--threads", "1", "--out", out)
		if status != 0 {
			t.Fatalf("%s: status %d, stderr:\n%s", method, status, stderr)
		}
		if !strings.Contains(stderr, "wrote 22 vectors of dimension 8") {
			t.Errorf("%s: stderr does not report the output:\n%s", method, stderr)
		}
		v, err := data.LoadVectors(out)
		if err != nil {
			t.Fatalf("%s: data.LoadVectors: %v", method, err)
		}
		// "on" comes twice in each weekday sentence, more than any other word.
		if v.Dim != 8 || len(v.Words) != 22 || v.Words[0] != "on" {
			t.Errorf("%s: %d words of dimension %d starting %v, want 22 of 8 starting with \"on\"", method, len(v.Words), v.Dim, v.Words[:3])
		}
		if slices.Contains(v.Words, "Monday") || !slices.Contains(v.Words, "monday") {
			t.Errorf("%s: words are not lowercased as data.Words does: %v", method, v.Words)
		}
	}
}

func TestVectorsTrainOneThreadIsReproducible(t *testing.T) {
	corpus := vectorsCorpus(t)
	dir := t.TempDir()
	var files [2][]byte
	for i := range files {
		out := filepath.Join(dir, fmt.Sprint(i))
		if status, _, stderr := runVectors("vectors", "train", "--corpus", corpus, "--dim", "8", "--epochs", "2",
			"--min-count", "1", "--threads", "1", "--seed", "7", "--out", out); status != 0 {
			t.Fatalf("status %d: %s", status, stderr)
		}
		files[i], _ = os.ReadFile(out)
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Errorf("two runs with --threads 1 --seed 7 wrote different files")
	}
}

func TestVectorsTrainOnDataForms(t *testing.T) {
	dir := t.TempDir()
	tsv := filepath.Join(dir, "d.tsv")
	os.WriteFile(tsv, []byte(strings.Repeat("1\tA good film.\n0\tA bad film!\n", 20)), 0o644)
	out := filepath.Join(dir, "v.txt")
	status, _, stderr := runVectors("vectors", "train", "--corpus", tsv, "--dim", "4", "--min-count", "1", "--threads", "1", "--out", out)
	if status != 0 {
		t.Fatalf("status %d: %s", status, stderr)
	}
	if !strings.Contains(stderr, "40 texts, 160 tokens, 6 words") {
		t.Errorf("stderr does not count the TSV's texts:\n%s", stderr)
	}
	v, err := data.LoadVectors(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "film", "!", ".", "bad", "good"}; !slices.Equal(v.Words, want) {
		t.Errorf("words = %v, want %v (by count, ties by byte order)", v.Words, want)
	}
}

func TestVectorsTrainOnRTPolarity(t *testing.T) {
	path := shareddata.Path(t, "rt-polarity")
	out := filepath.Join(t.TempDir(), "v.txt")
	status, _, stderr := runVectors("vectors", "train", "--corpus", path, "--dim", "10", "--epochs", "1", "--threads", "1", "--out", out)
	if status != 0 {
		t.Fatalf("status %d: %s", status, stderr)
	}
	if !strings.Contains(stderr, "10662 texts") {
		t.Errorf("stderr does not count the 10662 texts:\n%s", stderr)
	}
}

func TestVectorsTrainErrors(t *testing.T) {
	corpus := vectorsCorpus(t)
	out := filepath.Join(t.TempDir(), "v.txt")
	tests := []struct {
		name   string
		args   []string
		status int
		want   string
	}{
		{"no corpus", []string{"--out", out}, 2, "--corpus is required"},
		{"bad method", []string{"--corpus", corpus, "--method", "lsa"}, 2, `"lsa"`},
		{"bad dim", []string{"--corpus", corpus, "--dim", "0"}, 2, "dimension 0"},
		{"bad window", []string{"--corpus", corpus, "--window", "-1"}, 2, "window -1"},
		{"bad noise power", []string{"--corpus", corpus, "--noise-power", "-0.5"}, 2, "noise power -0.5"},
		{"bad min-count", []string{"--corpus", corpus, "--min-count", "0"}, 2, "--min-count 0"},
		{"bad threads", []string{"--corpus", corpus, "--threads", "0"}, 2, "--threads 0"},
		{"not a number", []string{"--corpus", corpus, "--dim", "ten"}, 2, "invalid value"},
		{"unknown flag", []string{"--corpus", corpus, "--size", "3"}, 2, "-size"},
		{"stray argument", []string{"--corpus", corpus, "extra"}, 2, "extra"},
		{"missing corpus", []string{"--corpus", "/no/such/corpus.txt", "--out", out}, 1, "/no/such/corpus.txt"},
		{"missing out folder", []string{"--corpus", corpus, "--out", "/no/such/dir/v.txt"}, 1, "/no/such/dir"},
		{"nothing frequent", []string{"--corpus", corpus, "--min-count", "100000", "--out", out}, 1, "no word is seen 100000 times"},
	}
	for _, tt := range tests {
		status, _, stderr := runVectors(append([]string{"vectors", "train"}, tt.args...)...)
		if status != tt.status || !strings.Contains(stderr, tt.want) {
			t.Errorf("%s: status %d, stderr %q; want status %d and %q", tt.name, status, stderr, tt.status, tt.want)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed run left %s", out)
	}
}

// handVectors are vectors whose neighbours and analogies are worked out by
// hand in wordvec's tests.
const handVectors = "man 1 0 0\nwoman 0 1 0\nking 1 0 1\nqueen 0 1 1\napple 0.5 0.5 -1\n"

func TestVectorsNeighborsAndAnalogy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.txt")
	os.WriteFile(path, []byte(handVectors), 0o644)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"neighbors", "--vectors", path, "--k", "2", "King"},
			"king\n  man     0.7071\n  queen   0.5000\n"},
		{[]string{"neighbors", "--vectors", path, "--k", "1", "--json", "man", "apple"},
			`{"word":"man","neighbors":[{"word":"king","similarity":0.7071067690849304}]}` + "\n" +
				`{"word":"apple","neighbors":[{"word":"man","similarity":0.40824830532073975}]}` + "\n"},
		{[]string{"analogy", "--vectors", path, "--k", "2", "man", "woman", "king"},
			"man : woman :: king\n  queen   0.9586\n  apple  -0.2292\n"},
	}
	for _, tt := range tests {
		status, stdout, stderr := runVectors(append([]string{"vectors"}, tt.args...)...)
		if status != 0 || stdout != tt.want {
			t.Errorf("vectors %v: status %d, stdout\n%s\nstderr %s\nwant\n%s", tt.args, status, stdout, stderr, tt.want)
		}
	}
}

func TestVectorsQueryErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.txt")
	os.WriteFile(path, []byte(handVectors), 0o644)
	tests := []struct {
		args   []string
		status int
		want   string
	}{
		{[]string{"neighbors", "--vectors", path}, 2, "at least one WORD"},
		{[]string{"neighbors", "king"}, 2, "--vectors is required"},
		{[]string{"neighbors", "--vectors", path, "--k", "0", "king"}, 2, "--k 0"},
		{[]string{"neighbors", "--vectors", path, "pear", "king"}, 1, `no vector for "pear"`},
		{[]string{"neighbors", "--vectors", "/no/such.txt", "king"}, 1, "/no/such.txt"},
		{[]string{"analogy", "--vectors", path, "man", "woman"}, 2, "three words"},
		{[]string{"analogy", "--vectors", path, "man", "pear", "plum"}, 1, `"pear", "plum"`},
	}
	for _, tt := range tests {
		status, _, stderr := runVectors(append([]string{"vectors"}, tt.args...)...)
		if status != tt.status || !strings.Contains(stderr, tt.want) {
			t.Errorf("vectors %v: status %d, stderr %q; want status %d and %q", tt.args, status, stderr, tt.status, tt.want)
		}
	}
}

// TestVectorsEval runs vectors eval on the hand-made vectors of
// wordvec.TestEvaluateAnalogies, whose answers were worked out by hand:
// woman - man + king is nearest queen, man - woman + queen nearest king,
// and a question with a word outside the first --max-vocab words or with
// no vector is skipped.
func TestVectorsEval(t *testing.T) {
	dir := t.TempDir()
	vec := filepath.Join(dir, "v.txt")
	os.WriteFile(vec, []byte("man 1 0 0\nwoman 0 1 0\nking 0.7071 0 0.7071\nqueen 0 0.7071 0.7071\napple 0 0 1\nzzz 0 0 -1\n"), 0o644)
	qs := filepath.Join(dir, "q.txt")
	os.WriteFile(qs, []byte(": family\nman woman king queen\nwoman man queen king\n: gram-test\nman king woman apple\nman king woman zzz\n: capital\nman xyz woman queen\n"), 0o644)
	status, stdout, stderr := runVectors("vectors", "eval", "--vectors", vec, "--analogies", qs, "--max-vocab", "5", "--json")
	if status != 0 {
		t.Fatalf("status %d: %s", status, stderr)
	}
	want := `{"overall":{"accuracy":0.6666666666666666,"correct":2,"answered":3,"skipped":2},` +
		`"semantic":{"accuracy":1,"correct":2,"answered":2,"skipped":1},` +
		`"syntactic":{"accuracy":0,"correct":0,"answered":1,"skipped":1},` +
		`"sections":[{"name":"family","accuracy":1,"correct":2,"answered":2,"skipped":0},` +
		`{"name":"gram-test","accuracy":0,"correct":0,"answered":1,"skipped":1},` +
		`{"name":"capital","accuracy":0,"correct":0,"answered":0,"skipped":1}],"mean_cosine":`
	if !strings.HasPrefix(stdout, want) {
		t.Errorf("vectors eval --json =\n%s\nwant\n%s...", stdout, want)
	}
	status, stdout, _ = runVectors("vectors", "eval", "--vectors", vec, "--analogies", qs, "--max-vocab", "5")
	if status != 0 || !strings.Contains(stdout, "overall") || !strings.Contains(stdout, "66.67%") {
		t.Errorf("vectors eval = %d\n%s", status, stdout)
	}
	status, _, stderr = runVectors("vectors", "eval", "--vectors", vec, "--analogies", filepath.Join(dir, "none.txt"))
	if status != 1 || !strings.Contains(stderr, "none.txt") {
		t.Errorf("missing analogies file: status %d, %s", status, stderr)
	}
}

// TestVectorsTrainFastText trains --method fasttext to a .bin model and to
// text, and checks that the model gives a word never seen a vector and
// that classify's defaults resolve per method.
func TestVectorsTrainFastText(t *testing.T) {
	corpus := vectorsCorpus(t)
	dir := t.TempDir()
	for _, out := range []string{filepath.Join(dir, "m.bin"), filepath.Join(dir, "m.txt")} {
		status, _, stderr := runVectors("vectors", "train", "--corpus", corpus, "--method", "fasttext", "--cbow",
			"--dim", "8", "--buckets", "1000", "--min-count", "1", "--threads", "1", "--out", out)
		if status != 0 {
			t.Fatalf("status %d: %s", status, stderr)
		}
		if !strings.Contains(stderr, "geometry: mean cosine") {
			t.Errorf("no geometry report:\n%s", stderr)
		}
	}
	v, err := data.LoadVectors(filepath.Join(dir, "m.bin"))
	if err != nil || v.Subwords == nil {
		t.Fatalf("LoadVectors(m.bin) = %v, %v; want a model with n-gram vectors", v, err)
	}
	x := make([]float32, v.Dim)
	if !v.Subwords.WordVector(x, "mondays") {
		t.Errorf("no vector for the unseen word mondays")
	}
	status, _, stderr := runVectors("vectors", "train", "--corpus", corpus, "--method", "cbow", "--buckets", "10", "--out", filepath.Join(dir, "c.txt"))
	if status != 2 || !strings.Contains(stderr, "--buckets is an option of --method fasttext") {
		t.Errorf("--buckets with cbow: status %d, %s", status, stderr)
	}
}

// TestReportGeometryWarns: vectors that all point one way (GloVe after a
// few epochs) get a warning, orthogonal ones none.
func TestReportGeometryWarns(t *testing.T) {
	for _, tt := range []struct {
		values []float32
		warn   bool
	}{
		{[]float32{1, 0.1, 1, 0.2, 1, 0.15}, true},
		{[]float32{1, 0, 0, 1, -1, 0}, false},
	} {
		var b bytes.Buffer
		reportGeometry(&env{stderr: &b}, &data.Vectors{Words: []string{"a", "b", "c"}, Dim: 2, Values: tt.values})
		if got := strings.Contains(b.String(), "warning: the vectors crowd together"); got != tt.warn || !strings.Contains(b.String(), "geometry: mean cosine") {
			t.Errorf("vectors %v: warning %v, want %v:\n%s", tt.values, got, tt.warn, b.String())
		}
	}
}
