package main

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/classify/classify/models"
	"github.com/classify/classify/safetensors"
)

// TestMain lets the test binary run as classify itself when
// CLASSIFY_AS_MAIN is set, so that TestAbuse can measure real processes
// without building the command first, and removes the binary that
// classifyBinary built for the README's examples.
func TestMain(m *testing.M) {
	if os.Getenv("CLASSIFY_AS_MAIN") == "1" {
		main()
	}
	code := m.Run()
	if binaryPath != "" {
		os.RemoveAll(filepath.Dir(binaryPath))
	}
	os.Exit(code)
}

// classifyProcess runs classify args in a process of its own with stdin
// from the file stdin ("" for none) and returns its status, stderr and peak
// resident memory in bytes.
func classifyProcess(t *testing.T, stdin string, args ...string) (int, string, int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "CLASSIFY_AS_MAIN=1")
	if stdin != "" {
		f, err := os.Open(stdin)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd.Stdin = f
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err != nil && cmd.ProcessState == nil {
		t.Fatal(err)
	}
	rss := int64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) * 1024 // kilobytes on Linux
	return cmd.ProcessState.ExitCode(), stderr.String(), rss
}

// TestAbuse replays the cheap cases of issue 11 as a user would run them,
// each in a process of its own, and checks the exit status, the message,
// and that none takes more than 200 MB beyond a normal predict.
func TestAbuse(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("peak memory from getrusage and /dev/zero: Linux")
	}
	if testing.Short() {
		t.Skip("starts a dozen processes")
	}
	dir := t.TempDir()
	data := sentimentTSV(t, 60, 4)
	ck := filepath.Join(dir, "ck")
	if status, _, stderr := runCommand("", tinyTrain(data, ck, "--epochs", "0")...); status != 0 {
		t.Fatalf("train: exit %d: %s", status, stderr)
	}
	texts := filepath.Join(dir, "texts.txt")
	os.WriteFile(texts, []byte("a fine film\nso dull\n"), 0o644)
	status, stderr, baseline := classifyProcess(t, texts, "predict", "--checkpoint", ck)
	if status != 0 {
		t.Fatalf("a normal predict: exit %d: %s", status, stderr)
	}

	// tamper copies the checkpoint with one file changed.
	tamper := func(name string, change func(path string)) string {
		out := filepath.Join(t.TempDir(), "ck")
		os.Mkdir(out, 0o755)
		entries, _ := os.ReadDir(ck)
		for _, e := range entries {
			b, _ := os.ReadFile(filepath.Join(ck, e.Name()))
			os.WriteFile(filepath.Join(out, e.Name()), b, 0o644)
		}
		change(filepath.Join(out, name))
		return out
	}
	toZero := func(path string) { os.Remove(path); os.Symlink("/dev/zero", path) }
	replace := func(old, new string) func(string) {
		return func(path string) {
			b, _ := os.ReadFile(path)
			if !bytes.Contains(b, []byte(old)) {
				t.Fatalf("%q not in %s", old, path)
			}
			os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644)
		}
	}
	nanWeight := func(path string) {
		b, _ := os.ReadFile(path)
		f, err := safetensors.Read(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		for i, x := range f.Tensors {
			if x.Name == "dense.bias" {
				f.Tensors[i], _ = safetensors.NewF32(x.Name, x.Shape, []float32{float32(math.NaN())})
			}
		}
		var out bytes.Buffer
		safetensors.Write(&out, f.Tensors, nil)
		os.WriteFile(path, out.Bytes(), 0o644)
	}
	zeroTSV := filepath.Join(dir, "zero.tsv")
	os.Symlink("/dev/zero", zeroTSV)
	user := filepath.Join(dir, "p")
	os.Mkdir(user, 0o755)
	os.WriteFile(filepath.Join(user, "main.go"), []byte("x\n"), 0o644)

	for _, c := range []struct {
		name   string
		stdin  string
		args   []string
		status int
		want   string
	}{
		{"predict < /dev/zero", "/dev/zero", []string{"predict", "--checkpoint", ck}, 1, "stdin:1: line longer than --max-line-bytes 1048576"},
		{"config.json -> /dev/zero", texts, []string{"predict", "--checkpoint", tamper(models.ConfigFile, toZero)}, 1, "over the limit"},
		{"tokenizer.json -> /dev/zero", texts, []string{"predict", "--checkpoint", tamper(models.TokenizerFile, toZero)}, 1, "over the limit"},
		{"config hidden 2000", texts, []string{"predict", "--checkpoint", tamper(models.ConfigFile, replace(`"hidden": 8`, `"hidden": 2000`))}, 1, "lstm.weight_ih_l0"},
		{"config hidden 20000", texts, []string{"predict", "--checkpoint", tamper(models.ConfigFile, replace(`"hidden": 8`, `"hidden": 20000`))}, 1, "hidden 20000: want at most 4096"},
		{"config max_len 1e9", texts, []string{"predict", "--checkpoint", tamper(models.ConfigFile, replace(`"max_len": 16`, `"max_len": 1000000000`))}, 1, "max_len 1000000000: want at most 8192"},
		{"a NaN weight", texts, []string{"predict", "--checkpoint", tamper(models.ModelFile, nanWeight)}, 1, "weights must be finite"},
		{"train --hidden 30000", "", []string{"train", "--data", data, "--out", filepath.Join(dir, "h"), "--hidden", "30000"}, 2, "--hidden 30000: want at most 4096"},
		{"train --max-len 1e9", "", []string{"train", "--data", data, "--out", filepath.Join(dir, "m"), "--max-len", "1000000000"}, 2, "--max-len 1000000000: want at most 8192"},
		{"train --data /dev/zero", "", []string{"train", "--data", zeroTSV, "--out", filepath.Join(dir, "z")}, 1, "zero.tsv:1: line longer than 1048576 bytes"},
		{"train --out a user folder", "", append(tinyTrain(data, user), "--epochs", "0"), 1, "not a checkpoint"},
	} {
		status, stderr, rss := classifyProcess(t, c.stdin, c.args...)
		if status != c.status || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want %d with %q", c.name, status, stderr, c.status, c.want)
		}
		if rss > baseline+200<<20 {
			t.Errorf("%s: peak memory %d MB, a normal predict %d MB: want at most 200 MB more", c.name, rss>>20, baseline>>20)
		}
		t.Logf("%s: exit %d, peak %d MB (normal predict %d MB)", c.name, status, rss>>20, baseline>>20)
	}
	if _, err := os.Stat(filepath.Join(user, "main.go")); err != nil {
		t.Errorf("train --out a user folder: main.go: %v", err)
	}
}
