package data

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The special tokens and their ids, fixed by the SPEC (section 2).
const (
	PadToken = "[PAD]"
	UnkToken = "[UNK]"
	PadID    = 0
	UnkID    = 1
)

// Words splits text into the SPEC's tokens: Unicode lowercasing rune by
// rune (as Rust's char::to_lowercase), then a split on white space (Unicode White_Space, as
// Rust's char::is_whitespace) and on punctuation, each punctuation rune
// its own token. Punctuation is what HF's BertPreTokenizer calls so: the
// ASCII punctuation characters (which include $+<=>^`|~) and the Unicode
// category P.
//
// It is the pure-Go twin of the tokenizer.json pipeline (Lowercase
// normalizer, BertPreTokenizer); TestWordsAgreeWithSugarme checks that
// both give the same tokens on all of rt-polarity, and TestHFTokenizers
// that HF's own library does.
func Words(text string) []string {
	// U+0130 is the one rune whose full lowercase (Rust's to_lowercase,
	// which HF's Lowercase uses) is two runes; strings.ToLower gives "i".
	if strings.ContainsRune(text, '\u0130') {
		text = strings.ReplaceAll(text, "\u0130", "i\u0307")
	}
	text = strings.ToLower(text)
	var words []string
	start := -1 // start of the current word, -1 when outside a word
	for i, r := range text {
		switch {
		case unicode.IsSpace(r):
			if start >= 0 {
				words = append(words, text[start:i])
				start = -1
			}
		case isPunct(r):
			if start >= 0 {
				words = append(words, text[start:i])
				start = -1
			}
			words = append(words, text[i:i+utf8.RuneLen(r)])
		default:
			if start < 0 {
				start = i
			}
		}
	}
	if start >= 0 {
		words = append(words, text[start:])
	}
	return words
}

// isPunct is HF's is_bert_punc: ASCII punctuation or Unicode category P.
func isPunct(r rune) bool {
	if r < 0x80 {
		return r >= '!' && r <= '/' || r >= ':' && r <= '@' || r >= '[' && r <= '`' || r >= '{' && r <= '~'
	}
	return unicode.IsPunct(r)
}

// Vocabulary maps words to ids: [PAD] is 0, [UNK] is 1, then the words of
// a training corpus by descending count, ties broken by byte order.
type Vocabulary struct {
	words []string
	ids   map[string]int
}

// BuildVocabulary counts the Words of texts and keeps the most frequent,
// up to size ids in all, the two special tokens included. A size of 2 or
// less keeps the special tokens alone; size <= 0 keeps every word.
func BuildVocabulary(texts []string, size int) *Vocabulary {
	counts := make(map[string]int)
	for _, t := range texts {
		for _, w := range Words(t) {
			counts[w]++
		}
	}
	words := make([]string, 0, len(counts))
	for w := range counts {
		words = append(words, w)
	}
	sort.Slice(words, func(i, j int) bool {
		ci, cj := counts[words[i]], counts[words[j]]
		if ci != cj {
			return ci > cj
		}
		return words[i] < words[j]
	})
	if size > 0 {
		words = words[:max(0, min(len(words), size-2))]
	}
	v, _ := NewVocabulary(words) // Words never yields "[PAD]" or "[UNK]": "[" is punctuation
	return v
}

// ExtendVocabulary returns v with more words after its own, ids of v's
// words unchanged: those of words, in order, that v lacks and that Words
// gives back as the one token they are (a vectors file's "n't", "e.g."
// or "Paris" never comes out of the tokenizer, so a row for it would
// never be read). Duplicates and the special tokens are skipped.
func ExtendVocabulary(v *Vocabulary, words []string) *Vocabulary {
	out := &Vocabulary{words: slices.Clone(v.words), ids: maps.Clone(v.ids)}
	for _, w := range words {
		if _, ok := out.ids[w]; ok {
			continue
		}
		if t := Words(w); len(t) != 1 || t[0] != w {
			continue
		}
		out.ids[w] = len(out.words)
		out.words = append(out.words, w)
	}
	return out
}

// NewVocabulary makes a vocabulary of [PAD], [UNK] and then words, in that
// order of ids. It refuses a word given twice, an empty word, or a special
// token among words.
func NewVocabulary(words []string) (*Vocabulary, error) {
	v := &Vocabulary{
		words: make([]string, 0, len(words)+2),
		ids:   make(map[string]int, len(words)+2),
	}
	v.words = append(v.words, PadToken, UnkToken)
	v.ids[PadToken], v.ids[UnkToken] = PadID, UnkID
	for _, w := range words {
		if w == "" {
			return nil, fmt.Errorf("vocabulary: empty word at id %d", len(v.words))
		}
		if id, dup := v.ids[w]; dup {
			return nil, fmt.Errorf("vocabulary: word %q at ids %d and %d", w, id, len(v.words))
		}
		v.ids[w] = len(v.words)
		v.words = append(v.words, w)
	}
	return v, nil
}

// Len is the number of ids, the special tokens included.
func (v *Vocabulary) Len() int { return len(v.words) }

// Word is the word of id, "[UNK]" for an id out of range.
func (v *Vocabulary) Word(id int) string {
	if id < 0 || id >= len(v.words) {
		return UnkToken
	}
	return v.words[id]
}

// ID is the id of word, 1 ([UNK]) when the word is unknown.
func (v *Vocabulary) ID(word string) int {
	if id, ok := v.ids[word]; ok {
		return id
	}
	return UnkID
}

// Contains reports whether word has an id of its own.
func (v *Vocabulary) Contains(word string) bool {
	_, ok := v.ids[word]
	return ok
}

// Words returns the words in id order, the special tokens first.
func (v *Vocabulary) Words() []string { return append([]string(nil), v.words...) }
