package data

import (
	"bufio"
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
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Example is one labelled text. Labels holds the names of its labels:
// exactly one in single-label data, zero or more in multi-label data (SPEC
// section 3). Line is the line of its file the example starts on, 0 when
// the example is a file of its own; errors about the example name it.
type Example struct {
	Text   string
	Labels []string
	Line   int
}

// LoadOptions says how to read a file. The zero value reads the columns
// "text" and "label" of single-label data.
type LoadOptions struct {
	// TextColumn and LabelColumn name the CSV columns, and the JSON lines
	// fields, to read; "" means "text" and "label".
	TextColumn, LabelColumn string
	// MultiLabel reads a TSV or CSV label field as a comma-separated list
	// of labels ("grain,wheat"), an empty field meaning no label. A JSON
	// lines "labels" array is a list whatever MultiLabel says.
	MultiLabel bool
	// MaxLineBytes bounds a line of a file, a CSV record and a file of the
	// folder-per-class form (SPEC section 3: --max-line-bytes); 0 means
	// DefaultMaxLineBytes. The readers stream: memory grows with the
	// examples kept, not with the file.
	MaxLineBytes int
}

// maxLine is the line limit opts ask for.
func (o LoadOptions) maxLine() int {
	if o.MaxLineBytes > 0 {
		return o.MaxLineBytes
	}
	return DefaultMaxLineBytes
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
		return loadFolder(path, opts)
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
		return ReadTSV(f, path, opts)
	case ".csv":
		return ReadCSV(f, path, opts)
	case ".jsonl":
		return ReadJSONL(f, path, opts)
	default:
		return nil, fmt.Errorf("%s: unknown data format %q (want .tsv, .csv, .jsonl or a folder)", path, ext)
	}
}

// ParseLabels reads a label field: one label, or with multi a comma-separated
// list of them. Labels are trimmed of surrounding white space. A single
// label must not be empty; in a list, empty items are dropped, so an empty
// field is an example with no label.
func ParseLabels(field string, multi bool) ([]string, error) {
	if !multi {
		l := strings.TrimSpace(field)
		if l == "" {
			return nil, errors.New("empty label")
		}
		return []string{l}, nil
	}
	labels := []string{}
	for _, l := range strings.Split(field, ",") {
		if l = strings.TrimSpace(l); l != "" {
			labels = append(labels, l)
		}
	}
	return labels, nil
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

// lines calls fn with each line of r (without "\n" or a "\r" before it) and
// its number from 1, reading r as it goes; the line passed to fn is valid
// only during the call. It splits on "\n" alone: NEL and the like are text.
// A line over max bytes is an error naming name and the line, raised before
// more than max bytes of it are held.
func lines(r io.Reader, name string, max int, fn func(line []byte, n int) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte // a line longer than br's buffer
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				if len(long) > max+1 { // +1: the "\r" of "\r\n"
					return lineError(name, n, "line longer than %d bytes (the limit on a line)", max)
				}
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("%s: %w", name, err)
		}
		if len(line) == 0 && err == io.EOF {
			return nil
		}
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if len(line) > max {
			return lineError(name, n, "line longer than %d bytes (the limit on a line)", max)
		}
		if ferr := fn(line, n); ferr != nil {
			return ferr
		}
		if err == io.EOF {
			return nil
		}
	}
}

var utf8BOM = []byte("\xef\xbb\xbf")

