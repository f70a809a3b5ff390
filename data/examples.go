package data

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Example is one labelled text. Label is 0 (negative) or 1 (positive).
type Example struct {
	Text  string
	Label int
}

// LoadOptions says how to read a file. The zero value reads the columns
// "text" and "label".
type LoadOptions struct {
	// TextColumn and LabelColumn name the CSV columns, and the JSON lines
	// fields, to read; "" means "text" and "label".
	TextColumn, LabelColumn string
}

func (o LoadOptions) columns() (text, label string) {
	text, label = o.TextColumn, o.LabelColumn
	if text == "" {
		text = "text"
	}
	if label == "" {
		label = "label"
	}
	return text, label
}

// Load reads the examples of path, in the order of its file or files. Path
// is one of the forms of SPEC section 3:
//
//   - a .tsv file, label<TAB>text per line, with an optional header line;
//   - a .csv file with a header (RFC 4180);
//   - a .jsonl file, one {"text": ..., "label": ...} object per line;
//   - a folder holding rt-polarity.pos and rt-polarity.neg (Windows-1252,
//     one sentence per line): the positive file's lines, then the negative's;
//   - a folder holding pos/ and neg/, one .txt file per example: pos/ then
//     neg/, each in file-name order; a folder whose train/ is such a folder
//     (aclImdb) reads train/;
//   - a dataset name, "rt-polarity" or "imdb", when no such file exists:
//     looked up and downloaded as DefaultStore says.
//
// Blank lines are skipped. Every error names the file, and the line when
// there is one. The folder forms keep the classes in blocks: shuffle, or
// use SplitSeeded, before taking a validation split.
func Load(path string, opts LoadOptions) ([]Example, error) {
	return DefaultStore().Load(path, opts)
}

// Load is the package's Load with s resolving dataset names.
func (s *Store) Load(path string, opts LoadOptions) ([]Example, error) {
	st, err := os.Stat(path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) || !IsDatasetName(path) {
			return nil, err
		}
		dir, err := s.Dataset(path)
		if err != nil {
			return nil, err
		}
		return s.Load(dir, opts)
	}
	if st.IsDir() {
		return loadFolder(path)
	}
	return LoadFile(path, opts)
}

// LoadFile reads a .tsv, .csv or .jsonl file, as Load describes.
func LoadFile(path string, opts LoadOptions) ([]Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".tsv":
		return ReadTSV(f, path)
	case ".csv":
		return ReadCSV(f, path, opts)
	case ".jsonl":
		return ReadJSONL(f, path, opts)
	default:
		return nil, fmt.Errorf("%s: unknown data format %q (want .tsv, .csv, .jsonl or a folder)", path, ext)
	}
}

// ParseLabel reads a label: 0/1, neg/pos or negative/positive, in any case,
// with surrounding white space ignored.
func ParseLabel(s string) (int, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "0", "neg", "negative":
		return 0, nil
	case "1", "pos", "positive":
		return 1, nil
	}
	return 0, fmt.Errorf("label %q is not 0/1, neg/pos or negative/positive", s)
}

// SplitLast splits ex as Keras's validation_split does: the first
// SplitPoint(len(ex), fraction) examples train, the rest validate. Both
// share ex's backing array.
func SplitLast(ex []Example, fraction float64) (train, val []Example) {
	n := SplitPoint(len(ex), fraction)
	return ex[:n], ex[n:]
}

// SplitPoint is the number of training examples that Keras's
// validation_split keeps of n: floor(n*(1-fraction)), all of them for a
// fraction of 0 or less, none for 1 or more.
func SplitPoint(n int, fraction float64) int {
	if fraction <= 0 {
		return n
	}
	return max(0, min(n, int(math.Floor(float64(n)*(1-fraction)))))
}

// Shuffle returns a copy of ex in the order of rand.New(rand.NewSource(seed)).Perm.
func Shuffle(ex []Example, seed int64) []Example {
	out := make([]Example, len(ex))
	for i, j := range rand.New(rand.NewSource(seed)).Perm(len(ex)) {
		out[i] = ex[j]
	}
	return out
}

// SplitSeeded shuffles ex with seed and then splits it as SplitLast does,
// for data whose order is not random (the folder forms).
func SplitSeeded(ex []Example, fraction float64, seed int64) (train, val []Example) {
	return SplitLast(Shuffle(ex, seed), fraction)
}

// Texts returns the texts of ex.
func Texts(ex []Example) []string {
	out := make([]string, len(ex))
	for i, e := range ex {
		out[i] = e.Text
	}
	return out
}

