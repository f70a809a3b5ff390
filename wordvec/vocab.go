package wordvec

import (
	"slices"
	"strings"
)

// Vocabulary is the set of words that get vectors: those seen at least
// MinCount times, by descending count, ties broken by byte order (the
// SPEC's order for the classifier's vocabulary, and word2vec's).
type Vocabulary struct {
	// Words holds the words, most frequent first; a word's id is its index.
	Words []string
	// Counts holds how often each word was seen.
	Counts []int64
	ids    map[string]int32
}

// NewVocabulary makes a Vocabulary of the words of counts seen at least
// minCount times.
func NewVocabulary(counts map[string]int64, minCount int) *Vocabulary {
	words := make([]string, 0, len(counts))
	for w, n := range counts {
		if n >= int64(minCount) && n > 0 {
			words = append(words, w)
		}
	}
	slices.SortFunc(words, func(a, b string) int {
		if counts[a] != counts[b] {
			if counts[a] > counts[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	v := &Vocabulary{Words: words, Counts: make([]int64, len(words)), ids: make(map[string]int32, len(words))}
	for i, w := range words {
		v.Counts[i] = counts[w]
		v.ids[w] = int32(i)
	}
	return v
}

// Len returns the number of words.
func (v *Vocabulary) Len() int { return len(v.Words) }

// ID returns word's id and whether the word is in the vocabulary.
func (v *Vocabulary) ID(word string) (int32, bool) {
	id, ok := v.ids[word]
	return id, ok
}

// Total returns the number of corpus tokens that are vocabulary words.
func (v *Vocabulary) Total() int64 {
	var n int64
	for _, c := range v.Counts {
		n += c
	}
	return n
}

// Counter counts words as a corpus streams by, for the first of the two
// passes over a corpus.
type Counter struct {
	counts map[string]int64
	tokens int64
}

// NewCounter returns an empty Counter.
func NewCounter() *Counter { return &Counter{counts: make(map[string]int64)} }

// Add counts the words of one sentence.
func (c *Counter) Add(words []string) {
	for _, w := range words {
		if n, ok := c.counts[w]; ok {
			c.counts[w] = n + 1
		} else {
			// Clone: the caller's words may be slices of a reused buffer.
			c.counts[strings.Clone(w)] = 1
		}
	}
	c.tokens += int64(len(words))
}

// Tokens returns the number of words counted.
func (c *Counter) Tokens() int64 { return c.tokens }

// Vocabulary returns the Vocabulary of the words seen at least minCount
// times.
func (c *Counter) Vocabulary(minCount int) *Vocabulary { return NewVocabulary(c.counts, minCount) }
