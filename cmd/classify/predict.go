package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/classify/classify/data"
	"github.com/classify/classify/models"
)

var predictCommand = command{
	summary: "predict the label of texts with a trained checkpoint",
	usage:   "--checkpoint DIR [--json] [--top-k K] [--threshold P] [--input FILE --output FILE] [TEXT ...]",
	example: `classify predict --checkpoint checkpoints/rt "a gorgeous, witty film" "dull and predictable"`,
	setup: func(fs *flag.FlagSet) func(e *env, args []string) error {
		ckpt := fs.String("checkpoint", "", "checkpoint `folder` written by classify train (required)")
		asJSON := fs.Bool("json", false, "print one JSON object per line instead of label<TAB>score<TAB>text")
		batch := fs.Int("batch-size", 64, "texts read from stdin are scored in groups of this many")
		topK := fs.Int("top-k", 0, "with --json, list the `K` most probable labels in scores; 0 lists all")
		threshold := fs.Float64("threshold", 0, "multi-label: predict the labels of at least this probability; 0 keeps the checkpoint's (0.5)")
		maxLine := fs.Int("max-line-bytes", data.DefaultMaxLineBytes, "refuse a line of stdin or --input longer than this many bytes")
		input := fs.String("input", "", "score every line of this `file` on every core (with --output) instead of stdin")
		output := fs.String("output", "", "write --input's predictions to this `file`, in order, atomically")
		return func(e *env, args []string) error {
			if *ckpt == "" {
				return usagef("--checkpoint is required")
			}
			if *batch < 1 {
				return usagef("--batch-size %d: want at least 1", *batch)
			}
			if *topK < 0 {
				return usagef("--top-k %d: want 0 or more", *topK)
			}
			if *threshold != 0 && !(*threshold > 0 && *threshold < 1) {
				return usagef("--threshold %g: want a probability between 0 and 1", *threshold)
			}
			if *maxLine < 1 {
				return usagef("--max-line-bytes %d: want at least 1", *maxLine)
			}
			if (*input == "") != (*output == "") {
				return usagef("--input and --output go together")
			}
			if *input != "" && len(args) > 0 {
				return usagef("texts as arguments and --input: give one or the other")
			}
			// The checks that read every weight (the digest of
			// model.safetensors, 800 MB for a bow table) run while the
			// first texts are scored; no prediction is shown before
			// they pass.
			ck, verify, err := models.LoadUnverified(*ckpt)
			if err != nil {
				return err
			}
			p := models.NewPredictor(ck)
			if *threshold != 0 {
				if err := p.SetThreshold(*threshold); err != nil {
					return usageError{err}
				}
			}
			write := func(w io.Writer, text string, pr models.Prediction) error {
				if *topK > 0 && len(pr.Scores) > *topK {
					pr.Scores = pr.Scores[:*topK]
				}
				return writePrediction(w, text, pr, *asJSON)
			}
			if *input != "" {
				return predictFile(e, p, verify, *input, *output, *batch, *maxLine, write)
			}
			out := bufio.NewWriter(e.stdout)
			defer out.Flush()
			score := func(w io.Writer, texts []string) error {
				preds, err := p.Predict(texts)
				if err != nil {
					return err
				}
				for i, pr := range preds {
					if err := write(w, texts[i], pr); err != nil {
						return err
					}
				}
				return nil
			}
			if len(args) > 0 {
				for i, a := range args {
					if !utf8.ValidString(a) {
						return fmt.Errorf("argument %d: text is not valid UTF-8", i+1)
					}
				}
				if err := verify(); err != nil {
					return err
				}
				return score(out, args)
			}
			return predictStream(e.stdin, out, *batch, *maxLine, verify, score)
		}
	},
}

// maxHeldBytes bounds the predictions predictStream holds while the
// checkpoint's checks run: past it, it waits for them.
const maxHeldBytes = 64 << 20

