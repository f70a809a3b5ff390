package train

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/classify/classify/internal/shareddata"
)

// readPolarity reads a label<TAB>text file of the shared rt-polarity data
// into id sequences, words split on spaces (the files are pre-tokenized)
// and numbered in order of appearance from 2, as data's tokenizer would
// number them by count; vocab is shared between calls.
func readPolarity(t *testing.T, rel string, vocab map[string]int) ([][]int, []float32) {
	t.Helper()
	f, err := os.Open(shareddata.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var seqs [][]int
	var labels []float32
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		label, text, ok := strings.Cut(sc.Text(), "\t")
		if !ok || label != "0" && label != "1" {
			t.Fatalf("%s: bad line %q", rel, sc.Text())
		}
		var seq []int
		for _, w := range strings.Fields(text) {
			id, ok := vocab[w]
			if !ok {
				id = len(vocab) + 2
				vocab[w] = id
			}
			seq = append(seq, id)
		}
		if len(seq) == 0 {
			seq = []int{1}
		}
		seqs = append(seqs, seq)
		labels = append(labels, float32(label[0]-'0'))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return seqs, labels
}

// TestFitPolarity trains the bag-of-words toy model on the real sentence
// polarity data: the loop must handle 8.5k examples of real lengths, stop
// early on a rising validation loss, and reach the accuracy a linear
// bag-of-words model is known to get on this task (about 0.75).
func TestFitPolarity(t *testing.T) {
	vocab := map[string]int{}
	seqs, labels := readPolarity(t, "rt-polarity/train.tsv", vocab)
	testSeqs, testLabels := readPolarity(t, "rt-polarity/test.tsv", vocab)
	trainSeqs, trainLabels, valSeqs, valLabels, err := ValidationSplit(seqs, labels, 1, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	m := newToyModel(len(vocab) + 2)
	opt, err := NewAdam(m.Params(), WithLearningRate(0.05))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	h, err := Fit(m, trainSeqs, trainLabels, valSeqs, valLabels, Config{
		Epochs: 15, BatchSize: 32, Shuffle: true, Seed: 42, Patience: 2, Optimizer: opt,
		Progress: NewProgress(&out, false),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("progress:\n%s", out.String())
	if d := os.Getenv("CLASSIFY_PLOT_DIR"); d != "" { // to look at the curves
		if err := h.PlotPNG(d + "/polarity.png"); err != nil {
			t.Fatal(err)
		}
	}
	best := h[h.Best()]
	test, err := Evaluate(m, testSeqs, testLabels, 64)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("best epoch %d of %d: val_loss %.4f val_accuracy %.4f; test accuracy %.4f F1 %.4f AUC %.4f",
		best.Epoch, len(h), best.Val.Loss, best.Val.Accuracy, test.Accuracy, test.F1, test.AUC)
	if test.Accuracy < 0.70 || test.AUC < 0.78 {
		t.Errorf("test accuracy %.4f, AUC %.4f; want above 0.70 and 0.78", test.Accuracy, test.AUC)
	}
	// Restored: the model scores the validation data as the best epoch did.
	v, err := Evaluate(m, valSeqs, valLabels, 32)
	if err != nil {
		t.Fatal(err)
	}
	if v.Loss != best.Val.Loss {
		t.Errorf("val_loss after Fit = %v, want the best epoch's %v", v.Loss, best.Val.Loss)
	}
}
