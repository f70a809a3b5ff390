package data

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Limits on what the readers of this package take in, so that no file, not
// even /dev/zero, can exhaust memory.
const (
	// DefaultMaxLineBytes is the longest line the line readers take when
	// LoadOptions.MaxLineBytes is 0 (SPEC section 3: --max-line-bytes).
	DefaultMaxLineBytes = 1 << 20
	// MaxTokenizerBytes bounds the size of a tokenizer.json (64 MiB), room
	// for a vocabulary of some three million words.
	MaxTokenizerBytes = 64 << 20
)

// ReadFileLimit reads the file path, as os.ReadFile does, and refuses with
// an error naming it one of more than limit bytes, without reading further:
// a device or a pipe that never ends is stopped at the limit.
func ReadFileLimit(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadLimit(f, path, limit)
}

// ReadLimit reads r to its end as io.ReadAll does, and refuses with an
// error naming path a content of more than limit bytes, without reading
// further. A regular file (r with a Stat method: *os.File, fs.File) is
// refused from its size before anything is read.
func ReadLimit(r io.Reader, path string, limit int64) ([]byte, error) {
	size := int64(-1)
	if st, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := st.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
	}
	tooLarge := func(size string) error {
		return fmt.Errorf("%s: %s, over the limit of %d bytes", path, size, limit)
	}
	if size >= 0 {
		if size > limit {
			return nil, tooLarge(fmt.Sprintf("%d bytes", size))
		}
		var buf bytes.Buffer
		buf.Grow(int(size) + 1)
		if _, err := buf.ReadFrom(io.LimitReader(r, limit+1)); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if int64(buf.Len()) > limit {
			return nil, tooLarge("more bytes")
		}
		return buf.Bytes(), nil
	}
	// A device or a pipe: read it in chunks, so that what was read before
	// the limit is held once, not in a buffer grown by doubling.
	var chunks [][]byte
	var total int64
	for {
		chunk := make([]byte, 1<<20)
		n, err := io.ReadFull(r, chunk)
		chunks = append(chunks, chunk[:n])
		if total += int64(n); total > limit {
			return nil, tooLarge("more bytes")
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return bytes.Join(chunks, nil), nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
}
