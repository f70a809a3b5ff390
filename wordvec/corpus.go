package wordvec

// Corpus is one pass of a training text as vocabulary ids: the words of
// each sentence in order, words outside the vocabulary left out. It costs
// four bytes a token and four a sentence, whatever the text's size on disk.
type Corpus struct {
	// Vocab is the vocabulary the ids refer to.
	Vocab *Vocabulary
	// ids holds the sentences one after another, each followed by -1.
	ids       []int32
	tokens    int64
	sentences int
}

// NewCorpus returns an empty Corpus over vocab.
func NewCorpus(vocab *Vocabulary) *Corpus { return &Corpus{Vocab: vocab} }

// Add appends a sentence, dropping the words that are not in the
// vocabulary. A sentence left with no word is not kept.
func (c *Corpus) Add(words []string) {
	n := 0
	for _, w := range words {
		if id, ok := c.Vocab.ids[w]; ok {
			c.ids = append(c.ids, id)
			n++
		}
	}
	c.end(n)
}

// AddIDs appends a sentence given as vocabulary ids; ids out of range are
// dropped.
func (c *Corpus) AddIDs(ids []int32) {
	n := 0
	for _, id := range ids {
		if id >= 0 && int(id) < c.Vocab.Len() {
			c.ids = append(c.ids, id)
			n++
		}
	}
	c.end(n)
}

func (c *Corpus) end(n int) {
	if n == 0 {
		return
	}
	c.ids = append(c.ids, -1)
	c.tokens += int64(n)
	c.sentences++
}

// Tokens returns the number of words held.
func (c *Corpus) Tokens() int64 { return c.tokens }

// Sentences returns the number of sentences held.
func (c *Corpus) Sentences() int { return c.sentences }

// Bytes returns the memory the ids take.
func (c *Corpus) Bytes() int64 { return int64(cap(c.ids)) * 4 }

// Each calls fn with each sentence's ids in order; fn must not keep or
// change the slice.
func (c *Corpus) Each(fn func(ids []int32)) {
	start := 0
	for i, id := range c.ids {
		if id < 0 {
			fn(c.ids[start:i])
			start = i + 1
		}
	}
}

// parts cuts the sentences into n runs of about equal numbers of tokens,
// each run ending after a sentence, for n training threads. Runs may be
// empty when there are fewer sentences than threads.
func (c *Corpus) parts(n int) [][]int32 {
	out := make([][]int32, n)
	start := 0
	for k := 0; k < n; k++ {
		end := len(c.ids) * (k + 1) / n
		if k == n-1 {
			end = len(c.ids)
		}
		if end < start {
			end = start
		}
		// Move end past the next separator so that sentences stay whole.
		for end > start && end < len(c.ids) && c.ids[end-1] >= 0 {
			end++
		}
		out[k] = c.ids[start:end]
		start = end
	}
	return out
}
