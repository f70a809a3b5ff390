package models

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/classify/classify/safetensors"
)

// FuzzLoadConfig feeds LoadConfig arbitrary config.json bytes: it must
// never panic, and a configuration it accepts is within the limits, so that
// building its model cannot exhaust memory.
func FuzzLoadConfig(f *testing.F) {
	good := filepath.Join(f.TempDir(), "ck")
	if err := Save(good, &Checkpoint{Tokenizer: tinyTokenizer(f), Model: tinyClassifier(f, tinyConfig("relative", "max"), 1)}, nil); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(good, ConfigFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(bytes.Replace(b, []byte(`"hidden": 4`), []byte(`"hidden": 1e9`), 1))
	f.Add(bytes.Replace(b, []byte(`"max_len": 10`), []byte(`"max_len": -1`), 1))
	f.Add(bytes.Replace(b, []byte(`"vocab_size": 12`), []byte(`"vocab_size": 4294967296`), 1))
	f.Add([]byte(`{"format_version": 1, "architecture": "bilstm_classifier", "model": null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, ConfigFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := LoadConfig(dir)
		if err != nil {
			return
		}
		m := cfg.Model
		if m.VocabSize > MaxVocabSize || m.Dim > MaxDim || m.MaxLen > MaxSeqLen || m.Hidden > MaxHidden || m.MaxRelative > MaxRelativeDistance {
			t.Fatalf("accepted a configuration over the limits: %+v", m)
		}
		if n := m.weightCount(); n > MaxWeights || n <= 0 {
			t.Fatalf("accepted a configuration of %d weights: %+v", n, m)
		}
	})
}

// FuzzLoadWeights feeds the loading of model.safetensors arbitrary bytes
// for a model of the fuzzed sizes: it must never panic, must refuse a file
// that does not match the configuration before building the model (a
// build of hidden up to 4096 would make each run slow), and a model it
// accepts has the configuration's shapes and finite weights.
func FuzzLoadWeights(f *testing.F) {
	seeds := filepath.Join(f.TempDir(), "seeds")
	for i, pos := range []string{"learned", "relative", "none"} {
		cfg := tinyConfig(pos, "last")
		dir := filepath.Join(seeds, pos)
		if err := Save(dir, &Checkpoint{Tokenizer: tinyTokenizer(f), Model: tinyClassifier(f, cfg, int64(i))}, nil); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, ModelFile))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), uint16(cfg.Dim), uint16(cfg.MaxLen), uint16(cfg.Hidden), b)
		f.Add(uint8(i), uint16(cfg.Dim), uint16(cfg.MaxLen), uint16(2000), b)
		f.Add(uint8(i), uint16(cfg.Dim), uint16(cfg.MaxLen), uint16(cfg.Hidden), b[:len(b)-1])
	}
	f.Fuzz(func(t *testing.T, pos uint8, dim, maxLen, hidden uint16, weights []byte) {
		cfg := tinyConfig([]string{"learned", "relative", "none", "sinusoidal"}[pos%4], "last")
		cfg.Dim, cfg.MaxLen, cfg.Hidden = int(dim), int(maxLen), int(hidden)
		if cfg.Validate() != nil {
			return
		}
		file, err := safetensors.Read(bytes.NewReader(weights))
		if err != nil {
			return
		}
		m, err := classifierFromFile("model.safetensors", file, cfg)
		if err != nil {
			return
		}
		var want []string
		for _, w := range cfg.weightShapes() {
			if !isBiasHH(w.name) {
				want = append(want, w.name)
			}
		}
		var got []string
		for _, p := range m.Params() {
			got = append(got, p.Name)
			for _, x := range p.Value.Data().([]float32) {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatalf("accepted a weight %v in %s", x, p.Name)
				}
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("accepted a model of parameters %v, want %v", got, want)
		}
	})
}
