package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/classify/classify/data"
	"github.com/classify/classify/wordvec"
)

// vectorsTrainCommand trains word vectors on a corpus (SPEC section 5).
var vectorsTrainCommand = command{
	summary: "train word vectors (word2vec skip-gram or CBOW, GloVe, or fastText's subword skip-gram or CBOW) on a corpus",
	usage:   "--corpus PATH [--method skipgram|cbow|glove|fasttext] [--dim 100] [--out FILE]",
	example: "classify vectors train --corpus ../shared/data/rt-polarity --method skipgram --min-count 3 --out rt.vectors.txt",
	setup: func(fs *flag.FlagSet) func(e *env, args []string) error {
		sg, cb := wordvec.MethodDefaults(wordvec.SkipGram), wordvec.MethodDefaults(wordvec.CBOW)
		gl, ft := wordvec.MethodDefaults(wordvec.GloVe), wordvec.MethodDefaults(wordvec.FastText)
		corpus := fs.String("corpus", "", "plain text `PATH` (a file, .gz or not, or a folder of them; a line holds one or more sentences), or any --data form of classify train (.tsv, .csv, .jsonl, a dataset folder or name), whose texts are used")
		method := fs.String("method", string(sg.Method), "skipgram, cbow (word2vec), glove, or fasttext (skip-gram over words and character n-grams; --cbow for CBOW)")
		dim := fs.Int("dim", sg.Dim, "dimension of the vectors")
		window := fs.Int("window", 0, fmt.Sprintf("largest distance between a word and its context (default %d; glove %d)", sg.Window, gl.Window))
		minCount := fs.Int("min-count", 5, "leave out words seen fewer times than this")
		epochs := fs.Int("epochs", 0, fmt.Sprintf("passes over the corpus, over the co-occurrence matrix for glove (default %d; glove %d)", sg.Epochs, gl.Epochs))
		negative := fs.Int("negative", 0, fmt.Sprintf("negative samples per word, word2vec and fasttext (default %d; --method cbow %d)", sg.Negative, cb.Negative))
		noisePower := fs.Float64("noise-power", 0, fmt.Sprintf("negative samples are drawn in proportion to count^this (default %g, word2vec.c's; fasttext %g, fastText's)", sg.NoisePower, ft.NoisePower))
		sample := fs.Float64("sample", 0, fmt.Sprintf("subsampling threshold of frequent words; 0 keeps every word (default %g; fasttext %g)", sg.Sample, ft.Sample))
		lr := fs.Float64("lr", wordvec.DefaultLR(sg.Method), "starting learning rate (every method)")
		xMax := fs.Float64("x-max", gl.XMax, "glove: co-occurrence count at which the weighting reaches 1")
		alpha := fs.Float64("alpha", gl.Alpha, "glove: exponent of the weighting function")
		minn := fs.Int("minn", ft.Minn, "fasttext: shortest character n-gram")
		maxn := fs.Int("maxn", ft.Maxn, "fasttext: longest character n-gram; 0 trains words alone")
		buckets := fs.Int("buckets", ft.Buckets, "fasttext: number of hashed n-gram vectors")
		cbow := fs.Bool("cbow", false, "fasttext: predict each word from its context's word and n-gram vectors (fastText's cbow) instead of its context from its own (skipgram)")
		threads := fs.Int("threads", runtime.NumCPU(), "training goroutines; 1 makes a run reproducible")
		seed := fs.Int64("seed", 42, "seed of every random draw")
		textColumn := fs.String("text-column", "text", "CSV/JSONL corpus: the text column")
		labelColumn := fs.String("label-column", "label", "CSV/JSONL corpus: the label column")
		out := fs.String("out", "vectors.txt", "output `FILE`, GloVe text format, written atomically; for fasttext a name ending in .bin writes fastText's model format, whose n-gram vectors serve words never seen")
		return func(e *env, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected arguments %q", args)
			}
			if *corpus == "" {
				return usagef("--corpus is required")
			}
			m, err := wordvec.ParseMethod(*method)
			if err != nil {
				return usageError{err}
			}
			switch {
			case *minCount < 1:
				return usagef("--min-count %d: want at least 1", *minCount)
			case *threads < 1:
				return usagef("--threads %d: want at least 1", *threads)
			case *out == "":
				return usagef("--out is empty")
			}
			// Start from the method's defaults and apply what was given.
			opts := wordvec.MethodDefaults(m)
			var bad error
			fs.Visit(func(f *flag.Flag) {
				switch f.Name {
				case "dim":
					opts.Dim = *dim
				case "window":
					opts.Window = *window
				case "epochs":
					opts.Epochs = *epochs
				case "negative":
					opts.Negative = *negative
				case "noise-power":
					opts.NoisePower = *noisePower
				case "sample":
					opts.Sample = *sample
				case "lr":
					opts.LR = *lr
				case "x-max":
					opts.XMax = *xMax
				case "alpha":
					opts.Alpha = *alpha
				case "minn", "maxn", "buckets", "cbow":
					if m != wordvec.FastText && bad == nil {
						bad = usagef("--%s is an option of --method fasttext", f.Name)
					}
				}
			})
			if bad != nil {
				return bad
			}
			if m == wordvec.FastText {
				opts.Minn, opts.Maxn, opts.Buckets, opts.CBOW = *minn, *maxn, *buckets, *cbow
			}
			opts.Threads, opts.Seed = *threads, *seed
			if err := opts.Check(); err != nil {
				return usageError{err}
			}
			if st, err := os.Stat(filepath.Dir(*out)); err != nil || !st.IsDir() {
				return fmt.Errorf("--out %s: folder %s does not exist", *out, filepath.Dir(*out))
			}
			return trainVectors(e, *corpus, data.LoadOptions{TextColumn: *textColumn, LabelColumn: *labelColumn}, *minCount, opts, *out)
		}
	},
}

