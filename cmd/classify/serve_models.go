package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// modelSpec is one --checkpoint: the name a model is served under and its
// checkpoint folder.
type modelSpec struct{ name, dir string }

// modelSpecs is the repeated --checkpoint flag: NAME=DIR, or a bare DIR
// named after its folder.
type modelSpecs []modelSpec

var modelName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

func (m *modelSpecs) String() string {
	var parts []string
	for _, s := range *m {
		parts = append(parts, s.name+"="+s.dir)
	}
	return strings.Join(parts, " ")
}

func (m *modelSpecs) Set(v string) error {
	s := modelSpec{dir: v}
	if name, dir, ok := strings.Cut(v, "="); ok && modelName.MatchString(name) {
		s = modelSpec{name: name, dir: dir}
	} else {
		s.name = filepath.Base(filepath.Clean(v))
		if !modelName.MatchString(s.name) {
			return fmt.Errorf("cannot name a model after the folder %q: give NAME=%s, NAME of letters, digits, '_', '.' and '-'", v, v)
		}
	}
	if s.dir == "" {
		return fmt.Errorf("%q: no checkpoint folder after %s=", v, s.name)
	}
	for _, o := range *m {
		if o.name == s.name {
			return fmt.Errorf("two models named %q (%s and %s): name them NAME=DIR", s.name, o.dir, s.dir)
		}
	}
	*m = append(*m, s)
	return nil
}

// loadFunc loads the predictor of a checkpoint folder.
type loadFunc func(dir string) (predictor, error)

// servedModel is one named model. Its current version is swapped as a
// whole on reload: a request takes the version it starts with and keeps
// it to the end, so the old model serves until the new one is in place.
type servedModel struct {
	modelSpec
	cur atomic.Pointer[modelVersion]
}

// modelVersion is one load of a checkpoint.
type modelVersion struct {
	p           predictor
	version     int // 1 for the first load, one more at each reload
	fingerprint string
	loaded      time.Time
}

// modelSet is the models a server serves, the first one the default.
type modelSet struct {
	list    []*servedModel
	load    loadFunc
	metrics *serveMetrics
	log     *slog.Logger
	mu      sync.Mutex // one load or reload at a time
}

func newModelSet(specs modelSpecs, load loadFunc, m *serveMetrics, log *slog.Logger) *modelSet {
	s := &modelSet{load: load, metrics: m, log: log}
	for _, sp := range specs {
		s.list = append(s.list, &servedModel{modelSpec: sp})
	}
	return s
}

func (s *modelSet) names() []string {
	var n []string
	for _, m := range s.list {
		n = append(n, m.name)
	}
	return n
}

// get returns the model named name, or nil.
func (s *modelSet) get(name string) *servedModel {
	for _, m := range s.list {
		if m.name == name {
			return m
		}
	}
	return nil
}

// ready reports whether every model is loaded and warmed.
func (s *modelSet) ready() bool {
	for _, m := range s.list {
		if m.cur.Load() == nil {
			return false
		}
	}
	return true
}

// loadAll loads every model, in order, and returns the first error.
func (s *modelSet) loadAll() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.list {
		v, err := s.loadVersion(m, 1)
		if err != nil {
			return fmt.Errorf("model %s: %w", m.name, err)
		}
		m.cur.Store(v)
	}
	return nil
}

// reload loads again each model whose checkpoint files changed, and swaps
// it in once it is loaded and answers a probe; a model that fails to load
// keeps serving its previous version, and the failure is logged.
func (s *modelSet) reload() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.list {
		old := m.cur.Load()
		fp, err := fingerprint(m.dir)
		if err == nil && old != nil && fp == old.fingerprint {
			s.log.Info("reload: unchanged", "model", m.name, "dir", m.dir, "version", old.version)
			continue
		}
		next := 1
		if old != nil {
			next = old.version + 1
		}
		v, err := s.loadVersion(m, next)
		if err != nil {
			s.metrics.reloads.WithLabelValues(m.name, "error").Inc()
			s.log.Error("reload failed: the previous version keeps serving", "model", m.name, "dir", m.dir, "error", err.Error())
			continue
		}
		m.cur.Store(v)
		s.metrics.reloads.WithLabelValues(m.name, "ok").Inc()
		s.log.Info("reloaded", "model", m.name, "dir", m.dir, "version", v.version)
	}
}

// loadVersion loads m's checkpoint and checks that it answers a probe
// batch with one finite probability in [0, 1] per text, which also warms it.
func (s *modelSet) loadVersion(m *servedModel, version int) (*modelVersion, error) {
	start := time.Now()
	fp, err := fingerprint(m.dir)
	if err != nil {
		return nil, err
	}
	p, err := s.load(m.dir)
	if err != nil {
		return nil, err
	}
	probe := []string{"a probe text to check the model", ""}
	preds, err := p.Predict(probe)
	if err != nil {
		return nil, fmt.Errorf("the loaded model fails a probe: %w", err)
	}
	if len(preds) != len(probe) {
		return nil, fmt.Errorf("the loaded model gives %d predictions for %d texts", len(preds), len(probe))
	}
	for _, pr := range preds {
		if _, score := predictionLabel(pr); math.IsNaN(float64(score)) || score < 0 || score > 1 {
			return nil, fmt.Errorf("the loaded model gives a probability of %v", score)
		}
	}
	took := time.Since(start)
	s.metrics.loadSeconds.WithLabelValues(m.name).Set(took.Seconds())
	s.metrics.version.WithLabelValues(m.name).Set(float64(version))
	s.log.Info("model loaded", "model", m.name, "dir", m.dir, "version", version, "seconds", took.Seconds())
	return &modelVersion{p: p, version: version, fingerprint: fp, loaded: time.Now()}, nil
}

// checkpointFiles are the files whose content makes a model: a change to
// any of them is a new version.
var checkpointFiles = []string{"config.json", "tokenizer.json", "model.safetensors"}

// fingerprint is a SHA-256 over the checkpoint files of dir.
func fingerprint(dir string) (string, error) {
	h := sha256.New()
	for _, name := range checkpointFiles {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00", name)
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
