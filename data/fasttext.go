package data

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// fastTextMagic opens every fastText model file (FASTTEXT_FILEFORMAT_MAGIC_INT32).
const fastTextMagic = 793712314

// fastTextVersion is the newest model format read (fastText 0.9's 12);
// version 11 files have the same layout.
const fastTextVersion = 12

// maxBuckets bounds the hash buckets a model header may claim (fastText's
// default is 2,000,000).
const maxBuckets = 1 << 28

// SubwordVectors gives a vector to any word from its character n-grams,
// as fastText does (Bojanowski et al. 2017): the input matrix holds a row
// for each vocabulary word and then Buckets rows for hashed n-grams, and
// a word's vector is the mean of its own row (if it is in the vocabulary)
// and the rows of its n-grams of Minn to Maxn characters.
type SubwordVectors struct {
	Minn, Maxn, Buckets int
	Dim                 int
	// Input is the input matrix, row-major: NWords word rows, then
	// Buckets n-gram rows.
	Input  []float32
	NWords int
	ids    map[string]int
}

// NewSubwordVectors makes SubwordVectors over the input matrix of a model
// whose vocabulary is words (row i of input is words[i]).
func NewSubwordVectors(words []string, dim, minn, maxn, buckets int, input []float32) (*SubwordVectors, error) {
	if dim < 1 || buckets < 0 || len(input) != (len(words)+buckets)*dim {
		return nil, fmt.Errorf("input matrix of %d values, want (%d words + %d buckets) × %d", len(input), len(words), buckets, dim)
	}
	s := &SubwordVectors{Minn: minn, Maxn: maxn, Buckets: buckets, Dim: dim, Input: input, NWords: len(words), ids: make(map[string]int, len(words))}
	for i, w := range words {
		if _, dup := s.ids[w]; !dup {
			s.ids[w] = i
		}
	}
	return s, nil
}

// NgramBuckets appends to dst the bucket of each character n-gram of word
// that fastText trains: word is wrapped in "<" and ">", n counts UTF-8
// characters from minn to maxn, and single characters at either end (the
// bare "<" and ">") are left out. The buckets are hash % buckets, in
// fastText's order (by start, then length); none when buckets is 0.
func NgramBuckets(dst []int, word string, minn, maxn, buckets int) []int {
	if buckets <= 0 || maxn <= 0 {
		return dst
	}
	w := "<" + word + ">"
	for i := 0; i < len(w); i++ {
		if w[i]&0xC0 == 0x80 {
			continue
		}
		j := i
		for n := 1; j < len(w) && n <= maxn; n++ {
			j++
			for j < len(w) && w[j]&0xC0 == 0x80 {
				j++
			}
			if n >= minn && !(n == 1 && (i == 0 || j == len(w))) {
				dst = append(dst, int(FastTextHash(w[i:j])%uint32(buckets)))
			}
		}
	}
	return dst
}

// Rows appends to dst the input rows whose mean is word's vector: its own
// row when it is in the vocabulary, then its n-grams' rows (fastText's
// getSubwords; the end-of-line token FastTextEOS has no n-grams). The
// n-grams are hashed with FastTextHash.
func (s *SubwordVectors) Rows(dst []int, word string) []int {
	if id, ok := s.ids[word]; ok {
		dst = append(dst, id)
	}
	if word == FastTextEOS {
		return dst
	}
	start := len(dst)
	dst = NgramBuckets(dst, word, s.Minn, s.Maxn, s.Buckets)
	for k := start; k < len(dst); k++ {
		dst[k] += s.NWords
	}
	return dst
}

// WordVector writes word's vector into dst (of Dim values), as fastText's
// get_word_vector, and reports whether any row made it; a word with no
// row (out of the vocabulary, no n-grams) gets zeros and false.
func (s *SubwordVectors) WordVector(dst []float32, word string) bool {
	clear(dst)
	rows := s.Rows(nil, word)
	for _, r := range rows {
		row := s.Input[r*s.Dim : (r+1)*s.Dim]
		for j, x := range row {
			dst[j] += x
		}
	}
	if len(rows) == 0 {
		return false
	}
	inv := 1 / float32(len(rows))
	for j := range dst {
		dst[j] *= inv
	}
	return true
}

// isFastTextModel reports whether b, a file's first four bytes, is
// fastText's magic number.
func isFastTextModel(b []byte) bool {
	return len(b) >= 4 && binary.LittleEndian.Uint32(b) == fastTextMagic
}

