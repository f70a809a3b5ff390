package wordvec

import (
	"fmt"
	"runtime"
	"time"
)

// Method is a way to train word vectors.
type Method string

// The methods Train knows.
const (
	// SkipGram predicts each context word from the centre word (word2vec).
	SkipGram Method = "skipgram"
	// CBOW predicts the centre word from the mean of its context (word2vec).
	CBOW Method = "cbow"
	// GloVe fits vector products to the logarithm of distance-weighted
	// co-occurrence counts.
	GloVe Method = "glove"
	// FastText is skip-gram (or, with Options.CBOW, CBOW) over words and
	// their hashed character n-grams (Bojanowski et al. 2017): a word's
	// vector is the mean of its own and its n-grams' input vectors, so
	// that words never seen in training get one from their n-grams.
	FastText Method = "fasttext"
)

// ParseMethod returns the Method named s.
func ParseMethod(s string) (Method, error) {
	switch m := Method(s); m {
	case SkipGram, CBOW, GloVe, FastText:
		return m, nil
	}
	return "", fmt.Errorf("method %q is not skipgram, cbow, glove or fasttext", s)
}

// Options are the settings of a training run; DefaultOptions gives those
// of word2vec.c and glove.c where the SPEC is silent.
type Options struct {
	Method Method
	// Dim is the vectors' dimension.
	Dim int
	// Window is the largest distance between a word and its context. For
	// word2vec each word draws its window uniformly from 1..Window, as
	// word2vec.c does; GloVe counts the whole window.
	Window int
	// Epochs is the number of passes over the corpus (or, for GloVe, over
	// the co-occurrence matrix).
	Epochs int
	// Negative is the number of negative samples per positive (word2vec).
	Negative int
	// NoisePower is the exponent of negative sampling's noise
	// distribution: words are drawn in proportion to count^NoisePower
	// (word2vec.c 0.75, fastText 0.5; 0 draws every word alike; Check
	// takes 0 to 4).
	NoisePower float64
	// Sample is the subsampling threshold t of frequent words (word2vec):
	// a word of corpus frequency f is kept with probability
	// sqrt(t/f) + t/f, as word2vec.c. Zero keeps every word.
	Sample float64
	// LR is the starting learning rate; zero means the method's default
	// (DefaultLR). word2vec decays it linearly to LR*1e-4 over the run;
	// GloVe keeps it and scales each step by AdaGrad.
	LR float64
	// XMax and Alpha shape GloVe's weighting f(x) = min(1, (x/XMax)^Alpha).
	XMax, Alpha float64
	// Minn and Maxn are the shortest and longest character n-grams of
	// FastText, counted in UTF-8 characters of the word wrapped in "<"
	// and ">"; Buckets is the number of hashed n-gram vectors (fastText's
	// -minn, -maxn, -bucket). Maxn 0 trains words alone.
	Minn, Maxn, Buckets int
	// CBOW makes FastText predict the centre word from the mean of its
	// context words' and their n-grams' vectors (fastText's "cbow")
	// instead of each context word from the centre's ("skipgram").
	CBOW bool
	// Threads is the number of goroutines that train at once (Hogwild:
	// they share the weights without locks). With one thread a run is
	// fully determined by Seed.
	Threads int
	// Seed seeds every random draw: initial weights, window sizes,
	// subsampling, negative samples, GloVe's shuffle.
	Seed int64
	// Progress, when not nil, is called about every ProgressEvery while
	// training runs and once at the end.
	Progress      func(Progress)
	ProgressEvery time.Duration
}

// DefaultOptions returns the options of a skip-gram run with
// MethodDefaults.
func DefaultOptions() Options { return MethodDefaults(SkipGram) }

