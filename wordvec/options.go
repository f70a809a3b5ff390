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
)

// ParseMethod returns the Method named s.
func ParseMethod(s string) (Method, error) {
	switch m := Method(s); m {
	case SkipGram, CBOW, GloVe:
		return m, nil
	}
	return "", fmt.Errorf("method %q is not skipgram, cbow or glove", s)
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

// DefaultOptions returns the options of a skip-gram run with word2vec.c's
// and glove.c's settings: 100 dimensions, window 5, 5 epochs, 5 negative
// samples, sample 1e-3, x_max 100, alpha 0.75, one thread a CPU, seed 1.
func DefaultOptions() Options {
	return Options{
		Method: SkipGram, Dim: 100, Window: 5, Epochs: 5, Negative: 5, Sample: 1e-3,
		XMax: 100, Alpha: 0.75, Threads: runtime.NumCPU(), Seed: 1, ProgressEvery: time.Second,
	}
}

// DefaultLR returns the starting learning rate of method m: 0.025 for
// skip-gram and 0.05 for CBOW as word2vec.c, 0.05 for GloVe as glove.c.
func DefaultLR(m Method) float64 {
	if m == SkipGram {
		return 0.025
	}
	return 0.05
}

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
	case o.Sample < 0:
		return fmt.Errorf("sample %g is negative", o.Sample)
	case o.LR < 0:
		return fmt.Errorf("learning rate %g is negative", o.LR)
	case o.Method == GloVe && (o.XMax <= 0 || o.Alpha <= 0):
		return fmt.Errorf("x-max %g and alpha %g must be positive", o.XMax, o.Alpha)
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
