// Package wordvec trains word vectors: word2vec (skip-gram and CBOW with
// negative sampling, Mikolov et al. 2013) and GloVe (Pennington, Socher &
// Manning 2014), and finds neighbours and analogies among trained vectors.
//
// Training reads a corpus twice. A Source is the corpus on disk (plain
// text files or any data.Load form, split into words by data.Words). The
// first pass counts words into a Counter, which yields a Vocabulary (words
// by descending count, ties by byte order, rare words dropped). The second
// pass keeps the text as compact vocabulary ids in a Corpus (word2vec) or
// counts it into a sparse Cooccurrence matrix (GloVe). Train and
// TrainGloVe fit vectors with the Options asked for and return data.Vectors,
// which WriteText and SaveText write in GloVe text format, most frequent
// word first, for data.LoadVectors and "classify train --vectors". An
// Index answers nearest-neighbour and analogy queries by cosine
// similarity.
//
// Threads share the weights without locks (Hogwild), as word2vec.c and
// glove.c do; with one thread a run is fully determined by its seed.
package wordvec
