package pipeline

import (
	"context"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"

	"github.com/classify/classify/data"
	"github.com/classify/classify/models"
)

// EvalOptions configure Eval.
type EvalOptions struct {
	// Checkpoint is the checkpoint folder, local or on a Beam file system.
	Checkpoint string
	// Input is the labelled examples: .tsv, .csv or .jsonl files.
	Input Input
	// Output is the file the metrics are written to, one JSON object as
	// `classify eval --json` prints it.
	Output string
	// BatchSize is the most examples a worker scores together (default 256).
	BatchSize int
	// ExactLimit is the number of examples up to which the ROC AUC is
	// computed exactly, from every score; above it, from histograms of the
	// scores (default DefaultExactLimit).
	ExactLimit int
}

// Eval adds to s the scoring of every example of opts.Input and the
// combining of the metrics of `classify eval` across workers with
// MetricsFn, and writes them to opts.Output.
func Eval(s beam.Scope, opts EvalOptions) error {
	if opts.Checkpoint == "" || opts.Input.Glob == "" || opts.Output == "" {
		return fmt.Errorf("eval: the checkpoint, the data and the output are required")
	}
	if format(opts.Input.Glob) == "" {
		return fmt.Errorf("eval: --data %s: want .tsv, .csv or .jsonl files of labelled examples", opts.Input.Glob)
	}
	if opts.BatchSize == 0 {
		opts.BatchSize = 256
	}
	if opts.ExactLimit == 0 {
		opts.ExactLimit = DefaultExactLimit
	}
	if opts.BatchSize < 1 || opts.ExactLimit < 1 {
		return fmt.Errorf("eval: batches of %d, exact limit %d: want at least 1", opts.BatchSize, opts.ExactLimit)
	}
	for _, name := range []string{opts.Checkpoint, opts.Input.Glob, opts.Output} {
		if err := checkFileSystem(name); err != nil {
			return err
		}
	}
	// The checkpoint is loaded here too: its task and labels make the
	// CombineFn, and a bad one is an error before any worker starts.
	p, err := LoadPredictor(context.Background(), opts.Checkpoint)
	if err != nil {
		return err
	}
	fn, err := NewMetricsFn(p.Checkpoint.Model.Head(), opts.ExactLimit)
	if err != nil {
		return err
	}
	opts.Input.Options.MultiLabel = p.Task() == data.MultiLabel
	s = s.Scope("classify.Eval")
	examples := readExamples(s, opts.Input)
	scored := beam.ParDo(s, &scoreFn{Checkpoint: opts.Checkpoint, BatchSize: opts.BatchSize}, examples)
	metrics := beam.Combine(s, fn, scored)
	textio.Write(s, opts.Output, metrics)
	return nil
}

// Scored is one example's logits and targets, as the model's head reads
// them (Units logits, Width targets): what MetricsFn combines.
type Scored struct {
	Logits  []float32
	Targets []float32
}

// scoreFn scores labelled examples in batches. Its Predictor is loaded in
// Setup, once per DoFn instance.
type scoreFn struct {
	Checkpoint string
	BatchSize  int

	predictor *models.Predictor
	labels    *data.LabelSet
	examples  []Labelled
}

func (f *scoreFn) Setup(ctx context.Context) error {
	p, err := LoadPredictor(ctx, f.Checkpoint)
	if err != nil {
		return err
	}
	h := p.Checkpoint.Model.Head()
	ls, err := data.NewLabelSetOf(h.Labels(), h.Task())
	if err != nil {
		return err
	}
	f.predictor, f.labels = p, ls
	return nil
}

func (f *scoreFn) ProcessElement(e Labelled, emit func(Scored)) error {
	f.examples = append(f.examples, e)
	if len(f.examples) >= f.BatchSize {
		return f.flush(emit)
	}
	return nil
}

func (f *scoreFn) FinishBundle(emit func(Scored)) error { return f.flush(emit) }

func (f *scoreFn) flush(emit func(Scored)) error {
	if len(f.examples) == 0 {
		return nil
	}
	ck := f.predictor.Checkpoint
	texts := make([]string, len(f.examples))
	targets := make([][]float32, len(f.examples))
	for i, e := range f.examples {
		texts[i] = e.Text
		// A label the model does not know is an error naming the file and
		// the line, as in classify eval.
		y, err := f.labels.Targets([]data.Example{{Text: e.Text, Labels: e.Labels, Line: e.Line}}, e.File)
		if err != nil {
			return err
		}
		targets[i] = y
	}
	logits, err := ck.Logits(texts)
	if err != nil {
		return err
	}
	u := ck.Model.Head().Units()
	for i := range f.examples {
		emit(Scored{Logits: logits[i*u : (i+1)*u], Targets: targets[i]})
	}
	f.examples = f.examples[:0]
	return nil
}
