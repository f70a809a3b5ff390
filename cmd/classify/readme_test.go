package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gorgonia.org/tensor"

	"github.com/classify/classify/data"
	"github.com/classify/classify/internal/shareddata"
	"github.com/classify/classify/layers"
)

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// classifyBinary builds the command once for the tests that run it as a
// user would, into a folder that TestMain removes.
func classifyBinary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "classify-bin-")
		if err != nil {
			binaryErr = err
			return
		}
		binaryPath = filepath.Join(dir, "classify")
		if out, err := exec.Command("go", "build", "-o", binaryPath, ".").CombinedOutput(); err != nil {
			binaryErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}

// TestTrainOnTerminal runs "classify train" under a pseudo-terminal of 80
// columns (script(1)): the bar is redrawn in place, each draw shorter than
// the terminal; piped into cat it prints one plain line per epoch.
func TestTrainOnTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary: not with -short")
	}
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) not installed: no pseudo-terminal to test with")
	}
	bin := classifyBinary(t)
	dir := t.TempDir()
	data := sentimentTSV(t, 600, 1)
	train := fmt.Sprintf("%s train --data %s --out %s/ck --dim 8 --hidden 8 --max-len 16 --batch-size 4 --epochs 2 --val-split 0.1", bin, data, dir)
	for _, c := range []struct {
		desc, cmd string
		bar       bool
	}{
		{"terminal", "stty cols 80 rows 24; " + train, true},
		{"| cat", "stty cols 80 rows 24; " + train + " | cat", false},
	} {
		out, err := exec.Command(script, "-qec", c.cmd, "/dev/null").CombinedOutput()
		if err != nil {
			t.Errorf("%s: %v\n%s", c.desc, err, out)
			continue
		}
		text := strings.ReplaceAll(string(out), "\r\n", "\n") // the pty's own line ends
		draws := strings.Count(text, "\r")
		epochLines := regexp.MustCompile(`(?m)^epoch [12]/2 - `).FindAllString(text, -1)
		if c.bar {
			if draws < 2 || len(epochLines) != 0 || !strings.Contains(text, "Epoch 2/2") {
				t.Errorf("%s: %d redraws and %d plain epoch lines, want a bar:\n%q", c.desc, draws, len(epochLines), text)
			}
			for _, line := range strings.Split(text, "\n") {
				for _, seg := range strings.Split(line, "\r") {
					if strings.Contains(seg, "ETA") && len(seg) >= 80 {
						t.Errorf("%s: a redrawn line of %d columns on an 80-column terminal: %q", c.desc, len(seg), seg)
					}
				}
			}
		} else if draws != 0 || len(epochLines) != 2 {
			t.Errorf("%s: %d redraws and %d plain epoch lines, want 0 and 2:\n%q", c.desc, draws, len(epochLines), text)
		}
	}
}

// readme is the repository's README.md.
func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tableExamples returns the commands of the README's command table: every
// `classify ...` in its example column, in order.
func tableExamples(t *testing.T, md string) []string {
	t.Helper()
	start := strings.Index(md, "| command | example |")
	if start < 0 {
		t.Fatal("README.md has no command table")
	}
	var out []string
	code := regexp.MustCompile("`(classify [^`]+)`")
	for _, line := range strings.Split(md[start:], "\n")[2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(line, " | ")
		if len(cells) < 2 {
			continue
		}
		for _, m := range code.FindAllStringSubmatch(strings.Join(cells[1:], " | "), -1) {
			out = append(out, m[1])
		}
	}
	return out
}

