package data

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	sugar "github.com/sugarme/tokenizer"
	"github.com/sugarme/tokenizer/model/wordlevel"
	"github.com/sugarme/tokenizer/normalizer"
	"github.com/sugarme/tokenizer/pretokenizer"

	"github.com/classify/classify/internal/atomicfile"
)

// Tokenizer turns texts into token ids with a WordLevel model over a
// Vocabulary: the Lowercase normalizer and BertPreTokenizer of HF
// tokenizers, that is Words, then one id per word ([UNK] when unknown).
//
// Encode runs in pure Go (Words and the vocabulary's map): it is safe for
// concurrent use and several times faster than sugarme's pipeline. The
// sugarme tokenizer that SugarmeTokenizer builds gives the same ids; the
// tests check it on every rt-polarity sentence, for the tokenizer built in
// memory and for the one pretrained.FromFile reads from WriteJSON's file.
type Tokenizer struct {
	vocab *Vocabulary
}

// NewTokenizer makes the tokenizer of v.
func NewTokenizer(v *Vocabulary) (*Tokenizer, error) {
	if v == nil || v.Len() < 2 || v.Word(PadID) != PadToken || v.Word(UnkID) != UnkToken {
		return nil, fmt.Errorf("tokenizer: the vocabulary must start with %s and %s", PadToken, UnkToken)
	}
	return &Tokenizer{vocab: v}, nil
}

// Vocabulary returns the tokenizer's vocabulary.
func (t *Tokenizer) Vocabulary() *Vocabulary { return t.vocab }

// Encode returns the ids and tokens of text's first maxLen words (all of
// them when maxLen <= 0), without padding. An unknown word becomes id 1
// and token "[UNK]", as HF's WordLevel reports it. A text without words
// encodes as [1] ("[UNK]"), so that no sequence is empty.
func (t *Tokenizer) Encode(text string, maxLen int) (ids []int, tokens []string) {
	words := Words(text)
	if maxLen > 0 && len(words) > maxLen {
		words = words[:maxLen]
	}
	if len(words) == 0 {
		return []int{UnkID}, []string{UnkToken}
	}
	ids = make([]int, len(words))
	tokens = make([]string, len(words))
	for i, w := range words {
		ids[i] = t.vocab.ID(w)
		tokens[i] = t.vocab.Word(ids[i])
	}
	return ids, tokens
}

// EncodeAll encodes each text as Encode does and returns the ids. It is
// safe for concurrent use.
func (t *Tokenizer) EncodeAll(texts []string, maxLen int) [][]int {
	out := make([][]int, len(texts))
	for i, text := range texts {
		out[i], _ = t.Encode(text, maxLen)
	}
	return out
}

// SugarmeTokenizer builds the same tokenizer in github.com/sugarme/tokenizer:
// a WordLevel model, the Lowercase normalizer and BertPreTokenizer. Its
// Encode must not be shared between goroutines, and its EncodeBatch
// (log.Fatal) and DecodeBatch (a data race) must not be called.
//
// It differs from Encode on rare input: sugarme splits on ASCII white
// space only (HF and Words split on all of Unicode's, U+00A0 included),
// it lowercases U+0130 "İ" to "i" (HF and Words: "i\u0307"), and it returns the word itself, not "[UNK]", as an unknown token.
func (t *Tokenizer) SugarmeTokenizer() *sugar.Tokenizer {
	vocab := make(map[string]int, t.vocab.Len())
	for id, w := range t.vocab.words {
		vocab[w] = id
	}
	m, _ := wordlevel.New(vocab, UnkToken) // never fails
	tk := sugar.NewTokenizer(m)
	tk.WithNormalizer(normalizer.Lowercase())
	tk.WithPreTokenizer(pretokenizer.NewBertPreTokenizer())
	return tk
}

