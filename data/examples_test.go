package data

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/classify/classify/internal/shareddata"
)

func TestParseLabel(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"0", 0, true}, {"1", 1, true}, {"neg", 0, true}, {"POS", 1, true},
		{"Negative", 0, true}, {" positive ", 1, true},
		{"2", 0, false}, {"", 0, false}, {"yes", 0, false}, {"1.0", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseLabel(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseLabel(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestSplitLast(t *testing.T) {
	ex := make([]Example, 10)
	for i := range ex {
		ex[i].Label = i
	}
	tests := []struct {
		fraction      float64
		ntrain, first int
	}{{0.1, 9, 9}, {0.25, 7, 7}, {0, 10, -1}, {1, 0, 0}} // Keras: int(10*(1-0.25)) = 7
	for _, tt := range tests {
		train, val := SplitLast(ex, tt.fraction)
		if len(train) != tt.ntrain || len(train)+len(val) != 10 || (len(val) > 0 && val[0].Label != tt.first) {
			t.Errorf("SplitLast(10, %v) = %d train, %d val; want %d train, val from %d", tt.fraction, len(train), len(val), tt.ntrain, tt.first)
		}
	}
	a, _ := SplitSeeded(ex, 0.2, 7)
	b, _ := SplitSeeded(ex, 0.2, 7)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("SplitSeeded with the same seed differs: %v, %v", a, b)
	}
}

func writeTestFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReaders(t *testing.T) {
	want := []Example{{"good, \"really\"", 1}, {"bad\tfilm", 0}, {"", 1}}
	tests := []struct {
		name, content string
		opts          LoadOptions
	}{
		{"a.tsv", "1\tgood, \"really\"\n0\tbad\tfilm\n\npos\t\n", LoadOptions{}},
		{"header.tsv", "\ufefflabel\ttext\r\n1\tgood, \"really\"\r\nneg\tbad\tfilm\r\nPOSITIVE\t", LoadOptions{}},
		{"swapped.tsv", "text\tlabel\ngood, \"really\"\t1\nbad\tfilm\t0\n\t1\n", LoadOptions{}},
		{"a.csv", "id,text,label\n1,\"good, \"\"really\"\"\",1\n2,\"bad\tfilm\",negative\n3,,pos\n", LoadOptions{}},
		{"cols.csv", "review,sentiment\n\"good, \"\"really\"\"\",1\n\"bad\tfilm\",0\n\"\",1\n", LoadOptions{TextColumn: "review", LabelColumn: "sentiment"}},
		{"a.jsonl", "{\"text\": \"good, \\\"really\\\"\", \"label\": 1}\n{\"label\": \"neg\", \"text\": \"bad\\tfilm\"}\n\n{\"text\": \"\", \"label\": true}\n", LoadOptions{}},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		got, err := Load(writeTestFile(t, dir, tt.name, tt.content), tt.opts)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Load(%s) = %+v, %v; want %+v", tt.name, got, err, want)
		}
	}
}

// TestLoadErrors checks that bad input is refused with the file and line.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"label.tsv", "1\tok\n2\tbad label\n", "label.tsv:2: label \"2\" is not"},
		{"tab.tsv", "1\tok\n0 no tab here\n", "tab.tsv:2: no tab"},
		{"empty.tsv", "", "empty.tsv:1: no examples"},
		{"blank.tsv", "\n\n", "blank.tsv:1: no examples"},
		{"utf8.tsv", "1\tok\n0\tcaf\xe9\n", "utf8.tsv:2: text is not valid UTF-8"},
		{"empty.csv", "", "empty.csv:1: no examples"},
		{"header.csv", "text,label\n", "header.csv:2: no examples"},
		{"nolabel.csv", "text,stars\nok,1\n", "nolabel.csv:1: no column \"label\""},
		{"label.csv", "text,label\nok,1\n\"multi\nline\",maybe\n", "label.csv:3: label \"maybe\""},
		{"quote.csv", "text,label\nok,1\n\"bad\"quote,0\n", "quote.csv:3: "},
		{"fields.csv", "text,label\nok,1,extra\n", "fields.csv:2: "},
		{"utf8.csv", "text,label\n\xff,1\n", "utf8.csv:2: text is not valid UTF-8"},
		{"empty.jsonl", "", "empty.jsonl:1: no examples"},
		{"json.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"a\", \n", "json.jsonl:2: not a JSON object"},
		{"notext.jsonl", "{\"label\": 1}\n", "notext.jsonl:1: no field \"text\""},
		{"label.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"a\", \"label\": 0.5}\n", "label.jsonl:2: label 0.5 is not"},
		{"utf8.jsonl", "{\"text\": \"\xff\", \"label\": 1}\n", "utf8.jsonl:1: text is not valid UTF-8"},
		{"null.jsonl", "{\"text\": null, \"label\": 1}\n", "null.jsonl:1: field \"text\" is not a string"},
		{"header.tsv", "label\ttext\n", "header.tsv: no examples after the header"},
		{"late.tsv", "\nlabel\ttext\n1\tfine\nbad\tlabel\n", "late.tsv:4: label \"bad\""},
		{"a.txt", "1\tok\n", "unknown data format"},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		p := writeTestFile(t, dir, tt.name, tt.content)
		_, err := Load(p, LoadOptions{})
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, tt.want)) && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%s) error = %v, want %q", tt.name, err, tt.want)
		} else if !strings.HasPrefix(err.Error(), p) {
			t.Errorf("Load(%s) error = %v, want it to start with the path", tt.name, err)
		}
	}
	if _, err := Load(filepath.Join(dir, "missing.tsv"), LoadOptions{}); err == nil {
		t.Errorf("Load(missing.tsv) = nil error")
	}
	if _, err := Load(dir, LoadOptions{}); err == nil || !strings.Contains(err.Error(), "rt-polarity.pos") {
		t.Errorf("Load(folder of nothing) error = %v, want a word on the folder forms", err)
	}
}

