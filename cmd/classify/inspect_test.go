package main

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/classify/classify/data"
	"github.com/classify/classify/internal/shareddata"
)

// runInspect runs "classify inspect args..." in process.
func runInspect(args ...string) (status int, stdout, stderr string) {
	var out, errb bytes.Buffer
	status = run(&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}, append([]string{"inspect"}, args...))
	return status, out.String(), errb.String()
}

func writeTemp(t *testing.T, dir, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestInspectForms describes rt-polarity in each of its forms. The
// figures come from an independent Python count over rt-polarity.tsv
// (the SPEC tokenization with str.isspace and unicodedata categories,
// nearest-rank percentiles).
func TestInspectForms(t *testing.T) {
	tsv := shareddata.Path(t, "rt-polarity/rt-polarity.tsv")
	ex, err := data.Load(tsv, data.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var csvb, jsonl bytes.Buffer
	cw := csv.NewWriter(&csvb)
	cw.Write([]string{"review", "sentiment"})
	for i, e := range ex {
		label := map[string]string{"0": "neg", "1": "pos"}[e.Labels[0]]
		cw.Write([]string{e.Text, label})
		b, _ := json.Marshal(map[string]any{"text": e.Text, "label": label})
		jsonl.Write(append(b, '\n'))
		writeTemp(t, dir, fmt.Sprintf("folder/%s/%05d.txt", label, i), []byte(e.Text))
	}
	cw.Flush()
	csvPath := writeTemp(t, dir, "rt.csv", csvb.Bytes())
	jsonlPath := writeTemp(t, dir, "rt.jsonl", jsonl.Bytes())

	want := []string{
		": 10662 examples\n",
		"binary, 2 labels",
		"     5331   50.0%\n", // each label, named 0/1 in the TSV, neg/pos elsewhere
		"min 1, p50 22, p90 37, p99 48, max 68 tokens",
		"18396 distinct words in 244207 tokens",
	}
	tests := [][]string{
		{"--data", filepath.Dir(tsv)}, // the Windows-1252 originals
		{"--data", tsv},
		{"--data", csvPath, "--text-column", "review", "--label-column", "sentiment"},
		{"--data", jsonlPath},
		{"--data", filepath.Join(dir, "folder")},
	}
	for _, args := range tests {
		status, out, errs := runInspect(args...)
		if status != 0 {
			t.Errorf("inspect %q: status %d, stderr %q", args, status, errs)
			continue
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("inspect %q printed\n%s\nwant a line with %q", args, out, w)
			}
		}
	}
}

func TestInspectVectors(t *testing.T) {
	tsv := shareddata.Path(t, "rt-polarity/rt-polarity.tsv")
	glove := shareddata.Path(t, "glove/glove.6B.50d.top10k.txt")
	raw, _ := os.ReadFile(glove)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	gzPath := writeTemp(t, t.TempDir(), "glove.6B.50d.top10k.txt.gz", gz.Bytes())
	tests := []struct {
		vectors string
		want    []string
	}{
		// Python: 210606 of 244207 tokens, 6161 of 18396 words in GloVe.
		{glove, []string{"10000 words of 50 dimensions", "tokens 210606/244207 = 86.24%, distinct words 6161/18396 = 33.49%"}},
		{gzPath, []string{"10000 words of 50 dimensions", "tokens 210606/244207 = 86.24%"}},
		{shareddata.Path(t, "vectors/pang_lee_polarity_fasttext.vec"), []string{"1694 words of 100 dimensions", "coverage     tokens "}},
		{shareddata.Path(t, "vectors/euclidean_vectors.bin"), []string{"2747 words of 10 dimensions", "coverage     tokens "}},
	}
	for _, tt := range tests {
		status, out, errs := runInspect("--data", tsv, "--vectors", tt.vectors)
		if status != 0 {
			t.Errorf("inspect --vectors %s: status %d, stderr %q", tt.vectors, status, errs)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("inspect --vectors %s printed\n%s\nwant a line with %q", tt.vectors, out, w)
			}
		}
	}
}

// TestInspectBadInput wants exit status 1, the file and line on stderr,
// and nothing on stdout.
func TestInspectBadInput(t *testing.T) {
	dir := t.TempDir()
	good := writeTemp(t, dir, "good.tsv", []byte("1\tfine\n"))
	tests := []struct {
		name, content string
		asVectors     bool
		want          string
	}{
		{"label.tsv", "1\tgood\n \tno label\n", false, "label.tsv:2: empty label"},
		{"tab.tsv", "1\tgood\n0 no tab\n", false, "tab.tsv:2: no tab"},
		{"empty.tsv", "", false, "empty.tsv:1: no examples"},
		{"short.txt", "the 1 2 3\nof 1 2\n", true, "short.txt:2: row of \"of\" has 2 values, want 3"},
	}
	for _, tt := range tests {
		p := writeTemp(t, dir, tt.name, []byte(tt.content))
		args := []string{"--data", p}
		if tt.asVectors {
			args = []string{"--data", good, "--vectors", p}
		}
		status, out, errs := runInspect(args...)
		if status != 1 || out != "" || !strings.Contains(errs, filepath.Join(dir, tt.want)) {
			t.Errorf("inspect %q = status %d, stdout %q, stderr %q; want 1, nothing, %q", args, status, out, errs, tt.want)
		}
	}
	if status, _, errs := runInspect(); status != 2 || !strings.Contains(errs, "--data is required") {
		t.Errorf("inspect without --data = status %d, stderr %q; want 2 and a word on --data", status, errs)
	}
}