// ReadFastTextModel reads the .bin model that fastText's skipgram, cbow and
// supervised commands write (format version 11 or 12, not quantized):
// the vocabulary's words (labels left out) with the vectors fastText's
// get_word_vector gives them, and Subwords for words outside the
// vocabulary. Name is the file's name for errors; size, when >= 0, is
// the file's size, which bounds what the header may claim.
func ReadFastTextModel(r io.Reader, name string, size int64) (*Vectors, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	rd := &binReader{r: br, name: name}
	if m := rd.int32("magic number"); rd.err == nil && m != fastTextMagic {
		return nil, fmt.Errorf("%s: not a fastText model (magic number %d)", name, m)
	}
	version := rd.int32("version")
	if rd.err == nil && (version < 11 || version > fastTextVersion) {
		return nil, fmt.Errorf("%s: fastText model format %d, want 11 or %d", name, version, fastTextVersion)
	}
	// Args: dim ws epoch minCount neg wordNgrams loss model bucket minn
	// maxn lrUpdateRate (int32 each), t (float64).
	var args [12]int32
	for i := range args {
		args[i] = rd.int32("arguments")
	}
	rd.float64("arguments")
	dim, model, buckets, minn, maxn := int(args[0]), args[7], int(args[8]), int(args[9]), int(args[10])
	if version == 11 && model == 3 {
		maxn = 0 // fastText: old supervised models have no n-grams
	}
	if rd.err == nil && (dim < 1 || dim > maxDim || buckets < 0 || buckets > maxBuckets || minn < 0 || maxn < 0) {
		return nil, fmt.Errorf("%s: model arguments dim %d, bucket %d, minn %d, maxn %d out of range", name, dim, buckets, minn, maxn)
	}
	// Dictionary.
	nentries := int(rd.int32("dictionary"))
	nwords := int(rd.int32("dictionary"))
	rd.int32("dictionary") // nlabels
	rd.int64("dictionary") // ntokens
	pruned := rd.int64("dictionary")
	if rd.err != nil {
		return nil, rd.err
	}
	// An entry takes at least a NUL, a count and a type: 10 bytes.
	if nentries < 0 || nwords < 0 || nwords > nentries || (size >= 0 && int64(nentries) > size/10) {
		return nil, fmt.Errorf("%s: dictionary of %d entries (%d words) does not fit the file", name, nentries, nwords)
	}
	if pruned >= 0 {
		return nil, fmt.Errorf("%s: a pruned (quantized) model; only full models are read", name)
	}
	v := &Vectors{Dim: dim, Words: make([]string, 0, min(nwords, 1<<12))}
	var word []byte
	for i := range nentries {
		word = word[:0]
		for {
			c, err := br.ReadByte()
			if err != nil {
				return nil, fmt.Errorf("%s: dictionary entry %d of %d: the file ends inside the word", name, i+1, nentries)
			}
			if c == 0 {
				break
			}
			if len(word) >= 1<<16 {
				return nil, fmt.Errorf("%s: dictionary entry %d of %d: a word of more than 65536 bytes", name, i+1, nentries)
			}
			word = append(word, c)
		}
		rd.int64("dictionary")    // count
		typ, err := br.ReadByte() // 0 word, 1 label
		if rd.err == nil && err != nil {
			rd.err = fmt.Errorf("%s: dictionary entry %d of %d: the file ends inside it", name, i+1, nentries)
		}
		if rd.err != nil {
			return nil, rd.err
		}
		if typ == 0 && i < nwords {
			v.Words = append(v.Words, string(word))
		}
	}
	if len(v.Words) != nwords {
		return nil, fmt.Errorf("%s: the dictionary says %d words, its entries hold %d", name, nwords, len(v.Words))
	}
	if quant, err := br.ReadByte(); err != nil || quant != 0 {
		if err != nil {
			return nil, fmt.Errorf("%s: the file ends before the input matrix", name)
		}
		return nil, fmt.Errorf("%s: a quantized model (.ftz); only full models are read", name)
	}
	rows, cols := rd.int64("input matrix"), rd.int64("input matrix")
	if rd.err != nil {
		return nil, rd.err
	}
	if cols != int64(dim) || rows != int64(nwords+buckets) {
		return nil, fmt.Errorf("%s: input matrix of %d × %d, want (%d words + %d buckets) × %d", name, rows, cols, nwords, buckets, dim)
	}
	if size >= 0 && rows*cols*4 > size {
		return nil, fmt.Errorf("%s: input matrix of %d × %d is larger than the file's %d bytes", name, rows, cols, size)
	}
	input, err := readFloats(br, int(rows*cols), size >= 0)
	if err != nil {
		return nil, fmt.Errorf("%s: input matrix: %w", name, err)
	}
	// The output matrix and whatever follows are not needed.
	sub, err := NewSubwordVectors(v.Words, dim, minn, maxn, buckets, input)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	v.Values = make([]float32, len(v.Words)*dim)
	for i, w := range v.Words {
		sub.WordVector(v.Values[i*dim:(i+1)*dim], w)
	}
	v.Subwords = sub
	return v, nil
}

// readFloats reads n little-endian float32 values, each finite. When the
// count is not known to fit the file (trusted false) it grows as values
// arrive rather than allocating n up front.
func readFloats(br *bufio.Reader, n int, trusted bool) ([]float32, error) {
	reserve := n
	if !trusted {
		reserve = min(n, maxReserve)
	}
	out := make([]float32, 0, reserve)
	buf := make([]byte, 4<<12)
	for len(out) < n {
		k := min(len(buf), 4*(n-len(out)))
		if _, err := io.ReadFull(br, buf[:k]); err != nil {
			return nil, fmt.Errorf("the file ends after %d of %d values", len(out), n)
		}
		for i := 0; i < k; i += 4 {
			x := math.Float32frombits(binary.LittleEndian.Uint32(buf[i:]))
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, fmt.Errorf("value %d is not a finite number", len(out)+1)
			}
			out = append(out, x)
		}
	}
	return out, nil
}

// binReader reads little-endian numbers, keeping the first error.
type binReader struct {
	r    io.Reader
	name string
	err  error
	b    [8]byte
}

func (b *binReader) read(n int, what string) []byte {
	if b.err != nil {
		return b.b[:n]
	}
	if _, err := io.ReadFull(b.r, b.b[:n]); err != nil {
		if errors.Is(err, io.EOF) && what == "magic number" {
			b.err = fmt.Errorf("%s: no vectors: the file is empty", b.name)
		} else {
			b.err = fmt.Errorf("%s: the file ends inside the %s", b.name, what)
		}
	}
	return b.b[:n]
}

func (b *binReader) int32(what string) int32 {
	return int32(binary.LittleEndian.Uint32(b.read(4, what)))
}

func (b *binReader) int64(what string) int64 {
	return int64(binary.LittleEndian.Uint64(b.read(8, what)))
}

func (b *binReader) float64(what string) float64 {
	return math.Float64frombits(binary.LittleEndian.Uint64(b.read(8, what)))
}
