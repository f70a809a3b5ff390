package pipeline

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/classify/classify/train"
)

func TestMain(m *testing.M) {
	Register()
	code := ptest.MainRetWithDefault(m, "prism")
	if theFixture.dir != "" {
		os.RemoveAll(theFixture.dir)
	}
	os.Exit(code)
}

// dataDir is the shared data folder: $CLASSIFY_DATA or ../../../shared/data
// (the beam module's place in a worktree).
func dataDir(t *testing.T) string {
	t.Helper()
	for _, d := range []string{os.Getenv("CLASSIFY_DATA"), "../../../shared/data"} {
		if d == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "rt-polarity", "test.tsv")); err == nil {
			abs, err := filepath.Abs(d)
			if err != nil {
				t.Fatal(err)
			}
			return abs
		}
	}
	t.Skip("rt-polarity is absent: set CLASSIFY_DATA to the shared data folder")
	return ""
}

// fixture is the classify binary, built from the root module as its own
// users build it, and small checkpoints it trained for one epoch.
type fixture struct {
	classify, data, dir string
}

var (
	fixtureOnce sync.Once
	theFixture  fixture
	fixtureErr  string

	checkpointsMu sync.Mutex
	checkpoints   = map[string]string{}
)

func setup(t *testing.T) fixture {
	t.Helper()
	data := dataDir(t)
	fixtureOnce.Do(func() {
		dir, err := os.MkdirTemp("", "classify-beam-test-")
		if err != nil {
			fixtureErr = err.Error()
			return
		}
		f := fixture{classify: filepath.Join(dir, "classify"), data: data, dir: dir}
		build := exec.Command("go", "build", "-o", f.classify, "./cmd/classify")
		build.Dir = "../.."
		if out, err := build.CombinedOutput(); err != nil {
			fixtureErr = "building classify: " + err.Error() + "\n" + string(out)
			return
		}
		theFixture = f
	})
	if fixtureErr != "" {
		t.Fatal(fixtureErr)
	}
	return theFixture
}

// checkpoint trains (once) a small model on the training split of a
// dataset folder for one epoch and returns its folder.
func (f fixture) checkpoint(t *testing.T, dataset string, flags ...string) string {
	t.Helper()
	checkpointsMu.Lock()
	defer checkpointsMu.Unlock()
	if ck, ok := checkpoints[dataset]; ok {
		return ck
	}
	ck := filepath.Join(f.dir, dataset)
	args := append([]string{"train", "--data", filepath.Join(f.data, dataset, "train.tsv"),
		"--epochs", "1", "--dim", "8", "--hidden", "8", "--vocab-size", "3000", "--max-len", "40",
		"--freeze-embeddings=false", "--out", ck}, flags...)
	f.run(t, nil, args...)
	checkpoints[dataset] = ck
	return ck
}

// run runs the classify binary and returns its standard output.
func (f fixture) run(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(f.classify, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("classify %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// texts are the text fields of a TSV file without header.
func texts(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		_, text, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("%s: line %q has no tab", path, line)
		}
		out = append(out, text)
	}
	return out
}

// prediction is a line of predict --json, read loosely: every field but
// the scores must match exactly, the scores to 1e-6.
type prediction = map[string]any

// keys are the keys of a JSON object in their order.
func keys(t *testing.T, line []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(line))
	var out []string
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, k.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func readPredictions(t *testing.T, lines []byte) map[string][]prediction {
	t.Helper()
	out := map[string][]prediction{}
	sc := bufio.NewScanner(bytes.NewReader(lines))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var p prediction
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		text, _ := p["text"].(string)
		out[text] = append(out[text], p)
	}
	return out
}

