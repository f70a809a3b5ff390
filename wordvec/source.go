package wordvec

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/classify/classify/data"
)

// Source is a training corpus on disk, read as many times as training
// needs: plain text files (one or many sentences a line, UTF-8, gzipped
// when the name ends in .gz), a folder of them, or any form data.Load
// reads (.tsv, .csv, .jsonl, a dataset folder or name), whose texts are
// used and labels ignored. Plain text is streamed; dataset texts are held
// in memory. Every text is split into words by data.Words, the project's
// tokenization.
type Source struct {
	// Path is the path or name the Source was opened with.
	Path  string
	files []string
	texts []string
}

// maxSegment is the longest piece of a line handed to the tokenizer at
// once: longer lines (a whole corpus on one line, as text8) are cut at a
// space, so that memory does not grow with the line.
const maxSegment = 1 << 20

// OpenSource resolves path: a data.Load form is loaded at once, a plain
// text file or folder is listed (every regular file below it, hidden ones
// left out, in path order) and read later.
func OpenSource(path string, opts data.LoadOptions) (*Source, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist) && data.IsDatasetName(path):
		return loadSource(path, opts)
	case err != nil:
		return nil, fmt.Errorf("corpus %s: %w", path, err)
	case st.IsDir() && isDatasetFolder(path):
		return loadSource(path, opts)
	case st.IsDir():
		s := &Source{Path: path}
		err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p != path && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				s.files = append(s.files, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("corpus %s: %w", path, err)
		}
		if len(s.files) == 0 {
			return nil, fmt.Errorf("corpus %s: the folder holds no file", path)
		}
		return s, nil
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".tsv", ".csv", ".jsonl":
		return loadSource(path, opts)
	}
	return &Source{Path: path, files: []string{path}}, nil
}

// isDatasetFolder tells the folder forms of data.Load from a folder of
// plain text.
func isDatasetFolder(dir string) bool {
	exists := func(p string, dir bool) bool {
		st, err := os.Stat(p)
		return err == nil && st.IsDir() == dir
	}
	return exists(filepath.Join(dir, "rt-polarity.pos"), false) && exists(filepath.Join(dir, "rt-polarity.neg"), false) ||
		exists(filepath.Join(dir, "pos"), true) && exists(filepath.Join(dir, "neg"), true) ||
		exists(filepath.Join(dir, "train", "pos"), true) && exists(filepath.Join(dir, "train", "neg"), true)
}

func loadSource(path string, opts data.LoadOptions) (*Source, error) {
	ex, err := data.Load(path, opts)
	if err != nil {
		return nil, err
	}
	return &Source{Path: path, texts: data.Texts(ex)}, nil
}

// Files returns the plain text files the Source reads; none for a dataset.
func (s *Source) Files() []string { return s.files }

// Texts returns the number of dataset texts the Source holds; zero for
// plain text.
func (s *Source) Texts() int { return len(s.texts) }

// Each calls fn with the words of each sentence: each dataset text, or
// each line of plain text. fn must not keep words beyond the call.
func (s *Source) Each(fn func(words []string)) error {
	for _, t := range s.texts {
		fn(data.Words(t))
	}
	for _, f := range s.files {
		if err := eachFileLine(f, func(line []byte) { fn(data.Words(string(line))) }); err != nil {
			return err
		}
	}
	return nil
}

func eachFileLine(path string, fn func(line []byte)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(strings.ToLower(path), ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	if err := eachLine(r, maxSegment, fn); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// eachLine calls fn with each line of r, without its line break and
// without a leading byte order mark; a line longer than max bytes comes in
// pieces cut after a space or tab (or, with none, at a character
// boundary), so that no word is cut unless it is itself that long.
func eachLine(r io.Reader, max int, fn func(line []byte)) error {
	br := bufio.NewReaderSize(r, max)
	var carry []byte // the uncut rest of a long line
	first := true
	for {
		chunk, err := br.ReadSlice('\n')
		if first {
			chunk = bytes.TrimPrefix(chunk, []byte("\ufeff"))
			first = false
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			carry = append(carry, chunk...)
			cut := bytes.LastIndexAny(carry, " \t") + 1
			if cut == 0 {
				cut = len(carry)
				// No space: cut before a character the chunk splits.
				for k := 1; k <= utf8.UTFMax && k < len(carry); k++ {
					if utf8.RuneStart(carry[len(carry)-k]) {
						if !utf8.FullRune(carry[len(carry)-k:]) {
							cut = len(carry) - k
						}
						break
					}
				}
			}
			fn(carry[:cut])
			carry = carry[:copy(carry, carry[cut:])]
			continue
		}
		line := bytes.TrimSuffix(chunk, []byte("\n"))
		if len(carry) > 0 {
			carry = append(carry, line...)
			line = carry
		}
		if len(line) > 0 || err == nil {
			fn(line)
		}
		carry = carry[:0]
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Count reads the Source and counts its words.
func (s *Source) Count() (*Counter, error) {
	c := NewCounter()
	err := s.Each(c.Add)
	return c, err
}

// Corpus reads the Source into a Corpus over vocab.
func (s *Source) Corpus(vocab *Vocabulary) (*Corpus, error) {
	c := NewCorpus(vocab)
	err := s.Each(c.Add)
	return c, err
}

// Cooccurrence reads the Source and counts the co-occurrences of vocab's
// words within window of each other, without keeping the text.
func (s *Source) Cooccurrence(vocab *Vocabulary, window int) (*Cooccurrence, error) {
	x := NewCooccurrence()
	var ids []int32
	err := s.Each(func(words []string) {
		ids = ids[:0]
		for _, w := range words {
			if id, ok := vocab.ID(w); ok {
				ids = append(ids, id)
			}
		}
		x.AddSentence(ids, window)
	})
	return x, err
}
