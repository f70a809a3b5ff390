package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"time"

	"gorgonia.org/tensor"

	"github.com/classify/classify/data"
)

// ErrStop may be returned by Config.OnEpoch to end training early without
// an error, as a Keras callback setting model.stop_training.
var ErrStop = errors.New("stop training")

// Config holds the options of Fit.
type Config struct {
	// Epochs is the number of epochs to train; 0 trains none.
	Epochs int
	// InitialEpoch is the number of epochs trained before, when resuming:
	// the epochs of this run are numbered from InitialEpoch+1 and shuffled
	// as they would have been in an uninterrupted run.
	InitialEpoch int
	// BatchSize is the number of examples per step (default 32).
	BatchSize int
	// Shuffle draws the batches of each epoch from Seed, grouped by length
	// (data.Batches); false takes them in file order.
	Shuffle bool
	// Seed is the seed of the shuffling. Each epoch gets its own stream
	// derived from Seed and the epoch number.
	Seed int64
	// Patience, when positive, stops training after that many epochs
	// without a lower validation loss, as Keras's EarlyStopping, and at
	// the end of training (stopped early or not) puts back the weights and
	// the optimizer state of the epoch with the lowest validation loss. It
	// needs validation data.
	Patience int
	// Optimizer updates the weights; nil makes an Adam with the defaults
	// over the model's trainable parameters.
	Optimizer *Adam
	// Progress, when not nil, reports each step and epoch.
	Progress *Progress
	// OnEpoch, when not nil, is called after each epoch with the history
	// so far and the model holding that epoch's weights. Returning ErrStop
	// ends training as early stopping does (the best weights are restored
	// when Patience is set); any other error ends it and Fit returns it.
	OnEpoch func(h History) error
	// Context, when not nil, is checked before each step; once it is done
	// Fit returns the history so far and the context's error.
	Context context.Context
}

// Fit trains model on the training examples (token id sequences and their
// targets, model.Head().Width() a sequence, as data.LabelSet.Targets
// gives them) for cfg.Epochs epochs, scoring the validation examples after
// each epoch when there are any, and returns the history of the epochs it
// finished.
//
// A step whose loss or gradient is NaN or infinite is never applied: Fit
// stops with an error that wraps ErrNonFinite and names the epoch and step,
// and the model keeps the weights of the last good step.
func Fit(model Model, trainSeqs [][]int, trainLabels []float32, valSeqs [][]int, valLabels []float32, cfg Config) (History, error) {
	head := model.Head()
	if err := checkTargets(head, "training", trainSeqs, trainLabels); err != nil {
		return nil, fmt.Errorf("fit: %w", err)
	}
	if err := checkTargets(head, "validation", valSeqs, valLabels); err != nil {
		return nil, fmt.Errorf("fit: %w", err)
	}
	if cfg.Epochs < 0 || cfg.InitialEpoch < 0 || cfg.BatchSize < 0 || cfg.Patience < 0 {
		return nil, fmt.Errorf("fit: epochs %d, initial epoch %d, batch size %d, patience %d: want none negative",
			cfg.Epochs, cfg.InitialEpoch, cfg.BatchSize, cfg.Patience)
	}
	if cfg.Epochs > 0 && len(trainSeqs) == 0 {
		return nil, errors.New("fit: no training examples")
	}
	if cfg.Patience > 0 && len(valSeqs) == 0 {
		return nil, errors.New("fit: early stopping needs validation data")
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 32
	}
	if cfg.Optimizer == nil {
		var err error
		if cfg.Optimizer, err = NewAdam(model.Params()); err != nil {
			return nil, fmt.Errorf("fit: %w", err)
		}
	}
	if cfg.Context == nil {
		cfg.Context = context.Background()
	}
	last := cfg.InitialEpoch + cfg.Epochs

	var h History
	var best *snapshot
	for epoch := cfg.InitialEpoch + 1; epoch <= last; epoch++ {
		e, err := fitEpoch(model, trainSeqs, trainLabels, valSeqs, valLabels, epoch, last, cfg)
		if err != nil {
			return h, err
		}
		h = append(h, e)
		if cfg.Progress != nil {
			cfg.Progress.EndEpoch(e)
		}
		stop := false
		if cfg.Patience > 0 {
			if best == nil || e.Val.Loss < best.valLoss {
				best = takeSnapshot(cfg.Optimizer, e)
			}
			if stop = epoch-best.epoch >= cfg.Patience; stop && cfg.Progress != nil {
				cfg.Progress.Message("Epoch %d: early stopping.", epoch)
			}
		}
		if cfg.OnEpoch != nil {
			err := cfg.OnEpoch(h)
			if err != nil && !errors.Is(err, ErrStop) {
				return h, err
			}
			stop = stop || err != nil
		}
		if stop {
			break
		}
	}
	if best != nil && best.epoch != h[len(h)-1].Epoch {
		if err := best.restore(cfg.Optimizer); err != nil {
			return h, fmt.Errorf("restoring the weights of epoch %d: %w", best.epoch, err)
		}
		if cfg.Progress != nil {
			cfg.Progress.Message("Restoring the weights of epoch %d (val_loss %.4f).", best.epoch, best.valLoss)
		}
	}
	return h, nil
}

