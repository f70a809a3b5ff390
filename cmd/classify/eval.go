package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"

	"github.com/classify/classify/data"
	"github.com/classify/classify/models"
	"github.com/classify/classify/train"
)

var evalCommand = command{
	summary: "score a checkpoint on labelled examples",
	usage:   "--checkpoint DIR --data PATH [--json]",
	example: "classify eval --checkpoint checkpoints/rt --data rt-polarity/test.tsv",
	setup: func(fs *flag.FlagSet) func(e *env, args []string) error {
		ckpt := fs.String("checkpoint", "", "checkpoint `folder` (required)")
		path := fs.String("data", "", "labelled examples: file, folder or dataset name (required)")
		asJSON := fs.Bool("json", false, "print the scores as one JSON object")
		batch := fs.Int("batch-size", 256, "examples scored together")
		textCol := fs.String("text-column", "text", "CSV column / JSON field of the text")
		labelCol := fs.String("label-column", "label", "CSV column / JSON field of the label")
		return func(e *env, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected argument %q", args[0])
			}
			if *ckpt == "" || *path == "" {
				return usagef("--checkpoint and --data are required")
			}
			if *batch < 1 {
				return usagef("--batch-size %d: want at least 1", *batch)
			}
			ck, err := models.Load(*ckpt)
			if err != nil {
				return err
			}
			examples, err := dataStore(e).Load(*path, data.LoadOptions{TextColumn: *textCol, LabelColumn: *labelCol})
			if err != nil {
				return err
			}
			seqs := ck.Tokenizer.EncodeAll(data.Texts(examples), ck.Model.Config.MaxLen)
			m, err := ck.Model.Evaluate(seqs, data.Labels(examples), *batch)
			if err != nil {
				return err
			}
			if *asJSON {
				js, err := json.Marshal(m)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "%s\n", js)
				return err
			}
			printMetrics(e.stdout, m)
			return nil
		}
	},
}

// printMetrics writes the scores and the confusion matrix for people.
func printMetrics(w io.Writer, m train.Metrics) {
	auc := "n/a (one class only)"
	if !math.IsNaN(m.AUC) {
		auc = fmt.Sprintf("%.4f", m.AUC)
	}
	fmt.Fprintf(w, "%d examples\n", m.N)
	fmt.Fprintf(w, "  loss       %.4f\n  accuracy   %.4f\n  precision  %.4f\n  recall     %.4f\n  f1         %.4f\n  auc        %s\n",
		m.Loss, m.Accuracy, m.Precision, m.Recall, m.F1, auc)
	c := m.Confusion
	fmt.Fprintf(w, "  confusion      predicted 0  predicted 1\n    actual 0  %11d  %11d\n    actual 1  %11d  %11d\n", c.TN, c.FP, c.FN, c.TP)
}