func trainVectors(e *env, path string, lopts data.LoadOptions, minCount int, opts wordvec.Options, out string) error {
	start := time.Now()
	src, err := wordvec.OpenSource(path, lopts)
	if err != nil {
		return err
	}
	counter, err := src.Count()
	if err != nil {
		return err
	}
	vocab := counter.Vocabulary(minCount)
	what := fmt.Sprintf("%d texts", src.Texts())
	if n := len(src.Files()); n > 0 {
		what = fmt.Sprintf("%d file%s", n, plural(n))
	}
	fmt.Fprintf(e.stderr, "corpus %s: %s, %d tokens, %d words seen at least %d times (%.1f%% of the tokens)\n",
		path, what, counter.Tokens(), vocab.Len(), minCount, 100*share(vocab.Total(), counter.Tokens()))
	if vocab.Len() == 0 {
		return fmt.Errorf("corpus %s: no word is seen %d times or more", path, minCount)
	}
	opts.Progress = progressPrinter(e, opts)
	opts.ProgressEvery = time.Second
	if !e.terminal {
		opts.ProgressEvery = 10 * time.Second
	}
	var vec *data.Vectors
	if opts.Method == wordvec.GloVe {
		x, err := src.Cooccurrence(vocab, opts.Window)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "co-occurrence matrix: %d distinct pairs in %.1f MiB (%.1f MiB per million tokens)\n",
			x.Len(), mib(x.Bytes()), mib(x.Bytes())/max(1e-6, float64(counter.Tokens())/1e6))
		vec, err = wordvec.TrainGloVe(vocab, x, opts)
		if err != nil {
			return err
		}
	} else {
		c, err := src.Corpus(vocab)
		if err != nil {
			return err
		}
		var model *wordvec.FastTextModel
		if opts.Method == wordvec.FastText {
			if model, err = wordvec.TrainFastText(c, opts); err == nil {
				vec, err = model.Vectors()
			}
		} else {
			vec, err = wordvec.Train(c, opts)
		}
		if err != nil {
			return err
		}
		if model != nil && strings.HasSuffix(strings.ToLower(out), ".bin") {
			if err := wordvec.SaveFastTextModel(out, model); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "wrote a fastText model of %d words and %d n-gram buckets, dimension %d, to %s in %s\n",
				len(vec.Words), opts.Buckets, vec.Dim, out, time.Since(start).Round(time.Millisecond))
			reportGeometry(e, vec)
			return nil
		}
	}
	if err := wordvec.SaveText(out, vec); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote %d vectors of dimension %d to %s in %s\n", len(vec.Words), vec.Dim, out, time.Since(start).Round(time.Millisecond))
	reportGeometry(e, vec)
	return nil
}

