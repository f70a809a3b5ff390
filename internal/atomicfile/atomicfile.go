// Package atomicfile writes files and folders so that a reader, or a
// program that crashed half way, sees the old version or the whole new one,
// never a part: the content goes to a temporary sibling, is synced to disk,
// and is renamed into place.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Write writes the file path with write, atomically. The file gets mode
// 0644. On an error nothing is left behind and an older file at path is
// untouched.
func Write(path string, write func(w io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	if err := write(w); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// A DirOption changes how WriteDir treats an existing folder.
type DirOption func(*dirOptions)

type dirOptions struct {
	replace func(dir string) error
}

// ReplaceIf lets WriteDir replace an existing folder that is not empty
// when may(dir) returns nil; the error it returns otherwise is WriteDir's.
// Without ReplaceIf, WriteDir replaces only an empty folder.
func ReplaceIf(may func(dir string) error) DirOption {
	return func(o *dirOptions) { o.replace = may }
}

// CheckReplace tells whether WriteDir(dir, fill, opts...) may put a new
// folder at dir: nil when dir does not exist, is an empty folder, or is a
// folder that the ReplaceIf option accepts.
func CheckReplace(dir string, opts ...DirOption) error {
	var o dirOptions
	for _, opt := range opts {
		opt(&o)
	}
	return o.check(filepath.Clean(dir))
}

func (o *dirOptions) check(dir string) error {
	st, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s exists and is not a folder", dir)
	}
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	names, err := f.Readdirnames(1)
	f.Close()
	if len(names) == 0 && errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		return err
	}
	if o.replace == nil {
		return fmt.Errorf("%s exists and is not empty; it is left as it is", dir)
	}
	return o.replace(dir)
}

// WriteDir makes the folder dir with fill, atomically: fill writes into a
// fresh temporary sibling, which is synced and then takes dir's place,
// replacing an older folder there. An existing folder that is not empty is
// replaced only when an option allows it (see ReplaceIf): a folder of the
// user's is never deleted by mistake. On an error nothing is left behind
// and an older dir is as it was.
func WriteDir(dir string, fill func(tmp string) error, opts ...DirOption) error {
	var o dirOptions
	for _, opt := range opts {
		opt(&o)
	}
	dir = filepath.Clean(dir)
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	if err := o.check(dir); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return err
	}
	if err := fill(tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := syncTree(tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	// fill may have run for a while: look again just before the swap.
	if err := o.check(dir); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	old := ""
	if _, err := os.Stat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			os.RemoveAll(tmp)
			return err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			os.Rename(old, dir)
		}
		os.RemoveAll(tmp)
		return err
	}
	if old != "" {
		os.RemoveAll(old)
	}
	return syncDir(parent)
}

// syncTree syncs the regular files of dir and dir itself.
func syncTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return err
		}
	}
	return syncDir(dir)
}

// syncDir makes a folder's entries (a rename) durable. Some file systems
// cannot sync a folder; that is not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	d.Sync()
	return d.Close()
}
