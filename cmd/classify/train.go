package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"math/rand"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
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
		fs.IntVar(&o.vectorsVocab, "vectors-vocab", 0, "also give ids to the words of the first `N` rows of --vectors that the training data lacks, so that a word met only in testing or prediction keeps its pretrained vector; each costs a row of the embedding (and Adam's two when trainable); 0 keeps the training data's words alone")
		fs.StringVar(&o.textColumn, "text-column", "text", "CSV column / JSON field of the text")
		fs.StringVar(&o.labelColumn, "label-column", "label", "CSV column / JSON field of the label")
		o.model = addModelFlags(fs)
		fs.BoolVar(&o.multiLabel, "multi-label", false, "each text has a set of labels: comma-separated in TSV/CSV label fields, a \"labels\" list in JSON lines")
		fs.StringVar(&o.classWeight, "class-weight", "none", "none, or balanced: weigh each class by n / (K * n_k) in the loss")
		fs.IntVar(&o.batchSize, "batch-size", 32, "examples per step")
		fs.IntVar(&o.epochs, "epochs", 10, "epochs to train; 0 writes the initial model (bow: 5, as fastText)")
		fs.Float64Var(&o.lr, "lr", 0.001, "Adam's learning rate (bow: SGD's, falling linearly to 0, default 0.1 as fastText)")
		fs.IntVar(&o.threads, "threads", 1, "bow: goroutines that train at once on shared weights (Hogwild, fastText's -thread); 1 is deterministic")
		fs.Float64Var(&o.clipNorm, "clip-norm", 0, "clip the global gradient norm to this before each step; 0 for no clipping")
		fs.Float64Var(&o.valSplit, "val-split", 0.1, "the last fraction of the data held out for validation, as Keras")
		fs.BoolVar(&o.shuffle, "shuffle", true, "shuffle each epoch, grouping batches by length; false takes batches in file order")
		fs.Int64Var(&o.seed, "seed", 42, "seed of every random choice")
		fs.IntVar(&o.patience, "early-stopping", 0, "stop after `N` epochs without a lower val_loss and restore the best weights; 0 for never")
		fs.StringVar(&o.from, "from", "", "start from this checkpoint's weights, tokenizer and optimizer state")
		fs.StringVar(&o.out, "out", filepath.Join("checkpoints", "classifier"), "checkpoint `folder` to write")
		fs.BoolVar(&o.overwrite, "overwrite", false, "let --out replace a folder that is not a checkpoint, deleting what it holds")
		fs.IntVar(&o.maxLineBytes, "max-line-bytes", data.DefaultMaxLineBytes, "refuse a line (a CSV record, a file of a class folder) of --data or --test longer than this many bytes")
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
	data, test, vectors, textColumn, labelColumn, from, out, classWeight string
	model                                                                *modelFlags
	batchSize, epochs, patience, maxLineBytes, threads, vectorsVocab     int
	lr, clipNorm, valSplit                                               float64
	shuffle, multiLabel, overwrite                                       bool
	seed                                                                 int64
	// set holds the flags given on the command line.
	set map[string]bool
}

// check refuses flag values out of range, before anything is read.
func (o *trainOptions) check() error {
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
	case o.classWeight != "none" && o.classWeight != "balanced":
		return usagef("--class-weight %q: want none or balanced", o.classWeight)
	case o.maxLineBytes < 1:
		return usagef("--max-line-bytes %d: want at least 1", o.maxLineBytes)
	case o.threads < 1:
		return usagef("--threads %d: want at least 1", o.threads)
	case o.vectorsVocab < 0:
		return usagef("--vectors-vocab %d: want 0 or more", o.vectorsVocab)
	case o.vectorsVocab > 0 && o.vectors == "" && o.from == "":
		return usagef("--vectors-vocab takes its words from --vectors: give both")
	}
	if o.model.model == models.BowArchitecture {
		// The bag of n-grams steps one example at a time by SGD, with
		// no Adam state, clipping or early stopping.
		for _, name := range []string{"batch-size", "clip-norm", "early-stopping", "shuffle"} {
			if o.set[name] {
				return usagef("--%s is not a bow flag", name)
			}
		}
	} else if o.set["threads"] {
		return usagef("--threads is a bow flag")
	}
	_, err := o.model.spec(o.model.dim)
	return err
}

