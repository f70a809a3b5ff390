package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"math/rand"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"gorgonia.org/tensor"

	"github.com/classify/classify/data"
	"github.com/classify/classify/layers"
	"github.com/classify/classify/models"
	"github.com/classify/classify/train"
)

var trainCommand = command{
	summary: "train a classifier and write a checkpoint",
	usage:   "--data PATH [--vectors PATH] [--test PATH] [--out DIR] [flags]",
	example: "classify train --data rt-polarity/train.tsv --vectors glove/glove.6B.50d.top10k.txt --test rt-polarity/test.tsv --out checkpoints/rt",
	setup: func(fs *flag.FlagSet) func(e *env, args []string) error {
		o := &trainOptions{}
		fs.StringVar(&o.data, "data", "", "training examples: a .tsv/.csv/.jsonl file, a folder, or a dataset name (required)")
		fs.StringVar(&o.test, "test", "", "examples evaluated once training ends")
		fs.StringVar(&o.vectors, "vectors", "", "pretrained word vectors (GloVe or word2vec, .gz ok, or a name like glove.6B.100d); random embeddings when empty")
		fs.StringVar(&o.textColumn, "text-column", "text", "CSV column / JSON field of the text")
		fs.StringVar(&o.labelColumn, "label-column", "label", "CSV column / JSON field of the label")
		o.model = addModelFlags(fs)
		fs.IntVar(&o.batchSize, "batch-size", 32, "examples per step")
		fs.IntVar(&o.epochs, "epochs", 10, "epochs to train; 0 writes the initial model")
		fs.Float64Var(&o.lr, "lr", 0.001, "Adam's learning rate")
		fs.Float64Var(&o.clipNorm, "clip-norm", 0, "clip the global gradient norm to this before each step; 0 for no clipping")
		fs.Float64Var(&o.valSplit, "val-split", 0.1, "the last fraction of the data held out for validation, as Keras")
		fs.BoolVar(&o.shuffle, "shuffle", true, "shuffle each epoch, grouping batches by length; false takes batches in file order")
		fs.Int64Var(&o.seed, "seed", 42, "seed of every random choice")
		fs.IntVar(&o.patience, "early-stopping", 0, "stop after `N` epochs without a lower val_loss and restore the best weights; 0 for never")
		fs.StringVar(&o.from, "from", "", "start from this checkpoint's weights, tokenizer and optimizer state")
		fs.StringVar(&o.out, "out", filepath.Join("checkpoints", "classifier"), "checkpoint `folder` to write")
		return func(e *env, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected argument %q", args[0])
			}
			o.set = map[string]bool{}
			fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
			return runTrain(e, o)
		}
	},
}

// trainOptions are the flags of classify train.
type trainOptions struct {
	data, test, vectors, textColumn, labelColumn, from, out string
	model                                                   *modelFlags
	batchSize, epochs, patience                             int
	lr, clipNorm, valSplit                                  float64
	shuffle                                                 bool
	seed                                                    int64
	// set holds the flags given on the command line.
	set map[string]bool
}

