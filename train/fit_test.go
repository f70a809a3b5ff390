package train

import (
	"context"
	"errors"
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/classify/classify/data"
	"github.com/classify/classify/layers"
	"gorgonia.org/tensor"
)

func TestFitLearns(t *testing.T) {
	seqs, labels := toyData(1000, 1)
	trainSeqs, trainLabels, valSeqs, valLabels, err := ValidationSplit(seqs, labels, 1, 0.2)
	if err != nil {
		t.Fatal(err)
	}
	m := newToyModel(20)
	opt, err := NewAdam(m.Params(), WithLearningRate(0.05))
	if err != nil {
		t.Fatal(err)
	}
	h, err := Fit(m, trainSeqs, trainLabels, valSeqs, valLabels,
		Config{Epochs: 5, BatchSize: 16, Shuffle: true, Seed: 42, Optimizer: opt})
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 5 {
		t.Fatalf("Fit gave %d epochs, want 5", len(h))
	}
	first, last := h[0], h[len(h)-1]
	t.Logf("epoch 1: loss %.4f val_loss %.4f val_accuracy %.4f; epoch 5: loss %.4f val_loss %.4f val_accuracy %.4f val_auc %.4f",
		first.Train.Loss, first.Val.Loss, first.Val.Accuracy, last.Train.Loss, last.Val.Loss, last.Val.Accuracy, last.Val.AUC)
	if !(last.Train.Loss < first.Train.Loss) || !(last.Val.Loss < first.Val.Loss) {
		t.Errorf("loss went from %v (val %v) to %v (val %v), want it lower", first.Train.Loss, first.Val.Loss, last.Train.Loss, last.Val.Loss)
	}
	// One label in ten is flipped: about 0.9 is the best one can do.
	if last.Val.Accuracy < 0.8 || last.Val.AUC < 0.8 {
		t.Errorf("val accuracy %v, AUC %v, want both above 0.8", last.Val.Accuracy, last.Val.AUC)
	}
	if want := (800 + 15) / 16; last.Steps != want || last.Train.N != 800 || last.Val.N != 200 {
		t.Errorf("epoch has %d steps over %d examples (val %d), want %d over 800 (val 200)", last.Steps, last.Train.N, last.Val.N, want)
	}
	if got := opt.Steps(); got != 5*last.Steps {
		t.Errorf("optimizer took %d steps, want %d", got, 5*last.Steps)
	}
	// The validation metrics are those of Evaluate on the final weights.
	v, err := Evaluate(m, valSeqs, valLabels, 7)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(v.Loss-last.Val.Loss) > 1e-12 || v.Accuracy != last.Val.Accuracy || v.AUC != last.Val.AUC {
		t.Errorf("Evaluate after Fit = %+v, want the last epoch's %+v", v, *last.Val)
	}
}

// stripTimes returns h without its wall times, the one field that may
// differ between identical runs.
func stripTimes(h History) History {
	out := append(History(nil), h...)
	for i := range out {
		out[i].Seconds = 0
	}
	return out
}

func TestFitDeterministic(t *testing.T) {
	seqs, labels := toyData(300, 2)
	run := func(seed int64, shuffle bool) (History, []float32) {
		m := newToyModel(20)
		opt, err := NewAdam(m.Params(), WithLearningRate(0.02))
		if err != nil {
			t.Fatal(err)
		}
		h, err := Fit(m, seqs[:250], labels[:250], seqs[250:], labels[250:],
			Config{Epochs: 3, BatchSize: 8, Shuffle: shuffle, Seed: seed, Optimizer: opt})
		if err != nil {
			t.Fatal(err)
		}
		return stripTimes(h), append([]float32(nil), m.w.Value.Data().([]float32)...)
	}
	h1, w1 := run(7, true)
	h2, w2 := run(7, true)
	j1, _ := h1.MarshalJSON()
	j2, _ := h2.MarshalJSON()
	if string(j1) != string(j2) || !reflect.DeepEqual(w1, w2) {
		t.Errorf("two runs with seed 7 differ:\n%s\n%s", j1, j2)
	}
	h3, _ := run(8, true)
	if j3, _ := h3.MarshalJSON(); string(j3) == string(j1) {
		t.Error("seeds 7 and 8 gave the same history, want different shuffles")
	}
	h4, _ := run(7, false)
	h5, _ := run(8, false)
	j4, _ := h4.MarshalJSON()
	if j5, _ := h5.MarshalJSON(); string(j4) != string(j5) {
		t.Error("without shuffling the seed changed the history")
	}
}

