package models

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"gorgonia.org/tensor"

	"github.com/classify/classify/data"
	"github.com/classify/classify/internal/atomicfile"
	"github.com/classify/classify/safetensors"
	"github.com/classify/classify/train"
)

// MaxConfigBytes bounds the size of a checkpoint's config.json.
const MaxConfigBytes = 16 << 20

// FormatVersion is the version of the checkpoint layout this package
// writes. Version 1 (a binary BiLSTM named "bilstm_classifier", no task)
// is read too.
const FormatVersion = 2

// File names inside a checkpoint folder (SPEC section 4).
const (
	ConfigFile    = "config.json"
	TokenizerFile = "tokenizer.json"
	ModelFile     = "model.safetensors"
	OptimizerFile = "optimizer.safetensors"
	HistoryFile   = "history.json"
	PlotFile      = "training.png"
)

// FileConfig is the content of config.json.
type FileConfig struct {
	FormatVersion int `json:"format_version"`
	// Architecture names the model (Spec.Architecture, the --model name)
	// and Model holds its hyperparameters (Spec.Config).
	Architecture string          `json:"architecture"`
	Model        json.RawMessage `json:"model"`
	// Task is data.Binary, data.MultiClass or data.MultiLabel.
	Task string `json:"task"`
	// Labels names the labels by index: ["negative", "positive"].
	Labels []string `json:"labels"`
	// Threshold is the probability from which a multi-label model
	// predicts a label; 0 elsewhere.
	Threshold float64 `json:"threshold,omitempty"`
	// Training records the options of the run that wrote the checkpoint.
	Training TrainingOptions `json:"training"`
	Created  string          `json:"created,omitempty"`
}

// Spec is the model's architecture and configuration.
func (c FileConfig) Spec() Spec { return Spec{Architecture: c.Architecture, Config: c.Model} }

// MaxLen is the longest sequence the model takes, its configuration's
// "max_len", which every architecture has.
func (c FileConfig) MaxLen() (int, error) {
	var v struct {
		MaxLen int `json:"max_len"`
	}
	if err := json.Unmarshal(c.Model, &v); err != nil || v.MaxLen < 1 {
		return 0, fmt.Errorf("config.json: the %s model has no max_len of 1 or more", c.Architecture)
	}
	return v.MaxLen, nil
}

// LabelSet is the task's label set.
func (c FileConfig) LabelSet() (*data.LabelSet, error) { return data.NewLabelSetOf(c.Labels, c.Task) }

// Head is the output head of the task, with the configured threshold.
func (c FileConfig) Head() (train.Head, error) {
	ls, err := c.LabelSet()
	if err != nil {
		return nil, err
	}
	return train.NewHead(ls, c.Threshold)
}

// TrainingOptions are the options of the training run, kept so that a run
// can be repeated and resumed.
type TrainingOptions struct {
	Data          string  `json:"data,omitempty"`
	Vectors       string  `json:"vectors,omitempty"`
	From          string  `json:"from,omitempty"`
	Epochs        int     `json:"epochs"`
	BatchSize     int     `json:"batch_size"`
	LearningRate  float64 `json:"learning_rate"`
	ClipNorm      float64 `json:"clip_norm"`
	ValSplit      float64 `json:"val_split"`
	Shuffle       bool    `json:"shuffle"`
	Seed          int64   `json:"seed"`
	EarlyStopping int     `json:"early_stopping"`
	MultiLabel    bool    `json:"multi_label,omitempty"`
	ClassWeight   string  `json:"class_weight,omitempty"`
}

// Checkpoint is everything a checkpoint folder holds that a program needs:
// the configuration, the tokenizer, the model with its weights, and the
// optimizer's state for resuming.
type Checkpoint struct {
	Config    FileConfig
	Tokenizer *data.Tokenizer
	// Model is the classifier: a *Sequential or a *Bow.
	Model Model
	// Optimizer holds the optimizer's state tensors by name (see
	// train.Adam); nil when there is none.
	Optimizer map[string]*tensor.Dense
}

// Save writes ck to the folder dir atomically: everything is written to a
// temporary sibling folder, which then replaces dir. extra, when not nil,
// writes further files (history.json, training.png) into the temporary
// folder before the swap.
//
// An existing dir is replaced only when it is empty or a checkpoint (its
// config.json says so), unless the Overwrite option is given: a folder of
// other files is never deleted by mistake.
func Save(dir string, ck *Checkpoint, extra func(tmp string) error, opts ...SaveOption) error {
	return atomicfile.WriteDir(dir, func(tmp string) error {
		cfg := ck.Config
		cfg.FormatVersion = FormatVersion
		sp, err := ck.Model.Spec()
		if err != nil {
			return err
		}
		cfg.Architecture, cfg.Model = sp.Architecture, sp.Config
		h := ck.Model.Head()
		cfg.Task, cfg.Labels = h.Task(), h.Labels()
		cfg.Threshold = 0
		if ml, ok := h.(*train.MultiLabelHead); ok {
			cfg.Threshold = ml.Threshold
		}
		if cfg.Created == "" {
			cfg.Created = time.Now().UTC().Format(time.RFC3339)
		}
		js, err := json.MarshalIndent(cfg, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(tmp, ConfigFile), append(js, '\n'), 0o644); err != nil {
			return err
		}
		if err := ck.Tokenizer.WriteJSON(filepath.Join(tmp, TokenizerFile)); err != nil {
			return err
		}
		if err := writeWeights(filepath.Join(tmp, ModelFile), ck.Model); err != nil {
			return err
		}
		if ck.Optimizer != nil {
			if err := writeOptimizer(filepath.Join(tmp, OptimizerFile), ck.Optimizer); err != nil {
				return err
			}
		}
		if extra != nil {
			return extra(tmp)
		}
		return nil
	}, replaceOption(opts))
}

