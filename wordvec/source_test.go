package wordvec

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/classify/classify/data"
)

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func gzipped(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

func sentences(t *testing.T, s *Source) []string {
	t.Helper()
	var got []string
	if err := s.Each(func(words []string) { got = append(got, strings.Join(words, " ")) }); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestSourcePlainTextFolder(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "b.txt"), []byte("\ufeffThe Cat sat.\r\nOn the MAT!\n\n"))
	writeFile(t, filepath.Join(dir, "a", "c.txt.gz"), gzipped("Zürich, Tuesday"))
	writeFile(t, filepath.Join(dir, ".hidden.txt"), []byte("secret"))
	writeFile(t, filepath.Join(dir, ".git", "x"), []byte("secret"))
	s, err := OpenSource(dir, dataLoadOptions)
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []string{filepath.Join(dir, "a", "c.txt.gz"), filepath.Join(dir, "b.txt")}
	if !slices.Equal(s.Files(), wantFiles) {
		t.Errorf("Files() = %v, want %v", s.Files(), wantFiles)
	}
	want := []string{"zürich , tuesday", "the cat sat .", "on the mat !", ""}
	if got := sentences(t, s); !slices.Equal(got, want) {
		t.Errorf("sentences = %q, want %q", got, want)
	}
}

func TestSourceDatasetForms(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "d.tsv"), []byte("label\ttext\n1\tFine film.\n0\tDull\n"))
	writeFile(t, filepath.Join(dir, "classes", "pos", "1.txt"), []byte("Loved it"))
	writeFile(t, filepath.Join(dir, "classes", "neg", "1.txt"), []byte("Hated it"))
	tests := []struct {
		path string
		want []string
	}{
		{filepath.Join(dir, "d.tsv"), []string{"fine film .", "dull"}},
		{filepath.Join(dir, "classes"), []string{"hated it", "loved it"}}, // classes in byte order
	}
	for _, tt := range tests {
		s, err := OpenSource(tt.path, dataLoadOptions)
		if err != nil {
			t.Fatal(err)
		}
		if got := sentences(t, s); !slices.Equal(got, tt.want) || s.Texts() != len(tt.want) {
			t.Errorf("OpenSource(%s) sentences = %q (%d texts), want %q", tt.path, got, s.Texts(), tt.want)
		}
	}
}

func TestSourceErrorsNamePath(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "bad.tsv"), []byte("1\tok\n\ttext\n"))
	os.Mkdir(filepath.Join(dir, "empty"), 0o755)
	for _, tt := range []struct{ path, want string }{
		{filepath.Join(dir, "missing.txt"), "missing.txt"},
		{filepath.Join(dir, "bad.tsv"), "bad.tsv:2"},
		{filepath.Join(dir, "empty"), "no file"},
	} {
		_, err := OpenSource(tt.path, dataLoadOptions)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("OpenSource(%s) error = %v, want one naming %q", tt.path, err, tt.want)
		}
	}
	writeFile(t, filepath.Join(dir, "bad.gz"), []byte("not gzip"))
	s, err := OpenSource(filepath.Join(dir, "bad.gz"), dataLoadOptions)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Each(func([]string) {}); err == nil || !strings.Contains(err.Error(), "bad.gz") {
		t.Errorf("reading a bad .gz: error %v, want one naming the file", err)
	}
}

func TestSourceCountsAndCooccurrence(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "t.txt"), []byte("a b a c\nd\n"))
	s, _ := OpenSource(filepath.Join(dir, "t.txt"), dataLoadOptions)
	c, err := s.Count()
	if err != nil {
		t.Fatal(err)
	}
	v := c.Vocabulary(1)
	if !slices.Equal(v.Words, []string{"a", "b", "c", "d"}) || c.Tokens() != 5 {
		t.Errorf("vocabulary %v from %d tokens, want [a b c d] from 5", v.Words, c.Tokens())
	}
	x, err := s.Cooccurrence(v, 2)
	if err != nil {
		t.Fatal(err)
	}
	// As TestCooccurrenceByHand: "a b a c" with window 2.
	if x.Len() != 4 || x.At(0, 1) != 2 || x.At(0, 0) != 1 || x.At(1, 2) != 0.5 || x.At(0, 2) != 1 {
		t.Errorf("co-occurrences: %d pairs, X[a][b] %g, X[a][a] %g, X[b][c] %g, X[a][c] %g; want 4, 2, 1, 0.5, 1",
			x.Len(), x.At(0, 1), x.At(0, 0), x.At(1, 2), x.At(0, 2))
	}
	corpus, err := s.Corpus(v)
	if err != nil {
		t.Fatal(err)
	}
	if corpus.Tokens() != 5 || corpus.Sentences() != 2 {
		t.Errorf("corpus of %d tokens in %d sentences, want 5 in 2", corpus.Tokens(), corpus.Sentences())
	}
}

func TestEachLineCutsLongLinesAtSpaces(t *testing.T) {
	in := "aaaa bbbb cccc dddd eeee ffff gggg hhhh\nshort\n" + strings.Repeat("x", 40) + " é\n"
	var got []string
	if err := eachLine(strings.NewReader(in), 16, func(l []byte) { got = append(got, string(l)) }); err != nil {
		t.Fatal(err)
	}
	for _, s := range got[:2] {
		if !strings.HasSuffix(s, " ") {
			t.Errorf("piece %q of a long line is not cut after a space", s)
		}
	}
	if strings.Join(got, "") != strings.ReplaceAll(in, "\n", "") {
		t.Errorf("pieces %q do not add up to the input", got)
	}
	if !slices.Contains(got, "short") {
		t.Errorf("pieces %q lack the line \"short\"", got)
	}
}

// FuzzEachLine checks that the pieces of any input add up to it, less
// its line breaks and a leading byte order mark, and that no piece grows
// past twice the limit.
func FuzzEachLine(f *testing.F) {
	for _, s := range []string{"", "a\nb", "\ufeffx y\n\n", strings.Repeat("ab ", 30), strings.Repeat("é", 40), "\n\n\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var got []byte
		err := eachLine(strings.NewReader(in), 16, func(l []byte) {
			if len(l) > 32 {
				t.Errorf("piece of %d bytes, limit 16", len(l))
			}
			got = append(got, l...)
		})
		if err != nil {
			t.Fatal(err)
		}
		want := strings.ReplaceAll(strings.TrimPrefix(in, "\ufeff"), "\n", "")
		if string(got) != want {
			t.Errorf("pieces add up to %q, want %q", got, want)
		}
	})
}

var dataLoadOptions = data.LoadOptions{}

func ExampleCooccurrence_AddSentence() {
	x := NewCooccurrence()
	// Ids of "the cat saw the dog", window 2: pairs at distance d count 1/d.
	x.AddSentence([]int32{0, 1, 2, 0, 3}, 2)
	x.Each(func(i, j int32, v float32) { fmt.Printf("X[%d][%d] = %g\n", i, j, v) })
	// Output:
	// X[0][1] = 1.5
	// X[0][2] = 1.5
	// X[0][3] = 1
	// X[1][2] = 1
	// X[2][3] = 0.5
}