// recordingModel records the rows of every batch it is given.
type recordingModel struct {
	*toyModel
	train, eval [][]int // Index of each batch
	lens        []int   // padded length of each training batch
}

func (m *recordingModel) Forward(b *data.Batch, training bool) (float64, []float32, error) {
	if training {
		m.train = append(m.train, append([]int(nil), b.Index...))
		m.lens = append(m.lens, b.Len)
	} else {
		m.eval = append(m.eval, append([]int(nil), b.Index...))
	}
	return m.toyModel.Forward(b, training)
}

func TestFitBatchOrder(t *testing.T) {
	seqs, labels := toyData(100, 3)
	t.Run("file order", func(t *testing.T) {
		m := &recordingModel{toyModel: newToyModel(20)}
		if _, err := Fit(m, seqs, labels, nil, nil, Config{Epochs: 2, BatchSize: 32}); err != nil {
			t.Fatal(err)
		}
		var got []int
		for _, idx := range m.train {
			got = append(got, idx...)
		}
		for i, idx := range got {
			if idx != i%100 {
				t.Fatalf("row %d of the epochs is example %d, want %d (file order)", i, idx, i%100)
			}
		}
	})
	t.Run("shuffled", func(t *testing.T) {
		m := &recordingModel{toyModel: newToyModel(20)}
		if _, err := Fit(m, seqs, labels, nil, nil, Config{Epochs: 2, BatchSize: 10, Shuffle: true, Seed: 1}); err != nil {
			t.Fatal(err)
		}
		if len(m.train) != 20 {
			t.Fatalf("%d batches in two epochs, want 20", len(m.train))
		}
		var epochs [2][]int
		for i, idx := range m.train {
			epochs[i/10] = append(epochs[i/10], idx...)
		}
		if reflect.DeepEqual(epochs[0], epochs[1]) {
			t.Error("both epochs took the examples in the same order, want a new shuffle each epoch")
		}
		for e, rows := range epochs {
			sorted := append([]int(nil), rows...)
			sort.Ints(sorted)
			for i, idx := range sorted {
				if idx != i {
					t.Fatalf("epoch %d does not visit every example once: %v", e+1, sorted)
				}
			}
		}
		// Grouped by length: the padding is less than in file order.
		var padded, real int
		for i, idx := range m.train {
			for _, j := range idx {
				padded += m.lens[i]
				real += len(seqs[j])
			}
		}
		if padded > real*11/10 {
			t.Errorf("%d padded cells for %d tokens, want under 10%% padding", padded, real)
		}
	})
}

// scriptedModel is a toy model whose validation loss follows a script,
// one value per epoch, for early stopping to react to. It keeps the
// weights it has at each epoch's validation.
type scriptedModel struct {
	*toyModel
	stepsPerEpoch, steps int
	valLoss              []float64
	saved                [][]float32
}

func (m *scriptedModel) Forward(b *data.Batch, training bool) (float64, []float32, error) {
	loss, z, err := m.toyModel.Forward(b, training)
	if training {
		m.steps++
		return loss, z, err
	}
	epoch := m.steps / m.stepsPerEpoch
	if len(m.saved) < epoch {
		m.saved = append(m.saved, append([]float32(nil), m.w.Value.Data().([]float32)...))
	}
	return m.valLoss[epoch-1], z, err
}

