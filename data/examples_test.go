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

func TestParseLabels(t *testing.T) {
	tests := []struct {
		in    string
		multi bool
		want  []string
		ok    bool
	}{
		{"0", false, []string{"0"}, true}, {" POS ", false, []string{"POS"}, true},
		{"grain,wheat", false, []string{"grain,wheat"}, true}, {"", false, nil, false}, {"  ", false, nil, false},
		{"grain, wheat", true, []string{"grain", "wheat"}, true}, {"", true, []string{}, true},
		{"earn,,", true, []string{"earn"}, true},
	}
	for _, tt := range tests {
		got, err := ParseLabels(tt.in, tt.multi)
		if (err == nil) != tt.ok || (tt.ok && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("ParseLabels(%q, %v) = %q, %v; want %q, ok %v", tt.in, tt.multi, got, err, tt.want, tt.ok)
		}
	}
}

// labelled is the text and labels of examples, without their lines.
func labelled(ex []Example) [][2]string {
	out := make([][2]string, len(ex))
	for i, e := range ex {
		out[i] = [2]string{e.Text, strings.Join(e.Labels, "|")}
	}
	return out
}

func TestSplitLast(t *testing.T) {
	ex := make([]Example, 10)
	for i := range ex {
		ex[i].Line = i
	}
	tests := []struct {
		fraction      float64
		ntrain, first int
	}{{0.1, 9, 9}, {0.25, 7, 7}, {0, 10, -1}, {1, 0, 0}} // Keras: int(10*(1-0.25)) = 7
	for _, tt := range tests {
		train, val := SplitLast(ex, tt.fraction)
		if len(train) != tt.ntrain || len(train)+len(val) != 10 || (len(val) > 0 && val[0].Line != tt.first) {
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
	tests := []struct {
		name, content string
		opts          LoadOptions
		want          [][2]string
		lines         []int
	}{
		{"a.tsv", "1\tgood, \"really\"\n0\tbad\tfilm\n\npos\t\n", LoadOptions{},
			[][2]string{{"good, \"really\"", "1"}, {"bad\tfilm", "0"}, {"", "pos"}}, []int{1, 2, 4}},
		{"header.tsv", "\ufefflabel\ttext\r\n1\tgood, \"really\"\r\nneg\tbad\tfilm\r\nPOSITIVE\t", LoadOptions{},
			[][2]string{{"good, \"really\"", "1"}, {"bad\tfilm", "neg"}, {"", "POSITIVE"}}, []int{2, 3, 4}},
		{"swapped.tsv", "text\tlabel\ngood, \"really\"\t1\nbad\tfilm\t0\n\t1\n", LoadOptions{},
			[][2]string{{"good, \"really\"", "1"}, {"bad\tfilm", "0"}, {"", "1"}}, []int{2, 3, 4}},
		{"multi.tsv", "grain, wheat\tcrops\n\tnothing\nearn\tprofit\n", LoadOptions{MultiLabel: true},
			[][2]string{{"crops", "grain|wheat"}, {"nothing", ""}, {"profit", "earn"}}, []int{1, 2, 3}},
		{"a.csv", "id,text,label\n1,\"good, \"\"really\"\"\",1\n2,\"bad\tfilm\",negative\n3,,pos\n", LoadOptions{},
			[][2]string{{"good, \"really\"", "1"}, {"bad\tfilm", "negative"}, {"", "pos"}}, []int{2, 3, 4}},
		{"cols.csv", "review,sentiment\n\"good, \"\"really\"\"\",1\n\"bad\tfilm\",0\n\"\",1\n", LoadOptions{TextColumn: "review", LabelColumn: "sentiment"},
			[][2]string{{"good, \"really\"", "1"}, {"bad\tfilm", "0"}, {"", "1"}}, []int{2, 3, 4}},
		{"multi.csv", "text,label\ncrops,\"grain,wheat\"\n", LoadOptions{MultiLabel: true},
			[][2]string{{"crops", "grain|wheat"}}, []int{2}},
		{"a.jsonl", "{\"text\": \"good, \\\"really\\\"\", \"label\": 1}\n{\"label\": \"neg\", \"text\": \"bad\\tfilm\"}\n\n{\"text\": \"\", \"label\": true}\n{\"text\": \"x\", \"label\": 1.0}\n", LoadOptions{},
			[][2]string{{"good, \"really\"", "1"}, {"bad\tfilm", "neg"}, {"", "true"}, {"x", "1"}}, []int{1, 2, 4, 5}},
		{"labels.jsonl", "{\"text\": \"crops\", \"labels\": [\"grain\", \"wheat\"]}\n{\"text\": \"none\", \"labels\": []}\n", LoadOptions{},
			[][2]string{{"crops", "grain|wheat"}, {"none", ""}}, []int{1, 2}},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		got, err := Load(writeTestFile(t, dir, tt.name, tt.content), tt.opts)
		if err != nil || !reflect.DeepEqual(labelled(got), tt.want) {
			t.Errorf("Load(%s) = %q, %v; want %q", tt.name, labelled(got), err, tt.want)
			continue
		}
		for i, e := range got {
			if e.Line != tt.lines[i] {
				t.Errorf("Load(%s): example %d on line %d, want %d", tt.name, i, e.Line, tt.lines[i])
			}
		}
	}
}

// TestLoadErrors checks that bad input is refused with the file and line.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"label.tsv", "1\tok\n \tno label\n", "label.tsv:2: empty label"},
		{"tab.tsv", "1\tok\n0 no tab here\n", "tab.tsv:2: no tab"},
		{"empty.tsv", "", "empty.tsv:1: no examples"},
		{"blank.tsv", "\n\n", "blank.tsv:1: no examples"},
		{"utf8.tsv", "1\tok\n0\tcaf\xe9\n", "utf8.tsv:2: text is not valid UTF-8"},
		{"empty.csv", "", "empty.csv:1: no examples"},
		{"header.csv", "text,label\n", "header.csv:2: no examples"},
		{"nolabel.csv", "text,stars\nok,1\n", "nolabel.csv:1: no column \"label\""},
		{"label.csv", "text,label\nok,1\n\"multi\nline\",\n", "label.csv:3: empty label"},
		{"quote.csv", "text,label\nok,1\n\"bad\"quote,0\n", "quote.csv:3: "},
		{"fields.csv", "text,label\nok,1,extra\n", "fields.csv:2: "},
		{"utf8.csv", "text,label\n\xff,1\n", "utf8.csv:2: text is not valid UTF-8"},
		{"empty.jsonl", "", "empty.jsonl:1: no examples"},
		{"json.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"a\", \n", "json.jsonl:2: not a JSON object"},
		{"notext.jsonl", "{\"label\": 1}\n", "notext.jsonl:1: no field \"text\""},
		{"label.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"a\", \"label\": {}}\n", "label.jsonl:2: label {} is not"},
		{"utf8.jsonl", "{\"text\": \"\xff\", \"label\": 1}\n", "utf8.jsonl:1: text is not valid UTF-8"},
		{"null.jsonl", "{\"text\": null, \"label\": 1}\n", "null.jsonl:1: field \"text\" is not a string"},
		{"header.tsv", "label\ttext\n", "header.tsv: no examples after the header"},
		{"late.tsv", "\nlabel\ttext\n1\tfine\n\tlabel\n", "late.tsv:4: empty label"},
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
	// The original files name the classes by their files (pos, neg), the
	// TSV by 1 and 0.
	named := map[string]string{"1": "pos", "0": "neg"}
	wantNamed := labelled(want)
	for i := range wantNamed {
		wantNamed[i][1] = named[wantNamed[i][1]]
	}
	orig := filepath.Dir(shareddata.Path(t, "rt-polarity/rt-polarity.pos"))
	got, err := Load(orig, LoadOptions{})
	if err != nil || !reflect.DeepEqual(labelled(got), wantNamed) {
		t.Errorf("Load(%s): %d examples, %v; want the %d of rt-polarity.tsv", orig, len(got), err, len(want))
		for i := range min(len(got), len(want)) {
			if g := labelled(got[i : i+1])[0]; g != wantNamed[i] {
				t.Fatalf("example %d = %q, want %q", i, g, wantNamed[i])
			}
		}
	}

	dir := t.TempDir()
	var csvb strings.Builder
	cw := csv.NewWriter(&csvb)
	cw.Write([]string{"label", "text"})
	var jsonl strings.Builder
	var negFirst [][2]string // the folder forms read the classes in byte order
	for _, class := range []string{"neg", "pos"} {
		for _, e := range wantNamed {
			if e[1] == class {
				negFirst = append(negFirst, e)
			}
		}
	}
	for i, e := range want {
		cw.Write([]string{e.Labels[0], e.Text})
		b, _ := json.Marshal(map[string]any{"text": e.Text, "label": e.Labels[0]})
		jsonl.Write(append(b, '\n'))
		class := named[e.Labels[0]]
		writeTestFile(t, dir, fmt.Sprintf("folder/%s/%05d.txt", class, i), e.Text)
		writeTestFile(t, dir, fmt.Sprintf("aclImdb/train/%s/%05d_7.txt", class, i), e.Text+"\n")
	}
	cw.Flush()
	writeTestFile(t, dir, "rt.csv", csvb.String())
	writeTestFile(t, dir, "rt.jsonl", jsonl.String())
	for _, tt := range []struct {
		name string
		want [][2]string
	}{{"rt.csv", labelled(want)}, {"rt.jsonl", labelled(want)}, {"folder", negFirst}, {"aclImdb", negFirst}} {
		got, err := Load(filepath.Join(dir, tt.name), LoadOptions{})
		if err != nil || !reflect.DeepEqual(labelled(got), tt.want) {
			t.Errorf("Load(%s): %d examples, %v; want the %d of rt-polarity.tsv", tt.name, len(got), err, len(want))
		}
	}
}

// TestClassFolders reads a folder of any number of class folders, with
// aclImdb's unsup/ left out.
func TestClassFolders(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"sport/a.txt", "sport/b.txt", "arts/c.txt", "world/d.txt", "unsup/e.txt"} {
		writeTestFile(t, dir, f, "text of "+f)
	}
	got, err := Load(dir, LoadOptions{})
	want := [][2]string{{"text of arts/c.txt", "arts"}, {"text of sport/a.txt", "sport"}, {"text of sport/b.txt", "sport"}, {"text of world/d.txt", "world"}}
	if err != nil || !reflect.DeepEqual(labelled(got), want) {
		t.Errorf("Load(class folders) = %q, %v; want %q", labelled(got), err, want)
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
