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
			opts := data.LoadOptions{TextColumn: *textCol, LabelColumn: *labelCol, MultiLabel: ck.Config.Task == data.MultiLabel}
			examples, err := dataStore(e).Load(*path, opts)
			if err != nil {
				return err
			}
			m, err := ck.Evaluate(examples, *path, *batch)
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

// printMetrics writes the scores for people: the task's summary scores,
// a per-label report laid out as scikit-learn's classification_report,
// and the confusion matrix with the labels' names.
func printMetrics(w io.Writer, m train.Metrics) {
	fmt.Fprintf(w, "%d examples\n", m.N)
	fmt.Fprintf(w, "  loss       %.4f\n  accuracy   %.4f\n", m.Loss, m.Accuracy)
	switch m.Task {
	case data.Binary:
		auc := "n/a (one class only)"
		if !math.IsNaN(m.AUC) {
			auc = fmt.Sprintf("%.4f", m.AUC)
		}
		fmt.Fprintf(w, "  precision  %.4f\n  recall     %.4f\n  f1         %.4f\n  auc        %s\n", m.Precision, m.Recall, m.F1, auc)
	case data.MultiClass:
		fmt.Fprintf(w, "  macro f1   %.4f\n  weighted f1 %.4f\n", m.MacroF1, m.WeightedF1)
	case data.MultiLabel:
		fmt.Fprintf(w, "  micro f1   %.4f\n  macro f1   %.4f\n  subset accuracy %.4f\n  hamming loss %.4f\n", m.MicroF1, m.MacroF1, m.Accuracy, m.HammingLoss)
	}
	fmt.Fprintln(w)
	printReport(w, m)
	fmt.Fprintln(w)
	printConfusion(w, m)
}

// printReport writes scikit-learn's classification_report: a row per label
// (precision, recall, f1-score, support), then the averages.
func printReport(w io.Writer, m train.Metrics) {
	width := len("weighted avg")
	for _, l := range m.Labels {
		width = max(width, len(l))
	}
	fmt.Fprintf(w, "%*s %9s %9s %9s %9s\n", width, "", "precision", "recall", "f1-score", "support")
	support := 0
	for i, s := range m.PerClass {
		fmt.Fprintf(w, "%*s %9.4f %9.4f %9.4f %9d\n", width, m.Labels[i], s.Precision, s.Recall, s.F1, s.Support)
		support += s.Support
	}
	fmt.Fprintln(w)
	if m.Task == data.MultiLabel {
		fmt.Fprintf(w, "%*s %9.4f %9.4f %9.4f %9d\n", width, "micro avg", m.MicroPrecision, m.MicroRecall, m.MicroF1, support)
	} else {
		fmt.Fprintf(w, "%*s %9s %9s %9.4f %9d\n", width, "accuracy", "", "", m.Accuracy, m.N)
	}
	fmt.Fprintf(w, "%*s %9.4f %9.4f %9.4f %9d\n", width, "macro avg", m.MacroPrecision, m.MacroRecall, m.MacroF1, support)
	if m.Task != data.MultiLabel {
		fmt.Fprintf(w, "%*s %9.4f %9.4f %9.4f %9d\n", width, "weighted avg", m.WeightedPrecision, m.WeightedRecall, m.WeightedF1, support)
	}
}

// printConfusion writes the confusion matrix, rows the actual labels and
// columns the predicted ones; for multi-label, each label's 2 x 2 counts.
func printConfusion(w io.Writer, m train.Metrics) {
	width := len("actual")
	for _, l := range m.Labels {
		width = max(width, len(l))
	}
	if m.Task == data.MultiLabel {
		fmt.Fprintf(w, "confusion per label\n%*s %8s %8s %8s %8s\n", width, "", "tn", "fp", "fn", "tp")
		for i, c := range m.Confusion {
			fmt.Fprintf(w, "%*s %8d %8d %8d %8d\n", width, m.Labels[i], c[0], c[1], c[2], c[3])
		}
		return
	}
	cell := 9
	for _, l := range m.Labels {
		cell = max(cell, len(l)+1)
	}
	fmt.Fprintf(w, "confusion (rows actual, columns predicted)\n%*s", width, "")
	for _, l := range m.Labels {
		fmt.Fprintf(w, " %*s", cell, l)
	}
	fmt.Fprintln(w)
	for i, row := range m.Confusion {
		fmt.Fprintf(w, "%*s", width, m.Labels[i])
		for _, c := range row {
			fmt.Fprintf(w, " %*d", cell, c)
		}
		fmt.Fprintln(w)
	}
}
