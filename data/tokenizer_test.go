package data

import (
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"github.com/classify/classify/internal/shareddata"
	sugar "github.com/sugarme/tokenizer"
	"github.com/sugarme/tokenizer/pretrained"
)

type sugarTokenizer = *sugar.Tokenizer

func TestWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   ", nil},
		{"Hello, World!", []string{"hello", ",", "world", "!"}},
		{"the 21st century's new \" conan \"", []string{"the", "21st", "century", "'", "s", "new", "\"", "conan", "\""}},
		{"co-writer/director", []string{"co", "-", "writer", "/", "director"}},
		{"a...b", []string{"a", ".", ".", ".", "b"}},
		{"snake_case $5+3=8", []string{"snake", "_", "case", "$", "5", "+", "3", "=", "8"}},
		{"ÉCOLE Straße", []string{"école", "straße"}},
		{"wait…what—no", []string{"wait", "…", "what", "—", "no"}},
		{"«quoted»", []string{"«", "quoted", "»"}},
		{"tab\there\nnew\u00a0nbsp\u3000ideo", []string{"tab", "here", "new", "nbsp", "ideo"}},
		{"½ © €5", []string{"½", "©", "€5"}},            // symbols (S*, No) are not punctuation
		{"İstanbul", []string{"i\u0307stanbul"}},        // HF: Rust's full lowercase of U+0130
		{"a\u200bb \u2028x", []string{"a\u200bb", "x"}}, // zero-width space is no White_Space
		{"[UNK] [pad]", []string{"[", "unk", "]", "[", "pad", "]"}},
		{"ΣΊΣΥΦΟΣ", []string{"σίσυφοσ"}}, // rune by rune, no final-sigma rule, as HF's Lowercase
	}
	for _, tt := range tests {
		if got := Words(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Words(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestVocabulary(t *testing.T) {
	texts := []string{"b a c a", "B c d", "a"}
	// counts: a 3, c 2, b 2, d 1; ties by byte order: b before c.
	tests := []struct {
		size int
		want []string
	}{
		{0, []string{"[PAD]", "[UNK]", "a", "b", "c", "d"}},
		{10, []string{"[PAD]", "[UNK]", "a", "b", "c", "d"}},
		{4, []string{"[PAD]", "[UNK]", "a", "b"}},
		{2, []string{"[PAD]", "[UNK]"}},
		{1, []string{"[PAD]", "[UNK]"}},
	}
	for _, tt := range tests {
		v := BuildVocabulary(texts, tt.size)
		if got := v.Words(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("BuildVocabulary(size %d) = %q, want %q", tt.size, got, tt.want)
		}
	}
	v := BuildVocabulary(texts, 0)
	for _, c := range []struct {
		word string
		id   int
	}{{"[PAD]", 0}, {"[UNK]", 1}, {"a", 2}, {"d", 5}, {"zzz", 1}, {"A", 1}} {
		if got := v.ID(c.word); got != c.id {
			t.Errorf("ID(%q) = %d, want %d", c.word, got, c.id)
		}
	}
	if got := v.Word(99); got != UnkToken {
		t.Errorf("Word(99) = %q, want %q", got, UnkToken)
	}
	if _, err := NewVocabulary([]string{"a", "a"}); err == nil {
		t.Errorf("NewVocabulary(a, a) = nil error, want a duplicate error")
	}
}

func TestExtendVocabulary(t *testing.T) {
	v := BuildVocabulary([]string{"b a a"}, 0)
	// a and b are v's; n't, e.g. and Paris never come out of Words; the
	// specials and the second x are skipped.
	x := ExtendVocabulary(v, []string{"x", "a", "n't", "[PAD]", "e.g.", "Paris", "y", "x", "[UNK]", "", "naïve"})
	want := []string{"[PAD]", "[UNK]", "a", "b", "x", "y", "naïve"}
	if got := x.Words(); !reflect.DeepEqual(got, want) {
		t.Errorf("ExtendVocabulary = %q, want %q", got, want)
	}
	for w, id := range map[string]int{"a": 2, "b": 3, "x": 4, "naïve": 6, "paris": UnkID} {
		if got := x.ID(w); got != id {
			t.Errorf("extended ID(%q) = %d, want %d", w, got, id)
		}
	}
	if got := v.Words(); !reflect.DeepEqual(got, want[:4]) {
		t.Errorf("ExtendVocabulary changed its argument: %q", got)
	}
	// A vocabulary the tokenizer is built from must accept it.
	if _, err := NewTokenizer(x); err != nil {
		t.Errorf("NewTokenizer(extended) = %v", err)
	}
}

func TestEncode(t *testing.T) {
	v, _ := NewVocabulary([]string{"the", "movie", "."})
	tok, err := NewTokenizer(v)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text   string
		maxLen int
		ids    []int
		tokens []string
	}{
		{"The movie.", 0, []int{2, 3, 4}, []string{"the", "movie", "."}},
		{"The awful movie.", 2, []int{2, 1}, []string{"the", "[UNK]"}},
		{"", 10, []int{1}, []string{"[UNK]"}},
		{" ?! ", 1, []int{1}, []string{"[UNK]"}},
	}
	for _, tt := range tests {
		ids, tokens := tok.Encode(tt.text, tt.maxLen)
		if !reflect.DeepEqual(ids, tt.ids) || !reflect.DeepEqual(tokens, tt.tokens) {
			t.Errorf("Encode(%q, %d) = %v, %q; want %v, %q", tt.text, tt.maxLen, ids, tokens, tt.ids, tt.tokens)
		}
	}
}

// rtPolarity reads all of rt-polarity through the TSV that the shared
// data derived from the original files with Python.
func rtPolarity(t testing.TB) []Example {
	t.Helper()
	ex, err := LoadFile(shareddata.Path(t, "rt-polarity/rt-polarity.tsv"), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// TestSugarmeAgrees checks that sugarme's pipeline, built in memory and
// read back from our tokenizer.json by pretrained.FromFile, gives Encode's
// ids on every rt-polarity sentence.
func TestSugarmeAgrees(t *testing.T) {
	texts := Texts(rtPolarity(t))
	tok, _ := NewTokenizer(BuildVocabulary(texts[:8000], 10000)) // leave some words unknown
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := tok.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	fromFile, err := pretrained.FromFile(path)
	if err != nil {
		t.Fatalf("pretrained.FromFile(%s): %v", path, err)
	}
	loaded, err := LoadTokenizer(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := loaded.Vocabulary().Words(), tok.Vocabulary().Words(); !reflect.DeepEqual(got, want) {
		t.Fatalf("LoadTokenizer: vocabulary of %d words differs from the %d written", len(got), len(want))
	}
	inMemory := tok.SugarmeTokenizer()
	mismatches := 0
	for _, text := range texts {
		want, _ := tok.Encode(text, 0)
		if got, _ := loaded.Encode(text, 0); !reflect.DeepEqual(got, want) {
			t.Errorf("LoadTokenizer's Encode(%q) = %v, want %v", text, got, want)
		}
		for name, sg := range map[string]sugarTokenizer{"in memory": inMemory, "pretrained.FromFile": fromFile} {
			enc, err := sg.EncodeSingle(text)
			if err != nil {
				t.Fatalf("sugarme %s: EncodeSingle(%q): %v", name, text, err)
			}
			got := enc.Ids
			if len(got) == 0 {
				got = []int{UnkID}
			}
			if !reflect.DeepEqual(got, want) {
				if mismatches++; mismatches <= 5 {
					t.Errorf("sugarme %s: Encode(%q) = %v, want %v", name, text, got, want)
				}
			}
		}
	}
	if mismatches > 0 {
		t.Errorf("%d mismatches in %d texts", mismatches, len(texts))
	}
}

func TestEncodeConcurrent(t *testing.T) {
	texts := Texts(rtPolarity(t))[:2000]
	tok, _ := NewTokenizer(BuildVocabulary(texts, 5000))
	want := tok.EncodeAll(texts, 50)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := tok.EncodeAll(texts, 50)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("concurrent EncodeAll differs")
			}
		}()
	}
	wg.Wait()
}
