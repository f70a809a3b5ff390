package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/classify/classify/data"
	"github.com/classify/classify/layers"
	"github.com/classify/classify/models"
	"github.com/classify/classify/train"
)

// runCommand runs classify in process with stdin and returns its exit
// status and output.
func runCommand(stdin string, args ...string) (status int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	status = run(&env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut}, args)
	return status, out.String(), errOut.String()
}

// sentimentTSV writes n labelled sentences whose label a word list decides,
// so that a tiny model learns them in a few epochs.
func sentimentTSV(t *testing.T, n int, seed int64) string {
	t.Helper()
	pos := []string{"good", "great", "fine", "lovely", "superb"}
	neg := []string{"bad", "awful", "dull", "poor", "boring"}
	filler := []string{"the", "film", "is", "a", "plot", "and", "it", "was", "very", "so"}
	rng := rand.New(rand.NewSource(seed))
	var b strings.Builder
	for i := 0; i < n; i++ {
		label := rng.Intn(2)
		words := []string{}
		for k := 0; k < 2+rng.Intn(8); k++ {
			words = append(words, filler[rng.Intn(len(filler))])
		}
		cue := neg[rng.Intn(len(neg))]
		if label == 1 {
			cue = pos[rng.Intn(len(pos))]
		}
		at := rng.Intn(len(words) + 1)
		words = append(words[:at], append([]string{cue}, words[at:]...)...)
		fmt.Fprintf(&b, "%d\t%s!\n", label, strings.Join(words, " "))
	}
	path := filepath.Join(t.TempDir(), "data.tsv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// tinyTrain is the flag set of a fast training run.
func tinyTrain(data, out string, extra ...string) []string {
	return append([]string{"train", "--data", data, "--out", out, "--dim", "8", "--hidden", "8",
		"--max-len", "16", "--batch-size", "16", "--lr", "0.01", "--seed", "3"}, extra...)
}

func TestTrainEvalPredict(t *testing.T) {
	data := sentimentTSV(t, 400, 1)
	test := sentimentTSV(t, 200, 2)
	out := filepath.Join(t.TempDir(), "ck")
	status, stdout, stderr := runCommand("", tinyTrain(data, out, "--epochs", "6", "--test", test, "--freeze-embeddings=false")...)
	if status != 0 {
		t.Fatalf("train exit %d: %s", status, stderr)
	}
	for _, f := range []string{"config.json", "tokenizer.json", "model.safetensors", "optimizer.safetensors", "history.json", "training.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("checkpoint lacks %s", f)
		}
	}
	if !strings.Contains(stderr, "epoch 6/6") {
		t.Errorf("train output lacks the plain epoch line:\n%s", stdout)
	}
	h, err := train.ReadHistory(filepath.Join(out, "history.json"))
	if err != nil || len(h) != 6 {
		t.Fatalf("history: %d epochs, %v; want 6", len(h), err)
	}

	status, stdout, stderr = runCommand("", "eval", "--checkpoint", out, "--data", test, "--json")
	if status != 0 {
		t.Fatalf("eval exit %d: %s", status, stderr)
	}
	var m struct {
		N        int
		Accuracy float64
	}
	if err := json.Unmarshal([]byte(stdout), &m); err != nil {
		t.Fatalf("eval --json: %v in %q", err, stdout)
	}
	if m.N != 200 || m.Accuracy < 0.9 {
		t.Errorf("eval: %d examples, accuracy %.3f; want 200 and at least 0.9 on a task a word decides", m.N, m.Accuracy)
	}

	status, stdout, stderr = runCommand("a great film\nso dull and boring\n", "predict", "--checkpoint", out, "--json")
	if status != 0 {
		t.Fatalf("predict exit %d: %s", status, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("predict gave %d lines, want 2: %q", len(lines), stdout)
	}
	for i, want := range []string{"1", "0"} {
		var p struct {
			Text   string
			Label  string
			Score  float64
			Scores []models.LabelScore
		}
		if err := json.Unmarshal([]byte(lines[i]), &p); err != nil {
			t.Fatal(err)
		}
		if p.Label != want || p.Score < 0.5 || len(p.Scores) != 2 || p.Scores[0].Label != want || p.Scores[0].Score+p.Scores[1].Score < 0.999 {
			t.Errorf("predict %q = %+v, want label %s with both labels' scores, its own first", p.Text, p, want)
		}
	}
	status, stdout, _ = runCommand("", "predict", "--checkpoint", out, "a great film")
	if status != 0 || !strings.HasPrefix(stdout, "1\t") || !strings.HasSuffix(stdout, "\ta great film\n") {
		t.Errorf("plain predict = %d %q, want label<TAB>score<TAB>text", status, stdout)
	}

	status, stdout, _ = runCommand("", "tokenize", "--checkpoint", out, "--json", "A GREAT film! unseen")
	var tok struct {
		IDs    []int
		Tokens []string
	}
	if status != 0 || json.Unmarshal([]byte(stdout), &tok) != nil {
		t.Fatalf("tokenize = %d %q", status, stdout)
	}
	if got, want := strings.Join(tok.Tokens, " "), "a great film ! [UNK]"; got != want || tok.IDs[4] != 1 {
		t.Errorf("tokenize tokens = %q ids %v, want %q with [UNK] = 1", got, tok.IDs, want)
	}

	status, stdout, _ = runCommand("", "summary", "--checkpoint", out)
	if status != 0 || !strings.Contains(stdout, "Trainable params:") {
		t.Errorf("summary --checkpoint = %d %q", status, stdout)
	}
}

// TestTrainIsDeterministic trains twice with one seed and compares the
// weights to the byte and the history to the last digit (times aside).
func TestTrainIsDeterministic(t *testing.T) {
	data := sentimentTSV(t, 200, 4)
	var weights [2][]byte
	var histories [2]string
	for i := range weights {
		out := filepath.Join(t.TempDir(), "ck")
		if status, _, stderr := runCommand("", tinyTrain(data, out, "--epochs", "2", "--dropout", "0.3")...); status != 0 {
			t.Fatalf("train exit %d: %s", status, stderr)
		}
		weights[i], _ = os.ReadFile(filepath.Join(out, "model.safetensors"))
		h, err := train.ReadHistory(filepath.Join(out, "history.json"))
		if err != nil {
			t.Fatal(err)
		}
		for k := range h {
			h[k].Seconds = 0
		}
		js, _ := json.Marshal(h)
		histories[i] = string(js)
	}
	if !bytes.Equal(weights[0], weights[1]) {
		t.Error("two runs with one seed wrote different weights")
	}
	if histories[0] != histories[1] {
		t.Errorf("two runs with one seed wrote different histories:\n%s\n%s", histories[0], histories[1])
	}
}

// TestTrainResume checks that 1 epoch, then 1 more with --from, gives the
// weights of 2 epochs in one run: the optimizer state and the shuffling
// resume where they stopped.
func TestTrainResume(t *testing.T) {
	data := sentimentTSV(t, 200, 5)
	dir := t.TempDir()
	two, one, resumed := filepath.Join(dir, "two"), filepath.Join(dir, "one"), filepath.Join(dir, "resumed")
	for _, args := range [][]string{
		tinyTrain(data, two, "--epochs", "2"),
		tinyTrain(data, one, "--epochs", "1"),
		{"train", "--from", one, "--data", data, "--out", resumed, "--epochs", "1", "--batch-size", "16", "--lr", "0.01", "--seed", "3"},
	} {
		if status, _, stderr := runCommand("", args...); status != 0 {
			t.Fatalf("%v: exit %d: %s", args, status, stderr)
		}
	}
	a, _ := os.ReadFile(filepath.Join(two, "model.safetensors"))
	b, _ := os.ReadFile(filepath.Join(resumed, "model.safetensors"))
	if !bytes.Equal(a, b) {
		t.Error("1 epoch + 1 resumed epoch gave other weights than 2 epochs")
	}
	h, err := train.ReadHistory(filepath.Join(resumed, "history.json"))
	if err != nil || len(h) != 2 || h[1].Epoch != 2 {
		t.Errorf("resumed history = %+v, %v; want epochs 1 and 2", h, err)
	}
}

func TestTrainEpochsZeroAndFineTune(t *testing.T) {
	data := sentimentTSV(t, 100, 6)
	dir := t.TempDir()
	initial, tuned := filepath.Join(dir, "initial"), filepath.Join(dir, "tuned")
	if status, _, stderr := runCommand("", tinyTrain(data, initial, "--epochs", "0")...); status != 0 {
		t.Fatalf("--epochs 0: exit %d: %s", status, stderr)
	}
	status, stdout, stderr := runCommand("", "train", "--from", initial, "--data", data, "--out", tuned, "--epochs", "1", "--freeze-embeddings=false", "--lr", "0.0005")
	if status != 0 {
		t.Fatalf("fine-tune: exit %d: %s", status, stderr)
	}
	if !strings.Contains(stdout, "0 frozen parameters") {
		t.Errorf("fine-tuning should train the embedding too:\n%s", stdout)
	}
	if status, _, stderr := runCommand("", "train", "--from", initial, "--data", data, "--out", tuned, "--hidden", "4"); status != 2 || !strings.Contains(stderr, "--hidden") {
		t.Errorf("--from with --hidden: exit %d %q, want 2 naming the flag", status, stderr)
	}

	// A damaged optimizer state stops a resume, but not predict.
	opt := filepath.Join(initial, "optimizer.safetensors")
	b, _ := os.ReadFile(opt)
	b[len(b)-1] ^= 1
	os.WriteFile(opt, b, 0o644)
	if status, _, stderr := runCommand("", "train", "--from", initial, "--data", data, "--out", tuned, "--epochs", "1"); status != 1 || !strings.Contains(stderr, "optimizer.safetensors") {
		t.Errorf("resume from a damaged optimizer state: exit %d %q, want 1 naming the file", status, stderr)
	}
	if status, _, stderr := runCommand("", "predict", "--checkpoint", initial, "fine"); status != 0 {
		t.Errorf("predict with a damaged optimizer state it does not use: exit %d %q, want 0", status, stderr)
	}
}

func TestTrainRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.tsv")
	os.WriteFile(bad, []byte("1\tfine\n\tno label\n"), 0o644)
	out := filepath.Join(dir, "ck")
	cases := []struct {
		args   []string
		status int
		want   string
	}{
		{[]string{"train", "--data", bad, "--out", out}, 1, "bad.tsv:2"},
		{[]string{"train", "--out", out}, 2, "--data is required"},
		{[]string{"train", "--data", bad, "--pool", "median", "--out", out}, 2, "pool"},
		{[]string{"train", "--data", filepath.Join(dir, "missing.tsv"), "--out", out}, 1, "missing.tsv"},
		{[]string{"eval", "--checkpoint", dir, "--data", bad}, 1, "not a checkpoint"},
		{[]string{"predict", "--checkpoint", filepath.Join(dir, "nothing"), "x"}, 1, "nothing"},
	}
	for _, c := range cases {
		status, _, stderr := runCommand("", c.args...)
		if status != c.status || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d naming %q", c.args, status, stderr, c.status, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed run left a checkpoint behind")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("a failed run left files behind: %d entries", len(entries))
	}
}

