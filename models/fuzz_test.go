package models

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"testing/fstest"
)

// tinyCheckpointFiles saves a tiny BiLSTM checkpoint of configuration cfg
// and returns its files by name.
func tinyCheckpointFiles(f *testing.F, cfg Config, seed int64) fstest.MapFS {
	dir := filepath.Join(f.TempDir(), "ck")
	if err := Save(dir, &Checkpoint{Tokenizer: tinyTokenizer(f), Model: tinyClassifier(f, cfg, seed).Sequential}, nil); err != nil {
		f.Fatal(err)
	}
	files := fstest.MapFS{}
	for _, name := range []string{ConfigFile, TokenizerFile, ModelFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			f.Fatal(err)
		}
		files[name] = &fstest.MapFile{Data: b}
	}
	return files
}

// FuzzLoadConfig feeds the loading of config.json arbitrary bytes: it must
// never panic, and a BiLSTM configuration it accepts is within the limits,
// so that building its model cannot exhaust memory.
func FuzzLoadConfig(f *testing.F) {
	b := tinyCheckpointFiles(f, tinyConfig("relative", "max"), 1)[ConfigFile].Data
	f.Add(b)
	f.Add(bytes.Replace(b, []byte(`"hidden": 4`), []byte(`"hidden": 1e9`), 1))
	f.Add(bytes.Replace(b, []byte(`"max_len": 10`), []byte(`"max_len": -1`), 1))
	f.Add(bytes.Replace(b, []byte(`"vocab_size": 12`), []byte(`"vocab_size": 4294967296`), 1))
	f.Add([]byte(`{"format_version": 1, "architecture": "bilstm_classifier", "model": null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := loadConfig(fstest.MapFS{ConfigFile: {Data: b}}, "ck")
		if err != nil {
			return
		}
		sp := cfg.Spec()
		if sp.Architecture != BiLSTMArchitecture {
			return
		}
		m := DefaultConfig()
		if decodeConfig(sp, &m) != nil || m.Validate() != nil {
			return
		}
		if m.VocabSize > MaxVocabSize || m.Dim > MaxDim || m.MaxLen > MaxSeqLen || m.Hidden > MaxHidden || m.MaxRelative > MaxRelativeDistance {
			t.Fatalf("Validate accepted a configuration over the limits: %+v", m)
		}
		if n := m.weightCount(1); n > MaxWeights || n <= 0 {
			t.Fatalf("Validate accepted a configuration of %d weights: %+v", n, m)
		}
	})
}

// FuzzLoadWeights feeds LoadFS a checkpoint whose model.safetensors is
// arbitrary bytes and whose config.json asks for a BiLSTM of the fuzzed
// sizes: it must never panic, must refuse a file that does not match the
// configuration before building the model (a build of hidden up to 4096
// would make each run slow), and a model it accepts has the
// configuration's shapes and finite weights.
func FuzzLoadWeights(f *testing.F) {
	base := tinyConfig("none", "last")
	files := tinyCheckpointFiles(f, base, 1)
	for i, pos := range []string{"learned", "relative", "none"} {
		cfg := tinyConfig(pos, "last")
		b := tinyCheckpointFiles(f, cfg, int64(i))[ModelFile].Data
		f.Add(uint8(i), uint16(cfg.Dim), uint16(cfg.MaxLen), uint16(cfg.Hidden), b)
		f.Add(uint8(i), uint16(cfg.Dim), uint16(cfg.MaxLen), uint16(2000), b)
		f.Add(uint8(i), uint16(cfg.Dim), uint16(cfg.MaxLen), uint16(cfg.Hidden), b[:len(b)-1])
	}
	config := files[ConfigFile].Data
	for _, s := range []string{`"dim": 6`, `"max_len": 10`, `"hidden": 4`, `"pos_encoding": "none"`} {
		if !bytes.Contains(config, []byte(s)) {
			f.Fatalf("%s not in %s", s, config)
		}
	}
	f.Fuzz(func(t *testing.T, pos uint8, dim, maxLen, hidden uint16, weights []byte) {
		cfg := base
		cfg.PosEncoding = []string{"learned", "relative", "none", "sinusoidal"}[pos%4]
		cfg.Dim, cfg.MaxLen, cfg.Hidden = int(dim), int(maxLen), int(hidden)
		if cfg.Validate() != nil {
			return
		}
		c := bytes.Replace(config, []byte(`"dim": 6`), []byte(`"dim": `+strconv.Itoa(cfg.Dim)), 1)
		c = bytes.Replace(c, []byte(`"max_len": 10`), []byte(`"max_len": `+strconv.Itoa(cfg.MaxLen)), 1)
		c = bytes.Replace(c, []byte(`"hidden": 4`), []byte(`"hidden": `+strconv.Itoa(cfg.Hidden)), 1)
		c = bytes.Replace(c, []byte(`"pos_encoding": "none"`), []byte(`"pos_encoding": "`+cfg.PosEncoding+`"`), 1)
		fsys := fstest.MapFS{ConfigFile: {Data: c}, TokenizerFile: files[TokenizerFile], ModelFile: {Data: weights}}
		ck, err := LoadFS(fsys, "ck")
		if err != nil {
			return
		}
		var want []string
		for _, w := range cfg.weightShapes(1) {
			if !isBiasHH(w.name) {
				want = append(want, w.name)
			}
		}
		var got []string
		for _, p := range ck.Model.Params() {
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
