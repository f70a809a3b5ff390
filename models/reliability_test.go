package models

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSaveKeepsUserFolder: Save replaces a missing, empty or checkpoint
// folder, and refuses any other one (issue 11, item 1: train --out p
// deleted p/main.go) unless Overwrite is given.
func TestSaveKeepsUserFolder(t *testing.T) {
	ck := &Checkpoint{Tokenizer: tinyTokenizer(t), Model: tinyClassifier(t, tinyConfig("none", "last"), 1)}
	parent := t.TempDir()
	user := filepath.Join(parent, "p")
	os.Mkdir(user, 0o755)
	os.WriteFile(filepath.Join(user, "main.go"), []byte("package main\n"), 0o644)
	notCk := filepath.Join(parent, "notck")
	os.Mkdir(notCk, 0o755)
	os.WriteFile(filepath.Join(notCk, ConfigFile), []byte(`{"name": "my project"}`), 0o644)

	for _, dir := range []string{user, notCk} {
		if err := CheckSave(dir); err == nil || !strings.Contains(err.Error(), dir) {
			t.Errorf("CheckSave(%s) = %v, want an error naming it", dir, err)
		}
		err := Save(dir, ck, nil)
		if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "not a checkpoint") {
			t.Errorf("Save over %s = %v, want an error naming it, saying it is not a checkpoint", dir, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(user, "main.go")); err != nil || string(b) != "package main\n" {
		t.Fatalf("after a refused Save main.go = %q, %v; want it kept", b, err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 2 {
		t.Errorf("refused Saves left %d entries in the parent, want 2", len(entries))
	}

	// A checkpoint is replaced, and so is an empty folder.
	ckDir := filepath.Join(parent, "ck")
	if err := Save(ckDir, ck, nil); err != nil {
		t.Fatal(err)
	}
	if err := CheckSave(ckDir); err != nil {
		t.Errorf("CheckSave(checkpoint) = %v, want nil", err)
	}
	if err := Save(ckDir, ck, nil); err != nil {
		t.Errorf("Save over a checkpoint = %v, want nil", err)
	}
	empty := filepath.Join(parent, "empty")
	os.Mkdir(empty, 0o755)
	if err := Save(empty, ck, nil); err != nil {
		t.Errorf("Save into an empty folder = %v, want nil", err)
	}

	// Overwrite replaces the user's folder.
	if err := CheckSave(user, Overwrite()); err != nil {
		t.Errorf("CheckSave(user, Overwrite()) = %v, want nil", err)
	}
	if err := Save(user, ck, nil, Overwrite()); err != nil {
		t.Fatalf("Save with Overwrite = %v", err)
	}
	if _, err := Load(user); err != nil {
		t.Errorf("Load after Save with Overwrite: %v", err)
	}
}
