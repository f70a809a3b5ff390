package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"sort"

	"github.com/classify/classify/data"
)

var inspectCommand = command{
	summary: "describe a dataset: labels, lengths, vocabulary, vector coverage",
	usage:   "--data PATH [--vectors PATH] [--text-column NAME] [--label-column NAME]",
	example: "classify inspect --data rt-polarity --vectors glove.6B.100d",
	setup: func(fs *flag.FlagSet) func(e *env, args []string) error {
		dataPath := fs.String("data", "", "examples to describe: a .tsv, .csv or .jsonl `file`, a folder, or a dataset name (rt-polarity, imdb) (required)")
		vectors := fs.String("vectors", "", "word vectors `file` (GloVe or word2vec text, .bin, .gz) or name (glove.6B.100d) whose coverage to measure")
		textCol := fs.String("text-column", "text", "CSV column (JSON lines field) of the text")
		labelCol := fs.String("label-column", "label", "CSV column (JSON lines field) of the label")
		multi := fs.Bool("multi-label", false, "label fields are comma-separated label sets")
		return func(e *env, args []string) error {
			if *dataPath == "" {
				return usagef("--data is required")
			}
			if len(args) > 0 {
				return usagef("unexpected argument %q", args[0])
			}
			store := data.DefaultStore()
			store.Progress = e.stderr
			ex, err := store.Load(*dataPath, data.LoadOptions{TextColumn: *textCol, LabelColumn: *labelCol, MultiLabel: *multi})
			if err != nil {
				return err
			}
			var vec *data.Vectors
			if *vectors != "" {
				if vec, err = store.LoadVectors(*vectors); err != nil {
					return err
				}
			}
			return writeInspection(e.stdout, *dataPath, ex, *vectors, vec)
		}
	},
}

// writeInspection prints, for people, the label counts, the token-length
// percentiles, the vocabulary size and, with vec, the vectors' coverage.
func writeInspection(w io.Writer, name string, ex []data.Example, vecName string, vec *data.Vectors) error {
	out := bufio.NewWriter(w)
	perLabel := map[string]int{}
	lengths := make([]int, len(ex))
	distinct := make(map[string]struct{})
	tokens := 0
	for i, e := range ex {
		for _, l := range e.Labels {
			perLabel[l]++
		}
		words := data.Words(e.Text)
		lengths[i] = len(words)
		tokens += len(words)
		for _, w := range words {
			distinct[w] = struct{}{}
		}
	}
	sort.Ints(lengths)
	n := len(ex)
	fmt.Fprintf(out, "%-12s %s: %d examples\n", "data", name, n)
	if labels, err := data.NewLabelSet(ex, false); err == nil {
		fmt.Fprintf(out, "%-12s %s, %d labels\n", "task", labels.Task, labels.Len())
		for l, label := range labels.Names {
			head := ""
			if l == 0 {
				head = "labels"
			}
			fmt.Fprintf(out, "%-12s %-13s %7d  %5.1f%%\n", head, label, perLabel[label], 100*float64(perLabel[label])/float64(n))
		}
	} else {
		fmt.Fprintf(out, "%-12s %v\n", "labels", err)
	}
	fmt.Fprintf(out, "%-12s min %d, p50 %d, p90 %d, p99 %d, max %d tokens\n", "length",
		lengths[0], percentile(lengths, 50), percentile(lengths, 90), percentile(lengths, 99), lengths[n-1])
	fmt.Fprintf(out, "%-12s %d distinct words in %d tokens\n", "vocabulary", len(distinct), tokens)
	if vec != nil {
		c := data.MeasureCoverage(data.Texts(ex), vec)
		fmt.Fprintf(out, "%-12s %s: %d words of %d dimensions\n", "vectors", vecName, len(vec.Words), vec.Dim)
		fmt.Fprintf(out, "%-12s tokens %d/%d = %.2f%%, distinct words %d/%d = %.2f%%\n", "coverage",
			c.TokensFound, c.Tokens, 100*c.TokenShare(), c.WordsFound, c.Words, 100*c.WordShare())
	}
	return out.Flush()
}

// percentile is the nearest-rank p-th percentile of sorted: the smallest
// value with at least p% of the values at or below it.
func percentile(sorted []int, p float64) int {
	k := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[max(0, min(k-1, len(sorted)-1))]
}
