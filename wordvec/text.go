package wordvec

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/classify/classify/data"
	"github.com/classify/classify/internal/atomicfile"
)

// WriteText writes v in GloVe text format: one line a word, the word then
// its Dim values separated by spaces, in v's order. Values are written in
// the shortest form that reads back to the same float32.
func WriteText(w io.Writer, v *data.Vectors) error {
	if len(v.Values) != len(v.Words)*v.Dim {
		return fmt.Errorf("vectors hold %d values, want %d words × %d", len(v.Values), len(v.Words), v.Dim)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	var line []byte
	for i, word := range v.Words {
		if word == "" || strings.ContainsAny(word, " \t\n\r") {
			return fmt.Errorf("word %d %q cannot be written in GloVe text format", i, word)
		}
		line = append(line[:0], word...)
		for _, x := range v.Vector(i) {
			line = append(line, ' ')
			line = strconv.AppendFloat(line, float64(x), 'g', -1, 32)
		}
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// SaveText writes v to path in GloVe text format, atomically: to a
// temporary file beside it, renamed into place once complete.
func SaveText(path string, v *data.Vectors) error {
	if err := atomicfile.Write(path, func(w io.Writer) error { return WriteText(w, v) }); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
