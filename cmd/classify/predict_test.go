package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/classify/classify/models"
)

// TestPredictStreams checks that predict answers each stdin line as it
// arrives, before stdin is closed, as a pipe from another program needs.
func TestPredictStreams(t *testing.T) {
	data := sentimentTSV(t, 100, 8)
	ck := filepath.Join(t.TempDir(), "ck")
	if status, _, stderr := runCommand("", tinyTrain(data, ck, "--epochs", "1")...); status != 0 {
		t.Fatalf("train exit %d: %s", status, stderr)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan int)
	go func() {
		done <- run(&env{stdin: inR, stdout: outW, stderr: io.Discard}, []string{"predict", "--checkpoint", ck})
		outW.Close()
	}()
	lines := bufio.NewScanner(outR)
	for _, text := range []string{"a great film", "so dull"} {
		if _, err := io.WriteString(inW, text+"\n"); err != nil {
			t.Fatal(err)
		}
		got := make(chan string)
		go func() {
			lines.Scan()
			got <- lines.Text()
		}()
		select {
		case line := <-got:
			if !strings.HasSuffix(line, "\t"+text) {
				t.Errorf("answer %q, want one ending in the text %q", line, text)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no answer to %q while stdin is still open", text)
		}
	}
	inW.Close()
	if status := <-done; status != 0 {
		t.Errorf("predict exit %d, want 0", status)
	}
}

// TestPredictAlteredCheckpoint: predict scores while the digest of
// model.safetensors is checked, but a checkpoint that fails it writes no
// prediction, on stdout or to --output, whatever the input: predict exits
// 1 naming the alteration, before any other error.
func TestPredictAlteredCheckpoint(t *testing.T) {
	data := sentimentTSV(t, 100, 8)
	ck := filepath.Join(t.TempDir(), "ck")
	if status, _, stderr := runCommand("", "train", "--data", data, "--out", ck, "--model", "bow", "--dim", "8", "--buckets", "1000", "--epochs", "1"); status != 0 {
		t.Fatalf("train exit %d: %s", status, stderr)
	}
	path := filepath.Join(ck, "model.safetensors")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-5] ^= 1
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	lines := strings.Repeat("a great film\nso dull\n", 5000)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	os.WriteFile(in, []byte(lines), 0o644)
	for _, c := range []struct {
		name, stdin string
		args        []string
	}{
		{"stdin", lines, nil},
		{"stdin with a bad line", lines + "\xff\n", nil},
		{"arguments", "", []string{"a great film"}},
		{"--input", "", []string{"--input", in, "--output", out}},
	} {
		status, stdout, stderr := runCommand(c.stdin, append([]string{"predict", "--checkpoint", ck}, c.args...)...)
		if status != 1 || stdout != "" || !strings.Contains(stderr, "altered") {
			t.Errorf("%s: exit %d, %d bytes out, %q; want 1, none, naming the alteration", c.name, status, len(stdout), stderr)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("predict --input of an altered checkpoint wrote its output")
	}
}

// TestPredictStreamHolds: predictStream holds what it scores until verify
// passes, then writes all of it in order, and stops at once, having
// written nothing, when verify fails, even while the input is still open.
func TestPredictStreamHolds(t *testing.T) {
	score := func(w io.Writer, texts []string) error {
		for _, s := range texts {
			io.WriteString(w, s+"\n")
		}
		return nil
	}
	pass := make(chan error)
	inR, inW := io.Pipe()
	var out strings.Builder
	w := bufio.NewWriter(&out)
	done := make(chan error)
	go func() { done <- predictStream(inR, w, 2, 100, func() error { return <-pass }, score) }()
	io.WriteString(inW, "a\nb\nc\n")
	time.Sleep(50 * time.Millisecond)
	if out.Len() != 0 {
		t.Errorf("wrote %q before verify passed", out.String())
	}
	pass <- nil
	io.WriteString(inW, "d\n")
	inW.Close()
	if err := <-done; err != nil || out.String() != "a\nb\nc\nd\n" {
		t.Errorf("predictStream = %v, wrote %q; want a to d", err, out.String())
	}

	inR, inW = io.Pipe()
	defer inW.Close()
	out.Reset()
	go func() { done <- predictStream(inR, w, 2, 100, func() error { return <-pass }, score) }()
	io.WriteString(inW, "a\n")
	pass <- io.ErrUnexpectedEOF
	select {
	case err := <-done:
		if err != io.ErrUnexpectedEOF || out.Len() != 0 {
			t.Errorf("predictStream = %v, wrote %q; want verify's error and nothing", err, out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("predictStream waits for input after verify failed")
	}
}

// TestWritePrediction: the plain line is fmt's "%s\t%.6f\t%s\n", whatever
// the score.
func TestWritePrediction(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	scores := []float32{0, 1, 0.5, 0.0000005, 0.0000015, 0.9999995, 1e-30, 0.1234565, float32(math.Copysign(0, -1)),
		float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), math.MaxFloat32, -0.25}
	for i := 0; i < 10000; i++ {
		scores = append(scores, rng.Float32(), math.Float32frombits(rng.Uint32()))
	}
	for _, s := range scores {
		var got strings.Builder
		p := models.Prediction{Label: "pos,neg", Score: s}
		if err := writePrediction(&got, "a\tgrand fïlm", p, false); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("%s\t%.6f\t%s\n", p.Label, p.Score, "a\tgrand fïlm"); got.String() != want {
			t.Fatalf("writePrediction(score %v) = %q, want %q", s, got.String(), want)
		}
	}
}
