package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/classify/classify/data"
	"github.com/classify/classify/wordvec"
)

// vectorsEvalCommand measures word vectors on an analogy test set, as
// word2vec's compute-accuracy does.
var vectorsEvalCommand = command{
	summary: "measure word vectors on analogy questions (word2vec's compute-accuracy)",
	usage:   "--vectors PATH [--analogies FILE] [--max-vocab 30000] [--json]",
	example: "classify vectors eval --vectors vectors.txt --max-vocab 30000",
	setup: func(fs *flag.FlagSet) func(e *env, args []string) error {
		vectors := fs.String("vectors", "", "word vectors `PATH`: GloVe text, word2vec text or .bin, a fastText .bin model, gzipped or not, or a name glove.6B.50d ...")
		analogies := fs.String("analogies", "", "analogy questions `FILE` (\": section\" lines, then \"a b c d\" a line); default $CLASSIFY_DATA/analogy/questions-words.txt")
		maxVocab := fs.Int("max-vocab", 30000, "search only the first N words (the most frequent); a question with another word is skipped; 0 searches all")
		asJSON := fs.Bool("json", false, "one JSON object: {\"overall\":..., \"semantic\":..., \"syntactic\":..., \"sections\":[...], \"mean_cosine\":...}, each score with accuracy, correct, answered, skipped; mean_cosine is that of random pairs of the 10000 most frequent words")
		return func(e *env, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected arguments %q", args)
			}
			if *vectors == "" {
				return usagef("--vectors is required")
			}
			if *maxVocab < 0 {
				return usagef("--max-vocab %d: want 0 or more", *maxVocab)
			}
			qpath := *analogies
			if qpath == "" {
				dir := os.Getenv("CLASSIFY_DATA")
				if dir == "" {
					return usagef("--analogies is required when $CLASSIFY_DATA is not set")
				}
				qpath = filepath.Join(dir, "analogy", "questions-words.txt")
			}
			f, err := os.Open(qpath)
			if err != nil {
				return err
			}
			qs, err := wordvec.ReadAnalogies(f, qpath)
			f.Close()
			if err != nil {
				return err
			}
			v, err := data.LoadVectors(*vectors)
			if err != nil {
				return err
			}
			rep, err := wordvec.EvaluateAnalogies(v.Words, v.Dim, v.Values, qs, *maxVocab)
			if err != nil {
				return err
			}
			cos := wordvec.MeanCosine(v.Words, v.Dim, v.Values, geometryWords, geometryPairs, 1)
			if *asJSON {
				return printAnalogyJSON(e.stdout, rep, cos)
			}
			printAnalogyReport(e.stdout, rep, len(v.Words), *maxVocab)
			fmt.Fprintf(e.stdout, "geometry: mean cosine of %d random pairs of the %d most frequent words %.3f\n", geometryPairs, min(len(v.Words), geometryWords), cos)
			return nil
		}
	},
}

type scoreJSON struct {
	Name     string  `json:"name,omitempty"`
	Accuracy float64 `json:"accuracy"`
	Correct  int     `json:"correct"`
	Answered int     `json:"answered"`
	Skipped  int     `json:"skipped"`
}

func toScoreJSON(name string, s wordvec.Score) scoreJSON {
	return scoreJSON{name, s.Accuracy(), s.Correct, s.Answered, s.Skipped}
}

func printAnalogyJSON(w io.Writer, rep *wordvec.AnalogyReport, meanCosine float64) error {
	out := struct {
		Overall    scoreJSON   `json:"overall"`
		Semantic   scoreJSON   `json:"semantic"`
		Syntactic  scoreJSON   `json:"syntactic"`
		Sections   []scoreJSON `json:"sections"`
		MeanCosine float64     `json:"mean_cosine"`
	}{toScoreJSON("", rep.Overall), toScoreJSON("", rep.Semantic), toScoreJSON("", rep.Syntactic), nil, meanCosine}
	for _, s := range rep.Sections {
		out.Sections = append(out.Sections, toScoreJSON(s.Name, s.Score))
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func printAnalogyReport(w io.Writer, rep *wordvec.AnalogyReport, words, maxVocab int) {
	width := len("syntactic")
	for _, s := range rep.Sections {
		width = max(width, len(s.Name))
	}
	line := func(name string, s wordvec.Score) {
		fmt.Fprintf(w, "%-*s  %6.2f%%  %6d / %-6d  skipped %d\n", width, name, 100*s.Accuracy(), s.Correct, s.Answered, s.Skipped)
	}
	searched := words
	if maxVocab > 0 {
		searched = min(words, maxVocab)
	}
	fmt.Fprintf(w, "searching the first %d of %d words\n", searched, words)
	fmt.Fprintf(w, "%-*s  accuracy  correct / answered\n", width, "section")
	for _, s := range rep.Sections {
		line(s.Name, s.Score)
	}
	fmt.Fprintln(w)
	line("semantic", rep.Semantic)
	line("syntactic", rep.Syntactic)
	line("overall", rep.Overall)
	all := rep.Overall.Answered + rep.Overall.Skipped
	fmt.Fprintf(w, "questions answered: %d of %d (%.1f%%)\n", rep.Overall.Answered, all, 100*share(int64(rep.Overall.Answered), int64(all)))
}
