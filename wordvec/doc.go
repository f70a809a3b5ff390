// Package wordvec trains word vectors: word2vec (skip-gram and CBOW with
// negative sampling, Mikolov et al. 2013) and GloVe (Pennington, Socher &
// Manning 2014), and finds neighbours and analogies among trained vectors.
//
// Training runs in three steps. A Counter counts the words of a corpus as
// they stream by and yields a Vocabulary (words by descending count, ties
// by byte order, rare words dropped). A Corpus then holds one pass of the
// text as compact vocabulary ids, sentence by sentence. Train fits vectors
// to the Corpus with the method and Options asked for and returns Vectors,
// which WriteText and SaveText write in GloVe text format, most frequent
// word first. An Index answers nearest-neighbour and analogy queries by
// cosine similarity.
//
// The package knows nothing of files formats other than the GloVe text it
// writes, nor of tokenization: callers split text into words (the command
// line uses data.Words) and feed the words in.
package wordvec
