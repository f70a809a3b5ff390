package data

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzLoadTokenizer feeds LoadTokenizer arbitrary tokenizer.json bytes: it
// must never panic, and a tokenizer it accepts must survive WriteJSON and
// LoadTokenizer with the same vocabulary. The seed corpus is a tokenizer
// WriteJSON wrote, broken variants of it, and testdata/fuzz.
func FuzzLoadTokenizer(f *testing.F) {
	v, err := NewVocabulary([]string{"the", "film", "é", "gem"})
	if err != nil {
		f.Fatal(err)
	}
	tok, err := NewTokenizer(v)
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := tok.WriteJSON(good); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(good)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte(`{"model": {"type": "WordLevel", "vocab": {"[PAD]": 0, "[UNK]": 1, "x": 5}, "unk_token": "[UNK]"}}`))
	f.Add([]byte(`{"model": {"type": "WordLevel", "vocab": {"[PAD]": -1}}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "tokenizer.json")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		first, err := LoadTokenizer(path)
		if err != nil {
			return
		}
		again := filepath.Join(dir, "again.json")
		if err := first.WriteJSON(again); err != nil {
			t.Fatalf("WriteJSON of an accepted tokenizer: %v", err)
		}
		second, err := LoadTokenizer(again)
		if err != nil {
			t.Fatalf("LoadTokenizer(WriteJSON(LoadTokenizer(b))) = %v", err)
		}
		if w1, w2 := first.Vocabulary().Words(), second.Vocabulary().Words(); !slices.Equal(w1, w2) {
			t.Fatalf("vocabulary %q became %q", w1, w2)
		}
	})
}