// geometryPairs and geometryWords set the sample of reportGeometry: pairs
// of words among the 1000 most frequent, which carry most of the text and
// are the first to crowd together (rare words keep their random start).
const (
	geometryPairs = 10000
	geometryWords = 1000
	// geometryWarn is the mean cosine above which the vectors are
	// reported as crowded. On IMDB texts, 0.93M and 3M tokens: skip-gram,
	// CBOW, fastText and GloVe at 25 epochs measure 0.11-0.36; GloVe at
	// 5 epochs 0.97, with every neighbour of he, two or sunday at 0.98.
	geometryWarn = 0.5
)

// reportGeometry prints the mean cosine of random word pairs, and a
// warning when it is far from 0: vectors that all point one way answer
// every neighbour query with the same words.
func reportGeometry(e *env, vec *data.Vectors) {
	c := wordvec.MeanCosine(vec.Words, vec.Dim, vec.Values, geometryWords, geometryPairs, 1)
	fmt.Fprintf(e.stderr, "geometry: mean cosine of %d random pairs of the %d most frequent words %.3f (near 0 for healthy vectors)\n",
		geometryPairs, min(len(vec.Words), geometryWords), c)
	if c > geometryWarn {
		fmt.Fprintf(e.stderr, "warning: the vectors crowd together (mean cosine %.2f > %.2f): every word will look near every other; train for more epochs or on more text (GloVe wants 15-50 epochs)\n", c, geometryWarn)
	}
}

// progressPrinter draws one redrawn line on a terminal and a line per
// report elsewhere.
func progressPrinter(e *env, opts wordvec.Options) func(wordvec.Progress) {
	unit := "words"
	if opts.Method == wordvec.GloVe {
		unit = "pairs"
	}
	return func(p wordvec.Progress) {
		line := fmt.Sprintf("epoch %d/%d %5.1f%%  lr %.6f  loss %.4f  %.1fk %s/s/thread  %s",
			p.Epoch, opts.Epochs, 100*p.Done, p.LR, p.Loss, p.WordsPerSecondPerThread/1000, unit, p.Elapsed.Round(time.Second))
		switch {
		case e.terminal && p.Done < 1:
			fmt.Fprintf(e.stderr, "\r%s\x1b[K", line)
		case e.terminal:
			fmt.Fprintf(e.stderr, "\r%s\x1b[K\n", line)
		default:
			fmt.Fprintln(e.stderr, line)
		}
	}
}