// fitEpoch trains model for one epoch, numbered epoch of last, and scores
// it on the validation examples.
func fitEpoch(model Model, trainSeqs [][]int, trainLabels []float32, valSeqs [][]int, valLabels []float32, epoch, last int, cfg Config) (Epoch, error) {
	start := time.Now()
	var rng *rand.Rand
	if cfg.Shuffle {
		rng = rand.New(rand.NewSource(epochSeed(cfg.Seed, epoch)))
	}
	head := model.Head()
	batches := data.Batches(trainSeqs, trainLabels, head.Width(), cfg.BatchSize, rng)
	if cfg.Progress != nil {
		cfg.Progress.Metric = MainMetricName(head.Task())
		cfg.Progress.BeginEpoch(epoch, last, len(batches))
	}
	e := Epoch{Epoch: epoch}
	var lossSum float64
	var seen int
	tally := NewTally(head)
	logits := make([]float32, 0, len(trainSeqs)*head.Units())
	labels := make([]float32, 0, len(trainLabels))
	for i := range batches {
		b := &batches[i]
		at := fmt.Sprintf("epoch %d step %d/%d", epoch, i+1, len(batches))
		if err := cfg.Context.Err(); err != nil {
			return e, fmt.Errorf("%s: %w", at, err)
		}
		loss, z, err := model.Forward(b, true)
		if err != nil {
			return e, fmt.Errorf("%s: %w", at, err)
		}
		if len(z) != b.Size*head.Units() {
			return e, fmt.Errorf("%s: model gave %d logits for %d rows of %d", at, len(z), b.Size, head.Units())
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return e, fmt.Errorf("%s: loss is %v: %w; the weights are those of the last good step", at, loss, ErrNonFinite)
		}
		if _, err := cfg.Optimizer.Step(); err != nil {
			return e, fmt.Errorf("%s: %w; the weights are those of the last good step", at, err)
		}
		e.Steps++
		lossSum += loss * float64(b.Size)
		seen += b.Size
		if err := tally.Add(head, z, b.Labels); err != nil {
			return e, fmt.Errorf("%s: %w", at, err)
		}
		logits = append(logits, z...)
		labels = append(labels, b.Labels...)
		if cfg.Progress != nil {
			cfg.Progress.Update(i+1, lossSum/float64(seen), tally.Metrics(0).Main())
		}
	}
	var err error
	if e.Train, err = Score(head, logits, labels, lossSum/float64(seen)); err != nil {
		return e, fmt.Errorf("epoch %d: %w", epoch, err)
	}
	if len(valSeqs) > 0 {
		v, err := Evaluate(model, valSeqs, valLabels, cfg.BatchSize)
		if err != nil {
			return e, fmt.Errorf("epoch %d: validation: %w", epoch, err)
		}
		if math.IsNaN(v.Loss) || math.IsInf(v.Loss, 0) {
			return e, fmt.Errorf("epoch %d: validation loss is %v: %w", epoch, v.Loss, ErrNonFinite)
		}
		e.Val = &v
	}
	e.Seconds = time.Since(start).Seconds()
	return e, nil
}

// epochSeed derives the shuffling seed of an epoch from the run's seed with
// SplitMix64's mixing function, so that neighbouring seeds and epochs give
// unrelated streams.
func epochSeed(seed int64, epoch int) int64 {
	z := uint64(seed) + uint64(epoch)*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return int64(z ^ z>>31)
}

// snapshot holds the weights and optimizer state of an epoch, for early
// stopping to go back to.
type snapshot struct {
	epoch   int
	valLoss float64
	values  []*tensor.Dense
	state   map[string]*tensor.Dense
}

// takeSnapshot copies the parameters that opt updates (the others do not
// change) and its state.
func takeSnapshot(opt *Adam, e Epoch) *snapshot {
	s := &snapshot{epoch: e.Epoch, valLoss: e.Val.Loss, state: opt.State()}
	for _, p := range opt.Params() {
		s.values = append(s.values, p.Value.Clone().(*tensor.Dense))
	}
	return s
}