func TestFitEarlyStopping(t *testing.T) {
	seqs, labels := toyData(60, 4)
	tests := []struct {
		name      string
		valLoss   []float64
		patience  int
		epochs    int
		wantRun   int // epochs run
		wantBest  int // epoch whose weights are restored
		wantSteps int // optimizer steps after restoring
		stopAt    int // epoch whose OnEpoch returns ErrStop, if any
	}{
		{"stops after patience", []float64{0.5, 0.4, 0.45, 0.41, 0.3}, 2, 5, 4, 2, 4, 0},
		{"equal is no better", []float64{0.5, 0.5, 0.5}, 2, 3, 3, 1, 2, 0},
		{"runs out of epochs", []float64{0.5, 0.4, 0.45}, 3, 3, 3, 2, 4, 0},
		{"last is best", []float64{0.5, 0.4, 0.3}, 1, 3, 3, 3, 6, 0},
		{"stopped by OnEpoch", []float64{0.5, 0.4, 0.45, 0.3}, 5, 4, 3, 2, 4, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &scriptedModel{toyModel: newToyModel(20), stepsPerEpoch: 2, valLoss: tc.valLoss}
			opt, err := NewAdam(m.Params(), WithLearningRate(0.1))
			if err != nil {
				t.Fatal(err)
			}
			h, err := Fit(m, seqs[:50], labels[:50], seqs[50:], labels[50:], Config{
				Epochs: tc.epochs, BatchSize: 25, Patience: tc.patience, Optimizer: opt,
				OnEpoch: func(h History) error {
					if len(h) == tc.stopAt {
						return ErrStop
					}
					return nil
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(h) != tc.wantRun {
				t.Fatalf("ran %d epochs, want %d", len(h), tc.wantRun)
			}
			if got := h.Best() + 1; got != tc.wantBest {
				t.Errorf("History.Best() is epoch %d, want %d", got, tc.wantBest)
			}
			w := m.w.Value.Data().([]float32)
			saved := m.saved
			want := saved[tc.wantBest-1]
			if !reflect.DeepEqual(w, want) {
				t.Errorf("weights after Fit = %v, want those of epoch %d: %v", w, tc.wantBest, want)
			}
			if tc.wantBest != tc.wantRun && reflect.DeepEqual(w, saved[len(saved)-1]) {
				t.Error("weights are those of the last epoch, want the best epoch's")
			}
			if opt.Steps() != tc.wantSteps {
				t.Errorf("optimizer at step %d, want %d (the best epoch's)", opt.Steps(), tc.wantSteps)
			}
		})
	}
}

// faultyModel is a toy model that goes wrong at one training step (counted
// from 1): its loss or one gradient becomes NaN or infinite.
type faultyModel struct {
	*toyModel
	badStep, steps int
	badLoss        float64
	badGrad        float32
	before         []float32 // the weights when the bad step began
}

func (m *faultyModel) Forward(b *data.Batch, training bool) (float64, []float32, error) {
	loss, z, err := m.toyModel.Forward(b, training)
	if !training {
		return loss, z, err
	}
	m.steps++
	if m.steps == m.badStep {
		m.before = append([]float32(nil), m.w.Value.Data().([]float32)...)
		if m.badLoss != 0 {
			loss = m.badLoss
		} else {
			m.w.Grad.Data().([]float32)[3] = m.badGrad
		}
	}
	return loss, z, err
}

func TestFitNonFiniteGuard(t *testing.T) {
	seqs, labels := toyData(40, 5)
	nan32 := float32(math.NaN())
	tests := []struct {
		name    string
		badLoss float64
		badGrad float32
	}{
		{"NaN loss", math.NaN(), 0},
		{"infinite loss", math.Inf(1), 0},
		{"NaN gradient", 0, nan32},
		{"infinite gradient", 0, float32(math.Inf(-1))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// 4 steps an epoch: step 7 is the third of epoch 2.
			m := &faultyModel{toyModel: newToyModel(20), badStep: 7, badLoss: tc.badLoss, badGrad: tc.badGrad}
			h, err := Fit(m, seqs[:32], labels[:32], seqs[32:], labels[32:], Config{Epochs: 3, BatchSize: 8, Shuffle: true, Seed: 3})
			if !errors.Is(err, ErrNonFinite) {
				t.Fatalf("Fit error %v, want ErrNonFinite", err)
			}
			if !strings.Contains(err.Error(), "epoch 2 step 3/4") {
				t.Errorf("error %q does not name epoch 2 step 3/4", err)
			}
			if len(h) != 1 {
				t.Errorf("history has %d epochs, want the 1 finished", len(h))
			}
			if got := m.w.Value.Data().([]float32); !reflect.DeepEqual(got, m.before) {
				t.Errorf("weights after the guard = %v, want those of the last good step %v", got, m.before)
			}
		})
	}
}

func TestFitResume(t *testing.T) {
	seqs, labels := toyData(120, 6)
	cfg := Config{BatchSize: 16, Shuffle: true, Seed: 9}
	straight := newToyModel(20)
	cfg.Epochs = 4
	hs, err := Fit(straight, seqs[:100], labels[:100], seqs[100:], labels[100:], cfg)
	if err != nil {
		t.Fatal(err)
	}
	first := newToyModel(20)
	opt, err := NewAdam(first.Params())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Epochs, cfg.Optimizer = 2, opt
	h1, err := Fit(first, seqs[:100], labels[:100], seqs[100:], labels[100:], cfg)
	if err != nil {
		t.Fatal(err)
	}
	// A fresh model and optimizer take the weights and state, as from a
	// checkpoint, and train epochs 3 and 4.
	second := newToyModel(20)
	copy(second.w.Value.Data().([]float32), first.w.Value.Data().([]float32))
	copy(second.b.Value.Data().([]float32), first.b.Value.Data().([]float32))
	opt2, err := NewAdam(second.Params())
	if err != nil {
		t.Fatal(err)
	}
	if err := opt2.SetState(opt.State()); err != nil {
		t.Fatal(err)
	}
	cfg.InitialEpoch, cfg.Optimizer = 2, opt2
	h2, err := Fit(second, seqs[:100], labels[:100], seqs[100:], labels[100:], cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := stripTimes(append(h1, h2...)).MarshalJSON()
	want, _ := stripTimes(hs).MarshalJSON()
	if string(got) != string(want) {
		t.Errorf("2+2 epochs gave\n%s\nwant the 4 straight epochs'\n%s", got, want)
	}
	if !reflect.DeepEqual(second.w.Value.Data(), straight.w.Value.Data()) {
		t.Error("resumed weights differ from the straight run's")
	}
}

func TestFitStops(t *testing.T) {
	seqs, labels := toyData(40, 7)
	t.Run("OnEpoch ErrStop", func(t *testing.T) {
		h, err := Fit(newToyModel(20), seqs, labels, nil, nil, Config{Epochs: 5, OnEpoch: func(h History) error {
			if len(h) == 2 {
				return ErrStop
			}
			return nil
		}})
		if err != nil || len(h) != 2 {
			t.Errorf("Fit = %d epochs, %v; want 2, nil", len(h), err)
		}
	})
	t.Run("OnEpoch error", func(t *testing.T) {
		boom := errors.New("disk full")
		h, err := Fit(newToyModel(20), seqs, labels, nil, nil, Config{Epochs: 5, OnEpoch: func(History) error { return boom }})
		if !errors.Is(err, boom) || len(h) != 1 {
			t.Errorf("Fit = %d epochs, %v; want 1, %v", len(h), err, boom)
		}
	})
	t.Run("context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		h, err := Fit(newToyModel(20), seqs, labels, nil, nil, Config{Epochs: 5, Context: ctx, OnEpoch: func(History) error {
			cancel()
			return nil
		}})
		if !errors.Is(err, context.Canceled) || len(h) != 1 {
			t.Errorf("Fit = %d epochs, %v; want 1, context.Canceled", len(h), err)
		}
	})
	t.Run("zero epochs", func(t *testing.T) {
		m := newToyModel(20)
		h, err := Fit(m, seqs, labels, nil, nil, Config{})
		if err != nil || len(h) != 0 {
			t.Errorf("Fit with 0 epochs = %d epochs, %v; want 0, nil", len(h), err)
		}
	})
}

