package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPredictFile scores a file with --input and --output on every core
// and wants the lines that stdin gives, in order; a bad line writes
// nothing and names the file and line.
func TestPredictFile(t *testing.T) {
	data := sentimentTSV(t, 200, 11)
	ck := filepath.Join(t.TempDir(), "ck")
	if status, _, stderr := runCommand("", tinyTrain(data, ck, "--epochs", "2")...); status != 0 {
		t.Fatalf("train: %s", stderr)
	}
	var in strings.Builder
	for i := 0; i < 1000; i++ {
		in.WriteString([]string{"a great film", "so dull", "", "the plot was very boring and so bad", "fine !"}[i%5] + "\n")
	}
	dir := t.TempDir()
	inPath, outPath := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.jsonl")
	os.WriteFile(inPath, []byte(in.String()), 0o644)
	status, _, stderr := runCommand("", "predict", "--checkpoint", ck, "--json", "--batch-size", "7", "--input", inPath, "--output", outPath)
	if status != 0 || !strings.Contains(stderr, "1000 predictions written") {
		t.Fatalf("predict --input: %d %q", status, stderr)
	}
	got, _ := os.ReadFile(outPath)
	_, want, _ := runCommand(in.String(), "predict", "--checkpoint", ck, "--json")
	if string(got) != want {
		t.Errorf("predict --input wrote %d bytes, stdin gives %d; they differ", len(got), len(want))
	}

	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("fine\nalso fine\n\xff broken\n"), 0o644)
	badOut := filepath.Join(dir, "bad.jsonl")
	status, _, stderr = runCommand("", "predict", "--checkpoint", ck, "--input", bad, "--output", badOut)
	if status != 1 || !strings.Contains(stderr, bad+":3: text is not valid UTF-8") {
		t.Errorf("predict --input with a bad line = %d %q; want 1 naming %s:3", status, stderr, bad)
	}
	if _, err := os.Stat(badOut); err == nil {
		t.Error("a failed predict --input left its output behind")
	}
	if status, _, _ := runCommand("", "predict", "--checkpoint", ck, "--input", bad); status != 2 {
		t.Errorf("--input without --output: exit %d, want 2", status)
	}
}
