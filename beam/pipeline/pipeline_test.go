package pipeline

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
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
	ptest.MainWithDefault(m, "prism")
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
// users build it, and a small checkpoint it trained for one epoch on the
// sentence polarity training split.
type fixture struct {
	classify, checkpoint, test string
}

var (
	fixtureOnce sync.Once
	theFixture  fixture
	fixtureErr  string
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
		f := fixture{classify: filepath.Join(dir, "classify"), checkpoint: filepath.Join(dir, "ckpt"),
			test: filepath.Join(data, "rt-polarity", "test.tsv")}
		build := exec.Command("go", "build", "-o", f.classify, "./cmd/classify")
		build.Dir = "../.."
		if out, err := build.CombinedOutput(); err != nil {
			fixtureErr = "building classify: " + err.Error() + "\n" + string(out)
			return
		}
		tr := exec.Command(f.classify, "train", "--data", filepath.Join(data, "rt-polarity", "train.tsv"),
			"--epochs", "1", "--dim", "8", "--hidden", "8", "--vocab-size", "3000", "--max-len", "40",
			"--freeze-embeddings=false", "--out", f.checkpoint)
		if out, err := tr.CombinedOutput(); err != nil {
			fixtureErr = "classify train: " + err.Error() + "\n" + string(out)
			return
		}
		theFixture = f
	})
	if fixtureErr != "" {
		t.Fatal(fixtureErr)
	}
	return theFixture
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

func TestPredictMatchesClassify(t *testing.T) {
	f := setup(t)
	lines := texts(t, f.test)
	input := filepath.Join(t.TempDir(), "texts.txt")
	if err := os.WriteFile(input, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wantLines := f.run(t, []byte(strings.Join(lines, "\n")+"\n"), "predict", "--json", "--checkpoint", f.checkpoint)
	want := readPredictions(t, wantLines)

	for _, tc := range []struct{ name, input string }{
		{"plain", input},
		{"tsv", f.test},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := filepath.Join(t.TempDir(), "out")
			p, s := beam.NewPipelineWithRoot()
			err := Predict(s, PredictOptions{Checkpoint: f.checkpoint, Input: Input{Glob: tc.input},
				Output: prefix, Shards: 3, BatchSize: 100})
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
			leftovers, _ := filepath.Glob(prefix + "*.tmp")
			if len(leftovers) > 0 {
				t.Errorf("temporary shards left: %v", leftovers)
			}
			firstGot, _, _ := bytes.Cut(all, []byte("\n"))
			firstWant, _, _ := bytes.Cut(wantLines, []byte("\n"))
			if g, w := keys(t, firstGot), keys(t, firstWant); strings.Join(g, ",") != strings.Join(w, ",") {
				t.Errorf("keys %v, classify predict --json writes %v", g, w)
			}
			got := readPredictions(t, all)
			n := 0
			for text, ps := range want {
				n += len(ps)
				g := got[text]
				if len(g) != len(ps) {
					t.Errorf("%q: %d predictions, want %d", text, len(g), len(ps))
					continue
				}
				for i := range ps {
					if !sameJSON(g[i], ps[i]) {
						t.Errorf("%q: prediction %v, classify predict --json gives %v", text, g[i], ps[i])
					}
				}
			}
			if n != len(lines) || len(got) != len(want) {
				t.Errorf("%d texts (%d distinct), classify gave %d (%d distinct)", len(lines), len(got), n, len(want))
			}
		})
	}
}

func TestEvalMatchesClassify(t *testing.T) {
	f := setup(t)
	var want train.Metrics
	if err := json.Unmarshal(f.run(t, nil, "eval", "--json", "--checkpoint", f.checkpoint, "--data", f.test), &want); err != nil {
		t.Fatal(err)
	}
	// An exact limit of 100 makes every worker's sum turn to histograms,
	// and the AUC then comes from them.
	for _, tc := range []struct {
		name   string
		limit  int
		aucTol float64
	}{
		{"exact", DefaultExactLimit, 1e-12},
		{"histograms", 100, 1e-3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "metrics.json")
			p, s := beam.NewPipelineWithRoot()
			if err := Eval(s, EvalOptions{Checkpoint: f.checkpoint, Input: Input{Glob: f.test}, Output: out,
				BatchSize: 100, ExactLimit: tc.limit}); err != nil {
				t.Fatal(err)
			}
			if err := ptest.Run(p); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			var got train.Metrics
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			if got.N != want.N || got.Confusion != want.Confusion {
				t.Errorf("n %d, confusion %+v; classify eval: n %d, %+v", got.N, got.Confusion, want.N, want.Confusion)
			}
			for _, c := range []struct {
				name      string
				got, want float64
				tol       float64
			}{
				{"loss", got.Loss, want.Loss, 1e-6},
				{"accuracy", got.Accuracy, want.Accuracy, 1e-12},
				{"precision", got.Precision, want.Precision, 1e-12},
				{"recall", got.Recall, want.Recall, 1e-12},
				{"f1", got.F1, want.F1, 1e-12},
				{"auc", got.AUC, want.AUC, tc.aucTol},
			} {
				if math.Abs(c.got-c.want) > c.tol {
					t.Errorf("%s = %v, classify eval gives %v (tolerance %g)", c.name, c.got, c.want, c.tol)
				}
			}
		})
	}
}

// TestHistogramAUC checks the binned AUC against the exact one of
// train.Score on scores that fall in distinct bins, and that ties within a
// bin count one half.
func TestHistogramAUC(t *testing.T) {
	logits := []float32{-3, -1, -0.5, 0.2, 0.7, 2, 2.5, 4}
	labels := []float32{0, 1, 0, 0, 1, 1, 0, 1}
	want, err := train.Score(logits, labels, 0)
	if err != nil {
		t.Fatal(err)
	}
	fn := &MetricsFn{ExactLimit: 3}
	a, b := fn.CreateAccumulator(), fn.CreateAccumulator()
	for i, z := range logits {
		acc := &a
		if i%3 == 1 {
			acc = &b // three: b stays exact, a turns to histograms
		}
		if *acc, err = fn.AddInput(*acc, Scored{Logit: z, Label: labels[i]}); err != nil {
			t.Fatal(err)
		}
	}
	if !b.Exact || a.Exact {
		t.Fatalf("exact: a %v, b %v; want false, true", a.Exact, b.Exact)
	}
	// MergeAccumulators may change its first argument: b first, then a.
	for _, merged := range []Accumulator{fn.MergeAccumulators(b, a), fn.MergeAccumulators(a, b)} {
		m, err := merged.Metrics()
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(m.AUC-want.AUC) > 1e-12 || m.Confusion != want.Confusion || m.N != want.N {
			t.Errorf("histogram AUC %v, confusion %+v, n %d; train.Score %v, %+v, %d", m.AUC, m.Confusion, m.N, want.AUC, want.Confusion, want.N)
		}
	}
	// One positive and one negative in one bin: a tie, AUC 1/2.
	if got := histogramAUC([]int64{0, 1}, []int64{0, 1}); got != 0.5 {
		t.Errorf("histogramAUC of a tie = %v, want 0.5", got)
	}
}