// Labels returns the labels of ex as float32, as a Batch holds them.
func Labels(ex []Example) []float32 {
	out := make([]float32, len(ex))
	for i, e := range ex {
		out[i] = float32(e.Label)
	}
	return out
}

// lines calls fn with each line of r (without "\n" or a "\r" before it) and
// its number from 1. It splits on "\n" alone: NEL and the like are text.
func lines(r io.Reader, fn func(line []byte, n int) error) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	for n := 1; len(data) > 0; n++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if err := fn(line, n); err != nil {
			return err
		}
	}
	return nil
}

var utf8BOM = []byte("\xef\xbb\xbf")

// ReadTSV reads label<TAB>text lines from r; name is the file's name for
// errors. A first non-blank line "label<TAB>text" (any case) is a header,
// and so is "text<TAB>label", which swaps the columns.
func ReadTSV(r io.Reader, name string) ([]Example, error) {
	var ex []Example
	first, header, swap := true, false, false
	err := lines(r, func(line []byte, n int) error {
		if n == 1 {
			line = bytes.TrimPrefix(line, utf8BOM)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			return nil
		}
		if !utf8.Valid(line) {
			return lineError(name, n, "text is not valid UTF-8")
		}
		a, b, ok := strings.Cut(string(line), "\t")
		if !ok {
			return lineError(name, n, "no tab: want label<TAB>text")
		}
		if first {
			first = false
			h := strings.ToLower(strings.TrimSpace(a)) + "\t" + strings.ToLower(strings.TrimSpace(b))
			switch h {
			case "label\ttext":
				header = true
				return nil
			case "text\tlabel":
				header, swap = true, true
				return nil
			}
		}
		if swap { // text<TAB>label: the label follows the last tab
			i := bytes.LastIndexByte(line, '\t')
			a, b = string(line[i+1:]), string(line[:i])
		}
		label, err := ParseLabel(a)
		if err != nil {
			return lineError(name, n, "%v", err)
		}
		ex = append(ex, Example{Text: b, Label: label})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(ex) == 0 {
		if header {
			return nil, fmt.Errorf("%s: no examples after the header", name)
		}
		return nil, fmt.Errorf("%s:1: no examples: the file is empty", name)
	}
	return ex, nil
}

// ReadCSV reads an RFC 4180 file with a header from r; opts names the
// columns, name is the file's name for errors.
func ReadCSV(r io.Reader, name string, opts LoadOptions) ([]Example, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%s:1: no examples: the file is empty", name)
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, csvError(name, err)
	}
	textCol, labelCol := opts.columns()
	ti, li := -1, -1
	for i, h := range header {
		switch strings.TrimSpace(h) {
		case textCol:
			ti = i
		case labelCol:
			li = i
		}
	}
	if ti < 0 || li < 0 {
		missing := textCol
		if ti >= 0 {
			missing = labelCol
		}
		return nil, lineError(name, 1, "no column %q in the header %q", missing, strings.Join(header, ","))
	}
	var ex []Example
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		if !utf8.ValidString(rec[ti]) || !utf8.ValidString(rec[li]) {
			return nil, lineError(name, line, "text is not valid UTF-8")
		}
		label, err := ParseLabel(rec[li])
		if err != nil {
			return nil, lineError(name, line, "%v", err)
		}
		ex = append(ex, Example{Text: rec[ti], Label: label})
	}
	if len(ex) == 0 {
		return nil, lineError(name, 2, "no examples after the header")
	}
	return ex, nil
}

