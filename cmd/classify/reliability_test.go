package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/classify/classify/models"
)

// TestTrainKeepsFolderThatIsNotACheckpoint replays issue 11, item 1:
// train --out p, where p holds the user's files, deleted them and exited 0.
func TestTrainKeepsFolderThatIsNotACheckpoint(t *testing.T) {
	p := filepath.Join(t.TempDir(), "p")
	os.Mkdir(p, 0o755)
	src, _ := os.ReadFile(sentimentTSV(t, 60, 1))
	train := filepath.Join(p, "train.tsv")
	os.WriteFile(train, src, 0o644)
	os.WriteFile(filepath.Join(p, "main.go"), []byte("x\n"), 0o644)

	status, _, stderr := runCommand("", tinyTrain(train, p, "--epochs", "1")...)
	if status != 1 || !strings.Contains(stderr, p) || !strings.Contains(stderr, "not a checkpoint") || !strings.Contains(stderr, "--overwrite") {
		t.Errorf("train --out over a user folder: exit %d, stderr %q; want 1 naming the folder and --overwrite", status, stderr)
	}
	for _, name := range []string{"train.tsv", "main.go"} {
		if _, err := os.Stat(filepath.Join(p, name)); err != nil {
			t.Errorf("after a refused train, %s: %v", name, err)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(p)); len(entries) != 1 {
		t.Errorf("a refused train left %d entries beside p, want 1", len(entries))
	}

	// A checkpoint is replaced without --overwrite; the user's folder with it.
	ck := filepath.Join(filepath.Dir(p), "ck")
	for i := 0; i < 2; i++ {
		if status, _, stderr := runCommand("", tinyTrain(train, ck, "--epochs", "0")...); status != 0 {
			t.Fatalf("train --out ck (run %d): exit %d: %s", i+1, status, stderr)
		}
	}
	if status, _, stderr := runCommand("", tinyTrain(train, p, "--epochs", "0", "--overwrite")...); status != 0 {
		t.Fatalf("train --overwrite: exit %d: %s", status, stderr)
	}
	if _, err := models.LoadConfig(p); err != nil {
		t.Errorf("after train --overwrite: %v", err)
	}
}

// TestTrainSizeLimits replays issue 11, item 3: train --hidden 30000 or
// --max-len 1e9 crashed; they are usage errors naming the flag and limit.
func TestTrainSizeLimits(t *testing.T) {
	data := sentimentTSV(t, 20, 1)
	out := filepath.Join(t.TempDir(), "ck")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--hidden", "30000"}, "--hidden 30000: want at most 4096"},
		{[]string{"--max-len", "1000000000"}, "--max-len 1000000000: want at most 8192"},
		{[]string{"--vocab-size", "5000000", "--dim", "4000"}, "over the limit of 268435456"},
	} {
		status, _, stderr := runCommand("", append([]string{"train", "--data", data, "--out", out}, tc.args...)...)
		if status != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("train %v: exit %d, stderr %q; want 2 with %q", tc.args, status, stderr, tc.want)
		}
		status, _, stderr = runCommand("", append([]string{"summary"}, tc.args...)...)
		if status != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("summary %v: exit %d, stderr %q; want 2 with %q", tc.args, status, stderr, tc.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused train wrote a checkpoint")
	}
}
