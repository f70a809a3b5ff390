// Package wordvec trains word vectors: word2vec (skip-gram and CBOW with
// negative sampling, Mikolov et al. 2013), GloVe (Pennington, Socher &
// Manning 2014) and fastText's subword skip-gram and CBOW (Bojanowski et
// al. 2017); it finds neighbours and analogies among trained vectors and
// measures them on analogy questions.
//
// Training reads a corpus twice. A Source is the corpus on disk (plain
// text files or any data.Load form, split into words by data.Words). The
// first pass counts words into a Counter, which yields a Vocabulary (words
// by descending count, ties by byte order, rare words dropped). The second
// pass keeps the text as compact vocabulary ids in a Corpus (word2vec,
// FastText) or counts it into a sparse Cooccurrence matrix (GloVe). Train,
// TrainGloVe and TrainFastText fit vectors with the Options asked for,
// whose MethodDefaults work untuned on small corpora as on large ones, and
// return data.Vectors, which WriteText and SaveText write in GloVe text
// format, most frequent word first, for data.LoadVectors and "classify
// train --vectors"; a FastTextModel is also written in fastText's .bin
// format (WriteFastTextModel), whose n-gram vectors serve words never
// seen. An Index answers nearest-neighbour and analogy queries by cosine
// similarity; EvaluateAnalogies scores vectors on ReadAnalogies' questions
// as word2vec's compute-accuracy does, and MeanCosine measures how
// crowded they are.
//
// Threads share the weights without locks (Hogwild), as word2vec.c,
// glove.c and fastText do; with one thread a run is fully determined by
// its seed.
package wordvec