func TestFitErrors(t *testing.T) {
	seqs, labels := toyData(10, 8)
	tests := []struct {
		name      string
		seqs      [][]int
		labels    []float32
		valSeqs   [][]int
		valLabels []float32
		cfg       Config
	}{
		{"label count", seqs, labels[:9], nil, nil, Config{Epochs: 1}},
		{"val label count", seqs, labels, seqs[:2], labels[:1], Config{Epochs: 1}},
		{"no examples", nil, nil, nil, nil, Config{Epochs: 1}},
		{"patience without validation", seqs, labels, nil, nil, Config{Epochs: 1, Patience: 2}},
		{"negative epochs", seqs, labels, nil, nil, Config{Epochs: -1}},
		{"bad label", seqs[:1], []float32{2}, nil, nil, Config{Epochs: 1}},
	}
	for _, tc := range tests {
		if _, err := Fit(newToyModel(20), tc.seqs, tc.labels, tc.valSeqs, tc.valLabels, tc.cfg); err == nil {
			t.Errorf("Fit(%s) succeeded, want an error", tc.name)
		}
	}
}

func TestFitProgress(t *testing.T) {
	seqs, labels := toyData(50, 9)
	for _, terminal := range []bool{false, true} {
		var out strings.Builder
		_, err := Fit(newToyModel(20), seqs[:40], labels[:40], seqs[40:], labels[40:],
			Config{Epochs: 3, BatchSize: 10, Patience: 1, Progress: NewProgress(&out, terminal)})
		if err != nil {
			t.Fatal(err)
		}
		got := out.String()
		if terminal {
			if n := strings.Count(got, "Epoch "); n < 2 || !strings.Contains(got, "4/4 [==============================] - ") ||
				!strings.Contains(got, "val_accuracy: ") {
				t.Errorf("terminal progress %q lacks the epoch headers and full bars", got)
			}
			continue
		}
		lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
		if !strings.HasPrefix(lines[0], "epoch 1/3 - ") || !strings.Contains(lines[0], " - val_loss: ") || strings.Contains(got, "\r") {
			t.Errorf("plain progress %q, want lines like \"epoch 1/3 - 0.0s - loss: ... - val_loss: ...\"", got)
		}
	}
}

