// Command classify-beam runs classify's batch prediction and evaluation
// as Apache Beam pipelines, on one machine (the prism runner, the default)
// or on Flink, Spark or Google Cloud Dataflow.
//
// It is a program of its own, in a module of its own, so that classify and
// its module do not carry the Beam SDK's dependencies; its name says that it
// is classify on Beam, and its commands are those of classify that a
// cluster speeds up:
//
//	classify-beam predict --checkpoint DIR --input GLOB --output PREFIX [beam flags]
//	classify-beam eval --checkpoint DIR --data GLOB [--output FILE] [beam flags]
//
// The Beam flags include --runner prism|flink|spark|dataflow, --endpoint
// (a job server's address) and --environment_type (LOOPBACK, DOCKER,
// PROCESS); `classify-beam help` lists them all.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/classify/classify/beam/pipeline"
	"github.com/classify/classify/data"
)

func main() {
	pipeline.Register()
	if len(os.Args) < 2 || strings.HasPrefix(os.Args[1], "-") {
		// A runner starts this binary as a worker with Beam's flags alone
		// (--worker ...): beam.Init runs the worker and exits.
		flag.Parse()
		beam.Init()
		usage(os.Stderr)
		os.Exit(2)
	}
	var run func(ctx context.Context) error
	switch cmd := os.Args[1]; cmd {
	case "predict":
		run = predictCommand()
	case "eval":
		run = evalCommand()
	case "help", "-h", "--help":
		usage(os.Stdout)
		flag.CommandLine.SetOutput(os.Stdout)
		fmt.Println("\nBeam's flags:")
		flag.PrintDefaults()
		return
	default:
		fmt.Fprintf(os.Stderr, "classify-beam: unknown command %q\n", cmd)
		usage(os.Stderr)
		os.Exit(2)
	}
	if err := flag.CommandLine.Parse(os.Args[2:]); err != nil {
		os.Exit(2)
	}
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "classify-beam %s: unexpected argument %q\n", os.Args[1], flag.Arg(0))
		os.Exit(2)
	}
	beam.Init()
	if err := run(context.Background()); err != nil {
		fmt.Fprintf(os.Stderr, "classify-beam %s: %v\n", os.Args[1], err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `classify-beam runs classify's predict and eval as Apache Beam pipelines.

  classify-beam predict --checkpoint DIR --input GLOB --output PREFIX [--shards 4] [--top-k K] [--threshold P]
      scores every text of the files GLOB matches (plain text: one text a
      line; .tsv, .csv, .jsonl: the text field) and writes one JSON object a
      line, as classify predict --json, to PREFIX-00000-of-00004.jsonl ...
  classify-beam eval --checkpoint DIR --data GLOB [--output FILE]
      the metrics of classify eval on the labelled files GLOB matches,
      combined across workers: one JSON object, as classify eval --json
      prints it, written to FILE and printed

Paths may be local or on a Beam file system (gs://bucket/...). Beam's flags
choose where it runs: --runner prism (default, this machine) | flink | spark |
dataflow, --endpoint HOST:PORT (a job server), --environment_type LOOPBACK |
DOCKER | PROCESS. classify-beam help lists every flag.
`)
}

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func predictCommand() func(ctx context.Context) error {
	ckpt := flag.String("checkpoint", "", "checkpoint `folder` written by classify train, local or gs://... (required)")
	input := flag.String("input", "", "`glob` of the files to score (required)")
	output := flag.String("output", "", "`prefix` of the output shards (required)")
	shards := flag.Int("shards", 4, "number of output files")
	batch := flag.Int("batch-size", 256, "most texts a worker scores together")
	topK := flag.Int("top-k", 0, "list the `K` most probable labels in scores; 0 lists all")
	threshold := flag.Float64("threshold", 0, "multi-label: predict the labels of at least this probability; 0 keeps the checkpoint's")
	textCol := flag.String("text-column", "text", "CSV column / JSON field of the text")
	labelCol := flag.String("label-column", "label", "CSV column / JSON field of the label")
	return func(ctx context.Context) error {
		if *ckpt == "" || *input == "" || *output == "" {
			return usagef("--checkpoint, --input and --output are required")
		}
		p, s := beam.NewPipelineWithRoot()
		err := pipeline.Predict(s, pipeline.PredictOptions{
			Checkpoint: *ckpt, Output: *output, Shards: *shards, BatchSize: *batch, TopK: *topK, Threshold: *threshold,
			Input: pipeline.Input{Glob: *input, Options: data.LoadOptions{TextColumn: *textCol, LabelColumn: *labelCol}},
		})
		if err != nil {
			return usagef("%v", err)
		}
		return beamx.Run(ctx, p)
	}
}

func evalCommand() func(ctx context.Context) error {
	ckpt := flag.String("checkpoint", "", "checkpoint `folder`, local or gs://... (required)")
	path := flag.String("data", "", "`glob` of labelled .tsv, .csv or .jsonl files (required)")
	output := flag.String("output", "", "`file` the metrics are written to as JSON (default: a temporary file, for the prism runner only)")
	batch := flag.Int("batch-size", 256, "most examples a worker scores together")
	exact := flag.Int("exact-auc-limit", pipeline.DefaultExactLimit, "examples up to which the ROC AUC is exact; above, from histograms of the scores")
	textCol := flag.String("text-column", "text", "CSV column / JSON field of the text")
	labelCol := flag.String("label-column", "label", "CSV column / JSON field of the label")
	return func(ctx context.Context) error {
		if *ckpt == "" || *path == "" {
			return usagef("--checkpoint and --data are required")
		}
		out := *output
		if out == "" {
			if r := flag.Lookup("runner").Value.String(); r != "" && r != "prism" {
				return usagef("--output is required with --runner %s: the workers write the metrics there", r)
			}
			dir, err := os.MkdirTemp("", "classify-beam-eval-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			out = filepath.Join(dir, "metrics.json")
		}
		p, s := beam.NewPipelineWithRoot()
		err := pipeline.Eval(s, pipeline.EvalOptions{
			Checkpoint: *ckpt, Output: out, BatchSize: *batch, ExactLimit: *exact,
			Input: pipeline.Input{Glob: *path, Options: data.LoadOptions{TextColumn: *textCol, LabelColumn: *labelCol}},
		})
		if err != nil {
			return usagef("%v", err)
		}
		if err := beamx.Run(ctx, p); err != nil {
			return err
		}
		js, err := readFile(ctx, out)
		if err != nil {
			return err
		}
		fmt.Println(strings.TrimSpace(js))
		return nil
	}
}

// readFile reads a file of any Beam file system.
func readFile(ctx context.Context, name string) (string, error) {
	fsys, err := filesystem.New(ctx, name)
	if err != nil {
		return "", err
	}
	defer fsys.Close()
	b, err := filesystem.Read(ctx, fsys, name)
	return string(b), err
}
