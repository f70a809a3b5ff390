package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/classify/classify/internal/shareddata"
)

func gzipFile(t testing.TB, src, dst string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write(b)
	w.Close()
	if err := os.WriteFile(dst, z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestLoadVectorsShared reads the shared vectors files, plain and gzipped,
// and checks their sizes and rows against the values PROVENANCE.md and a
// Python struct.unpack of the binary file give.
func TestLoadVectorsShared(t *testing.T) {
	type row struct {
		i      int
		word   string
		prefix []float32
	}
	tests := []struct {
		rel        string
		words, dim int
		rows       []row
	}{
		{"glove/glove.6B.50d.top10k.txt", 10000, 50, []row{
			{0, "the", []float32{0.418, 0.24968, -0.41242, 0.1217, 0.34527, -0.044457, -0.49688}},
			{9999, "quinn", []float32{-0.5964, -0.039918, -0.1613}},
		}},
		{"vectors/pang_lee_polarity_fasttext.vec", 1694, 100, []row{
			{0, ".", []float32{-0.0073677, 0.0085351, -0.006796}},
			{148, "\x97", []float32{0.0054846, 0.0010591, -0.0079064}}, // line 150: not UTF-8, kept as bytes
			{282, "clich\xe9s", []float32{-0.0099574, -0.0099717, -0.009471}},
		}},
		{"vectors/euclidean_vectors.bin", 2747, 10, []row{
			{0, "the", []float32{0.4214532673358917, 0.9343558549880981, -0.05091386288404465, 0.5933176875114441}},
			{2746, "fly", []float32{0.7000359892845154, 0.8302576541900635, -0.49669528007507324}},
		}},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		src := shareddata.Path(t, tt.rel)
		for _, p := range []string{src, gzipFile(t, src, filepath.Join(dir, filepath.Base(src)+".gz"))} {
			v, err := LoadVectors(p)
			if err != nil {
				t.Fatalf("LoadVectors(%s): %v", p, err)
			}
			if len(v.Words) != tt.words || v.Dim != tt.dim || len(v.Values) != tt.words*tt.dim {
				t.Errorf("LoadVectors(%s) = %d words of %d (%d values), want %d of %d", p, len(v.Words), v.Dim, len(v.Values), tt.words, tt.dim)
				continue
			}
			for _, r := range tt.rows {
				if v.Words[r.i] != r.word {
					t.Errorf("%s: word %d = %q, want %q", p, r.i, v.Words[r.i], r.word)
				}
				if got := v.Vector(r.i)[:len(r.prefix)]; !reflect.DeepEqual(got, r.prefix) {
					t.Errorf("%s: vector of %q starts %v, want %v", p, r.word, got, r.prefix)
				}
			}
		}
	}
}

func TestLoadVectorsErrors(t *testing.T) {
	bin := func(header string, recs ...any) string {
		var b bytes.Buffer
		b.WriteString(header)
		for _, r := range recs {
			switch r := r.(type) {
			case string:
				b.WriteString(r)
			case []float32:
				binary.Write(&b, binary.LittleEndian, r)
			}
		}
		return b.String()
	}
	tests := []struct {
		name, content, want string
	}{
		{"short.txt", "a 1 2 3\nb 1 2\n", "short.txt:2: row of \"b\" has 2 values, want 3"},
		{"long.txt", "2 2\na 1 2\nb 1 2 3\n", "long.txt:3: row of \"b\" has 3 values, want 2"},
		{"empty.txt", "", "empty.txt:1: no vectors"},
		{"word.txt", "lonely\n", "word.txt:1: row has 0 values"},
		{"nan.txt", "a 1 nan\n", "nan.txt:1: value 2 of \"a\", \"nan\", is not a finite number"},
		{"junk.txt", "a 1 x2\n", "junk.txt:1: value 2 of \"a\""},
		{"count.vec", "3 2\na 1 2\nb 1 2\n", "count.vec:3: the header says 3 vectors, the file holds 2"},
		{"more.vec", "1 2\na 1 2\nb 1 2\n", "more.vec:3: more rows than the header's count 1"},
		{"header.vec", "1 0\n", "header.vec:1: header"},
		{"empty.bin", "", "empty.bin:1: no vectors"},
		{"header.bin", "two 2\n", "header.bin:1: header"},
		{"huge.bin", "99999999999 99999999999\n", "huge.bin:1: header"},
		{"cut.bin", bin("2 2\n", "a ", []float32{1, 2}, "b ", []float32{1}), "cut.bin: record 2 of 2 (\"b\"): the file ends inside the vector"},
		{"word.bin", bin("2 2\n", "a ", []float32{1, 2}, "bbb"), "word.bin: record 2 of 2: the file ends inside the word"},
		{"nan.bin", bin("1 2\n", "a ", []float32{1, float32(math.NaN())}), "nan.bin: record 1 of 1 (\"a\"): value 2 is not a finite number"},
		{"extra.bin", bin("1 2\n", "a ", []float32{1, 2}, "b "), "extra.bin: data after the 1 records"},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		p := writeTestFile(t, dir, tt.name, tt.content)
		_, err := LoadVectors(p)
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, tt.want)) {
			t.Errorf("LoadVectors(%s) error = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestReadVectorsFormats(t *testing.T) {
	want := &Vectors{Words: []string{"a", "b"}, Dim: 2, Values: []float32{1, -2, 0.5, 3e-3}}
	var b bytes.Buffer
	b.WriteString("2 2\n")
	for i, w := range want.Words {
		b.WriteString(w + " ")
		binary.Write(&b, binary.LittleEndian, want.Vector(i))
		if i == 0 {
			b.WriteString("\n") // some writers put one between records
		}
	}
	tests := []struct {
		name, content string
	}{
		{"glove.txt", "a 1 -2\nb 0.5 3e-3\n"},
		{"crlf.txt", "a 1 -2\r\nb 0.5 3e-3"},
		{"fasttext.vec", "2 2\na 1 -2 \nb 0.5 3e-3 \n\n"},
		{"tabs.txt", "a\t1\t-2\nb 0.5  3e-3\n"},
		{"w2v.bin", b.String()},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		got, err := LoadVectors(writeTestFile(t, dir, tt.name, tt.content))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("LoadVectors(%s) = %+v, %v; want %+v", tt.name, got, err, want)
		}
	}
}

func TestEmbeddingMatrix(t *testing.T) {
	vocab, _ := NewVocabulary([]string{"good", "zzz", "bad"})
	vec := &Vectors{Words: []string{"bad", "good", "[UNK]", "good"}, Dim: 2, Values: []float32{1, 2, 3, 4, 5, 6, 7, 8}}
	m, found := EmbeddingMatrix(vocab, vec, 42)
	if found != 2 {
		t.Errorf("found = %d, want 2", found)
	}
	for _, c := range []struct {
		id   int
		want []float32
	}{{0, []float32{0, 0}}, {2, []float32{3, 4}}, {4, []float32{1, 2}}} {
		if got := m[c.id*2 : c.id*2+2]; !reflect.DeepEqual(got, c.want) {
			t.Errorf("row %d (%s) = %v, want %v", c.id, vocab.Word(c.id), got, c.want)
		}
	}
	for _, id := range []int{1, 3} { // [UNK] and zzz: drawn
		for _, x := range m[id*2 : id*2+2] {
			if x < -0.05 || x >= 0.05 || x == 0 {
				t.Errorf("row %d (%s) = %v, want U(-0.05, 0.05)", id, vocab.Word(id), m[id*2:id*2+2])
			}
		}
	}
	// The random rows do not depend on which words vec covers.
	m2, _ := EmbeddingMatrix(vocab, &Vectors{Dim: 2}, 42)
	if !reflect.DeepEqual(m[2:4], m2[2:4]) || !reflect.DeepEqual(m[6:8], m2[6:8]) {
		t.Errorf("OOV rows differ with the vectors: %v vs %v", m, m2)
	}
	m3, _ := EmbeddingMatrix(vocab, vec, 43)
	if reflect.DeepEqual(m, m3) {
		t.Errorf("seeds 42 and 43 give the same matrix")
	}
}

// TestRTPolarityGolden checks the vocabulary, coverage and lengths of
// rt-polarity against an independent Python implementation of the SPEC
// tokenization (str.lower per character, str.isspace, string.punctuation
// or unicodedata category P), run on the shared TSVs.
func TestRTPolarityGolden(t *testing.T) {
	train, err := LoadFile(shareddata.Path(t, "rt-polarity/train.tsv"), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v := BuildVocabulary(Texts(train), 0)
	if got, want := v.Len()-2, 16595; got != want {
		t.Errorf("train.tsv: %d distinct words, want %d", got, want)
	}
	wantFirst := []string{"[PAD]", "[UNK]", ".", "the", ",", "a", "and", "of", "'", "-", "to", "s", "it", "is"}
	if got := v.Words()[:len(wantFirst)]; !reflect.DeepEqual(got, wantFirst) {
		t.Errorf("train.tsv: vocabulary starts %q, want %q", got, wantFirst)
	}
	capped := BuildVocabulary(Texts(train), 10000)
	if got, want := capped.Words()[9997:], []string{"chopsocky", "choquart", "chords"}; capped.Len() != 10000 || !reflect.DeepEqual(got, want) {
		t.Errorf("vocabulary of 10000: %d ids ending %q, want 10000 ending %q", capped.Len(), got, want)
	}

	glove, err := LoadVectors(shareddata.Path(t, "glove/glove.6B.50d.top10k.txt"))
	if err != nil {
		t.Fatal(err)
	}
	all := Texts(rtPolarity(t))
	got := MeasureCoverage(all, glove)
	want := Coverage{Tokens: 244207, TokensFound: 210606, Words: 18396, WordsFound: 6161}
	if got != want {
		t.Errorf("MeasureCoverage(rt-polarity, glove top10k) = %+v, want %+v", got, want)
	}
	_, found := EmbeddingMatrix(capped, glove, 42)
	if want := 4720; found != want {
		t.Errorf("EmbeddingMatrix(vocabulary of 10000, glove top10k): %d words found, want %d", found, want)
	}
}

// allocated returns the bytes fn allocates.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestVectorsHeaderClaims loads the 26-byte files of issue 11, whose
// header claims 2^20 rows of 2^16 values (256 GiB): each must fail with an
// error naming the file, after allocating a few MiB at most. Before the
// fix the readers reserved min(count, 2^20)*dim values and the runtime
// died of it.
func TestVectorsHeaderClaims(t *testing.T) {
	dir := t.TempDir()
	var bin bytes.Buffer
	bin.WriteString("1048576 65536\nthe ")
	binary.Write(&bin, binary.LittleEndian, []float32{0.1, 0.2})
	files := map[string]string{
		"b.vec": "1048576 65536\nthe 0.1 0.2\n",
		"b.bin": bin.String(),
	}
	for name, content := range files {
		for _, p := range []string{writeTestFile(t, dir, name, content), gzipFile(t, writeTestFile(t, dir, "z"+name, content), filepath.Join(dir, name+".gz"))} {
			var err error
			n := allocated(func() { _, err = LoadVectors(p) })
			if err == nil || !strings.HasPrefix(err.Error(), p+":") {
				t.Errorf("LoadVectors(%s) error = %v, want one naming the file", filepath.Base(p), err)
			}
			if n > 16<<20 {
				t.Errorf("LoadVectors(%s) allocated %d MiB, want at most 16", filepath.Base(p), n>>20)
			}
		}
	}
	// A header that the file could hold is fine when it is honest...
	p := writeTestFile(t, dir, "ok.vec", "1 2\nthe 0.1 0.2\n")
	if v, err := LoadVectors(p); err != nil || len(v.Words) != 1 {
		t.Errorf("LoadVectors(ok.vec) = %v, %v; want one vector", v, err)
	}
	// ...and one that claims more than the file holds is an error.
	p = writeTestFile(t, dir, "big.vec", "100 2\nthe 0.1 0.2\n")
	if _, err := LoadVectors(p); err == nil || !strings.Contains(err.Error(), "the header says 100 vectors, the file holds 1") {
		t.Errorf("LoadVectors(big.vec) error = %v, want the count check", err)
	}
}

// FuzzVectorsHeader feeds both readers a header "count dim" of any size
// followed by any rows, from memory and from a file, and checks that what
// they allocate follows the input's size, not the header's claims.
func FuzzVectorsHeader(f *testing.F) {
	f.Add(uint32(1048576), uint32(65536), []byte("the 0.1 0.2\n"), false)
	f.Add(uint32(1048576), uint32(65536), []byte("the \xcd\xcc\xcc\x3d\xcd\xcc\x4c\x3e"), true)
	f.Add(uint32(2), uint32(2), []byte("a 1 2\nb 3 4\n"), false)
	f.Add(uint32(1), uint32(1), []byte("x \x00\x00\x80\x3f"), true)
	f.Add(uint32(4000), uint32(1000), []byte(""), true)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, count, dim uint32, body []byte, binaryForm bool) {
		b := append([]byte(strconv.FormatUint(uint64(count), 10)+" "+strconv.FormatUint(uint64(dim), 10)+"\n"), body...)
		read := ReadVectorsText
		name := "f.vec"
		if binaryForm {
			read, name = ReadWord2VecBinary, "f.bin"
		}
		limit := uint64(32*len(b)) + 8<<20
		var v *Vectors
		var err error
		if n := allocated(func() { v, err = read(bytes.NewReader(b), name) }); n > limit {
			t.Fatalf("%s from memory: %d bytes allocated for %d bytes of input", name, n, len(b))
		}
		checkVectors(t, name, v, err)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		fh, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		var w *Vectors
		if n := allocated(func() { w, err = read(fh, p) }); n > limit {
			t.Fatalf("%s from a file: %d bytes allocated for %d bytes of input", name, n, len(b))
		}
		if err == nil && v != nil && !reflect.DeepEqual(v, w) {
			t.Fatalf("from a file %+v, from memory %+v", w, v)
		}
	})
}
