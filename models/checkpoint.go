package models

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"gorgonia.org/tensor"

	"github.com/classify/classify/data"
	"github.com/classify/classify/internal/atomicfile"
)

// MaxConfigBytes bounds the size of a checkpoint's config.json.
const MaxConfigBytes = 16 << 20

// FormatVersion is the version of the checkpoint layout this package
// writes and the only one it reads.
const FormatVersion = 1

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
	FormatVersion int    `json:"format_version"`
	Architecture  string `json:"architecture"`
	Model         Config `json:"model"`
	// Labels names the classes by id: ["negative", "positive"].
	Labels []string `json:"labels"`
	// Training records the options of the run that wrote the checkpoint.
	Training TrainingOptions `json:"training"`
	Created  string          `json:"created,omitempty"`
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
}

// architecture names the one model this package builds.
const architecture = "bilstm_classifier"

// Checkpoint is everything a checkpoint folder holds that a program needs:
// the configuration, the tokenizer, the model with its weights, and the
// optimizer's state for resuming.
type Checkpoint struct {
	Config    FileConfig
	Tokenizer *data.Tokenizer
	Model     *Classifier
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
		cfg.Architecture = architecture
		cfg.Model = ck.Model.Config
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
	path := filepath.Join(dir, ConfigFile)
	var cfg FileConfig
	raw, err := data.ReadFileLimit(path, MaxConfigBytes)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return cfg, fmt.Errorf("%s is not a checkpoint: no %s", dir, ConfigFile)
		}
		return cfg, err
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	if cfg.FormatVersion != FormatVersion {
		return cfg, fmt.Errorf("%s: format_version %d, this program reads %d", path, cfg.FormatVersion, FormatVersion)
	}
	if cfg.Architecture != architecture {
		return cfg, fmt.Errorf("%s: architecture %q, want %q", path, cfg.Architecture, architecture)
	}
	if err := cfg.Model.Validate(); err != nil {
		return cfg, fmt.Errorf("%s: model: %w", path, err)
	}
	return cfg, nil
}

// LoadTokenizer reads the configuration and the tokenizer of the
// checkpoint folder dir, without the weights.
func LoadTokenizer(dir string) (FileConfig, *data.Tokenizer, error) {
	cfg, err := LoadConfig(dir)
	if err != nil {
		return cfg, nil, err
	}
	tok, err := data.LoadTokenizer(filepath.Join(dir, TokenizerFile))
	if err != nil {
		return cfg, nil, err
	}
	if n := tok.Vocabulary().Len(); n != cfg.Model.VocabSize {
		return cfg, nil, fmt.Errorf("%s: %d words, but config.json says vocab_size %d", filepath.Join(dir, TokenizerFile), n, cfg.Model.VocabSize)
	}
	return cfg, tok, nil
}

// Load reads the checkpoint folder dir for prediction and evaluation,
// checking the format version and every tensor's name, shape and type
// against the configuration. The optimizer's state is left out: see
// LoadOptimizer.
func Load(dir string) (*Checkpoint, error) {
	cfg, tok, err := LoadTokenizer(dir)
	if err != nil {
		return nil, err
	}
	model, err := readWeights(filepath.Join(dir, ModelFile), cfg.Model)
	if err != nil {
		return nil, err
	}
	return &Checkpoint{Config: cfg, Tokenizer: tok, Model: model}, nil
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
