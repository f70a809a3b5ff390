package wordvec

import (
	"errors"

	"github.com/classify/classify/data"
)

// Train fits word vectors of opts.Method to the corpus c and returns them
// in the vocabulary's order, most frequent word first. For GloVe it counts
// the co-occurrences of c first; TrainGloVe starts from a matrix counted
// elsewhere.
func Train(c *Corpus, opts Options) (*data.Vectors, error) {
	if err := opts.Check(); err != nil {
		return nil, err
	}
	if c.Vocab.Len() == 0 {
		return nil, errors.New("the corpus has no word seen often enough to train")
	}
	if opts.Method == GloVe {
		x := NewCooccurrence()
		c.Each(func(ids []int32) { x.AddSentence(ids, opts.Window) })
		return TrainGloVe(c.Vocab, x, opts)
	}
	if opts.Method == FastText {
		m, err := TrainFastText(c, opts)
		if err != nil {
			return nil, err
		}
		return m.Vectors()
	}
	m := newWord2Vec(c, opts)
	m.train(c)
	return &data.Vectors{Words: c.Vocab.Words, Dim: opts.Dim, Values: m.in}, nil
}
