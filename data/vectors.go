package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Vectors is a table of word vectors: the vector of Words[i] is
// Values[i*Dim : (i+1)*Dim].
type Vectors struct {
	Words  []string
	Dim    int
	Values []float32
	// Subwords, when not nil, gives vectors to words outside Words from
	// their character n-grams (a fastText .bin model); EmbeddingMatrix
	// uses it for the vocabulary's words that Words lacks.
	Subwords *SubwordVectors
}

// Vector returns the vector of the i-th word, sharing Values.
func (v *Vectors) Vector(i int) []float32 { return v.Values[i*v.Dim : (i+1)*v.Dim] }

// Index maps each word to its row; a word given twice maps to its first
// row, as gensim's KeyedVectors keeps it. It builds a new map each call.
func (v *Vectors) Index() map[string]int {
	idx := make(map[string]int, len(v.Words))
	for i, w := range v.Words {
		if _, dup := idx[w]; !dup {
			idx[w] = i
		}
	}
	return idx
}

// maxDim bounds the dimension a header may claim, so that a corrupt
// header fails cleanly instead of allocating gigabytes.
const maxDim = 1 << 16

// maxReserve bounds the values a reader sets aside before the rows arrive:
// what a header claims is a hint, never a size to allocate. Past it the
// slices grow as rows are read, so memory follows the file's real content.
const maxReserve = 1 << 20

// reserve returns the rows to set aside for a header that claims count rows
// of dim values: count, but no more than the file can hold (size bytes at
// minRow bytes a row, when size >= 0) nor than maxReserve values.
func reserve(count, dim int, size, minRow int64) int {
	n := min(count, maxReserve/dim)
	if size >= 0 {
		n = int(min(int64(n), size/minRow))
	}
	return max(n, 0)
}

// fileSize returns the size of r when r is a regular file, else -1.
func fileSize(r io.Reader) int64 {
	f, ok := r.(*os.File)
	if !ok {
		return -1
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return -1
	}
	return st.Size()
}

// LoadVectors reads word vectors: a GloVe text file (word v1 ... vd per
// line), a word2vec text file (a first line "count dim", as fastText's
// .vec), a word2vec binary file (.bin), a fastText model (.bin, told from
// word2vec's by its magic number; see ReadFastTextModel), any of them
// gzipped (.gz), or a name glove.6B.50d ... glove.6B.300d that
// DefaultStore finds or downloads.
// A row of the wrong width, a value that is not a finite number, or an
// empty file is an error naming the line (the record, in binary files).
// Words are kept as their bytes, valid UTF-8 or not.
func LoadVectors(path string) (*Vectors, error) {
	return DefaultStore().LoadVectors(path)
}

// LoadVectors is the package's LoadVectors with s resolving names.
func (s *Store) LoadVectors(path string) (*Vectors, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) && IsVectorsName(path) {
		p, err := s.Vectors(path)
		if err != nil {
			return nil, err
		}
		path = p
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	inner := path
	size := fileSize(f)
	if strings.HasSuffix(strings.ToLower(path), ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer gz.Close()
		r, inner, size = gz, path[:len(path)-3], -1
	}
	if strings.HasSuffix(strings.ToLower(inner), ".bin") {
		br := bufio.NewReaderSize(r, 1<<20)
		if magic, _ := br.Peek(4); isFastTextModel(magic) {
			return ReadFastTextModel(br, path, size)
		}
		return readWord2VecBinary(br, path, size)
	}
	return ReadVectorsText(r, path)
}