// loadOptions are the data options of the flags.
func (o *trainOptions) loadOptions() data.LoadOptions {
	return data.LoadOptions{TextColumn: o.textColumn, LabelColumn: o.labelColumn, MultiLabel: o.multiLabel, MaxLineBytes: o.maxLineBytes}
}

// trainGCPercent is the garbage collector's target while training, unless
// GOGC says otherwise: a training run holds one graph of activations per
// length bucket and drops as much per step, so at Go's default of 100 the
// heap grew to twice what it kept. On IMDB at --max-len 400, fine-tuned,
// 25 kept the peak RSS at 1,054 MiB instead of 1,210 (PyTorch's reference:
// 1,086) and the epoch was no slower (6.4 s against 7.9 s, one quiet run
// each).
const trainGCPercent = 25

func runTrain(e *env, o *trainOptions) error {
	if _, set := os.LookupEnv("GOGC"); !set {
		defer debug.SetGCPercent(debug.SetGCPercent(trainGCPercent))
	}
	if o.from != "" {
		// A bow checkpoint trains on as bow, with bow's defaults; an
		// unreadable one is reported below, after the flags are checked.
		if cfg, err := models.LoadConfig(o.from); err == nil && cfg.Architecture == models.BowArchitecture {
			o.model.model = models.BowArchitecture
		}
	}
	if o.model.model == models.BowArchitecture {
		// fastText supervised's defaults, where a flag does not say.
		o.model.applyBowDefaults()
		if !o.set["lr"] {
			o.lr = bowLR
		}
		if !o.set["epochs"] {
			o.epochs = bowEpochs
		}
	}
	if err := o.check(); err != nil {
		return err
	}
	if o.from != "" {
		cfg, err := models.LoadConfig(o.from)
		if err != nil {
			return err
		}
		if !o.set["seed"] {
			o.seed = cfg.Training.Seed // resume the run's split, shuffles and dropout masks
		}
		// The checkpoint fixes the task: its label lists are read as lists.
		o.multiLabel = o.multiLabel || cfg.Task == data.MultiLabel
	}
	var saveOpts []models.SaveOption
	if o.overwrite {
		saveOpts = append(saveOpts, models.Overwrite())
	}
	if err := models.CheckSave(o.out, saveOpts...); err != nil {
		return fmt.Errorf("--out: %w (--overwrite replaces it)", err)
	}
	store := dataStore(e)
	examples, err := store.Load(o.data, o.loadOptions())
	if err != nil {
		return err
	}
	var testExamples []data.Example
	if o.test != "" {
		if testExamples, err = store.Load(o.test, o.loadOptions()); err != nil {
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
		if ck, history, fineTune, err = resumeCheckpoint(e, o); err != nil {
			return err
		}
	} else if ck, err = newCheckpoint(e, o, examples, trainEx); err != nil {
		return err
	}
	ck.Config.Training = models.TrainingOptions{Data: o.data, Vectors: o.vectors, From: o.from, Epochs: o.epochs,
		BatchSize: o.batchSize, LearningRate: o.lr, ClipNorm: o.clipNorm, ValSplit: o.valSplit, Shuffle: o.shuffle,
		Seed: o.seed, EarlyStopping: o.patience, MultiLabel: o.multiLabel, ClassWeight: o.classWeight}
	model := ck.Model
	trainY, err := ck.Targets(trainEx, o.data)
	if err != nil {
		return err
	}
	valY, err := ck.Targets(valEx, o.data)
	if err != nil {
		return err
	}
	var testY []float32
	if len(testExamples) > 0 {
		// Checked before training, so that a label training never saw
		// stops the run before it costs anything.
		if testY, err = ck.Targets(testExamples, o.test); err != nil {
			return err
		}
	}
	if o.classWeight == "balanced" {
		head, err := train.WithClassWeights(model.Head(), train.BalancedWeights(model.Head(), trainY))
		if err != nil {
			return err
		}
		if err := model.SetHead(head); err != nil {
			return err
		}
	}
	parent := e.ctx
	if parent == nil {
		parent = context.Background()
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	var newHistory train.History
	var fitErr error
	// Each family trains its own way: the graph models by Adam over
	// batches, the bag of n-grams by fastText's SGD, one example a step.
	switch m := model.(type) {
	case *models.Sequential:
		newHistory, fitErr, err = fitSequential(e, o, ck, m, fineTune, len(history), trainEx, trainY, valEx, valY, ctx)
	case *models.Bow:
		newHistory, fitErr, err = fitBow(e, o, ck, m, len(history), trainEx, trainY, valEx, valY, ctx)
	default:
		err = fmt.Errorf("classify train cannot train a %T", model)
	}
	if err != nil {
		return err
	}
	history = append(history, newHistory...)
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
	}, saveOpts...); err != nil {
		return fmt.Errorf("writing checkpoint %s: %w", o.out, err)
	}
	fmt.Fprintf(e.stdout, "checkpoint written to %s\n", o.out)
	if errors.Is(fitErr, context.Canceled) || ctx.Err() != nil {
		// A signal during the save, or with nothing to train, is an
		// interrupt too: the checkpoint is whole, the status says so.
		return fmt.Errorf("interrupted: %d epochs finished, the weights of the last step are in %s", len(history), o.out)
	}
	if fitErr != nil {
		return fmt.Errorf("training stopped: %w (the last good weights are in %s)", fitErr, o.out)
	}
	if len(testExamples) > 0 {
		m, err := model.EvaluateTexts(ck.Tokenizer, data.Texts(testExamples), testY, 256)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "test %s: ", o.test)
		printMetrics(e.stdout, m)
	}
	return nil
}