func runTrain(e *env, o *trainOptions) error {
	switch {
	case o.data == "":
		return usagef("--data is required")
	case o.batchSize < 1:
		return usagef("--batch-size %d: want at least 1", o.batchSize)
	case o.epochs < 0:
		return usagef("--epochs %d: want 0 or more", o.epochs)
	case o.lr <= 0:
		return usagef("--lr %g: want a positive rate", o.lr)
	case o.clipNorm < 0:
		return usagef("--clip-norm %g: want 0 or more", o.clipNorm)
	case o.valSplit < 0 || o.valSplit >= 1:
		return usagef("--val-split %g: want 0 <= fraction < 1", o.valSplit)
	case o.patience < 0:
		return usagef("--early-stopping %d: want 0 or more", o.patience)
	case o.patience > 0 && o.valSplit == 0:
		return usagef("--early-stopping watches val_loss: it needs --val-split above 0")
	}
	if _, err := o.model.config(o.model.dim); err != nil {
		return err
	}
	opts := data.LoadOptions{TextColumn: o.textColumn, LabelColumn: o.labelColumn}
	store := dataStore(e)
	examples, err := store.Load(o.data, opts)
	if err != nil {
		return err
	}
	var testExamples []data.Example
	if o.test != "" {
		if testExamples, err = store.Load(o.test, opts); err != nil {
			return err
		}
	}
	if !isFile(o.data) {
		// A folder or a dataset name lists one class after the other: the
		// last fraction would hold one class only. Shuffle with the seed
		// first, as Keras's text_dataset_from_directory does.
		examples = data.Shuffle(examples, seedFor(o.seed, "split"))
	}
	trainEx, valEx := data.SplitLast(examples, o.valSplit)
	if len(trainEx) == 0 {
		return fmt.Errorf("%s: no training examples left after --val-split %g", o.data, o.valSplit)
	}

	var ck *models.Checkpoint
	var history train.History
	fineTune := false
	if o.from != "" {
		if ck, history, err = resumeCheckpoint(o); err != nil {
			return err
		}
		fineTune = ck.Model.Config.FreezeEmbeddings != ck.Config.Model.FreezeEmbeddings
	} else if ck, err = newCheckpoint(e, o, data.Texts(trainEx)); err != nil {
		return err
	}
	ck.Config.Training = models.TrainingOptions{Data: o.data, Vectors: o.vectors, From: o.from, Epochs: o.epochs,
		BatchSize: o.batchSize, LearningRate: o.lr, ClipNorm: o.clipNorm, ValSplit: o.valSplit, Shuffle: o.shuffle,
		Seed: o.seed, EarlyStopping: o.patience}
	model := ck.Model
	maxLen := model.Config.MaxLen
	trainSeqs := ck.Tokenizer.EncodeAll(data.Texts(trainEx), maxLen)
	valSeqs := ck.Tokenizer.EncodeAll(data.Texts(valEx), maxLen)

	if err := model.Compile(train.WithLearningRate(o.lr), train.WithClipNorm(o.clipNorm)); err != nil {
		return err
	}
	opt := model.Optimizer()
	if ck.Optimizer != nil {
		if fineTune {
			// Fine-tuning changes the set of trainable weights: Adam
			// starts afresh, as in Keras when a model is compiled again.
			fmt.Fprintf(e.stderr, "classify train: the trained weights changed; Adam starts afresh with --lr %g\n", o.lr)
		} else if err := opt.SetState(ck.Optimizer); err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(o.from, models.OptimizerFile), err)
		}
	}
	trainable, frozen := layers.CountParams(model.Params())
	fmt.Fprintf(e.stdout, "train %d, validation %d examples; vocabulary %d; %d trainable and %d frozen parameters\n",
		len(trainEx), len(valEx), ck.Tokenizer.Vocabulary().Len(), trainable, frozen)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The validation examples were cut from the examples before the
	// vocabulary was built from the rest, so they are given apart.
	newHistory, fitErr := model.Fit(trainSeqs, data.Labels(trainEx), models.FitConfig{
		Config: train.Config{Epochs: o.epochs, InitialEpoch: len(history), BatchSize: o.batchSize, Shuffle: o.shuffle,
			Seed: o.seed, Patience: o.patience, Progress: newProgress(e), Context: ctx},
		ValidationX: valSeqs, ValidationY: data.Labels(valEx),
	})
	history = append(history, newHistory...)
	ck.Optimizer = opt.State()
	if fitErr != nil && !errors.Is(fitErr, train.ErrNonFinite) && !errors.Is(fitErr, context.Canceled) {
		return fitErr
	}
	// Even a run stopped by a non-finite loss or an interrupt keeps its last
	// good weights: save them, then report the stop.
	if err := models.Save(o.out, ck, func(tmp string) error {
		if err := history.WriteJSON(filepath.Join(tmp, models.HistoryFile)); err != nil {
			return err
		}
		if len(history) == 0 {
			return nil
		}
		return history.PlotPNG(filepath.Join(tmp, models.PlotFile))
	}); err != nil {
		return fmt.Errorf("writing checkpoint %s: %w", o.out, err)
	}
	fmt.Fprintf(e.stdout, "checkpoint written to %s\n", o.out)
	if errors.Is(fitErr, context.Canceled) {
		return fmt.Errorf("interrupted: %d epochs finished, the weights of the last step are in %s", len(history), o.out)
	}
	if fitErr != nil {
		return fmt.Errorf("training stopped: %w (the last good weights are in %s)", fitErr, o.out)
	}
	if len(testExamples) > 0 {
		seqs := ck.Tokenizer.EncodeAll(data.Texts(testExamples), maxLen)
		m, err := model.Evaluate(seqs, data.Labels(testExamples), 256)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "test %s: ", o.test)
		printMetrics(e.stdout, m)
	}
	return nil
}