// restore copies the weights back in place, so that every graph holding
// the parameters' tensors sees them.
func (s *snapshot) restore(opt *Adam) error {
	for i, p := range opt.Params() {
		if err := tensor.Copy(p.Value, s.values[i]); err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
	}
	return opt.SetState(s.state)
}

// Evaluate scores model on the examples, in batches of batchSize (default
// 32) cut from the examples sorted by length so that little of them is
// padding. The loss is the mean over the examples of what the model's
// Forward gives when not training (for a Sequential, the head's loss
// without class weights, as Keras's evaluate).
func Evaluate(model Model, seqs [][]int, labels []float32, batchSize int) (Metrics, error) {
	head := model.Head()
	if err := checkTargets(head, "evaluation", seqs, labels); err != nil {
		return Metrics{}, fmt.Errorf("evaluate: %w", err)
	}
	if len(seqs) == 0 {
		return Metrics{}, errors.New("evaluate: no examples")
	}
	logits, loss, err := forwardAll(model, seqs, labels, batchSize)
	if err != nil {
		return Metrics{}, fmt.Errorf("evaluate: %w", err)
	}
	return Score(head, logits, labels, loss)
}

// Logits runs model (not training) over every sequence, in batches of
// batchSize (default 32) sorted by length, and returns the logits in the
// order of seqs, Head().Units() a sequence.
func Logits(model Model, seqs [][]int, batchSize int) ([]float32, error) {
	logits, _, err := forwardAll(model, seqs, nil, batchSize)
	return logits, err
}

// forwardAll runs model (not training) over every sequence and returns the
// logits in the order of seqs and the loss averaged over the examples: the
// mean of the batches' losses, weighted by their sizes.
func forwardAll(model Model, seqs [][]int, labels []float32, batchSize int) ([]float32, float64, error) {
	if batchSize <= 0 {
		batchSize = 32
	}
	h := model.Head()
	u := h.Units()
	logits := make([]float32, len(seqs)*u)
	var lossSum float64
	for _, b := range data.LengthBatches(seqs, labels, h.Width(), batchSize) {
		loss, z, err := model.Forward(&b, false)
		if err != nil {
			return nil, 0, err
		}
		if len(z) != b.Size*u {
			return nil, 0, fmt.Errorf("model gave %d logits for %d rows of %d", len(z), b.Size, u)
		}
		lossSum += loss * float64(b.Size)
		for r, i := range b.Index {
			copy(logits[i*u:(i+1)*u], z[r*u:(r+1)*u])
		}
	}
	return logits, lossSum / float64(max(len(seqs), 1)), nil
}

// checkTargets checks that each sequence has the head's number of target
// values, each a label index or a 0/1, so that a bad target is an error
// before training rather than a wrong loss.
func checkTargets(h Head, set string, seqs [][]int, targets []float32) error {
	w, k := h.Width(), len(h.Labels())
	if len(targets) != len(seqs)*w {
		return fmt.Errorf("%d %s sequences for %d targets, want %d a sequence", len(seqs), set, len(targets), w)
	}
	for i, y := range targets {
		ok := y == 0 || y == 1
		if w == 1 {
			ok = y >= 0 && y < float32(k) && y == float32(int(y))
		}
		if !ok && w == 1 {
			return fmt.Errorf("%s example %d: target %v is not a label index below %d", set, i, y, k)
		}
		if !ok {
			return fmt.Errorf("%s example %d: target %d is %v, want 0 or 1", set, i/w, i%w, y)
		}
	}
	return nil
}

// ValidationSplit splits examples as Keras's validation_split, at
// data.SplitPoint: the last fraction of them are the validation examples.
// labels holds width targets a sequence. The slices share the inputs'
// arrays.
func ValidationSplit(seqs [][]int, labels []float32, width int, fraction float64) (trainSeqs [][]int, trainLabels []float32, valSeqs [][]int, valLabels []float32, err error) {
	width = max(width, 1)
	if len(seqs)*width != len(labels) {
		return nil, nil, nil, nil, fmt.Errorf("validation split: %d sequences for %d targets, want %d a sequence", len(seqs), len(labels), width)
	}
	if !(fraction >= 0 && fraction < 1) {
		return nil, nil, nil, nil, fmt.Errorf("validation split %v, want a fraction in [0, 1)", fraction)
	}
	at := data.SplitPoint(len(seqs), fraction)
	if fraction > 0 && (at == 0 || at == len(seqs)) {
		return nil, nil, nil, nil, fmt.Errorf("validation split %v of %d examples leaves one side empty", fraction, len(seqs))
	}
	return seqs[:at], labels[:at*width], seqs[at:], labels[at*width:], nil
}