// WriteJSON writes the tokenizer as HF tokenizers' tokenizer.json: model
// WordLevel with the vocabulary in id order and unk_token "[UNK]",
// normalizer Lowercase, pre_tokenizer BertPreTokenizer, no added tokens,
// post-processor, truncation or padding. It is readable by
// sugarme's pretrained.FromFile and HF's Tokenizer.from_file. The file is
// written to a temporary sibling and renamed.
//
// [PAD] and [UNK] are plain vocabulary entries, not "added tokens": HF
// would otherwise match the literal text "[UNK]" before splitting, which
// Words does not.
func (t *Tokenizer) WriteJSON(path string) error {
	var b bytes.Buffer
	b.WriteString(`{
  "version": "1.0",
  "truncation": null,
  "padding": null,
  "added_tokens": [],
  "normalizer": {
    "type": "Lowercase"
  },
  "pre_tokenizer": {
    "type": "BertPreTokenizer"
  },
  "post_processor": null,
  "decoder": null,
  "model": {
    "type": "WordLevel",
    "vocab": {`)
	for id, w := range t.vocab.words {
		if id > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(w)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "\n      %s: %d", k, id)
	}
	b.WriteString("\n    },\n    \"unk_token\": \"[UNK]\"\n  }\n}\n")
	return writeAtomic(path, b.Bytes())
}

// tokenizerFile is the part of tokenizer.json that LoadTokenizer reads.
type tokenizerFile struct {
	Normalizer *struct {
		Type string `json:"type"`
	} `json:"normalizer"`
	PreTokenizer *struct {
		Type string `json:"type"`
	} `json:"pre_tokenizer"`
	Model *struct {
		Type     string         `json:"type"`
		Vocab    map[string]int `json:"vocab"`
		UnkToken string         `json:"unk_token"`
	} `json:"model"`
}

// LoadTokenizer reads a tokenizer.json that WriteJSON wrote (or any HF
// WordLevel tokenizer.json with the same pipeline and special tokens).
func LoadTokenizer(path string) (*Tokenizer, error) {
	b, err := ReadFileLimit(path, MaxTokenizerBytes)
	if err != nil {
		return nil, err
	}
	return parseTokenizer(b, path)
}

// ReadTokenizer reads a tokenizer.json from r, as LoadTokenizer; path
// names it in errors.
func ReadTokenizer(r io.Reader, path string) (*Tokenizer, error) {
	b, err := ReadLimit(r, path, MaxTokenizerBytes)
	if err != nil {
		return nil, err
	}
	return parseTokenizer(b, path)
}

// parseTokenizer reads the content b of a tokenizer.json, which path names.
func parseTokenizer(b []byte, path string) (*Tokenizer, error) {
	var f tokenizerFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case f.Model == nil || f.Model.Type != "WordLevel":
		return nil, fmt.Errorf("%s: model is not WordLevel", path)
	case f.Model.UnkToken != UnkToken:
		return nil, fmt.Errorf("%s: unk_token is %q, want %q", path, f.Model.UnkToken, UnkToken)
	case f.Normalizer == nil || f.Normalizer.Type != "Lowercase":
		return nil, fmt.Errorf("%s: normalizer is not Lowercase", path)
	case f.PreTokenizer == nil || f.PreTokenizer.Type != "BertPreTokenizer":
		return nil, fmt.Errorf("%s: pre_tokenizer is not BertPreTokenizer", path)
	}
	words := make([]string, len(f.Model.Vocab))
	for w, id := range f.Model.Vocab {
		if id < 0 || id >= len(words) || words[id] != "" {
			return nil, fmt.Errorf("%s: vocab ids are not 0..%d, each once (%q has %d)", path, len(words)-1, w, id)
		}
		words[id] = w
	}
	if len(words) < 2 || words[PadID] != PadToken || words[UnkID] != UnkToken {
		return nil, fmt.Errorf("%s: vocab must give id 0 to %s and 1 to %s", path, PadToken, UnkToken)
	}
	v, err := NewVocabulary(words[2:])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return NewTokenizer(v)
}

// writeAtomic writes b to a temporary sibling of path and renames it.
func writeAtomic(path string, b []byte) error {
	return atomicfile.Write(path, func(w io.Writer) error { _, err := w.Write(b); return err })
}
