package main

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"runtime"
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

// zeros is an endless stream of NUL bytes, as /dev/zero, that counts what
// was read of it.
type zeros struct{ read int64 }

func (z *zeros) Read(p []byte) (int, error) {
	clear(p)
	z.read += int64(len(p))
	return len(p), nil
}

// TestPredictBoundsLines replays issue 11, items 4 and 9: predict <
// /dev/zero grew to 6 GB; a bad line lost the output of the lines before it.
func TestPredictBoundsLines(t *testing.T) {
	ck := filepath.Join(t.TempDir(), "ck")
	if status, _, stderr := runCommand("", tinyTrain(sentimentTSV(t, 40, 2), ck, "--epochs", "0")...); status != 0 {
		t.Fatalf("train exit %d: %s", status, stderr)
	}

	z := &zeros{}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var stderr strings.Builder
	status := run(&env{stdin: z, stdout: io.Discard, stderr: &stderr}, []string{"predict", "--checkpoint", ck})
	runtime.ReadMemStats(&after)
	if status != 1 || !strings.Contains(stderr.String(), "stdin:1: line longer than --max-line-bytes 1048576") {
		t.Errorf("predict < /dev/zero: exit %d, stderr %q; want 1 naming the line and the limit", status, stderr.String())
	}
	if z.read > 2<<20 {
		t.Errorf("predict < /dev/zero read %d bytes before refusing, want about 1 MiB", z.read)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("predict < /dev/zero allocated %d MB, want under 64", alloc>>20)
	}

	for _, tc := range []struct {
		stdin   string
		args    []string
		scored  []string
		wantErr string
	}{
		{"fine film\ngood\n\xff bad\nlost\n", nil, []string{"fine film", "good"}, "stdin:3: text is not valid UTF-8"},
		{"short\nthis line is longer than ten\nlost\n", []string{"--max-line-bytes", "10"}, []string{"short"}, "stdin:2: line longer than --max-line-bytes 10"},
		{"exactly10!\r\nten bytes.", []string{"--max-line-bytes", "10"}, []string{"exactly10!", "ten bytes."}, ""},
	} {
		status, stdout, stderr := runCommand(tc.stdin, append([]string{"predict", "--checkpoint", ck}, tc.args...)...)
		var got []string
		for line := range strings.Lines(stdout) {
			f := strings.Split(strings.TrimSuffix(line, "\n"), "\t")
			got = append(got, f[len(f)-1])
		}
		wantStatus := 0
		if tc.wantErr != "" {
			wantStatus = 1
		}
		if status != wantStatus || !strings.Contains(stderr, tc.wantErr) || strings.Join(got, "|") != strings.Join(tc.scored, "|") {
			t.Errorf("predict %v < %q: exit %d, scored %q, stderr %q; want exit %d, %q scored, then %q",
				tc.args, tc.stdin, status, got, stderr, wantStatus, tc.scored, tc.wantErr)
		}
	}
}

func TestReadLine(t *testing.T) {
	long := strings.Repeat("x", 100_000)
	for _, tc := range []struct {
		in   string
		max  int
		want []string // "!" for errLineTooLong
	}{
		{"ab\ncd", 2, []string{"ab\n", "cd"}},
		{"ab\r\nabc\n", 2, []string{"ab\r\n", "!"}},
		{long + "\n" + "y\n", 100_000, []string{long + "\n", "y\n"}},
		{long + "\n", 99_999, []string{"!"}},
	} {
		br := bufio.NewReaderSize(strings.NewReader(tc.in), 16)
		var got []string
		for {
			line, err := readLine(br, tc.max)
			if err == errLineTooLong {
				got = append(got, "!")
				break
			}
			if line != "" {
				got = append(got, line)
			}
			if err != nil {
				break
			}
		}
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("readLine(%.20q..., %d) gave %.60q, want %.60q", tc.in, tc.max, got, tc.want)
		}
	}
}

// TestTrainFromWithoutOptimizer replays issue 11, item 7: train --from a
// checkpoint without optimizer.safetensors restarted Adam silently.
func TestTrainFromWithoutOptimizer(t *testing.T) {
	data := sentimentTSV(t, 40, 3)
	dir := t.TempDir()
	from, out := filepath.Join(dir, "from"), filepath.Join(dir, "out")
	if status, _, stderr := runCommand("", tinyTrain(data, from, "--epochs", "0")...); status != 0 {
		t.Fatalf("train: exit %d: %s", status, stderr)
	}
	args := []string{"train", "--from", from, "--data", data, "--out", out, "--epochs", "1"}
	if _, _, stderr := runCommand("", args...); strings.Contains(stderr, "Adam starts afresh") {
		t.Errorf("resume with the optimizer state says %q", stderr)
	}
	os.Remove(filepath.Join(from, models.OptimizerFile))
	status, _, stderr := runCommand("", args...)
	if status != 0 || !strings.Contains(stderr, "has no optimizer.safetensors; Adam starts afresh") {
		t.Errorf("resume without the optimizer state: exit %d, stderr %q; want 0, saying Adam starts afresh", status, stderr)
	}
}

// TestTrainMaxLineBytes: a data line over --max-line-bytes is an error
// naming the file and line (SPEC section 3).
func TestTrainMaxLineBytes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "d.tsv")
	os.WriteFile(path, []byte("1\tfine\n0\t"+strings.Repeat("dull ", 30)+"\n"), 0o644)
	status, _, stderr := runCommand("", tinyTrain(path, filepath.Join(dir, "ck"), "--epochs", "0", "--max-line-bytes", "100")...)
	if status != 1 || !strings.Contains(stderr, "d.tsv:2: line longer than 100 bytes") {
		t.Errorf("train with a line over --max-line-bytes: exit %d, stderr %q; want 1 naming d.tsv:2", status, stderr)
	}
	if status, _, stderr := runCommand("", tinyTrain(path, filepath.Join(dir, "ck"), "--max-line-bytes", "0")...); status != 2 || !strings.Contains(stderr, "--max-line-bytes") {
		t.Errorf("--max-line-bytes 0: exit %d, stderr %q; want 2 naming the flag", status, stderr)
	}
}