func TestSummaryKerasCounts(t *testing.T) {
	status, stdout, stderr := runCommand("", "summary", "--vocab-size", "10000", "--dim", "100", "--hidden", "128")
	if status != 0 {
		t.Fatalf("summary exit %d: %s", status, stderr)
	}
	for _, want := range []string{"1000000", "234496", "257", "Trainable params: 234,753", "Non-trainable params: 1,000,000"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
}

// TestSeedStreamsDiffer checks that the embedding's random rows and the
// LSTM's initial weights are not drawn from one stream: with one stream,
// row 1 of the embedding was a scaled copy of the same cells of
// lstm.weight_ih_l0.
func TestSeedStreamsDiffer(t *testing.T) {
	data := sentimentTSV(t, 50, 7)
	out := filepath.Join(t.TempDir(), "ck")
	if status, _, stderr := runCommand("", tinyTrain(data, out, "--epochs", "0")...); status != 0 {
		t.Fatalf("train exit %d: %s", status, stderr)
	}
	ck, err := models.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	var emb, wih []float32
	for _, p := range ck.Model.Params() {
		switch p.Name {
		case "embedding.weight":
			emb = p.Value.Data().([]float32)[8:24]
		case "lstm.weight_ih_l0":
			wih = p.Value.Data().([]float32)[8:24]
		}
	}
	if r := correlation(emb, wih); math.Abs(r) > 0.9 {
		t.Errorf("embedding row and LSTM weights correlate at %.3f: drawn from one stream", r)
	}
}

func correlation(a, b []float32) float64 {
	var ma, mb float64
	for i := range a {
		ma += float64(a[i]) / float64(len(a))
		mb += float64(b[i]) / float64(len(b))
	}
	var sab, saa, sbb float64
	for i := range a {
		x, y := float64(a[i])-ma, float64(b[i])-mb
		sab, saa, sbb = sab+x*y, saa+x*x, sbb+y*y
	}
	return sab / math.Sqrt(saa*sbb)
}

// topicTSV writes n texts of three topics that a word decides, labelled by
// name, or with multi each with the set of topics it mentions.
func topicTSV(t *testing.T, n int, seed int64, multi bool) string {
	t.Helper()
	cues := map[string][]string{"sport": {"goal", "match", "team"}, "arts": {"paint", "novel", "opera"}, "world": {"treaty", "border", "summit"}}
	names := []string{"arts", "sport", "world"}
	filler := []string{"the", "news", "is", "a", "day", "and", "it", "was", "very", "so"}
	rng := rand.New(rand.NewSource(seed))
	var b strings.Builder
	for i := 0; i < n; i++ {
		words := []string{filler[rng.Intn(len(filler))], filler[rng.Intn(len(filler))]}
		var labels []string
		for _, name := range names {
			if rng.Intn(3) == 0 || (!multi && len(labels) == 0 && name == "world") {
				labels = append(labels, name)
				words = append(words, cues[name][rng.Intn(3)])
				if !multi {
					break
				}
			}
		}
		fmt.Fprintf(&b, "%s\t%s\n", strings.Join(labels, ","), strings.Join(words, " "))
	}
	path := filepath.Join(t.TempDir(), "topics.tsv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTrainMultiClass trains on three named labels with no flag, and
// checks that eval, predict and config.json speak of the names.
func TestTrainMultiClass(t *testing.T) {
	data, test := topicTSV(t, 300, 1, false), topicTSV(t, 90, 2, false)
	out := filepath.Join(t.TempDir(), "ck")
	status, stdout, stderr := runCommand("", tinyTrain(data, out, "--epochs", "8", "--freeze-embeddings=false", "--class-weight", "balanced")...)
	if status != 0 || !strings.Contains(stdout+stderr, "multiclass task, 3 labels") {
		t.Fatalf("train exit %d: %s %s", status, stdout, stderr)
	}
	cfg, err := models.LoadConfig(out)
	if err != nil || cfg.Task != "multiclass" || strings.Join(cfg.Labels, " ") != "arts sport world" || cfg.Architecture != "bilstm" {
		t.Fatalf("config.json = %+v, %v; want a bilstm multiclass task of arts, sport, world", cfg, err)
	}
	status, stdout, stderr = runCommand("", "eval", "--checkpoint", out, "--data", test, "--json")
	var m struct {
		MacroF1   float64                          `json:"macro_f1"`
		PerClass  map[string]struct{ Support int } `json:"per_class"`
		Confusion [][]int
		Labels    []string
	}
	if status != 0 || json.Unmarshal([]byte(stdout), &m) != nil {
		t.Fatalf("eval = %d %q %q", status, stdout, stderr)
	}
	if m.MacroF1 < 0.9 || len(m.Confusion) != 3 || len(m.Confusion[0]) != 3 || m.PerClass["sport"].Support == 0 || len(m.Labels) != 3 {
		t.Errorf("eval --json = %s; want macro F1 at least 0.9, a 3 x 3 confusion and per-class supports", stdout)
	}
	status, stdout, _ = runCommand("", "eval", "--checkpoint", out, "--data", test)
	if status != 0 || !strings.Contains(stdout, "weighted avg") || !strings.Contains(stdout, "precision    recall  f1-score   support") {
		t.Errorf("eval report = %d\n%s\nwant a classification_report", status, stdout)
	}
	status, stdout, _ = runCommand("", "predict", "--checkpoint", out, "--json", "--top-k", "2", "the goal of the team")
	var p struct {
		Label  string
		Scores []models.LabelScore
	}
	if status != 0 || json.Unmarshal([]byte(stdout), &p) != nil || p.Label != "sport" || len(p.Scores) != 2 || p.Scores[0].Label != "sport" {
		t.Errorf("predict --top-k 2 = %d %q; want sport first of 2 scores", status, stdout)
	}
	unseen := filepath.Join(t.TempDir(), "unseen.tsv")
	os.WriteFile(unseen, []byte("sport\tgoal\nscience\tatoms\n"), 0o644)
	status, _, stderr = runCommand("", "eval", "--checkpoint", out, "--data", unseen)
	if status != 1 || !strings.Contains(stderr, unseen+`:2: label "science" is not one of the 3 labels`) {
		t.Errorf("eval with an unseen label = %d %q; want 1 naming the file and line", status, stderr)
	}
}

// TestTrainMultiLabel trains on label sets, and checks micro-F1 in the
// progress and eval, and the labels of predict --json.
func TestTrainMultiLabel(t *testing.T) {
	data, test := topicTSV(t, 400, 3, true), topicTSV(t, 100, 4, true)
	out := filepath.Join(t.TempDir(), "ck")
	status, stdout, stderr := runCommand("", tinyTrain(data, out, "--epochs", "10", "--multi-label", "--freeze-embeddings=false", "--lr", "0.02")...)
	if status != 0 || !strings.Contains(stdout+stderr, "multilabel task, 3 labels") || !strings.Contains(stdout+stderr, "val_micro_f1") {
		t.Fatalf("train exit %d: %s %s", status, stdout, stderr)
	}
	status, stdout, stderr = runCommand("", "eval", "--checkpoint", out, "--data", test, "--json")
	var m struct {
		MicroF1        float64 `json:"micro_f1"`
		SubsetAccuracy float64 `json:"subset_accuracy"`
		HammingLoss    float64 `json:"hamming_loss"`
		Confusion      [][]int
	}
	if status != 0 || json.Unmarshal([]byte(stdout), &m) != nil {
		t.Fatalf("eval = %d %q %q", status, stdout, stderr)
	}
	if m.MicroF1 < 0.9 || len(m.Confusion) != 3 || len(m.Confusion[0]) != 4 {
		t.Errorf("eval --json = %s; want micro F1 at least 0.9 and [tn fp fn tp] per label", stdout)
	}
	status, stdout, _ = runCommand("", "predict", "--checkpoint", out, "--json", "a goal at the opera")
	var p struct {
		Label  string
		Labels []string
	}
	if status != 0 || json.Unmarshal([]byte(stdout), &p) != nil || len(p.Labels) != 2 || p.Label != strings.Join(p.Labels, ",") {
		t.Errorf("predict = %d %q; want two labels, joined in label", status, stdout)
	}
	status, stdout, _ = runCommand("", "predict", "--checkpoint", out, "--threshold", "0.999999", "a goal at the opera")
	if status != 0 || !strings.HasPrefix(stdout, "\t") {
		t.Errorf("predict --threshold 0.999999 = %d %q; want no label", status, stdout)
	}
	// The checkpoint fixes the task: --from reads the label lists without --multi-label.
	status, stdout, stderr = runCommand("", "train", "--from", out, "--data", data, "--epochs", "1", "--out", filepath.Join(t.TempDir(), "more"))
	if status != 0 {
		t.Errorf("train --from a multi-label checkpoint = %d %q %q", status, stdout, stderr)
	}
}

// TestSequentialCheckpointCommands saves Sequentials assembled in Go (a
// bag of words, a CNN, a Transformer encoder over a BiGRU) and runs
// predict, eval and summary on them as on trained checkpoints.
func TestSequentialCheckpointCommands(t *testing.T) {
	texts := []string{"good fun", "bad mess", "great fun", "dull mess"}
	vocab := data.BuildVocabulary(texts, 100)
	tok, _ := data.NewTokenizer(vocab)
	rng := rand.New(rand.NewSource(1))
	dt := tensor.Float32
	head, _ := train.NewBinaryHead([]string{"neg", "pos"})
	embedding := func() *layers.Embedding {
		return layers.NewEmbedding(layers.RandomEmbedding(vocab.Len(), 8, dt, rng), true)
	}
	conv, err := layers.NewConv1D(8, []int{2, 3}, 4, dt, rng)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := layers.NewEncoder("encoder", layers.EncoderConfig{Layers: 1, Dim: 8, Heads: 2, FF: 16, Rotary: true, FinalNorm: true}, dt, rng)
	if err != nil {
		t.Fatal(err)
	}
	bigru := layers.NewBidirectional(layers.NewGRU(8, 4, dt, rng, layers.ReturnSequences(true)),
		layers.NewGRU(8, 4, dt, rng, layers.ReturnSequences(true), layers.GoBackwards()), layers.MergeConcat)
	for _, m := range []*models.Sequential{
		models.NewSequential("bag_of_words", 16, head, embedding(), layers.NewPooling(layers.PoolMean), layers.NewDense(8, 1, layers.Linear, dt, rng)),
		models.NewSequential("kim_cnn", 16, head, embedding(), conv, layers.NewDropout(0.5, rand.New(rand.NewSource(1))), layers.NewDense(8, 1, layers.Linear, dt, rng)),
		models.NewSequential("rope_bigru", 16, head, embedding(), enc, bigru, layers.NewPooling(layers.PoolMax), layers.NewDense(8, 1, layers.Linear, dt, rng)),
	} {
		dir := filepath.Join(t.TempDir(), m.Name)
		if err := models.Save(dir, &models.Checkpoint{Tokenizer: tok, Model: m}, nil); err != nil {
			t.Fatal(err)
		}
		if status, stdout, stderr := runCommand("", "predict", "--checkpoint", dir, "--json", "good fun"); status != 0 || !strings.Contains(stdout, `"scores":[`) {
			t.Errorf("predict on the %s checkpoint = %d %q %q", m.Name, status, stdout, stderr)
		}
		tsv := filepath.Join(t.TempDir(), "t.tsv")
		os.WriteFile(tsv, []byte("pos\tgood fun\nneg\tdull mess\n"), 0o644)
		if status, stdout, stderr := runCommand("", "eval", "--checkpoint", dir, "--data", tsv); status != 0 || !strings.Contains(stdout, "2 examples") {
			t.Errorf("eval on the %s checkpoint = %d %q %q", m.Name, status, stdout, stderr)
		}
		if status, stdout, stderr := runCommand("", "summary", "--checkpoint", dir); status != 0 || !strings.Contains(stdout, m.Name) {
			t.Errorf("summary on the %s checkpoint = %d %q %q", m.Name, status, stdout, stderr)
		}
	}
}

// TestTrainCNN trains Kim's CNN with its own defaults (dropout 0.5,
// trainable embeddings) and predicts from its checkpoint.
func TestTrainCNN(t *testing.T) {
	data := sentimentTSV(t, 300, 8)
	out := filepath.Join(t.TempDir(), "ck")
	cnn := func(extra ...string) []string {
		return append([]string{"train", "--data", data, "--out", out, "--dim", "8", "--max-len", "16", "--batch-size", "16", "--seed", "3",
			"--model", "cnn", "--filters", "2,3", "--feature-maps", "6", "--epochs", "6", "--lr", "0.01"}, extra...)
	}
	status, stdout, stderr := runCommand("", cnn()...)
	if status != 0 || !strings.Contains(stdout, "0 frozen parameters") {
		t.Fatalf("train --model cnn: exit %d: %s %s", status, stdout, stderr)
	}
	cfg, err := models.LoadConfig(out)
	if err != nil || cfg.Architecture != "cnn" || !strings.Contains(strings.Join(strings.Fields(string(cfg.Model)), ""), `"dropout":0.5`) || !strings.Contains(strings.Join(strings.Fields(string(cfg.Model)), ""), `"filters":[2,3]`) {
		t.Fatalf("config.json = %s %s, %v; want a cnn of filters 2,3 with dropout 0.5", cfg.Architecture, cfg.Model, err)
	}
	if status, stdout, _ := runCommand("", "predict", "--checkpoint", out, "a great film"); status != 0 || !strings.HasPrefix(stdout, "1\t") {
		t.Errorf("predict on the cnn = %d %q, want label 1", status, stdout)
	}
	if status, _, stderr := runCommand("", cnn("--pool", "mean")...); status != 2 || !strings.Contains(stderr, "--pool is not a cnn flag") {
		t.Errorf("--model cnn --pool: exit %d %q, want 2 naming the flag", status, stderr)
	}
}

// TestTrainTransformer trains the encoder with rotary positions and
// predicts from its checkpoint.
func TestTrainTransformer(t *testing.T) {
	data := sentimentTSV(t, 200, 9)
	out := filepath.Join(t.TempDir(), "ck")
	status, stdout, stderr := runCommand("", "train", "--data", data, "--out", out, "--model", "transformer", "--pos-encoding", "rope",
		"--dim", "8", "--heads", "2", "--ff", "16", "--layers", "1", "--max-len", "16", "--epochs", "4", "--lr", "0.01", "--freeze-embeddings=false")
	if status != 0 {
		t.Fatalf("train --model transformer: exit %d: %s %s", status, stdout, stderr)
	}
	cfg, err := models.LoadConfig(out)
	if err != nil || cfg.Architecture != "transformer" || !strings.Contains(string(cfg.Model), `"rope"`) {
		t.Fatalf("config.json = %s %s, %v; want a transformer with rope", cfg.Architecture, cfg.Model, err)
	}
	if status, stdout, stderr := runCommand("", "predict", "--checkpoint", out, "--json", "a great film"); status != 0 || !strings.Contains(stdout, `"scores"`) {
		t.Errorf("predict on the transformer = %d %q %q", status, stdout, stderr)
	}
	if status, _, stderr := runCommand("", "train", "--data", data, "--out", out, "--model", "transformer", "--hidden", "4"); status != 2 || !strings.Contains(stderr, "--hidden is not a transformer flag") {
		t.Errorf("--model transformer --hidden: exit %d %q, want 2", status, stderr)
	}
}

// TestTrainSignalWithNothingToTrain stands for a SIGTERM that arrives
// when no epoch is left to run (--epochs 0, or during the save): the
// checkpoint is written whole and the exit status is 1, as for a signal
// during training (issue 11, item 6: it used to be 0).
func TestTrainSignalWithNothingToTrain(t *testing.T) {
	data := sentimentTSV(t, 60, 12)
	out := filepath.Join(t.TempDir(), "ck")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	status := run(&env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, ctx: ctx}, tinyTrain(data, out, "--epochs", "0"))
	if status != 1 || !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("train --epochs 0 with a signal: exit %d, stderr %q; want 1 and a word on the interrupt", status, stderr.String())
	}
	if _, err := models.Load(out); err != nil {
		t.Errorf("the checkpoint written before the exit does not load: %v", err)
	}
}

// TestTrainBow trains the bag of n-grams with a small table and uses its
// checkpoint with predict, eval, summary and serve; flags of other
// families are refused.
func TestTrainBow(t *testing.T) {
	data := sentimentTSV(t, 300, 8)
	out := filepath.Join(t.TempDir(), "ck")
	bow := func(extra ...string) []string {
		return append([]string{"train", "--data", data, "--out", out, "--model", "bow", "--dim", "8", "--buckets", "64",
			"--epochs", "20", "--lr", "0.5", "--seed", "3"}, extra...)
	}
	status, stdout, stderr := runCommand("", bow()...)
	if status != 0 {
		t.Fatalf("train --model bow: exit %d: %s %s", status, stdout, stderr)
	}
	cfg, err := models.LoadConfig(out)
	if err != nil || cfg.Architecture != "bow" || !strings.Contains(strings.Join(strings.Fields(string(cfg.Model)), ""), `"ngrams":2,"buckets":64`) {
		t.Fatalf("config.json = %s %s, %v; want a bow of bigrams in 64 buckets", cfg.Architecture, cfg.Model, err)
	}
	if cfg.Training.LearningRate != 0.5 || cfg.Training.Epochs != 20 {
		t.Errorf("training options %+v, want the flags' lr 0.5 and 20 epochs", cfg.Training)
	}
	if _, err := os.Stat(filepath.Join(out, models.HistoryFile)); err != nil {
		t.Errorf("no history: %v", err)
	}
	if status, stdout, _ := runCommand("", "predict", "--checkpoint", out, "a great film"); status != 0 || !strings.HasPrefix(stdout, "1\t") {
		t.Errorf("predict on the bow = %d %q, want label 1", status, stdout)
	}
	if status, stdout, stderr := runCommand("", "eval", "--checkpoint", out, "--data", data, "--json"); status != 0 || !strings.Contains(stdout, `"accuracy":1`) {
		t.Errorf("eval on the bow = %d %q %q, want accuracy 1 on its training data", status, stdout, stderr)
	}
	if status, stdout, stderr := runCommand("", "summary", "--checkpoint", out); status != 0 || !strings.Contains(stdout, "embedding_bag (EmbeddingBag)") {
		t.Errorf("summary on the bow = %d %q %q", status, stdout, stderr)
	}
	// 4·(1000 + 10)·3 = table and output layer of one unit.
	if status, stdout, stderr := runCommand("", "summary", "--model", "bow", "--vocab-size", "1000", "--buckets", "10", "--dim", "3"); status != 0 || !strings.Contains(stdout, "Total params: 3,034") {
		t.Errorf("summary --model bow = %d %q %q, want 3,034 parameters", status, stdout, stderr)
	}
	p, err := models.LoadPredictor(out)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(testHandler(t, p, defaultServeOptions()))
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/v1/predict", "application/json", strings.NewReader(`{"texts":["a great film","a dull plot"]}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"label":"1"`) || !strings.Contains(string(body), `"label":"0"`) {
		t.Errorf("serve on the bow = %d %s, want labels 1 and 0", resp.StatusCode, body)
	}
	if status, _, stderr := runCommand("", bow("--threads", "2", "--epochs", "2")...); status != 0 {
		t.Errorf("train --model bow --threads 2: exit %d %q", status, stderr)
	}
	for flag, value := range map[string]string{"--hidden": "4", "--batch-size": "8", "--dropout": "0.1"} {
		if status, _, stderr := runCommand("", bow(flag, value)...); status != 2 || !strings.Contains(stderr, flag+" is not a bow flag") {
			t.Errorf("--model bow %s: exit %d %q, want 2 naming the flag", flag, status, stderr)
		}
	}
	if status, _, stderr := runCommand("", "train", "--data", data, "--out", out, "--ngrams", "3"); status != 2 || !strings.Contains(stderr, "--ngrams is not a bilstm flag") {
		t.Errorf("--model bilstm --ngrams: exit %d %q, want 2", status, stderr)
	}
}