func TestEvaluateAndLogits(t *testing.T) {
	seqs, labels := toyData(103, 10)
	m := newToyModel(20)
	w := m.w.Value.Data().([]float32)
	for i := range w {
		w[i] = float32(i%7)/3 - 1
	}
	m.b.Value.Data().([]float32)[0] = 0.25
	got1, err := Logits(m, seqs, 10)
	if err != nil {
		t.Fatal(err)
	}
	probs := make([]float32, len(got1))
	for i, z := range got1 {
		probs[i] = float32(sigmoid(float64(z)))
	}
	logits := make([]float32, len(seqs))
	var loss float64
	for i, s := range seqs {
		z := m.logit(s)
		logits[i] = float32(z)
		want := 1 / (1 + math.Exp(-z))
		if math.Abs(float64(probs[i])-want) > 1e-6 {
			t.Errorf("Logits row %d: probability %v, want %v", i, probs[i], want)
		}
		y := float64(labels[i])
		loss += -y*math.Log(want) - (1-y)*math.Log(1-want)
	}
	got, err := Evaluate(m, seqs, labels, 10)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Score(binary01, logits, labels, loss/float64(len(seqs)))
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got.Loss-want.Loss) > 1e-6 || !reflect.DeepEqual(got.Confusion, want.Confusion) || math.Abs(got.AUC-want.AUC) > 1e-12 {
		t.Errorf("Evaluate = %+v, want %+v", got, want)
	}
	if _, err := Evaluate(m, nil, nil, 10); err == nil {
		t.Error("Evaluate of no examples succeeded, want an error")
	}
	if p, err := Logits(m, nil, 10); err != nil || len(p) != 0 {
		t.Errorf("Logits(nil) = %v, %v; want [], nil", p, err)
	}
}

func TestValidationSplit(t *testing.T) {
	seqs := make([][]int, 10)
	labels := make([]float32, 10)
	for i := range seqs {
		seqs[i] = []int{i + 2}
	}
	tests := []struct {
		fraction float64
		wantVal  int
	}{
		{0, 0}, {0.1, 1}, {0.25, 3}, {0.5, 5}, {0.95, 10},
	}
	for _, tc := range tests {
		tr, _, val, _, err := ValidationSplit(seqs, labels, 1, tc.fraction)
		if tc.fraction == 0.95 {
			if err == nil {
				t.Errorf("ValidationSplit(0.95) of 10 succeeded, want an error (no training examples)")
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(val) != tc.wantVal || len(tr)+len(val) != 10 || len(val) > 0 && val[0][0] != 12-tc.wantVal {
			t.Errorf("ValidationSplit(%v) = %d train, %d val starting %v; want %d val, the last ones", tc.fraction, len(tr), len(val), val, tc.wantVal)
		}
	}
	for _, f := range []float64{-0.1, 1, math.NaN()} {
		if _, _, _, _, err := ValidationSplit(seqs, labels, 1, f); err == nil {
			t.Errorf("ValidationSplit(%v) succeeded, want an error", f)
		}
	}
}

func TestSnapshotKeepsFrozen(t *testing.T) {
	// Frozen parameters are neither snapshotted nor touched.
	frozen := layers.NewParam("frozen", tensor.New(tensor.WithShape(2), tensor.WithBacking([]float32{1, 2})), false)
	w := newTestParam("w", tensor.Float32, []float64{3}, 1)
	opt, err := NewAdam([]*layers.Param{frozen, w})
	if err != nil {
		t.Fatal(err)
	}
	s := takeSnapshot(opt, Epoch{Epoch: 1, Val: &Metrics{Loss: 1}})
	if len(s.values) != 1 {
		t.Errorf("snapshot holds %d tensors, want 1 (the trainable one)", len(s.values))
	}
	w.Value.Data().([]float32)[0] = 5
	if err := s.restore(opt); err != nil {
		t.Fatal(err)
	}
	if got := w.Value.Data().([]float32)[0]; got != 3 {
		t.Errorf("restored w = %v, want 3", got)
	}
}

func BenchmarkFitEpoch(b *testing.B) {
	seqs, labels := toyData(2000, 11)
	m := newToyModel(20)
	for b.Loop() {
		if _, err := Fit(m, seqs, labels, nil, nil, Config{Epochs: 1, BatchSize: 32, Shuffle: true, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
