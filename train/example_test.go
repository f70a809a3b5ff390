package train_test

import (
	"fmt"
	"math"
	"os"

	"github.com/classify/classify/data"
	"github.com/classify/classify/layers"
	"github.com/classify/classify/train"
	"gorgonia.org/tensor"
)

// wordScores is a tiny Model for the examples: one score per token id, the
// logit of a sequence the mean of its tokens' scores.
type wordScores struct{ score *layers.Param }

func newWordScores(vocab int) *wordScores {
	return &wordScores{layers.NewParam("score", tensor.New(tensor.WithShape(vocab), tensor.Of(tensor.Float32)), true)}
}

func (m *wordScores) Params() []*layers.Param { return []*layers.Param{m.score} }

// Head reads the one logit per row as a binary task.
func (m *wordScores) Head() train.Head { h, _ := train.NewBinaryHead([]string{"neg", "pos"}); return h }

func (m *wordScores) Forward(b *data.Batch, training bool) (float64, []float32, error) {
	w, g := m.score.Value.Data().([]float32), m.score.Grad.Data().([]float32)
	clear(g)
	logits := make([]float32, b.Size)
	var loss float64
	for r := range b.Size {
		row := b.IDs[r*b.Len : r*b.Len+b.Lengths[r]]
		var z float64
		for _, id := range row {
			z += float64(w[id]) / float64(len(row))
		}
		y := float64(b.Labels[r])
		loss += math.Max(z, 0) - z*y + math.Log1p(math.Exp(-math.Abs(z))) // BCE from the logit
		logits[r] = float32(z)
		for _, id := range row {
			g[id] += float32((1/(1+math.Exp(-z)) - y) / float64(b.Size*len(row)))
		}
	}
	return loss / float64(b.Size), logits, nil
}

func ExampleFit() {
	// Words 2 and 3 mean positive, 4 and 5 negative.
	seqs := [][]int{{2, 3}, {4}, {2}, {5, 4}, {3, 3, 2}, {4, 5, 5}, {2, 4, 3}, {5}, {3}, {4, 2, 5}}
	labels := []float32{1, 0, 1, 0, 1, 0, 1, 0, 1, 0}
	trainSeqs, trainLabels, valSeqs, valLabels, err := train.ValidationSplit(seqs, labels, 1, 0.2)
	if err != nil {
		fmt.Println(err)
		return
	}
	model := newWordScores(6)
	opt, err := train.NewAdam(model.Params(), train.WithLearningRate(0.1))
	if err != nil {
		fmt.Println(err)
		return
	}
	h, err := train.Fit(model, trainSeqs, trainLabels, valSeqs, valLabels, train.Config{
		Epochs: 20, BatchSize: 4, Shuffle: true, Seed: 42, Patience: 3, Optimizer: opt,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	last := h[len(h)-1]
	fmt.Printf("%d epochs, val_accuracy %.2f\n", len(h), last.Val.Accuracy)
	logits, err := train.Logits(model, [][]int{{2, 3}, {5, 5}}, 32)
	if err != nil {
		fmt.Println(err)
		return
	}
	p := make([]float32, 2)
	for i, seq := range []string{"[2 3]", "[5 5]"} {
		model.Head().Probabilities(logits[i:i+1], p)
		fmt.Printf("P(positive) of %s: %.2f\n", seq, p[1])
	}
	// Output:
	// 20 epochs, val_accuracy 1.00
	// P(positive) of [2 3]: 0.94
	// P(positive) of [5 5]: 0.05
}

func ExampleAdam() {
	// Minimize (w-3)^2 from w = 0.
	w := layers.NewParam("w", tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{0})), true)
	opt, err := train.NewAdam([]*layers.Param{w}, train.WithLearningRate(0.1))
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 200 {
		x := w.Value.Data().([]float64)
		w.Grad.Data().([]float64)[0] = 2 * (x[0] - 3)
		if _, err := opt.Step(); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Printf("w = %.3f after %d steps\n", w.Value.Data().([]float64)[0], opt.Steps())
	// The state a checkpoint stores, under torch.optim.Adam's names.
	state := opt.State()
	fmt.Println(state["step"].Data(), state["w.exp_avg"].Shape(), state["w.exp_avg_sq"].Shape())
	// Output:
	// w = 3.000 after 200 steps
	// [200] (1) (1)
}

func ExampleScore() {
	logits := []float32{2.5, 0.3, -0.4, -1.2, 0.8, -3}
	labels := []float32{1, 0, 1, 0, 1, 0}
	head, err := train.NewBinaryHead([]string{"neg", "pos"})
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := train.Score(head, logits, labels, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("accuracy %.3f precision %.3f recall %.3f F1 %.3f AUC %.3f\n", m.Accuracy, m.Precision, m.Recall, m.F1, m.AUC)
	fmt.Println("confusion (rows actual neg, pos; columns predicted):", m.Confusion)
	// Output:
	// accuracy 0.667 precision 0.667 recall 0.667 F1 0.667 AUC 0.889
	// confusion (rows actual neg, pos; columns predicted): [[2 1] [1 2]]
}

func ExampleProgress() {
	// Not a terminal: one line per epoch.
	p := train.NewProgress(os.Stdout, false)
	p.BeginEpoch(1, 10, 267)
	for step := 1; step <= 267; step++ {
		p.Update(step, 0.6931, 0.5)
	}
	p.EndEpoch(train.Epoch{Epoch: 1, Seconds: 31.52,
		Train: train.Metrics{Loss: 0.6931, Accuracy: 0.5},
		Val:   &train.Metrics{Loss: 0.6012, Accuracy: 0.68}})
	// Output:
	// epoch 1/10 - 31.5s - loss: 0.6931 - accuracy: 0.5000 - val_loss: 0.6012 - val_accuracy: 0.6800
}

func ExampleHistory_WriteJSON() {
	h := train.History{{Epoch: 1, Steps: 2, Seconds: 0.5,
		Train: train.Metrics{N: 64, Loss: 0.69, Accuracy: 0.5, AUC: math.NaN()}}}
	path := os.TempDir() + "/example-history.json"
	if err := h.WriteJSON(path); err != nil {
		fmt.Println(err)
		return
	}
	defer os.Remove(path)
	b, _ := os.ReadFile(path)
	fmt.Print(string(b))
	back, err := train.ReadHistory(path)
	fmt.Println(len(back), back[0].Train.Loss, err)
	// Output:
	// [
	//   {"epoch":1,"loss":0.69,"accuracy":0.5,"precision":0,"recall":0,"f1":0,"n":64,"steps":2,"seconds":0.5}
	// ]
	// 1 0.69 <nil>
}