// TestTrainVectorsVocab checks --vectors-vocab: the words of the first N
// rows of --vectors that the training data lacks get ids after the
// training words, with their vectors as rows, so that a word only the
// test set holds is read; a vectors word the tokenizer never yields gets
// none, and the flag is refused without --vectors, below 0 and with
// --from.
func TestTrainVectorsVocab(t *testing.T) {
	dir := t.TempDir()
	tsv := sentimentTSV(t, 60, 4)
	vecs := filepath.Join(dir, "v.txt")
	rows := []string{"good", "superlative", "n't", "dreadful", "film"}
	var b strings.Builder
	for i, w := range rows {
		fmt.Fprintf(&b, "%s", w)
		for j := range 8 {
			fmt.Fprintf(&b, " %g", float64(i*8+j)/100)
		}
		b.WriteString("\n")
	}
	if err := os.WriteFile(vecs, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "ck")
	if status, _, stderr := runCommand("", tinyTrain(tsv, out, "--epochs", "0", "--val-split", "0", "--vectors", vecs, "--vectors-vocab", "3")...); status != 0 {
		t.Fatalf("train exit %d: %s", status, stderr)
	}
	ck, err := models.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := data.Load(tsv, data.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	plain := data.BuildVocabulary(data.Texts(ex), 10000).Len()
	v := ck.Tokenizer.Vocabulary()
	// The first 3 rows hold good (a training word), superlative (new) and
	// n't (never a token); dreadful, the fourth, is past N.
	if got, want := v.Len(), plain+1; got != want {
		t.Fatalf("vocabulary of %d ids, want %d (the training words and superlative)", got, want)
	}
	if v.ID("superlative") != plain || v.Contains("n't") || v.Contains("dreadful") {
		t.Errorf("ids: superlative %d (want %d), n't %v, dreadful %v (want neither)", v.ID("superlative"), plain, v.Contains("n't"), v.Contains("dreadful"))
	}
	for _, p := range ck.Model.Params() {
		if p.Name == "embedding.weight" {
			row := p.Value.Data().([]float32)[plain*8 : plain*8+8]
			for j, x := range row {
				if want := float32(8+j) / 100; x != want {
					t.Errorf("superlative's row[%d] = %g, want its vector's %g", j, x, want)
				}
			}
		}
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--vectors-vocab", "10"}, "--vectors-vocab takes its words from --vectors"},
		{[]string{"--vectors", vecs, "--vectors-vocab", "-1"}, "--vectors-vocab -1"},
		{[]string{"--from", out, "--vectors-vocab", "10"}, "--vectors-vocab cannot be combined with --from"},
	} {
		if status, _, stderr := runCommand("", tinyTrain(tsv, filepath.Join(dir, "ck2"), append([]string{"--epochs", "0"}, tt.args...)...)...); status != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("train %q: exit %d, stderr %q; want 2 and %q", tt.args, status, stderr, tt.want)
		}
	}
}
