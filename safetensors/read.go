package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"unicode/utf8"
)

// maxHeaderLen is the largest header Read accepts, the reference
// implementation's limit (100 MB), so that a corrupt length cannot make it
// allocate without bound.
const maxHeaderLen = 100_000_000

// File is a safetensors file read into memory.
type File struct {
	// Path is the file ReadFile read, "" after Read; errors name it.
	Path string
	// Tensors are the file's tensors in the order of their data. Their
	// Data slices share one buffer.
	Tensors []Tensor
	// Metadata is the header's "__metadata__" entry, nil when absent.
	Metadata map[string]string
	index    map[string]int
}

// Read reads one whole safetensors file from r and checks it: see ReadFile.
// It reads r to its end, to refuse trailing bytes.
func Read(r io.Reader) (*File, error) {
	return read(r, -1)
}

// ReadSized reads one whole safetensors file of size bytes from r (an
// fs.File whose Stat says its size) and checks it as ReadFile does: the
// buffer is allocated once, rather than grown as Read grows it.
func ReadSized(r io.Reader, size int64) (*File, error) {
	return read(r, size)
}

// ReadFile reads and checks the safetensors file path. It refuses, with an
// error that names the file and the tensor at fault, a file shorter than
// its 8-byte header length, a header length past the end of the file, a
// header that is not a JSON object of valid UTF-8, a repeated name, an
// entry without dtype, shape or data_offsets, an unknown dtype,
// data_offsets that end before they start, disagree with the size of
// shape, overlap the previous tensor's, leave a gap after it, or run out of
// the buffer, and bytes after the last tensor's data.
func ReadFile(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	file, err := read(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	file.Path = path
	return file, nil
}

// entry is one tensor's line of the header.
type entry struct {
	name       string
	dtype      DType
	shape      []int
	start, end uint64
}

// read reads a file of size bytes from r, or of unknown size when size < 0.
func read(r io.Reader, size int64) (*File, error) {
	var lenBuf [8]byte
	if n, err := io.ReadFull(r, lenBuf[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("truncated: %d bytes, too short for the 8-byte header length", n)
		}
		return nil, err
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > maxHeaderLen {
		return nil, fmt.Errorf("header length %d is over the limit of %d bytes", n, maxHeaderLen)
	}
	if size >= 0 && n > uint64(size-8) {
		return nil, fmt.Errorf("header length %d runs past the end of the file (%d bytes after the length)", n, size-8)
	}
	header, err := readN(r, n, size >= 0)
	if err != nil {
		return nil, err
	}
	if uint64(len(header)) < n {
		return nil, fmt.Errorf("header length %d runs past the end of the file (%d bytes after the length)", n, len(header))
	}
	metadata, entries, err := parseHeader(header)
	if err != nil {
		return nil, err
	}
	bodyLen, err := checkOffsets(entries)
	if err != nil {
		return nil, err
	}
	if size >= 0 {
		avail := uint64(size) - 8 - n
		if bodyLen > avail {
			return nil, outOfBuffer(entries, avail)
		}
		if bodyLen < avail {
			return nil, fmt.Errorf("%d trailing bytes after the last tensor's data", avail-bodyLen)
		}
	}
	body, err := readN(r, bodyLen, size >= 0)
	if err != nil {
		return nil, err
	}
	if uint64(len(body)) < bodyLen {
		return nil, outOfBuffer(entries, uint64(len(body)))
	}
	if size < 0 {
		var extra [1]byte
		if k, _ := io.ReadFull(r, extra[:]); k > 0 {
			return nil, errors.New("trailing bytes after the last tensor's data")
		}
	}
	return newFile(metadata, entries, body), nil
}

// Parse checks the safetensors file b, held whole in memory (a mapped
// file, say), as ReadFile checks a file, and returns it without copying:
// the tensors' Data slices are parts of b, which must not change while
// they are used.
func Parse(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("truncated: %d bytes, too short for the 8-byte header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > maxHeaderLen {
		return nil, fmt.Errorf("header length %d is over the limit of %d bytes", n, maxHeaderLen)
	}
	if n > uint64(len(b)-8) {
		return nil, fmt.Errorf("header length %d runs past the end of the file (%d bytes after the length)", n, len(b)-8)
	}
	metadata, entries, err := parseHeader(b[8 : 8+n])
	if err != nil {
		return nil, err
	}
	bodyLen, err := checkOffsets(entries)
	if err != nil {
		return nil, err
	}
	body := b[8+n:]
	if avail := uint64(len(body)); bodyLen > avail {
		return nil, outOfBuffer(entries, avail)
	} else if bodyLen < avail {
		return nil, fmt.Errorf("%d trailing bytes after the last tensor's data", avail-bodyLen)
	}
	return newFile(metadata, entries, body), nil
}

// newFile makes the File of checked entries over their data buffer body.
func newFile(metadata map[string]string, entries []entry, body []byte) *File {
	f := &File{Metadata: metadata, Tensors: make([]Tensor, len(entries)), index: make(map[string]int, len(entries))}
	for i, e := range entries {
		f.Tensors[i] = Tensor{Name: e.name, DType: e.dtype, Shape: e.shape, Data: body[e.start:e.end:e.end]}
		f.index[e.name] = i
	}
	return f
}

// readN reads up to n bytes of r. When exact, the caller has checked that
// r holds them, and the buffer is allocated at once; otherwise it grows as
// bytes arrive, so that a lying header cannot make it allocate n.
func readN(r io.Reader, n uint64, exact bool) ([]byte, error) {
	if exact {
		buf := make([]byte, n)
		k, err := io.ReadFull(r, buf)
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return buf[:k], nil
		}
		return buf, err
	}
	if n > math.MaxInt64 {
		n = math.MaxInt64
	}
	return io.ReadAll(io.LimitReader(r, int64(n)))
}

// outOfBuffer names the first tensor whose data runs past avail bytes.
func outOfBuffer(entries []entry, avail uint64) error {
	for _, e := range entries {
		if e.end > avail {
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] run out of the %d-byte data buffer (truncated file?)", e.name, e.start, e.end, avail)
		}
	}
	return fmt.Errorf("data buffer of %d bytes is truncated", avail)
}