// ReadTSV reads label<TAB>text lines from r; name is the file's name for
// errors. A first non-blank line "label<TAB>text" (any case) is a header,
// and so is "text<TAB>label", which swaps the columns.
func ReadTSV(r io.Reader, name string, opts LoadOptions) ([]Example, error) {
	var ex []Example
	first, header, swap := true, false, false
	err := lines(r, name, opts.maxLine(), func(line []byte, n int) error {
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
		labels, err := ParseLabels(a, opts.MultiLabel)
		if err != nil {
			return lineError(name, n, "%v", err)
		}
		ex = append(ex, Example{Text: b, Labels: labels, Line: n})
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
	br := bufio.NewReaderSize(r, 64<<10)
	if bom, _ := br.Peek(len(utf8BOM)); bytes.Equal(bom, utf8BOM) {
		br.Discard(len(utf8BOM))
	}
	// A record, which may span lines, is bounded as a line is.
	max := opts.maxLine()
	limit := &recordLimit{r: br, max: int64(max)}
	cr := csv.NewReader(limit)
	cr.ReuseRecord = true
	csvErr := func(err error) error {
		if errors.Is(err, errRecordTooLong) {
			return lineError(name, limit.start+1, "record longer than %d bytes (the limit on a line)", max)
		}
		return csvError(name, err)
	}
	var header []string
	for {
		h, err := cr.Read()
		if err == io.EOF {
			return nil, fmt.Errorf("%s:1: no examples: the file is empty", name)
		}
		if err != nil {
			return nil, csvErr(err)
		}
		// A file of blank lines is empty, as before the reader streamed.
		if len(h) == 1 && strings.TrimSpace(h[0]) == "" {
			continue
		}
		header = append([]string(nil), h...)
		break
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
		fields, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvErr(err)
		}
		line, _ := cr.FieldPos(0)
		if !utf8.ValidString(fields[ti]) || !utf8.ValidString(fields[li]) {
			return nil, lineError(name, line, "text is not valid UTF-8")
		}
		labels, err := ParseLabels(fields[li], opts.MultiLabel)
		if err != nil {
			return nil, lineError(name, line, "%v", err)
		}
		ex = append(ex, Example{Text: fields[ti], Labels: labels, Line: line})
	}
	if len(ex) == 0 {
		return nil, lineError(name, 2, "no examples after the header")
	}
	return ex, nil
}

var errRecordTooLong = errors.New("record too long")

// recordLimit passes r's bytes on, failing with errRecordTooLong once a
// stretch of more than max bytes has passed without a line break outside
// double quotes: a record longer than the limit, whether on one line or on
// many inside a quoted field. Blank lines cost nothing. RFC 4180 doubles a
// quote inside a quoted field, which toggles inQuotes twice.
type recordLimit struct {
	r        io.Reader
	n, max   int64
	inQuotes bool
	// lines counts the line breaks passed; start is the line the current
	// stretch starts on.
	lines, start int
}

func (l *recordLimit) Read(p []byte) (int, error) {
	k, err := l.r.Read(p)
	for _, c := range p[:k] {
		switch {
		case c == '"':
			l.inQuotes = !l.inQuotes
		case c == '\n':
			l.lines++
			if !l.inQuotes {
				l.n, l.start = 0, l.lines
				continue
			}
		}
		if l.n++; l.n > l.max {
			return 0, errRecordTooLong
		}
	}
	return k, err
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
// a string, a number or a boolean (read as its JSON text: 1, true); an
// array of them, or a "labels" field when the label field is absent,
// holds the labels of a multi-label example.
func ReadJSONL(r io.Reader, name string, opts LoadOptions) ([]Example, error) {
	textKey, labelKey := opts.columns()
	var ex []Example
	err := lines(r, name, opts.maxLine(), func(line []byte, n int) error {
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
			if rawLabel, ok = obj["labels"]; !ok {
				return lineError(name, n, "no field %q", labelKey)
			}
		}
		labels, err := jsonLabels(rawLabel, opts.MultiLabel)
		if err != nil {
			return lineError(name, n, "%v", err)
		}
		ex = append(ex, Example{Text: text, Labels: labels, Line: n})
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

// jsonLabels reads a JSON label: a string (a list with multi, as
// ParseLabels), a number or boolean, or an array of them.
func jsonLabels(raw json.RawMessage, multi bool) ([]string, error) {
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		labels := []string{}
		for _, item := range list {
			l, err := jsonLabel(item)
			if err != nil {
				return nil, err
			}
			labels = append(labels, l)
		}
		return labels, nil
	}
	l, err := jsonLabel(raw)
	if err != nil {
		return nil, err
	}
	return ParseLabels(l, multi)
}

// jsonLabel reads one JSON label value as a name.
func jsonLabel(raw json.RawMessage) (string, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", err
	}
	switch v := v.(type) {
	case string:
		if strings.TrimSpace(v) == "" {
			return "", errors.New("empty label")
		}
		return strings.TrimSpace(v), nil
	case bool:
		return strconv.FormatBool(v), nil
	case float64: // 1 and 1.0 name one label
		return strconv.FormatFloat(v, 'g', -1, 64), nil
	}
	return "", fmt.Errorf("label %s is not a string, number or boolean", raw)
}

// loadFolder reads the folder forms of Load.
func loadFolder(dir string, opts LoadOptions) ([]Example, error) {
	pos, neg := filepath.Join(dir, "rt-polarity.pos"), filepath.Join(dir, "rt-polarity.neg")
	if isFile(pos) && isFile(neg) {
		return loadPolarity(pos, neg, opts.maxLine())
	}
	if classes := classFolders(dir); len(classes) >= 2 {
		return loadClassFolders(dir, classes, opts.maxLine())
	}
	train := filepath.Join(dir, "train")
	if classes := classFolders(train); len(classes) >= 2 {
		return loadClassFolders(train, classes, opts.maxLine())
	}
	return nil, fmt.Errorf("%s: a data folder holds rt-polarity.pos and rt-polarity.neg, or a folder of .txt files per class (pos/, neg/, ...), or train/ holding those", dir)
}

func isFile(p string) bool { st, err := os.Stat(p); return err == nil && st.Mode().IsRegular() }
func isDir(p string) bool  { st, err := os.Stat(p); return err == nil && st.IsDir() }

// classFolders lists the subfolders of dir that hold .txt files, in byte
// order: the classes of the folder-per-class form. aclImdb's unsup/
// (unlabelled reviews) is no class.
func classFolders(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var classes []string
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "unsup" || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if txt, _ := filepath.Glob(filepath.Join(dir, e.Name(), "*.txt")); len(txt) > 0 {
			classes = append(classes, e.Name())
		}
	}
	return classes
}

// loadPolarity reads the sentence polarity dataset v1.0: Windows-1252,
// one sentence per line, split on "\n" alone (byte 0x85 is "…", not NEL).
// Sentences are trimmed of white space, as the shared TSVs derived from
// them are. The positive file's sentences come first, labelled "pos",
// then the negative's, "neg".
func loadPolarity(pos, neg string, max int) ([]Example, error) {
	var ex []Example
	for _, f := range []struct{ path, label string }{{pos, "pos"}, {neg, "neg"}} {
		file, err := os.Open(f.path)
		if err != nil {
			return nil, err
		}
		n0 := len(ex)
		err = lines(file, f.path, max, func(line []byte, n int) error {
			if text := strings.TrimSpace(DecodeWindows1252(line)); text != "" {
				ex = append(ex, Example{Text: text, Labels: []string{f.label}, Line: n})
			}
			return nil
		})
		file.Close()
		if err != nil {
			return nil, err
		}
		if len(ex) == n0 {
			return nil, fmt.Errorf("%s:1: no examples: the file is empty", f.path)
		}
	}
	return ex, nil
}

// loadClassFolders reads dir/CLASS/*.txt for each class, in the order
// given, each class's files in file-name order, one example per file
// labelled with its folder's name. A file over max bytes is an error.
func loadClassFolders(dir string, classes []string, max int) ([]Example, error) {
	var ex []Example
	for _, class := range classes {
		names, err := filepath.Glob(filepath.Join(dir, class, "*.txt"))
		if err != nil {
			return nil, err
		}
		sort.Strings(names)
		for _, name := range names {
			b, err := ReadFileLimit(name, int64(max))
			if err != nil {
				return nil, err
			}
			if !utf8.Valid(b) {
				return nil, lineError(name, 1+bytes.Count(b[:invalidAt(b)], []byte("\n")), "text is not valid UTF-8")
			}
			ex = append(ex, Example{Text: strings.TrimSpace(string(bytes.TrimPrefix(b, utf8BOM))), Labels: []string{class}})
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