// A SaveOption changes how Save treats an existing folder.
type SaveOption func(*saveOptions)

type saveOptions struct{ overwrite bool }

// Overwrite lets Save replace an existing folder that is not a
// checkpoint, deleting what it holds.
func Overwrite() SaveOption { return func(o *saveOptions) { o.overwrite = true } }

// CheckSave tells, before any work, whether Save(dir, ..., opts...) may
// write dir: nil when dir does not exist, is empty, is a checkpoint, or
// Overwrite is given; otherwise an error naming dir.
func CheckSave(dir string, opts ...SaveOption) error {
	return atomicfile.CheckReplace(dir, replaceOption(opts))
}

func replaceOption(opts []SaveOption) atomicfile.DirOption {
	var o saveOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.overwrite {
		return atomicfile.ReplaceIf(func(string) error { return nil })
	}
	return atomicfile.ReplaceIf(isCheckpoint)
}

// isCheckpoint returns nil when the folder dir holds a config.json that
// says it is a checkpoint: a JSON object with a format_version and an
// architecture. Any version counts, so that an older checkpoint can be
// replaced by a newer one.
func isCheckpoint(dir string) error {
	path := filepath.Join(dir, ConfigFile)
	notCheckpoint := func(why string) error {
		return fmt.Errorf("%s exists and is not a checkpoint (%s); it is left as it is", dir, why)
	}
	f, err := os.Open(path)
	if err != nil {
		return notCheckpoint("no readable " + ConfigFile)
	}
	defer f.Close()
	var probe struct {
		FormatVersion *int    `json:"format_version"`
		Architecture  *string `json:"architecture"`
	}
	if err := json.NewDecoder(io.LimitReader(f, MaxConfigBytes)).Decode(&probe); err != nil {
		return notCheckpoint(ConfigFile + " is not a checkpoint's JSON")
	}
	if probe.FormatVersion == nil || probe.Architecture == nil || *probe.Architecture == "" {
		return notCheckpoint(ConfigFile + " names no format_version and architecture")
	}
	return nil
}

// LoadConfig reads and checks the config.json of the checkpoint folder dir.
func LoadConfig(dir string) (FileConfig, error) {
	return loadConfig(os.DirFS(dir), dir)
}

// loadConfig reads config.json from fsys, a checkpoint folder that name
// names in errors.
func loadConfig(fsys fs.FS, name string) (FileConfig, error) {
	path := filepath.Join(name, ConfigFile)
	var cfg FileConfig
	raw, err := readLimit(fsys, ConfigFile, path, MaxConfigBytes)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return cfg, fmt.Errorf("%s is not a checkpoint: no %s", name, ConfigFile)
		}
		return cfg, err
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	switch cfg.FormatVersion {
	case 1: // a binary BiLSTM; its labels were always negative, positive
		if cfg.Architecture != legacyBiLSTM {
			return cfg, fmt.Errorf("%s: format_version 1 with architecture %q, want %q", path, cfg.Architecture, legacyBiLSTM)
		}
		cfg.Architecture, cfg.Task = BiLSTMArchitecture, data.Binary
		if len(cfg.Labels) != 2 {
			cfg.Labels = []string{"negative", "positive"}
		}
	case FormatVersion:
	default:
		return cfg, fmt.Errorf("%s: format_version %d, this program reads 1 and %d", path, cfg.FormatVersion, FormatVersion)
	}
	if _, err := cfg.Head(); err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// LoadTokenizer reads the configuration and the tokenizer of the
// checkpoint folder dir, without the weights.
func LoadTokenizer(dir string) (FileConfig, *data.Tokenizer, error) {
	return loadTokenizer(os.DirFS(dir), dir)
}

func loadTokenizer(fsys fs.FS, name string) (FileConfig, *data.Tokenizer, error) {
	cfg, err := loadConfig(fsys, name)
	if err != nil {
		return cfg, nil, err
	}
	path := filepath.Join(name, TokenizerFile)
	f, err := fsys.Open(TokenizerFile)
	if err != nil {
		return cfg, nil, err
	}
	defer f.Close()
	tok, err := data.ReadTokenizer(f, path)
	if err != nil {
		return cfg, nil, err
	}
	var v struct {
		VocabSize int `json:"vocab_size"`
	}
	if json.Unmarshal(cfg.Model, &v) == nil && v.VocabSize > 0 && v.VocabSize != tok.Vocabulary().Len() {
		return cfg, nil, fmt.Errorf("%s: %d words, but config.json says vocab_size %d", path, tok.Vocabulary().Len(), v.VocabSize)
	}
	return cfg, tok, nil
}