// checkOffsets sorts entries by their data and checks that they tile the
// buffer from 0 without gap or overlap, each as long as its shape needs. It
// returns the buffer's length.
func checkOffsets(entries []entry) (uint64, error) {
	slices.SortFunc(entries, func(a, b entry) int {
		if a.start != b.start {
			if a.start < b.start {
				return -1
			}
			return 1
		}
		if a.end < b.end {
			return -1
		} else if a.end > b.end {
			return 1
		}
		return 0
	})
	var want uint64
	prev := ""
	for _, e := range entries {
		if e.end < e.start {
			return 0, fmt.Errorf("tensor %q: data_offsets [%d, %d] end before they start", e.name, e.start, e.end)
		}
		size, err := byteSize(e.dtype, e.shape)
		if err != nil {
			return 0, fmt.Errorf("tensor %q: %w", e.name, err)
		}
		if e.end-e.start != uint64(size) {
			return 0, fmt.Errorf("tensor %q: data_offsets [%d, %d] hold %d bytes, but shape %v of %s needs %d", e.name, e.start, e.end, e.end-e.start, e.shape, e.dtype, size)
		}
		switch {
		case e.start < want:
			return 0, fmt.Errorf("tensor %q: data_offsets [%d, %d] overlap tensor %q, which ends at %d", e.name, e.start, e.end, prev, want)
		case e.start > want && prev == "":
			return 0, fmt.Errorf("tensor %q: data_offsets [%d, %d] leave a gap: bytes [0, %d) belong to no tensor", e.name, e.start, e.end, e.start)
		case e.start > want:
			return 0, fmt.Errorf("tensor %q: data_offsets [%d, %d] leave a gap after tensor %q: bytes [%d, %d) belong to no tensor", e.name, e.start, e.end, prev, want, e.start)
		}
		want, prev = e.end, e.name
	}
	return want, nil
}

