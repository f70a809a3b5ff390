package data

import (
	"bytes"
	"encoding/binary"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// checkExamples is what every reader promises of the examples it returns
// or of its error.
func checkExamples(t *testing.T, name string, ex []Example, err error) {
	if err != nil {
		if !strings.HasPrefix(err.Error(), name+":") {
			t.Fatalf("error %q does not start with %q", err, name+":")
		}
		return
	}
	if len(ex) == 0 {
		t.Fatalf("no examples and no error")
	}
	for _, e := range ex {
		if len(e.Labels) != 1 || e.Labels[0] == "" || strings.ContainsAny(e.Labels[0], "\t\n") {
			t.Fatalf("labels %q", e.Labels)
		}
		if !utf8.ValidString(e.Text) {
			t.Fatalf("text %q is not UTF-8", e.Text)
		}
	}
}

func FuzzReadTSV(f *testing.F) {
	f.Add([]byte("1\tgood\n0\tbad\n"))
	f.Add([]byte("label\ttext\r\npos\ta\tb\r\n"))
	f.Add([]byte("text\tlabel\nx\t1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ex, err := ReadTSV(bytes.NewReader(b), "f.tsv", LoadOptions{})
		checkExamples(t, "f.tsv", ex, err)
		if err != nil {
			return
		}
		// Written back without a header, the examples read the same,
		// unless a text holds a line break or could be read as a header.
		var out bytes.Buffer
		for _, e := range ex {
			if strings.ContainsAny(e.Text, "\r\n") || strings.TrimSpace(e.Text) != e.Text {
				return
			}
			out.WriteString(e.Labels[0] + "\t" + e.Text + "\n")
		}
		again, err := ReadTSV(&out, "g.tsv", LoadOptions{})
		if err != nil || !reflect.DeepEqual(labelled(again), labelled(ex)) {
			t.Fatalf("round trip: %+v, %v; want %+v", again, err, ex)
		}
	})
}

func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("text,label\n\"a, b\",1\nc,neg\n"))
	f.Add([]byte("\ufefflabel,text\n1,\"x\"\"y\"\n"))
	f.Add([]byte("text,label\n\"open\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ex, err := ReadCSV(bytes.NewReader(b), "f.csv", LoadOptions{})
		checkExamples(t, "f.csv", ex, err)
	})
}

func FuzzReadJSONL(f *testing.F) {
	f.Add([]byte("{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"label\": \"neg\"}\n"))
	f.Add([]byte("{\"text\": \"\\u00e9\", \"label\": true}"))
	f.Add([]byte("[1, 2]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ex, err := ReadJSONL(bytes.NewReader(b), "f.jsonl", LoadOptions{})
		checkExamples(t, "f.jsonl", ex, err)
	})
}

// checkVectors is what the vectors readers promise.
func checkVectors(t *testing.T, name string, v *Vectors, err error) {
	if err != nil {
		if !strings.HasPrefix(err.Error(), name+":") {
			t.Fatalf("error %q does not start with %q", err, name+":")
		}
		return
	}
	if v.Dim <= 0 || len(v.Words) == 0 || len(v.Values) != len(v.Words)*v.Dim {
		t.Fatalf("%d words of %d, %d values", len(v.Words), v.Dim, len(v.Values))
	}
	for _, x := range v.Values {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			t.Fatalf("value %v", x)
		}
	}
}

func FuzzReadVectorsText(f *testing.F) {
	f.Add([]byte("the 0.1 -2e3\nof 1 2\n"))
	f.Add([]byte("2 3\na 1 2 3 \nb 4 5 6 \n"))
	f.Add([]byte("x 1\r\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ReadVectorsText(bytes.NewReader(b), "f.txt")
		checkVectors(t, "f.txt", v, err)
		if err != nil {
			return
		}
		// Written back as GloVe text, the vectors read the same, unless
		// the first row could be read as a word2vec header.
		var out bytes.Buffer
		for i, w := range v.Words {
			out.WriteString(w)
			for _, x := range v.Vector(i) {
				out.WriteString(" " + strconv.FormatFloat(float64(x), 'g', -1, 32))
			}
			out.WriteString("\n")
		}
		if _, err := strconv.Atoi(v.Words[0]); err == nil && v.Dim == 1 {
			return
		}
		again, err := ReadVectorsText(&out, "g.txt")
		if err != nil || !reflect.DeepEqual(again, v) {
			t.Fatalf("round trip: %+v, %v; want %+v", again, err, v)
		}
	})
}

func FuzzReadWord2VecBinary(f *testing.F) {
	var b bytes.Buffer
	b.WriteString("2 2\n")
	b.WriteString("a ")
	binary.Write(&b, binary.LittleEndian, []float32{1, 2})
	b.WriteString("\nb ")
	binary.Write(&b, binary.LittleEndian, []float32{-1, 0.5})
	f.Add(b.Bytes())
	f.Add([]byte("1 1\nx \x00\x00\x80\x3f"))
	f.Add([]byte("3 100000\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ReadWord2VecBinary(bytes.NewReader(b), "f.bin")
		checkVectors(t, "f.bin", v, err)
		if err != nil {
			return
		}
		var out bytes.Buffer
		out.WriteString(strconv.Itoa(len(v.Words)) + " " + strconv.Itoa(v.Dim) + "\n")
		for i, w := range v.Words {
			out.WriteString(w + " ")
			binary.Write(&out, binary.LittleEndian, v.Vector(i))
		}
		again, err := ReadWord2VecBinary(&out, "g.bin")
		if err != nil || !reflect.DeepEqual(again, v) {
			t.Fatalf("round trip: %+v, %v; want %+v", again, err, v)
		}
	})
}

func FuzzWords(f *testing.F) {
	f.Add("Hello, World! ½ «x» \u00a0 İ")
	f.Fuzz(func(t *testing.T, s string) {
		words := Words(s)
		for _, w := range words {
			if w == "" || strings.IndexFunc(w, func(r rune) bool { return isSpaceOrPunct(r) }) >= 0 && utf8.RuneCountInString(w) > 1 {
				t.Fatalf("Words(%q) holds %q", s, w)
			}
		}
	})
}

func isSpaceOrPunct(r rune) bool {
	return isPunct(r) || strings.ContainsRune(" \t\n\r\v\f\u0085\u00a0\u3000", r)
}