// newCheckpoint builds the tokenizer from the training texts and a fresh
// model whose embedding comes from the vectors, or is random.
func newCheckpoint(e *env, o *trainOptions, texts []string) (*models.Checkpoint, error) {
	vocab := data.BuildVocabulary(texts, o.model.vocabSize)
	tok, err := data.NewTokenizer(vocab)
	if err != nil {
		return nil, err
	}
	dim := o.model.dim
	var emb *tensor.Dense
	if o.vectors != "" {
		vec, err := dataStore(e).LoadVectors(o.vectors)
		if err != nil {
			return nil, err
		}
		matrix, found := data.EmbeddingMatrix(vocab, vec, seedFor(o.seed, "embedding"))
		dim = vec.Dim
		emb = tensor.New(tensor.WithShape(vocab.Len(), dim), tensor.WithBacking(matrix))
		fmt.Fprintf(e.stdout, "vectors %s: %d-dimensional, %d of %d words found\n", o.vectors, dim, found, vocab.Len()-2)
	} else {
		emb = layers.RandomEmbedding(vocab.Len(), dim, tensor.Float32, rand.New(rand.NewSource(seedFor(o.seed, "embedding"))))
	}
	cfg, err := o.model.config(dim)
	if err != nil {
		return nil, err
	}
	cfg.VocabSize = vocab.Len()
	model, err := models.NewClassifier(cfg, emb, o.seed)
	if err != nil {
		return nil, err
	}
	return &models.Checkpoint{
		Config:    models.FileConfig{Labels: []string{"negative", "positive"}},
		Tokenizer: tok,
		Model:     model,
	}, nil
}

// resumeCheckpoint loads --from with its history, applying the flags that
// may change between runs (--freeze-embeddings, --dropout) and refusing
// those that would change the model's shape.
func resumeCheckpoint(o *trainOptions) (*models.Checkpoint, train.History, error) {
	ck, err := models.Load(o.from)
	if err != nil {
		return nil, nil, err
	}
	if ck.Optimizer, err = models.LoadOptimizer(o.from); err != nil {
		return nil, nil, err
	}
	for _, name := range []string{"vectors", "vocab-size", "max-len", "hidden", "dim", "pos-encoding", "max-relative", "pool"} {
		if o.set[name] {
			return nil, nil, usagef("--%s cannot be combined with --from: the checkpoint fixes it", name)
		}
	}
	cfg := ck.Model.Config
	if o.set["freeze-embeddings"] {
		cfg.FreezeEmbeddings = o.model.freezeEmbeddings
	}
	if o.set["dropout"] {
		cfg.Dropout = o.model.dropout
	}
	if cfg != ck.Model.Config {
		if ck.Model, err = ck.Model.Reconfigure(cfg); err != nil {
			return nil, nil, err
		}
	}
	var history train.History
	if _, err := os.Stat(filepath.Join(o.from, models.HistoryFile)); err == nil {
		if history, err = train.ReadHistory(filepath.Join(o.from, models.HistoryFile)); err != nil {
			return nil, nil, err
		}
	}
	return ck, history, nil
}

// dataStore resolves dataset and vectors names, drawing download progress
// on the command's stderr.
func dataStore(e *env) *data.Store {
	s := data.DefaultStore()
	s.Progress = e.stderr
	return s
}

// isFile reports whether path names a regular file (not a folder or a
// dataset name).
func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// seedFor derives the seed of one use of --seed. Two math/rand generators
// seeded alike draw the same numbers, so the embedding's random rows, the
// layers' initial weights and the shuffles each get a stream of their own.
func seedFor(seed int64, use string) int64 {
	h := fnv.New64a()
	h.Write([]byte(use))
	return seed ^ int64(h.Sum64())
}
