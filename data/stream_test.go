package data

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// endless repeats a pattern for ever, as /dev/zero or a gzip bomb would,
// and counts what was read of it.
type endless struct {
	pattern []byte
	read    int64
	limit   int64 // 0 for never ending
}

func (e *endless) Read(p []byte) (int, error) {
	if e.limit > 0 && e.read >= e.limit {
		return 0, io.EOF
	}
	n := len(p)
	if e.limit > 0 && int64(n) > e.limit-e.read {
		n = int(e.limit - e.read)
	}
	for i := 0; i < n; i++ {
		p[i] = e.pattern[(e.read+int64(i))%int64(len(e.pattern))]
	}
	e.read += int64(n)
	return n, nil
}

// TestReadersBoundLines replays issue 11, item 4 for the data readers: a
// line that never ends is refused at the limit, naming the file and line,
// after reading about the limit.
func TestReadersBoundLines(t *testing.T) {
	readers := map[string]func(io.Reader, string, LoadOptions) ([]Example, error){
		"f.tsv": ReadTSV, "f.csv": ReadCSV, "f.jsonl": ReadJSONL,
	}
	starts := map[string]string{"f.tsv": "1\tfine\n1\t", "f.csv": "label,text\n1,fine\n1,\"", "f.jsonl": "{\"text\": \"fine\", \"label\": 1}\n{\"text\": \""}
	for name, read := range readers {
		for _, max := range []int{0, 1000} {
			r := &endless{pattern: []byte("x")}
			in := io.MultiReader(strings.NewReader(starts[name]), r)
			_, err := read(in, name, LoadOptions{MaxLineBytes: max})
			want := DefaultMaxLineBytes
			if max > 0 {
				want = max
			}
			line := map[string]string{"f.tsv": ":2: ", "f.csv": ":3: ", "f.jsonl": ":2: "}[name]
			if err == nil || !strings.HasPrefix(err.Error(), name+line) || !strings.Contains(err.Error(), "longer than") {
				t.Errorf("%s, MaxLineBytes %d, an endless line: %v, want an error naming %s%s", name, max, err, name, line)
			}
			if r.read > int64(want)+256<<10 {
				t.Errorf("%s, MaxLineBytes %d: read %d bytes of an endless line, want about %d", name, max, r.read, want)
			}
		}
	}
	// A line of exactly the limit is taken.
	ex, err := ReadTSV(strings.NewReader("1\t"+strings.Repeat("a", 8)+"\r\n0\tb"), "f.tsv", LoadOptions{MaxLineBytes: 10})
	if err != nil || len(ex) != 2 || ex[0].Text != "aaaaaaaa" {
		t.Errorf("a line of the limit: %v, %v; want it read", ex, err)
	}
	if _, err := ReadTSV(strings.NewReader("1\tok\n1\t"+strings.Repeat("a", 9)+"\n"), "f.tsv", LoadOptions{MaxLineBytes: 10}); err == nil || !strings.HasPrefix(err.Error(), "f.tsv:2: line longer than 10 bytes") {
		t.Errorf("a line one byte over the limit: %v, want f.tsv:2: line longer than 10 bytes", err)
	}
}

// TestReadersStream: memory grows with the examples kept, not with the
// file: 64 MB of blank lines cost next to nothing.
func TestReadersStream(t *testing.T) {
	for name, read := range map[string]func(io.Reader, string, LoadOptions) ([]Example, error){
		"f.tsv": ReadTSV, "f.jsonl": ReadJSONL, "f.csv": ReadCSV,
	} {
		head := map[string]string{"f.tsv": "1\tfine\n", "f.jsonl": `{"text": "fine", "label": 1}` + "\n", "f.csv": "label,text\n1,fine\n"}[name]
		blank := []byte("  \n\n")
		if name == "f.csv" { // "  " is a record of CSV
			blank = []byte("\n")
		}
		in := io.MultiReader(strings.NewReader(head), &endless{pattern: blank, limit: 64 << 20})
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		ex, err := read(in, name, LoadOptions{})
		runtime.ReadMemStats(&after)
		if err != nil || len(ex) != 1 {
			t.Errorf("%s: %v, %v; want one example", name, ex, err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
			t.Errorf("%s: reading 64 MB of blank lines allocated %d MB, want under 8", name, alloc>>20)
		}
	}
}

func TestFoldersBoundLines(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "rt-polarity.pos"), []byte("good\n"+strings.Repeat("a", 50)+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "rt-polarity.neg"), []byte("bad\n"), 0o644)
	if _, err := Load(dir, LoadOptions{MaxLineBytes: 20}); err == nil || !strings.Contains(err.Error(), "rt-polarity.pos:2: line longer than 20 bytes") {
		t.Errorf("a polarity line over the limit: %v, want an error naming rt-polarity.pos:2", err)
	}
	if ex, err := Load(dir, LoadOptions{}); err != nil || len(ex) != 3 {
		t.Errorf("polarity within the limit: %d examples, %v; want 3", len(ex), err)
	}
	classes := t.TempDir()
	for _, c := range []string{"pos", "neg"} {
		os.Mkdir(filepath.Join(classes, c), 0o755)
		os.WriteFile(filepath.Join(classes, c, "1.txt"), bytes.Repeat([]byte("word "), 10), 0o644)
	}
	if _, err := Load(classes, LoadOptions{MaxLineBytes: 20}); err == nil || !strings.Contains(err.Error(), "1.txt") || !strings.Contains(err.Error(), "over the limit of 20 bytes") {
		t.Errorf("a class file over the limit: %v, want an error naming it", err)
	}
}