// ReadVectorsText reads GloVe or word2vec text vectors from r; name is the
// file's name for errors. Fields are separated by spaces or tabs; trailing
// white space (fastText writes a space) and blank lines are ignored.
//
// The header's count is never trusted as a size to allocate: the rows set
// aside are bounded by what the file can hold (when r is an *os.File) and
// by a few MiB, and the slices grow as rows arrive, so a header claiming a
// million rows in a file of one row costs what the row costs.
func ReadVectorsText(r io.Reader, name string) (*Vectors, error) {
	size := fileSize(r)
	br := bufio.NewReaderSize(r, 1<<20)
	v := &Vectors{}
	declared := -1 // the word2vec header's count, -1 for GloVe
	var buf []byte
	fields := make([][]byte, 0, 301)
	n := 0
	for {
		line, err := readLine(br, &buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		n++
		fields = splitFields(line, fields[:0])
		if len(fields) == 0 {
			continue
		}
		if n == 1 && len(fields) == 2 {
			count, err1 := strconv.Atoi(string(fields[0]))
			dim, err2 := strconv.Atoi(string(fields[1]))
			if err1 == nil && err2 == nil {
				if count < 0 || dim <= 0 || dim > maxDim {
					return nil, lineError(name, n, "header %q: want a count >= 0 and a dimension in 1..%d", line, maxDim)
				}
				declared, v.Dim = count, dim
				// A text row takes at least two bytes a value ("w 0 0").
				rows := reserve(count, dim, size, int64(2*dim+1))
				v.Words = make([]string, 0, rows)
				v.Values = make([]float32, 0, rows*dim)
				continue
			}
		}
		width := len(fields) - 1
		if v.Dim == 0 {
			if width == 0 || width > maxDim {
				return nil, lineError(name, n, "row has %d values, want 1..%d", width, maxDim)
			}
			v.Dim = width
		}
		if width != v.Dim {
			return nil, lineError(name, n, "row of %q has %d values, want %d", fields[0], width, v.Dim)
		}
		if declared >= 0 && len(v.Words) == declared {
			return nil, lineError(name, n, "more rows than the header's count %d", declared)
		}
		for i, f := range fields[1:] {
			x, err := strconv.ParseFloat(string(f), 32)
			if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
				return nil, lineError(name, n, "value %d of %q, %q, is not a finite number", i+1, fields[0], f)
			}
			v.Values = append(v.Values, float32(x))
		}
		v.Words = append(v.Words, string(fields[0]))
	}
	if len(v.Words) == 0 {
		return nil, fmt.Errorf("%s:%d: no vectors: the file is empty", name, max(n, 1))
	}
	if declared >= 0 && len(v.Words) != declared {
		return nil, lineError(name, n, "the header says %d vectors, the file holds %d", declared, len(v.Words))
	}
	return v, nil
}

// readLine returns the next line of br without its "\n" (or "\r\n"); the
// slice is valid until the next call. It returns io.EOF after the last line.
func readLine(br *bufio.Reader, buf *[]byte) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		*buf = append((*buf)[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = br.ReadSlice('\n')
			*buf = append(*buf, line...)
		}
		line = *buf
	}
	if err == io.EOF && len(line) > 0 {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r")), nil
}

