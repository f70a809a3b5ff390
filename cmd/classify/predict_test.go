package main

import (
	"bufio"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
