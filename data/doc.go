// Package data turns files into model input: it reads labelled examples
// from TSV, CSV, JSON lines, folders and the sentence-polarity files,
// tokenizes them with a WordLevel tokenizer, builds the vocabulary, reads
// pretrained word vectors, and cuts padded batches.
//
// It depends on no other package of the project.
package data