// predictStream scores the lines of r in batches, as forEachLineBatch
// gives them, and writes the predictions to w, flushed after each batch,
// so that they stream as the lines arrive; meanwhile verify, the
// checkpoint's checks, runs. The predictions of the batches scored before
// it passes are held, then written at once when it does; if it fails,
// predict stops with its error, at once, having written nothing. Its
// error also comes before any other (a bad line, say).
func predictStream(r io.Reader, w *bufio.Writer, batch, maxLine int, verify func() error, score func(io.Writer, []string) error) error {
	verified := make(chan error, 1)
	go func() { verified <- verify() }()
	type lines struct {
		texts []string
		err   error
		end   bool
	}
	reads := make(chan lines)
	stop := make(chan struct{})
	defer close(stop)
	// The reader: batches of lines, then the end with its error.
	go func() {
		err := forEachLineBatch(r, batch, maxLine, func(texts []string) error {
			select {
			case reads <- lines{texts: slices.Clone(texts)}: // forEachLineBatch reuses texts
				return nil
			case <-stop:
				return errStopped
			}
		})
		select {
		case reads <- lines{err: err, end: true}:
		case <-stop:
		}
	}()
	held := new(bytes.Buffer) // nil once verify has passed
	pass := func(err error) error {
		if err != nil {
			return err
		}
		verified = nil
		_, err = w.Write(held.Bytes())
		held = nil
		if err == nil {
			err = w.Flush()
		}
		return err
	}
	for {
		select {
		case err := <-verified:
			if err := pass(err); err != nil {
				return err
			}
		case in := <-reads:
			var err error
			if in.end {
				err = in.err
			} else if held != nil {
				err = score(held, in.texts)
			} else if err = score(w, in.texts); err == nil {
				err = w.Flush()
			}
			if held != nil && (err != nil || in.end || held.Len() > maxHeldBytes) {
				if verr := pass(<-verified); verr != nil {
					return verr
				}
			}
			if err != nil || in.end {
				return err
			}
		}
	}
}

// errStopped tells forEachLineBatch's reader that predictStream stopped.
var errStopped = errors.New("stopped")

// writePrediction prints one prediction, plain or as a JSON line.
func writePrediction(w io.Writer, text string, p models.Prediction, asJSON bool) error {
	if asJSON {
		pj, err := json.Marshal(p)
		if err != nil {
			return err
		}
		tj, err := json.Marshal(text)
		if err != nil {
			return err
		}
		// {"text": ..., then the prediction's own fields.
		_, err = fmt.Fprintf(w, "{\"text\":%s,%s\n", tj, pj[1:])
		return err
	}
	score := float64(p.Score)
	if math.IsInf(score, 0) || math.IsNaN(score) {
		_, err := fmt.Fprintf(w, "%s\t%.6f\t%s\n", p.Label, p.Score, text)
		return err
	}
	// fmt's "%s\t%.6f\t%s\n" for a finite score, without its interfaces
	// and allocations: a bow model scores 30,000 lines a second.
	b := make([]byte, 0, len(p.Label)+len(text)+16)
	b = append(append(b, p.Label...), '\t')
	b = append(append(strconv.AppendFloat(b, score, 'f', 6, 32), '\t'), text...)
	_, err := w.Write(append(b, '\n'))
	return err
}

// forEachLineBatch reads r line by line and calls fn with up to n lines at a
// time, so that output streams while input is still arriving: a batch is
// also flushed whenever the reader has no more buffered input. A line over
// maxLine bytes, or not valid UTF-8, stops the reading with an error naming
// it, after the lines before it have been given to fn.
func forEachLineBatch(r io.Reader, n, maxLine int, fn func([]string) error) error {
	br := bufio.NewReaderSize(r, 1<<16)
	var lines []string
	lineNo := 0
	flush := func() error {
		if len(lines) == 0 {
			return nil
		}
		err := fn(lines)
		lines = lines[:0]
		return err
	}
	for {
		line, err := readLine(br, maxLine)
		if errors.Is(err, errLineTooLong) {
			if ferr := flush(); ferr != nil {
				return ferr
			}
			return fmt.Errorf("stdin:%d: line longer than --max-line-bytes %d", lineNo+1, maxLine)
		}
		if len(line) > 0 || err == nil {
			lineNo++
			line = strings.TrimRight(line, "\r\n")
			if !utf8.ValidString(line) {
				if ferr := flush(); ferr != nil {
					return ferr
				}
				return fmt.Errorf("stdin:%d: text is not valid UTF-8", lineNo)
			}
			lines = append(lines, line)
		}
		if len(lines) > 0 && (len(lines) >= n || br.Buffered() == 0 || err != nil) {
			if ferr := flush(); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

var errLineTooLong = errors.New("line too long")

// readLine reads one line of br with its newline, as ReadString('\n') does,
// but refuses with errLineTooLong a line whose text (without "\n" or
// "\r\n") is over max bytes, before holding more than max+2 of them.
func readLine(br *bufio.Reader, max int) (string, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if buf == nil && !errors.Is(err, bufio.ErrBufferFull) {
			// The whole line in the buffer: one copy, not two.
			if len(bytes.TrimRight(chunk, "\r\n")) > max {
				return "", errLineTooLong
			}
			return string(chunk), err
		}
		buf = append(buf, chunk...)
		if len(bytes.TrimRight(buf, "\r\n")) > max {
			return "", errLineTooLong
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return string(buf), err
		}
	}
}