// fitSequential trains a graph model by Adam (resumed from the
// checkpoint's optimizer state unless fineTune) and leaves the optimizer's
// state in ck. fitErr is the error of a run that stopped but kept its last
// good weights; err one that leaves nothing to save.
func fitSequential(e *env, o *trainOptions, ck *models.Checkpoint, model *models.Sequential, fineTune bool, done int,
	trainEx []data.Example, trainY []float32, valEx []data.Example, valY []float32, ctx context.Context) (history train.History, fitErr, err error) {
	model.SetSeed(o.seed)
	if err := model.Compile(train.WithLearningRate(o.lr), train.WithClipNorm(o.clipNorm)); err != nil {
		return nil, nil, err
	}
	opt := model.Optimizer()
	if ck.Optimizer != nil {
		if fineTune {
			// Fine-tuning changes the set of trainable weights: Adam
			// starts afresh, as in Keras when a model is compiled again.
			fmt.Fprintf(e.stderr, "classify train: the trained weights changed; Adam starts afresh with --lr %g\n", o.lr)
		} else if err := opt.SetState(ck.Optimizer); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", filepath.Join(o.from, models.OptimizerFile), err)
		}
	} else if o.from != "" {
		fmt.Fprintf(e.stderr, "classify train: %s has no %s; Adam starts afresh with --lr %g\n", o.from, models.OptimizerFile, o.lr)
	}
	printTrainStart(e, ck, len(trainEx), len(valEx))
	// The validation examples were cut from the examples before the
	// vocabulary was built from the rest, so they are given apart.
	maxLen := model.MaxLen()
	history, fitErr = model.Fit(ck.Tokenizer.EncodeAll(data.Texts(trainEx), maxLen), trainY, models.FitConfig{
		Config: train.Config{Epochs: o.epochs, InitialEpoch: done, BatchSize: o.batchSize, Shuffle: o.shuffle,
			Seed: o.seed, Patience: o.patience, Progress: newProgress(e), Context: ctx},
		ValidationX: ck.Tokenizer.EncodeAll(data.Texts(valEx), maxLen), ValidationY: valY,
	})
	ck.Optimizer = opt.State()
	return history, fitErr, nil
}