// csvError turns encoding/csv's error into "file:line: message".
func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return lineError(name, pe.Line, "%v", pe.Err)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// ReadJSONL reads one JSON object per line from r; opts names the text
// and label fields, name is the file's name for errors. The label may be
// a number (0, 1), a boolean or a string that ParseLabel reads.
func ReadJSONL(r io.Reader, name string, opts LoadOptions) ([]Example, error) {
	textKey, labelKey := opts.columns()
	var ex []Example
	err := lines(r, func(line []byte, n int) error {
		if n == 1 {
			line = bytes.TrimPrefix(line, utf8BOM)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			return nil
		}
		// encoding/json would quietly turn bad bytes into U+FFFD.
		if !utf8.Valid(line) {
			return lineError(name, n, "text is not valid UTF-8")
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(line, &obj); err != nil {
			return lineError(name, n, "not a JSON object: %v", err)
		}
		rawText, ok := obj[textKey]
		if !ok {
			return lineError(name, n, "no field %q", textKey)
		}
		var text string
		// null would leave text empty without an error.
		if bytes.Equal(bytes.TrimSpace(rawText), []byte("null")) || json.Unmarshal(rawText, &text) != nil {
			return lineError(name, n, "field %q is not a string", textKey)
		}
		rawLabel, ok := obj[labelKey]
		if !ok {
			return lineError(name, n, "no field %q", labelKey)
		}
		label, err := jsonLabel(rawLabel)
		if err != nil {
			return lineError(name, n, "%v", err)
		}
		ex = append(ex, Example{Text: text, Label: label})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(ex) == 0 {
		return nil, fmt.Errorf("%s:1: no examples: the file is empty", name)
	}
	return ex, nil
}

func jsonLabel(raw json.RawMessage) (int, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, err
	}
	switch v := v.(type) {
	case string:
		return ParseLabel(v)
	case bool:
		if v {
			return 1, nil
		}
		return 0, nil
	case float64:
		if v == 0 || v == 1 {
			return int(v), nil
		}
	}
	return 0, fmt.Errorf("label %s is not 0/1, neg/pos or negative/positive", raw)
}

// loadFolder reads the folder forms of Load.
func loadFolder(dir string) ([]Example, error) {
	pos, neg := filepath.Join(dir, "rt-polarity.pos"), filepath.Join(dir, "rt-polarity.neg")
	if isFile(pos) && isFile(neg) {
		return loadPolarity(pos, neg)
	}
	if isDir(filepath.Join(dir, "pos")) && isDir(filepath.Join(dir, "neg")) {
		return loadClassFolders(dir)
	}
	if train := filepath.Join(dir, "train"); isDir(filepath.Join(train, "pos")) && isDir(filepath.Join(train, "neg")) {
		return loadClassFolders(train)
	}
	return nil, fmt.Errorf("%s: a data folder holds rt-polarity.pos and rt-polarity.neg, or pos/ and neg/, or train/pos and train/neg", dir)
}

func isFile(p string) bool { st, err := os.Stat(p); return err == nil && st.Mode().IsRegular() }
func isDir(p string) bool  { st, err := os.Stat(p); return err == nil && st.IsDir() }

// loadPolarity reads the sentence polarity dataset v1.0: Windows-1252,
// one sentence per line, split on "\n" alone (byte 0x85 is "…", not NEL).
// Sentences are trimmed of white space, as the shared TSVs derived from
// them are.
func loadPolarity(pos, neg string) ([]Example, error) {
	var ex []Example
	for _, f := range []struct {
		path  string
		label int
	}{{pos, 1}, {neg, 0}} {
		b, err := os.ReadFile(f.path)
		if err != nil {
			return nil, err
		}
		n0 := len(ex)
		lines(bytes.NewReader(b), func(line []byte, n int) error {
			if text := strings.TrimSpace(DecodeWindows1252(line)); text != "" {
				ex = append(ex, Example{Text: text, Label: f.label})
			}
			return nil
		})
		if len(ex) == n0 {
			return nil, fmt.Errorf("%s:1: no examples: the file is empty", f.path)
		}
	}
	return ex, nil
}

// loadClassFolders reads dir/pos/*.txt (label 1) then dir/neg/*.txt (0),
// each in file-name order, one example per file.
func loadClassFolders(dir string) ([]Example, error) {
	var ex []Example
	for _, c := range []struct {
		sub   string
		label int
	}{{"pos", 1}, {"neg", 0}} {
		names, err := filepath.Glob(filepath.Join(dir, c.sub, "*.txt"))
		if err != nil {
			return nil, err
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("%s: no .txt files", filepath.Join(dir, c.sub))
		}
		sort.Strings(names)
		for _, name := range names {
			b, err := os.ReadFile(name)
			if err != nil {
				return nil, err
			}
			if !utf8.Valid(b) {
				return nil, lineError(name, 1+bytes.Count(b[:invalidAt(b)], []byte("\n")), "text is not valid UTF-8")
			}
			ex = append(ex, Example{Text: strings.TrimSpace(string(bytes.TrimPrefix(b, utf8BOM))), Label: c.label})
		}
	}
	return ex, nil
}

// invalidAt is the offset of the first byte of b that is not valid UTF-8.
func invalidAt(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(b)
}

// DecodeWindows1252 decodes Windows-1252 bytes to a string, as the WHATWG
// Encoding Standard (and golang.org/x/text's table of it) says: the five
// bytes that Windows-1252 leaves undefined become the C1 controls of the
// same value.
func DecodeWindows1252(b []byte) string {
	// A single-byte decoder cannot fail: every byte has a rune.
	out, _ := charmap.Windows1252.NewDecoder().Bytes(b)
	return string(out)
}