// MethodDefaults returns the settings that give method m good vectors
// without tuning, on small corpora as on large ones: 100 dimensions, one
// thread a CPU, seed 1, and
//   - skip-gram and CBOW: window 5, 5 epochs, negative samples drawn as
//     word2vec.c's count^0.75, 5 of them for skip-gram and 10 for CBOW
//     (Mikolov et al. 2013 advise 5-20 for small corpora; CBOW makes one
//     prediction a word where skip-gram makes one a context word, and with
//     10 it scores 22.6% against 21.3% analogy accuracy on the 14.6M
//     tokens of IMDB, six seeds, in 57-97 CPU-seconds a run against
//     37-52), fastText's learning rate 0.05 (word2vec.c's skip-gram 0.025
//     left the vectors of a 0.9M-token corpus crowded together) and
//     word2vec.c's subsampling threshold 1e-3 (fastText's 1e-4 drops too
//     much of a small corpus: 3.1% against 4.7% analogy accuracy for
//     skip-gram, 0.6% against 4.6% for CBOW, on 0.93M tokens of IMDB);
//   - FastText: fastText's own defaults, as skip-gram with threshold 1e-4,
//     noise count^0.5 and n-grams of 3 to 6 characters in 2,000,000 buckets;
//   - GloVe: glove.c's learning rate 0.05 and alpha 0.75, the window 15
//     and x_max 10 of glove.c's demo (made for text8, 17M tokens; the
//     paper's window 10 and x_max 100 suit billions: on the 14.6M tokens
//     of IMDB they score 11.6% against 16.8% analogy accuracy, on 0.9M
//     3.0% against 5.0%), and 25 epochs (the demo runs 15, the paper
//     50): at word2vec's 5 epochs every vector points the same way.
func MethodDefaults(m Method) Options {
	o := Options{Method: m, Dim: 100, Window: 5, Epochs: 5, Negative: 5, NoisePower: 0.75, Sample: 1e-3,
		XMax: 10, Alpha: 0.75, Threads: runtime.NumCPU(), Seed: 1, ProgressEvery: time.Second}
	switch m {
	case CBOW:
		o.Negative = 10
	case GloVe:
		o.Window, o.Epochs = 15, 25
	case FastText:
		o.Sample, o.NoisePower, o.Minn, o.Maxn, o.Buckets = 1e-4, 0.5, 3, 6, 2_000_000
	}
	return o
}

// DefaultLR returns the starting learning rate of method m: 0.05 for
// every method (fastText's rate for skip-gram and CBOW, glove.c's for
// GloVe).
func DefaultLR(m Method) float64 { return 0.05 }

// Check returns an error naming the first setting that is out of range.
func (o Options) Check() error {
	if _, err := ParseMethod(string(o.Method)); err != nil {
		return err
	}
	switch {
	case o.Dim < 1:
		return fmt.Errorf("dimension %d is not positive", o.Dim)
	case o.Window < 1:
		return fmt.Errorf("window %d is not positive", o.Window)
	case o.Epochs < 0:
		return fmt.Errorf("epochs %d is negative", o.Epochs)
	case o.Negative < 1 && o.Method != GloVe:
		return fmt.Errorf("negative samples %d is not positive", o.Negative)
	case !(o.NoisePower >= 0 && o.NoisePower <= 4):
		return fmt.Errorf("noise power %g: want 0..4", o.NoisePower)
	case o.Sample < 0:
		return fmt.Errorf("sample %g is negative", o.Sample)
	case o.LR < 0:
		return fmt.Errorf("learning rate %g is negative", o.LR)
	case o.Method == GloVe && (o.XMax <= 0 || o.Alpha <= 0):
		return fmt.Errorf("x-max %g and alpha %g must be positive", o.XMax, o.Alpha)
	case o.Method == FastText && (o.Minn < 0 || o.Maxn < 0 || (o.Maxn > 0 && o.Minn > o.Maxn) || o.Minn > 64 || o.Maxn > 64):
		return fmt.Errorf("n-gram lengths minn %d and maxn %d: want 0 <= minn <= maxn <= 64", o.Minn, o.Maxn)
	case o.Method == FastText && o.Maxn > 0 && (o.Buckets < 1 || o.Buckets > 1<<28):
		return fmt.Errorf("buckets %d: want 1..%d", o.Buckets, 1<<28)
	case o.CBOW && o.Method != FastText:
		return fmt.Errorf("CBOW is an option of the fasttext method (method %s)", o.Method)
	}
	return nil
}

func (o Options) lr() float32 {
	if o.LR > 0 {
		return float32(o.LR)
	}
	return float32(DefaultLR(o.Method))
}

func (o Options) threads() int { return max(1, o.Threads) }

// Progress is a snapshot of a training run.
type Progress struct {
	// Done is the share of the run's work done, from 0 to 1.
	Done float64
	// Epoch is the pass under way, from 1.
	Epoch int
	// LR is the current learning rate.
	LR float64
	// Loss is the mean loss since the previous report: negative-sampling
	// loss for word2vec, the weighted squared error for GloVe.
	Loss float64
	// WordsPerSecondPerThread is the training speed: corpus words for
	// word2vec, co-occurrence entries for GloVe.
	WordsPerSecondPerThread float64
	// Elapsed is the time since training started.
	Elapsed time.Duration
}