// fitBow trains a bag of n-grams by fastText's SGD on --threads
// goroutines.
func fitBow(e *env, o *trainOptions, ck *models.Checkpoint, model *models.Bow, done int,
	trainEx []data.Example, trainY []float32, valEx []data.Example, valY []float32, ctx context.Context) (history train.History, fitErr, err error) {
	printTrainStart(e, ck, len(trainEx), len(valEx))
	p := newProgress(e)
	p.Metric = train.MainMetricName(model.Head().Task())
	if o.epochs == 0 {
		return nil, nil, nil
	}
	history, fitErr = model.Fit(model.Bags(ck.Tokenizer, data.Texts(trainEx)), trainY, models.BowFitConfig{
		Epochs: o.epochs, LR: o.lr, Seed: o.seed, Threads: o.threads, Context: ctx,
		ValidationBags: model.Bags(ck.Tokenizer, data.Texts(valEx)), ValidationY: valY,
		Progress: func(ep train.Epoch) {
			ep.Epoch += done
			p.BeginEpoch(ep.Epoch, done+o.epochs, ep.Steps)
			p.EndEpoch(ep)
		},
	})
	for i := range history {
		history[i].Epoch += done
	}
	return history, fitErr, nil
}

// printTrainStart says what is about to be trained.
func printTrainStart(e *env, ck *models.Checkpoint, nTrain, nVal int) {
	h := ck.Model.Head()
	trainable, frozen := layers.CountParams(ck.Model.Params())
	fmt.Fprintf(e.stdout, "train %d, validation %d examples; %s task, %d labels; vocabulary %d; %d trainable and %d frozen parameters\n",
		nTrain, nVal, h.Task(), len(h.Labels()), ck.Tokenizer.Vocabulary().Len(), trainable, frozen)
}

// fastText supervised's defaults for the bag of n-grams.
const (
	bowLR     = 0.1
	bowEpochs = 5
)

// newCheckpoint builds the label set from all the examples of --data
// (the validation part included: SPEC's training data), the tokenizer
// from the training part, and a fresh model whose embedding comes from the
// vectors, or is random.
func newCheckpoint(e *env, o *trainOptions, all, trainEx []data.Example) (*models.Checkpoint, error) {
	labels, err := data.NewLabelSet(all, o.multiLabel)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.data, err)
	}
	head, err := train.NewHead(labels, 0)
	if err != nil {
		return nil, err
	}
	vocab := data.BuildVocabulary(data.Texts(trainEx), o.model.vocabSize)
	var vec *data.Vectors
	if o.vectors != "" {
		if vec, err = dataStore(e).LoadVectors(o.vectors); err != nil {
			return nil, err
		}
		if o.vectorsVocab > 0 {
			vocab = data.ExtendVocabulary(vocab, vec.Words[:min(o.vectorsVocab, len(vec.Words))])
		}
	}
	tok, err := data.NewTokenizer(vocab)
	if err != nil {
		return nil, err
	}
	dim := o.model.dim
	var emb *tensor.Dense
	if vec != nil {
		matrix, found := data.EmbeddingMatrix(vocab, vec, seedFor(o.seed, "embedding"))
		dim = vec.Dim
		emb = tensor.New(tensor.WithShape(vocab.Len(), dim), tensor.WithBacking(matrix))
		fmt.Fprintf(e.stdout, "vectors %s: %d-dimensional, %d of %d words found\n", o.vectors, dim, found, vocab.Len()-2)
	} else if o.model.model == models.BowArchitecture {
		emb = models.BowWordRows(vocab.Len(), dim, seedFor(o.seed, "embedding"))
	} else {
		emb = layers.RandomEmbedding(vocab.Len(), dim, tensor.Float32, rand.New(rand.NewSource(seedFor(o.seed, "embedding"))))
	}
	o.model.vocabSize = vocab.Len()
	spec, err := o.model.spec(dim)
	if err != nil {
		return nil, err
	}
	model, err := models.Build(spec, head, emb, o.seed)
	if err != nil {
		return nil, err
	}
	return &models.Checkpoint{Tokenizer: tok, Model: model}, nil
}