// TestRTPolarityForms reads rt-polarity from the Windows-1252 originals
// and from CSV, JSON lines and folders made from the TSV that Python
// derived, and wants the TSV's examples from each.
func TestRTPolarityForms(t *testing.T) {
	want := rtPolarity(t)
	if len(want) != 10662 {
		t.Fatalf("rt-polarity.tsv: %d examples, want 10662", len(want))
	}
	orig := filepath.Dir(shareddata.Path(t, "rt-polarity/rt-polarity.pos"))
	got, err := Load(orig, LoadOptions{})
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Load(%s): %d examples, %v; want the %d of rt-polarity.tsv", orig, len(got), err, len(want))
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("example %d = %+v, want %+v", i, got[i], want[i])
			}
		}
	}

	dir := t.TempDir()
	var csvb strings.Builder
	cw := csv.NewWriter(&csvb)
	cw.Write([]string{"label", "text"})
	var jsonl strings.Builder
	for i, e := range want {
		cw.Write([]string{fmt.Sprint(e.Label), e.Text})
		b, _ := json.Marshal(map[string]any{"text": e.Text, "label": e.Label})
		jsonl.Write(append(b, '\n'))
		class := map[int]string{0: "neg", 1: "pos"}[e.Label]
		writeTestFile(t, dir, fmt.Sprintf("folder/%s/%05d.txt", class, i), e.Text)
		writeTestFile(t, dir, fmt.Sprintf("aclImdb/train/%s/%05d_7.txt", class, i), e.Text+"\n")
	}
	cw.Flush()
	writeTestFile(t, dir, "rt.csv", csvb.String())
	writeTestFile(t, dir, "rt.jsonl", jsonl.String())
	for _, name := range []string{"rt.csv", "rt.jsonl", "folder", "aclImdb"} {
		got, err := Load(filepath.Join(dir, name), LoadOptions{})
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Load(%s): %d examples, %v; want the %d of rt-polarity.tsv", name, len(got), err, len(want))
		}
	}
}

func TestDecodeWindows1252(t *testing.T) {
	// Byte 0x85 is "…" in Windows-1252 (NEL in Latin-1); Python's cp1252
	// codec gives these.
	tests := []struct{ in, want string }{
		{"abc", "abc"},
		{"clich\xe9s \x85 \x91a\x92 \x96 \x97", "clichés … ‘a’ – —"},
		{"\x80\x9f\xa0\xff", "€Ÿ\u00a0ÿ"},
	}
	for _, tt := range tests {
		if got := DecodeWindows1252([]byte(tt.in)); got != tt.want {
			t.Errorf("DecodeWindows1252(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSplitPointMatchesKeras pins SplitPoint to Keras's
// int(n * (1. - validation_split)), computed in Python for these cases.
func TestSplitPointMatchesKeras(t *testing.T) {
	cases := []struct {
		n        int
		fraction float64
		want     int
	}{
		{100, 0.29, 71}, {100, 0.1, 90}, {8529, 0.1, 7676}, {10, 0.3, 7}, {7, 0.5, 3},
		{10, 0, 10}, {10, -1, 10}, {10, 1, 0}, {0, 0.1, 0},
	}
	for _, c := range cases {
		if got := SplitPoint(c.n, c.fraction); got != c.want {
			t.Errorf("SplitPoint(%d, %v) = %d, want %d", c.n, c.fraction, got, c.want)
		}
	}
	ex := make([]Example, 100)
	train, val := SplitLast(ex, 0.29)
	if len(train) != 71 || len(val) != 29 {
		t.Errorf("SplitLast(100 examples, 0.29) = %d/%d, want 71/29", len(train), len(val))
	}
}