// splitFields appends the space- or tab-separated fields of line to dst.
func splitFields(line []byte, dst [][]byte) [][]byte {
	start := -1
	for i, c := range line {
		if c == ' ' || c == '\t' {
			if start >= 0 {
				dst = append(dst, line[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		dst = append(dst, line[start:])
	}
	return dst
}

// ReadWord2VecBinary reads word2vec's binary format from r: a text header
// "count dim\n", then count records of a word, a space and dim
// little-endian float32 values, with or without a "\n" between records.
// Name is the file's name for errors, which name the record (from 1). As
// in ReadVectorsText the header's count is never allocated up front.
func ReadWord2VecBinary(r io.Reader, name string) (*Vectors, error) {
	return readWord2VecBinary(r, name, fileSize(r))
}

// readWord2VecBinary is ReadWord2VecBinary for a file of size bytes (-1
// when not known).
func readWord2VecBinary(r io.Reader, name string, size int64) (*Vectors, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	header, err := br.ReadString('\n')
	if err != nil && (err != io.EOF || header == "") {
		if err == io.EOF {
			return nil, fmt.Errorf("%s:1: no vectors: the file is empty", name)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var count, dim int
	if f := strings.Fields(header); len(f) == 2 {
		count, err = strconv.Atoi(f[0])
		if err == nil {
			dim, err = strconv.Atoi(f[1])
		}
	} else {
		err = errors.New("want two numbers")
	}
	if err != nil || count <= 0 || dim <= 0 || dim > maxDim {
		return nil, lineError(name, 1, "header %q: want \"count dim\" with count >= 1 and dim in 1..%d", strings.TrimSpace(header), maxDim)
	}
	// A record takes at least a one-byte word, a space and 4*dim bytes.
	rows := reserve(count, dim, size, int64(4*dim+2))
	v := &Vectors{Dim: dim, Words: make([]string, 0, rows), Values: make([]float32, 0, rows*dim)}
	raw := make([]byte, 4*dim)
	var word []byte
	for rec := 1; rec <= count; rec++ {
		word = word[:0]
		for {
			c, err := br.ReadByte()
			if err != nil {
				return nil, fmt.Errorf("%s: record %d of %d: the file ends inside the word", name, rec, count)
			}
			if c == ' ' {
				break
			}
			if c == '\n' && len(word) == 0 {
				continue
			}
			word = append(word, c)
		}
		if len(word) == 0 {
			return nil, fmt.Errorf("%s: record %d of %d: empty word", name, rec, count)
		}
		if _, err := io.ReadFull(br, raw); err != nil {
			return nil, fmt.Errorf("%s: record %d of %d (%q): the file ends inside the vector", name, rec, count, word)
		}
		for i := 0; i < dim; i++ {
			x := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, fmt.Errorf("%s: record %d of %d (%q): value %d is not a finite number", name, rec, count, word, i+1)
			}
			v.Values = append(v.Values, x)
		}
		v.Words = append(v.Words, string(word))
	}
	// Whatever follows the last record must be white space alone.
	rest, _ := io.ReadAll(io.LimitReader(br, 1<<10))
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, fmt.Errorf("%s: data after the %d records the header announces", name, count)
	}
	return v, nil
}

// EmbeddingMatrix builds the [vocab.Len(), vec.Dim] embedding matrix of
// SPEC section 2, row-major, and counts the rows found in vec.
//
// The random draws, from rand.New(rand.NewSource(seed)): one value per
// cell of the matrix, in row-major order, for every row (found, [PAD] and
// [UNK] included), each float32(rng.Float64()*0.1 - 0.05), that is
// U(-0.05, 0.05). Then row 0 ([PAD]) is set to zeros and the row of each
// word that vec holds is copied from vec. Drawing for every row makes a
// word's random row independent of which other words vec covers, as in
// the PyTorch reference (torch.rand over the whole table, then overwrite).
// The special tokens are never looked up in vec. A word that vec lacks
// gets its n-gram vector when vec has Subwords (a fastText model), and
// counts as found.
func EmbeddingMatrix(vocab *Vocabulary, vec *Vectors, seed int64) (matrix []float32, found int) {
	rows, dim := vocab.Len(), vec.Dim
	rng := rand.New(rand.NewSource(seed))
	matrix = make([]float32, rows*dim)
	for i := range matrix {
		matrix[i] = float32(rng.Float64()*0.1 - 0.05)
	}
	clear(matrix[:dim]) // [PAD]
	idx := vec.Index()
	for id := UnkID + 1; id < rows; id++ {
		row := matrix[id*dim : (id+1)*dim]
		if j, ok := idx[vocab.Word(id)]; ok {
			copy(row, vec.Vector(j))
			found++
		} else if vec.Subwords != nil && vec.Subwords.Dim == dim {
			// fastText's vector for a word it never saw: its n-grams'.
			// A word with no n-gram row keeps its random row.
			saved := slices.Clone(row)
			if vec.Subwords.WordVector(row, vocab.Word(id)) {
				found++
			} else {
				copy(row, saved)
			}
		}
	}
	return matrix, found
}

// Coverage counts how much of a corpus a vectors file covers: its Words
// tokens, and its distinct words, and of each how many have a vector.
type Coverage struct {
	Tokens, TokensFound int
	Words, WordsFound   int
}

// TokenShare is TokensFound/Tokens, 0 for no tokens.
func (c Coverage) TokenShare() float64 { return share(c.TokensFound, c.Tokens) }

// WordShare is WordsFound/Words, 0 for no words.
func (c Coverage) WordShare() float64 { return share(c.WordsFound, c.Words) }

func share(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// MeasureCoverage tokenizes texts with Words and counts the tokens and the
// distinct words that vec holds, or, for a fastText model, can make from
// n-grams.
func MeasureCoverage(texts []string, vec *Vectors) Coverage {
	idx := vec.Index()
	seen := make(map[string]bool)
	var c Coverage
	var rows []int
	for _, t := range texts {
		for _, w := range Words(t) {
			ok, seenBefore := seen[w]
			if !seenBefore {
				_, ok = idx[w]
				if !ok && vec.Subwords != nil {
					rows = vec.Subwords.Rows(rows[:0], w)
					ok = len(rows) > 0
				}
			}
			c.Tokens++
			if ok {
				c.TokensFound++
			}
			if !seenBefore {
				seen[w] = ok
				c.Words++
				if ok {
					c.WordsFound++
				}
			}
		}
	}
	return c
}