// resumeCheckpoint loads --from with its history, applying the flags that
// may change between runs (--freeze-embeddings, --dropout) and refusing
// those that would change the model's shape. fineTune reports that the set
// of trained weights changed, so that Adam's state no longer fits.
func resumeCheckpoint(e *env, o *trainOptions) (ck *models.Checkpoint, history train.History, fineTune bool, err error) {
	for _, name := range []string{"vectors", "vectors-vocab", "vocab-size", "max-len", "hidden", "dim", "pos-encoding", "max-relative", "pool", "model", "multi-label", "ngrams", "buckets"} {
		if o.set[name] {
			return nil, nil, false, usagef("--%s cannot be combined with --from: the checkpoint fixes it", name)
		}
	}
	if ck, err = models.Load(o.from); err != nil {
		return nil, nil, false, err
	}

	if ck.Optimizer, err = models.LoadOptimizer(o.from); err != nil {
		return nil, nil, false, err
	}
	changes := map[string]any{}
	if o.set["freeze-embeddings"] {
		changes["freeze_embeddings"] = o.model.freezeEmbeddings
	}
	if o.set["dropout"] {
		changes["dropout"] = o.model.dropout
	}
	if len(changes) > 0 {
		sp, err := ck.Model.Spec()
		if err != nil {
			return nil, nil, false, err
		}
		sp, changed, err := withSettings(sp, changes)
		if err != nil {
			return nil, nil, false, err
		}
		if changed {
			if ck.Model, err = models.Rebuild(ck.Model, sp); err != nil {
				return nil, nil, false, err
			}
			fineTune = !bytes.Equal(mustField(sp, "freeze_embeddings"), mustField(ck.Config.Spec(), "freeze_embeddings"))
		}
	}
	if _, err := os.Stat(filepath.Join(o.from, models.HistoryFile)); err == nil {
		if history, err = train.ReadHistory(filepath.Join(o.from, models.HistoryFile)); err != nil {
			return nil, nil, false, err
		}
	}
	return ck, history, fineTune, nil
}

// withSettings returns sp with the hyperparameters in changes set, and
// whether any changed; a model that lacks one of them cannot take the flag.
func withSettings(sp models.Spec, changes map[string]any) (models.Spec, bool, error) {
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal(sp.Config, &cfg); err != nil {
		return sp, false, err
	}
	changed := false
	for k, v := range changes {
		old, ok := cfg[k]
		if !ok {
			return sp, false, usagef("the %s model has no %s setting", sp.Architecture, k)
		}
		js, err := json.Marshal(v)
		if err != nil {
			return sp, false, err
		}
		changed = changed || !bytes.Equal(bytes.TrimSpace(old), js)
		cfg[k] = js
	}
	js, err := json.Marshal(cfg)
	if err != nil {
		return sp, false, err
	}
	return models.Spec{Architecture: sp.Architecture, Config: js}, changed, nil
}

// mustField is the JSON of one hyperparameter of sp, nil when absent.
func mustField(sp models.Spec, key string) []byte {
	var cfg map[string]json.RawMessage
	if json.Unmarshal(sp.Config, &cfg) != nil {
		return nil
	}
	return bytes.TrimSpace(cfg[key])
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