// parseHeader parses the JSON header into its metadata and tensor entries.
func parseHeader(h []byte) (map[string]string, []entry, error) {
	if !utf8.Valid(h) {
		return nil, nil, errors.New("header is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(h))
	bad := func(err error) error {
		return fmt.Errorf("bad JSON header at byte %d of the header: %v", dec.InputOffset(), err)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, bad(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, bad(fmt.Errorf("want a JSON object, found %v", tok))
	}
	var metadata map[string]string
	var entries []entry
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, bad(err)
		}
		name := tok.(string) // inside an object, Token returns keys as strings
		if seen[name] {
			return nil, nil, fmt.Errorf("tensor %q: appears twice in the header", name)
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, bad(err)
		}
		if name == metadataKey {
			if err := json.Unmarshal(raw, &metadata); err != nil {
				return nil, nil, fmt.Errorf("%s is not an object of strings: %v", metadataKey, err)
			}
			continue
		}
		e, err := parseEntry(name, raw)
		if err != nil {
			return nil, nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, nil, bad(err)
	}
	if tok, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = fmt.Errorf("%v after the header object", tok)
		}
		return nil, nil, bad(err)
	}
	return metadata, entries, nil
}

// parseEntry parses {"dtype": ..., "shape": [...], "data_offsets": [s, e]}.
// Keys match exactly, as in the reference; other keys are ignored.
func parseEntry(name string, raw json.RawMessage) (entry, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return entry{}, fmt.Errorf("header entry %s is not an object", raw)
	}
	e := entry{name: name}
	var dtype string
	var shape, offsets []uint64
	for _, f := range []struct {
		key string
		v   any
	}{{"dtype", &dtype}, {"shape", &shape}, {"data_offsets", &offsets}} {
		r, ok := fields[f.key]
		if !ok {
			return entry{}, fmt.Errorf("header entry has no %s", f.key)
		}
		if err := json.Unmarshal(r, f.v); err != nil {
			return entry{}, fmt.Errorf("bad %s %s", f.key, r)
		}
	}
	e.dtype = DType(dtype)
	if _, ok := e.dtype.Size(); !ok {
		return entry{}, fmt.Errorf("unknown dtype %q", dtype)
	}
	if shape == nil {
		return entry{}, errors.New("shape is null")
	}
	e.shape = make([]int, len(shape))
	for i, d := range shape {
		if d > math.MaxInt {
			return entry{}, fmt.Errorf("shape %v has a dimension larger than an int", shape)
		}
		e.shape[i] = int(d)
	}
	if len(offsets) != 2 {
		return entry{}, fmt.Errorf("data_offsets %v are not [start, end]", offsets)
	}
	e.start, e.end = offsets[0], offsets[1]
	return e, nil
}

// Tensor returns the tensor called name, and whether there is one.
func (f *File) Tensor(name string) (Tensor, bool) {
	i, ok := f.index[name]
	if !ok {
		return Tensor{}, false
	}
	return f.Tensors[i], true
}

// Names returns the names of the file's tensors, sorted.
func (f *File) Names() []string {
	names := make([]string, len(f.Tensors))
	for i, t := range f.Tensors {
		names[i] = t.Name
	}
	slices.Sort(names)
	return names
}

// Float32s returns the elements of the F32 tensor called name, checking
// that it exists and that its shape is shape (empty for a scalar). Loading
// a checkpoint calls it once per parameter.
func (f *File) Float32s(name string, shape []int) ([]float32, error) {
	t, ok := f.Tensor(name)
	if !ok {
		return nil, f.errorf("no tensor %q", name)
	}
	if !slices.Equal(t.Shape, shape) {
		return nil, f.errorf("tensor %q has shape %v, want %v", name, t.Shape, shape)
	}
	v, err := t.Float32s()
	if err != nil {
		return nil, f.errorf("%v", err)
	}
	return v, nil
}

// errorf makes an error that names f's path when it has one.
func (f *File) errorf(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	if f.Path != "" {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	return err
}