// readLimit reads the file name of fsys, refusing one of more than limit
// bytes; path names it in errors.
func readLimit(fsys fs.FS, name, path string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return data.ReadLimit(f, path, limit)
}

// Load reads the checkpoint folder dir for prediction and evaluation,
// checking the format version and every tensor's name, shape and type
// against the configuration. The optimizer's state is left out: see
// LoadOptimizer.
func Load(dir string) (*Checkpoint, error) { return LoadFS(os.DirFS(dir), dir) }

// LoadFS reads a checkpoint from fsys, whose root is the checkpoint
// folder, as Load does; name names it in errors. A program reads a
// checkpoint from any store that offers an fs.FS (an object store, an
// archive, a Beam file system) without a local copy.
func LoadFS(fsys fs.FS, name string) (*Checkpoint, error) {
	ck, _, err := loadFS(fsys, name, false)
	return ck, err
}

// LoadUnverified reads the checkpoint folder dir as Load does, but
// returns before the checks that read every weight are done: the SHA-256
// of model.safetensors, and the finite check of a bow table that stays in
// the file's mapping (800 MB read, about 0.6 s of a core). They go on, on
// other cores, while the caller starts its work; verify waits for them and
// returns the error Load would have returned, nil when there is none.
// Nothing computed with the checkpoint may leave the program (be printed,
// written, served) before verify has returned nil: a file altered or
// holding a NaN is still refused before anything is shown. The checkpoint
// is for prediction: it must not be trained or changed before then (the
// digest reads the weights as they are).
func LoadUnverified(dir string) (ck *Checkpoint, verify func() error, err error) {
	return loadFS(os.DirFS(dir), dir, true)
}

// loadFS is LoadFS, and LoadUnverified when later is set.
func loadFS(fsys fs.FS, name string, later bool) (*Checkpoint, func() error, error) {
	cfg, tok, err := loadTokenizer(fsys, name)
	if err != nil {
		return nil, nil, err
	}
	head, err := cfg.Head()
	if err != nil {
		return nil, nil, err
	}
	path := filepath.Join(name, ModelFile)
	r, err := fsys.Open(ModelFile)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	f, mem, digestOK, err := readWeightsFile(r, path)
	if err != nil {
		return nil, nil, err
	}
	var checks []func() error
	var deferred *[]func() error
	if later {
		deferred = &checks
	}
	// The digest is checked on another core while the weights are
	// copied; a file that fails it is refused first, whatever else is
	// wrong with it.
	model, err := modelOfFile(cfg, head, tok, f, mem, deferred, name, path)
	verify := func() error {
		var cerr error // the deferred checks, while the digest goes on
		for _, check := range checks {
			if cerr == nil {
				cerr = check()
			}
		}
		derr := digestOK()
		mem.done() // read no more: unmapped unless a tensor adopted it
		if derr != nil {
			return derr
		}
		return cerr
	}
	if err != nil || !later {
		if derr := verify(); derr != nil {
			return nil, nil, derr
		}
		if err != nil {
			return nil, nil, err
		}
		return &Checkpoint{Config: cfg, Tokenizer: tok, Model: model}, func() error { return nil }, nil
	}
	result := make(chan error, 1)
	go func() { result <- verify() }()
	return &Checkpoint{Config: cfg, Tokenizer: tok, Model: model}, sync.OnceValue(func() error { return <-result }), nil
}

// modelOfFile builds the model of cfg and fills it with the weights of f,
// the model.safetensors at path of the checkpoint folder name, mapped in
// mem (nil when read); later is fillWeights'.
func modelOfFile(cfg FileConfig, head train.Head, tok *data.Tokenizer, f *safetensors.File, mem *region, later *[]func() error, name, path string) (Model, error) {
	// The file's layout is checked against the configuration before the
	// model is built, where the architecture can say it without building.
	want, known, err := expectedShapes(cfg.Spec(), head.Units())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(name, ConfigFile), err)
	}
	if known {
		if err := checkShapes(f, path, want); err != nil {
			return nil, err
		}
	}
	model, err := Build(cfg.Spec(), head, nil, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(name, ConfigFile), err)
	}
	if m, ok := model.(embedded); ok {
		if e, ok := m.Embedding(); ok && e.Vocab() != tok.Vocabulary().Len() {
			return nil, fmt.Errorf("%s: %d words, but the model's embedding has %d rows", filepath.Join(name, TokenizerFile), tok.Vocabulary().Len(), e.Vocab())
		}
	}
	if err := fillWeights(f, mem, path, model, later); err != nil {
		return nil, err
	}
	return model, nil
}

// LoadOptimizer reads the optimizer state of the checkpoint folder dir, for
// resuming training; it returns nil when the checkpoint has none.
func LoadOptimizer(dir string) (map[string]*tensor.Dense, error) {
	path := filepath.Join(dir, OptimizerFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return readOptimizer(path)
}