// sameJSON compares two decoded JSON values, numbers to 1e-6.
func sameJSON(a, b any) bool {
	switch a := a.(type) {
	case float64:
		b, ok := b.(float64)
		return ok && math.Abs(a-b) <= 1e-6
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			if !sameJSON(v, b[k]) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !sameJSON(a[i], b[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// tasks are the datasets the tests train on: one of each task.
var tasks = []struct {
	dataset string
	flags   []string
}{
	{"rt-polarity", nil},
	{"trec", nil},
	{"reuters", []string{"--multi-label"}},
}

func TestPredictMatchesClassify(t *testing.T) {
	f := setup(t)
	for _, task := range tasks {
		t.Run(task.dataset, func(t *testing.T) {
			ck := f.checkpoint(t, task.dataset, task.flags...)
			test := filepath.Join(f.data, task.dataset, "test.tsv")
			lines := texts(t, test)
			stdin := []byte(strings.Join(lines, "\n") + "\n")
			plain := filepath.Join(t.TempDir(), "texts.txt")
			if err := os.WriteFile(plain, stdin, 0o644); err != nil {
				t.Fatal(err)
			}
			wantLines := f.run(t, stdin, "predict", "--json", "--top-k", "2", "--checkpoint", ck)
			want := readPredictions(t, wantLines)
			for _, input := range []string{plain, test} {
				prefix := filepath.Join(t.TempDir(), "out")
				p, s := beam.NewPipelineWithRoot()
				err := Predict(s, PredictOptions{Checkpoint: ck, Input: Input{Glob: input},
					Output: prefix, Shards: 3, BatchSize: 100, TopK: 2})
				if err != nil {
					t.Fatal(err)
				}
				if err := ptest.Run(p); err != nil {
					t.Fatal(err)
				}
				var all []byte
				for i := range 3 {
					b, err := os.ReadFile(ShardName(prefix, ".jsonl", i, 3))
					if err != nil {
						t.Fatal(err)
					}
					all = append(all, b...)
				}
				if leftovers, _ := filepath.Glob(prefix + "*.tmp"); len(leftovers) > 0 {
					t.Errorf("temporary shards left: %v", leftovers)
				}
				firstGot, _, _ := bytes.Cut(all, []byte("\n"))
				firstWant, _, _ := bytes.Cut(wantLines, []byte("\n"))
				if g, w := keys(t, firstGot), keys(t, firstWant); strings.Join(g, ",") != strings.Join(w, ",") {
					t.Errorf("%s: keys %v, classify predict --json writes %v", input, g, w)
				}
				got := readPredictions(t, all)
				n, bad := 0, 0
				for text, ps := range want {
					n += len(ps)
					g := got[text]
					if len(g) != len(ps) {
						t.Errorf("%s: %q: %d predictions, want %d", input, text, len(g), len(ps))
						continue
					}
					for i := range ps {
						if !sameJSON(g[i], ps[i]) {
							if bad++; bad <= 5 {
								t.Errorf("%s: %q: prediction %v, classify predict --json gives %v", input, text, g[i], ps[i])
							}
						}
					}
				}
				if n != len(lines) || len(got) != len(want) {
					t.Errorf("%s: %d texts (%d distinct), classify gave %d (%d distinct)", input, len(lines), len(got), n, len(want))
				}
			}
		})
	}
}

func TestEvalMatchesClassify(t *testing.T) {
	f := setup(t)
	// An exact limit of 100 makes the workers' sums turn to histograms,
	// and the AUC then comes from them.
	cases := []struct {
		dataset, file string
		limit         int
		aucTol        float64
	}{
		{"rt-polarity", "test.tsv", DefaultExactLimit, 1e-12},
		{"rt-polarity", "test.tsv", 100, 1e-3},
		{"trec", "test.tsv", DefaultExactLimit, 0},
		// Reuters' test split has labels its training split lacks.
		{"reuters", "train.jsonl", DefaultExactLimit, 0},
	}
	for _, c := range cases {
		t.Run(c.dataset+"/"+c.file, func(t *testing.T) {
			var flags []string
			for _, task := range tasks {
				if task.dataset == c.dataset {
					flags = task.flags
				}
			}
			ck := f.checkpoint(t, c.dataset, flags...)
			test := filepath.Join(f.data, c.dataset, c.file)
			var want map[string]any
			if err := json.Unmarshal(f.run(t, nil, "eval", "--json", "--checkpoint", ck, "--data", test), &want); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "metrics.json")
			p, s := beam.NewPipelineWithRoot()
			if err := Eval(s, EvalOptions{Checkpoint: ck, Input: Input{Glob: test}, Output: out,
				BatchSize: 100, ExactLimit: c.limit}); err != nil {
				t.Fatal(err)
			}
			if err := ptest.Run(p); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			// Every figure to 1e-6 (the loss is summed in another order),
			// the AUC from histograms to its tolerance.
			if ga, wa := got["auc"], want["auc"]; ga != nil || wa != nil {
				g, _ := ga.(float64)
				w, _ := wa.(float64)
				if ga == nil || wa == nil || math.Abs(g-w) > c.aucTol {
					t.Errorf("auc = %v, classify eval gives %v (tolerance %g)", ga, wa, c.aucTol)
				}
			}
			delete(got, "auc")
			delete(want, "auc")
			if !sameJSON(got, want) {
				t.Errorf("eval gives\n%s\nclassify eval --json gives\n%v", b, want)
			}
		})
	}
}

// TestHistogramAUC checks the binned AUC against the exact one of
// train.Score on scores that fall in distinct bins, after merging a sum
// that turned to histograms with one that did not, in both orders; and
// that ties within a bin count one half.
func TestHistogramAUC(t *testing.T) {
	logits := []float32{-3, -1, -0.5, 0.2, 0.7, 2, 2.5, 4}
	labels := []float32{0, 1, 0, 0, 1, 1, 0, 1}
	h, err := train.NewBinaryHead([]string{"neg", "pos"})
	if err != nil {
		t.Fatal(err)
	}
	want, err := train.Score(h, logits, labels, 0)
	if err != nil {
		t.Fatal(err)
	}
	// By hand: of the 16 pairs of a positive and a negative, 11 rank right.
	if want.AUC != 11.0/16 {
		t.Fatalf("train.Score AUC %v, want 11/16", want.AUC)
	}
	fn, err := NewMetricsFn(h, 3)
	if err != nil {
		t.Fatal(err)
	}
	newAcc := func() Accumulator {
		a, err := fn.CreateAccumulator()
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a, b := newAcc(), newAcc()
	for i, z := range logits {
		acc := &a
		if i%3 == 1 {
			acc = &b // three: b stays exact, a turns to histograms
		}
		if *acc, err = fn.AddInput(*acc, Scored{Logits: []float32{z}, Targets: []float32{labels[i]}}); err != nil {
			t.Fatal(err)
		}
	}
	if !b.Exact || a.Exact {
		t.Fatalf("exact: a %v, b %v; want false, true", a.Exact, b.Exact)
	}
	// MergeAccumulators may change its first argument: each merge gets
	// copies.
	clone := func(a Accumulator) Accumulator {
		c := a
		c.Confusion = nil
		for _, row := range a.Confusion {
			c.Confusion = append(c.Confusion, slices.Clone(row))
		}
		c.Logits, c.Labels = slices.Clone(a.Logits), slices.Clone(a.Labels)
		c.Pos, c.Neg = slices.Clone(a.Pos), slices.Clone(a.Neg)
		return c
	}
	ba, err := fn.MergeAccumulators(clone(b), clone(a))
	if err != nil {
		t.Fatal(err)
	}
	ab, err := fn.MergeAccumulators(clone(a), clone(b))
	if err != nil {
		t.Fatal(err)
	}
	for _, merged := range []Accumulator{ba, ab} {
		m, err := fn.Metrics(merged)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(m.AUC-want.AUC) > 1e-12 || m.N != want.N || m.Accuracy != want.Accuracy || m.F1 != want.F1 {
			t.Errorf("histogram AUC %v, n %d, accuracy %v, f1 %v; train.Score %v, %d, %v, %v",
				m.AUC, m.N, m.Accuracy, m.F1, want.AUC, want.N, want.Accuracy, want.F1)
		}
	}
	// One positive and one negative in one bin: a tie, AUC 1/2.
	if got := histogramAUC([]int64{0, 1}, []int64{0, 1}); got != 0.5 {
		t.Errorf("histogramAUC of a tie = %v, want 0.5", got)
	}
}