func share(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// vectorsNeighborsCommand lists the nearest words of each word asked for.
var vectorsNeighborsCommand = command{
	summary: "list the nearest words of each WORD by cosine similarity",
	usage:   "--vectors PATH [--k 10] [--json] WORD ...",
	example: "classify vectors neighbors --vectors vectors.txt --k 5 monday good film",
	setup: func(fs *flag.FlagSet) func(e *env, args []string) error {
		vectors := fs.String("vectors", "", "word vectors `PATH`: GloVe text, word2vec text or .bin, gzipped or not, or a name glove.6B.50d ...")
		k := fs.Int("k", 10, "number of neighbours")
		asJSON := fs.Bool("json", false, "one JSON object per word: {\"word\":..., \"neighbors\":[{\"word\":..., \"similarity\":...}]}")
		return func(e *env, args []string) error {
			if *vectors == "" {
				return usagef("--vectors is required")
			}
			if len(args) == 0 {
				return usagef("give at least one WORD")
			}
			if *k < 1 {
				return usagef("--k %d: want at least 1", *k)
			}
			ix, err := loadIndex(*vectors)
			if err != nil {
				return err
			}
			var missing []string
			for _, w := range args {
				word := lookupWord(ix, w)
				nb, err := ix.Neighbors(word, *k)
				if err != nil {
					missing = append(missing, w)
					continue
				}
				printNeighbors(e.stdout, word, nb, *asJSON)
			}
			if len(missing) > 0 {
				return fmt.Errorf("%s: no vector for %s", *vectors, quoteAll(missing))
			}
			return nil
		}
	},
}

// vectorsAnalogyCommand completes A : B :: C : D.
var vectorsAnalogyCommand = command{
	summary: "find the words D that best complete A : B :: C : D (3CosAdd)",
	usage:   "--vectors PATH [--k 10] [--json] A B C",
	example: "classify vectors analogy --vectors glove.6B.50d man king woman",
	setup: func(fs *flag.FlagSet) func(e *env, args []string) error {
		vectors := fs.String("vectors", "", "word vectors `PATH`: GloVe text, word2vec text or .bin, gzipped or not, or a name glove.6B.50d ...")
		k := fs.Int("k", 10, "number of answers")
		asJSON := fs.Bool("json", false, "one JSON object: {\"word\":\"A : B :: C\", \"neighbors\":[{\"word\":..., \"similarity\":...}]}")
		return func(e *env, args []string) error {
			if *vectors == "" {
				return usagef("--vectors is required")
			}
			if len(args) != 3 {
				return usagef("give three words A B C, got %d", len(args))
			}
			if *k < 1 {
				return usagef("--k %d: want at least 1", *k)
			}
			ix, err := loadIndex(*vectors)
			if err != nil {
				return err
			}
			var words [3]string
			var missing []string
			for i, w := range args {
				words[i] = lookupWord(ix, w)
				if !ix.Contains(words[i]) {
					missing = append(missing, w)
				}
			}
			if len(missing) > 0 {
				return fmt.Errorf("%s: no vector for %s", *vectors, quoteAll(missing))
			}
			nb, err := ix.Analogy(words[0], words[1], words[2], *k)
			if err != nil {
				return err
			}
			printNeighbors(e.stdout, fmt.Sprintf("%s : %s :: %s", words[0], words[1], words[2]), nb, *asJSON)
			return nil
		}
	},
}

func loadIndex(path string) (*wordvec.Index, error) {
	v, err := data.LoadVectors(path)
	if err != nil {
		return nil, err
	}
	return wordvec.NewIndex(v.Words, v.Dim, v.Values)
}

// lookupWord returns w, or its lower case when only that has a vector
// (vectors trained here are lowercased, as the SPEC's tokens are).
func lookupWord(ix *wordvec.Index, w string) string {
	if !ix.Contains(w) {
		if l := strings.ToLower(w); ix.Contains(l) {
			return l
		}
	}
	return w
}

func quoteAll(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = fmt.Sprintf("%q", w)
	}
	return strings.Join(q, ", ")
}

type neighborJSON struct {
	Word       string  `json:"word"`
	Similarity float64 `json:"similarity"`
}

func printNeighbors(w io.Writer, query string, nb []wordvec.Neighbor, asJSON bool) {
	if asJSON {
		out := struct {
			Word      string         `json:"word"`
			Neighbors []neighborJSON `json:"neighbors"`
		}{Word: query, Neighbors: make([]neighborJSON, len(nb))}
		for i, n := range nb {
			out.Neighbors[i] = neighborJSON{n.Word, n.Similarity}
		}
		b, _ := json.Marshal(out)
		fmt.Fprintf(w, "%s\n", b)
		return
	}
	width := 0
	for _, n := range nb {
		width = max(width, len([]rune(n.Word)))
	}
	fmt.Fprintln(w, query)
	for _, n := range nb {
		fmt.Fprintf(w, "  %-*s  %7.4f\n", width, n.Word, n.Similarity)
	}
}
