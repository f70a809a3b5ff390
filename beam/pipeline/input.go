package pipeline

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/fileio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"

	"github.com/classify/classify/data"
)

// Input says what files to read and how.
type Input struct {
	// Glob names the files: a local path or pattern, or a URL of a Beam
	// file system (gs://bucket/corpus-*.tsv).
	Glob string
	// Options name the CSV columns and JSON lines fields, as classify's
	// --text-column and --label-column; Predict and Eval set MultiLabel
	// from the checkpoint's task, as classify eval does.
	Options data.LoadOptions
}

// checkFileSystem returns an error when no Beam file system that the
// program links in serves name (Beam's own check panics).
func checkFileSystem(name string) error {
	fsys, err := filesystem.New(context.Background(), name)
	if err != nil {
		return err
	}
	return fsys.Close()
}

// format is how a file's name says to read it: .tsv, .csv and .jsonl are
// labelled examples (SPEC section 3), anything else plain text, one text a
// line. A .gz or other compressed suffix is looked through.
func format(name string) string {
	for _, c := range []string{".gz", ".bz2", ".zst", ".deflate"} {
		name = strings.TrimSuffix(name, c)
	}
	switch ext := strings.ToLower(path.Ext(name)); ext {
	case ".tsv", ".csv", ".jsonl":
		return ext
	}
	return ""
}

// readTexts reads the texts of in: the lines of plain text files, with
// textio (which splits a file among workers), or the text field of
// labelled examples.
func readTexts(s beam.Scope, in Input) beam.PCollection {
	if format(in.Glob) == "" {
		return textio.Read(s, in.Glob)
	}
	return beam.ParDo(s.Scope("texts"), exampleText, readExamples(s, in))
}

func exampleText(e Labelled) string { return e.Text }

// Labelled is a labelled example and the file it comes from, which errors
// about it name.
type Labelled struct {
	// File is the file's path or URL, Line the example's line in it.
	File string
	Line int
	// Text and Labels are the example's (data.Example).
	Text   string
	Labels []string
}

// readExamples reads the labelled examples of the files in.Glob matches,
// each file with package data's reader for its format, so that the
// examples, their labels and the errors about them are those of classify
// eval. A file is read whole by one worker (a TSV header can swap its
// columns and a CSV field can hold a newline, so the lines of a file are
// not independent): give a large corpus as many files.
func readExamples(s beam.Scope, in Input) beam.PCollection {
	s = s.Scope("readExamples")
	files := fileio.ReadMatches(s, fileio.MatchFiles(s, in.Glob, fileio.MatchEmptyDisallow()))
	o := in.Options
	return beam.ParDo(s, &readExamplesFn{TextColumn: o.TextColumn, LabelColumn: o.LabelColumn, MultiLabel: o.MultiLabel}, files)
}

// readExamplesFn reads one labelled file.
type readExamplesFn struct {
	TextColumn, LabelColumn string
	MultiLabel              bool
}

func (f *readExamplesFn) ProcessElement(ctx context.Context, file fileio.ReadableFile, emit func(Labelled)) error {
	name := file.Metadata.Path
	r, err := file.Open(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer r.Close()
	opts := data.LoadOptions{TextColumn: f.TextColumn, LabelColumn: f.LabelColumn, MultiLabel: f.MultiLabel}
	var ex []data.Example
	switch format(name) {
	case ".tsv":
		ex, err = data.ReadTSV(r, name, opts)
	case ".csv":
		ex, err = data.ReadCSV(r, name, opts)
	case ".jsonl":
		ex, err = data.ReadJSONL(r, name, opts)
	default:
		err = fmt.Errorf("%s: want a .tsv, .csv or .jsonl file of labelled examples", name)
	}
	if err != nil {
		return err
	}
	for _, e := range ex {
		emit(Labelled{File: name, Line: e.Line, Text: e.Text, Labels: e.Labels})
	}
	return nil
}
