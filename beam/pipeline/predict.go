package pipeline

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/classify/classify/data"
	"github.com/classify/classify/models"
)

// PredictOptions configure Predict.
type PredictOptions struct {
	// Checkpoint is the checkpoint folder, local or on a Beam file system.
	Checkpoint string
	// Input is the texts to score.
	Input Input
	// Output is the prefix of the files written: Output-00000-of-00004.jsonl
	// and so on.
	Output string
	// Shards is the number of output files (default 4).
	Shards int
	// BatchSize is the most texts a worker scores together (default 256).
	// A batch is cut at the end of each bundle too.
	BatchSize int
	// TopK keeps the K most probable labels in "scores"; 0 keeps all.
	TopK int
	// Threshold is the probability from which a multi-label model predicts
	// a label; 0 keeps the checkpoint's.
	Threshold float64
}

// Predict adds to s the scoring of every text of opts.Input and the
// writing of one JSON object per text, as `classify predict --json` prints
// it, to opts.Output's shards. The lines of a shard are in no particular
// order.
func Predict(s beam.Scope, opts PredictOptions) error {
	if opts.Checkpoint == "" || opts.Input.Glob == "" || opts.Output == "" {
		return fmt.Errorf("predict: the checkpoint, the input and the output are required")
	}
	if opts.Shards == 0 {
		opts.Shards = 4
	}
	if opts.BatchSize == 0 {
		opts.BatchSize = 256
	}
	if opts.Shards < 1 || opts.BatchSize < 1 || opts.TopK < 0 {
		return fmt.Errorf("predict: %d shards, batches of %d, top %d: want at least 1, 1 and 0", opts.Shards, opts.BatchSize, opts.TopK)
	}
	for _, name := range []string{opts.Checkpoint, opts.Input.Glob, opts.Output} {
		if err := checkFileSystem(name); err != nil {
			return err
		}
	}
	// The checkpoint is loaded here too, so that a bad one or a bad
	// threshold is an error before any worker starts.
	p, err := loadPredictor(context.Background(), opts.Checkpoint, opts.Threshold)
	if err != nil {
		return err
	}
	opts.Input.Options.MultiLabel = p.Task() == data.MultiLabel
	s = s.Scope("classify.Predict")
	texts := readTexts(s, opts.Input)
	lines := beam.ParDo(s, &predictFn{Checkpoint: opts.Checkpoint, BatchSize: opts.BatchSize,
		TopK: opts.TopK, Threshold: opts.Threshold}, texts)
	writeShards(s, opts.Output, ".jsonl", opts.Shards, lines)
	return nil
}

// predictFn scores texts in batches and emits their JSON lines. Its
// Predictor is loaded in Setup, once per DoFn instance, which a worker
// reuses for bundle after bundle.
type predictFn struct {
	Checkpoint string
	BatchSize  int
	TopK       int
	Threshold  float64

	predictor *models.Predictor
	texts     []string
}

func (f *predictFn) Setup(ctx context.Context) error {
	p, err := loadPredictor(ctx, f.Checkpoint, f.Threshold)
	if err != nil {
		return err
	}
	f.predictor = p
	return nil
}

func (f *predictFn) ProcessElement(text string, emit func(string)) error {
	f.texts = append(f.texts, text)
	if len(f.texts) >= f.BatchSize {
		return f.flush(emit)
	}
	return nil
}

func (f *predictFn) FinishBundle(emit func(string)) error { return f.flush(emit) }

func (f *predictFn) flush(emit func(string)) error {
	if len(f.texts) == 0 {
		return nil
	}
	preds, err := f.predictor.Predict(f.texts)
	if err != nil {
		return err
	}
	for i, p := range preds {
		if f.TopK > 0 && len(p.Scores) > f.TopK {
			p.Scores = p.Scores[:f.TopK]
		}
		line, err := PredictionJSON(f.texts[i], p)
		if err != nil {
			return err
		}
		emit(line)
	}
	f.texts = f.texts[:0]
	return nil
}

// loadPredictor loads a checkpoint and sets its multi-label threshold
// when one is given.
func loadPredictor(ctx context.Context, dir string, threshold float64) (*models.Predictor, error) {
	p, err := LoadPredictor(ctx, dir)
	if err != nil {
		return nil, err
	}
	if threshold != 0 {
		if err := p.SetThreshold(threshold); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// PredictionJSON is the line `classify predict --json` prints for text and
// its prediction: the object of p with "text" first.
func PredictionJSON(text string, p models.Prediction) (string, error) {
	t, err := json.Marshal(text)
	if err != nil {
		return "", err
	}
	o, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	if len(o) < 2 || o[0] != '{' {
		return "", fmt.Errorf("prediction %s: not a JSON object", o)
	}
	line := `{"text":` + string(t)
	if len(o) > 2 {
		line += ","
	}
	return line + string(o[1:]), nil
}
