// Package data turns files into model input.
//
// Its parts, in the order a training run uses them:
//
//   - Load reads labelled Examples from a TSV, CSV or JSON lines file, a
//     folder per class (aclImdb's layout too), the Windows-1252 sentence
//     polarity files, or a dataset name that a Store finds under
//     $CLASSIFY_DATA, in the cache, or downloads. SplitLast takes the
//     validation split as Keras does; SplitSeeded shuffles first.
//   - Words is the SPEC's tokenization (lowercase, split on white space and
//     punctuation, as HF's Lowercase normalizer and BertPreTokenizer);
//     BuildVocabulary counts it into a Vocabulary ([PAD]=0, [UNK]=1, then
//     by count); a Tokenizer encodes texts to ids with it and saves itself
//     as an HF tokenizer.json (WordLevel) that sugarme's pretrained.FromFile
//     and HF's own library read back to the same ids.
//   - LoadVectors reads pretrained word Vectors (GloVe text, word2vec text
//     or binary, gzipped or not, or a name like glove.6B.100d);
//     EmbeddingMatrix aligns them to a Vocabulary with the SPEC's rule for
//     missing words; MeasureCoverage says how much of a corpus they cover.
//   - Batches cuts encoded sequences into padded Batches, in order or
//     shuffled and grouped by length.
//
// Every reader's error names the file and, where there is one, the line
// ("file:line: message"). Nothing here panics or exits on bad input.
//
// It depends on no other package of the project.
package data