// TestReadmeCommands builds the binary once and runs every example of the
// README's command table as written, in order, through sh, with
// CLASSIFY_DATA at the shared data and the binary on PATH, in a scratch
// folder standing for the repository root (the examples name data by
// dataset name and write only their own outputs). serve is started,
// checked ready and stopped with SIGTERM.
func TestReadmeCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and trains: not with -short")
	}
	shared := shareddata.Dir()
	if shared == "" {
		t.Skip("shared data not found: set CLASSIFY_DATA or keep ../shared/data beside the repository")
	}
	shared, _ = filepath.Abs(shared)
	examples := tableExamples(t, readme(t))
	if len(examples) < len(commands()) {
		t.Fatalf("the table has %d examples, fewer than the %d commands", len(examples), len(commands()))
	}
	bin := filepath.Dir(classifyBinary(t))
	root := t.TempDir()
	env := append(os.Environ(), "CLASSIFY_DATA="+shared, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"XDG_CACHE_HOME="+t.TempDir()) // nothing is downloaded: a miss fails rather than fetches
	for _, ex := range examples {
		start := time.Now()
		if strings.HasPrefix(ex, "classify serve") {
			runServeExample(t, ex, root, env)
			continue
		}
		cmd := exec.Command("sh", "-c", ex)
		cmd.Dir, cmd.Env = root, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s: %v\n%s", ex, err, out)
			continue
		}
		if len(strings.TrimSpace(string(out))) == 0 {
			t.Errorf("%s printed nothing", ex)
		}
		t.Logf("%s: %.1fs", ex, time.Since(start).Seconds())
	}
}

// runServeExample runs the serve example until GET /readyz answers 200,
// then stops it with SIGTERM and wants exit status 0.
func runServeExample(t *testing.T, ex, dir string, env []string) {
	addr := regexp.MustCompile(`--addr (\S+)`).FindStringSubmatch(ex)
	if addr == nil {
		t.Errorf("%s: no --addr", ex)
		return
	}
	if ln, err := net.Listen("tcp", addr[1]); err != nil {
		t.Logf("%s: skipped, %s is taken on this machine", ex, addr[1])
		return
	} else {
		ln.Close()
	}
	cmd := exec.Command("sh", "-c", "exec "+ex)
	cmd.Dir, cmd.Env = dir, env
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Errorf("%s: %v", ex, err)
		return
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	ready := false
	for deadline := time.Now().Add(time.Minute); !ready && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr[1] + "/readyz"); err == nil {
			resp.Body.Close()
			ready = resp.StatusCode == 200
		}
	}
	if !ready {
		t.Errorf("%s: not ready within a minute", ex)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		var log []string
		for len(lines) > 0 {
			log = append(log, <-lines)
		}
		t.Errorf("%s after SIGTERM: %v\n%s", ex, err, strings.Join(log, "\n"))
	}
}

// TestReadmeGoSnippets checks that every Go snippet of the README is an
// excerpt, line for line, of an Example that go test compiles and runs.
func TestReadmeGoSnippets(t *testing.T) {
	md := readme(t)
	var sources []string
	filepath.WalkDir(filepath.Join("..", ".."), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, "_test.go") {
			if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), "func Example") {
				sources = append(sources, normalizeLines(string(b)))
			}
		}
		return nil
	})
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(md, -1)
	if len(blocks) == 0 {
		t.Fatal("README.md has no Go snippet")
	}
	for _, b := range blocks {
		snippet := normalizeLines(b[1])
		found := false
		for _, src := range sources {
			found = found || strings.Contains(src, snippet)
		}
		if !found {
			t.Errorf("README snippet is in no Example function:\n%s", b[1])
		}
	}
}

// normalizeLines trims each line and drops the empty ones, so that an
// excerpt matches whatever its indentation in the function.
func normalizeLines(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n") + "\n"
}

// Example_embeddingMatrix turns pretrained vectors into the weights of a
// frozen embedding layer.
func Example_embeddingMatrix() {
	texts := []string{"the film is good", "the plot is dull"}
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	glove := filepath.Join(dir, "vectors.txt")
	os.WriteFile(glove, []byte("the 0.1 0.2\nfilm 0.3 0.4\ngood 0.5 0.6\n"), 0o644)

	vocab := data.BuildVocabulary(texts, 100)
	vectors, err := data.LoadVectors(glove) // a path, or a name such as "glove.6B.50d"
	if err != nil {
		fmt.Println(err)
		return
	}
	matrix, found := data.EmbeddingMatrix(vocab, vectors, 42) // [PAD] zeros, unknown words U(-0.05, 0.05)
	weights := tensor.New(tensor.WithShape(vocab.Len(), vectors.Dim), tensor.WithBacking(matrix))
	embedding := layers.NewEmbedding(weights, false) // frozen, as --freeze-embeddings

	fmt.Println(weights.Shape(), found, "words found; trainable:", embedding.Weight.Trainable)
	// 6 words, [PAD] and [UNK]; "the", "film" and "good" have vectors.
	// Output:
	// (8, 2) 3 words found; trainable: false
}
