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
	"strconv"
	"strings"
)

// Write writes the file path with write, atomically. The file gets mode
// 0644. On an error nothing is left behind and an older file at path is
// untouched.
func Write(path string, write func(w io.Writer) error) (err error) {
	cleanStale(filepath.Dir(path), filepath.Base(path), false)
	f, err := os.CreateTemp(filepath.Dir(path), tmpPrefix(filepath.Base(path))+"*")
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
	// rename and exchange are os.Rename and exchange; the tests replace
	// them to crash between the steps of a swap.
	rename, exchange func(from, to string) error
}

func newDirOptions(opts []DirOption) *dirOptions {
	o := &dirOptions{rename: os.Rename, exchange: exchange}
	for _, opt := range opts {
		opt(o)
	}
	return o
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
	return newDirOptions(opts).check(filepath.Clean(dir))
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
//
// On Linux the swap is one renameat2(RENAME_EXCHANGE): at every instant dir
// is the old folder or the new one. Where that is not available (another
// system, a file system without it) the old folder is renamed aside, to
// NAME.old, before the new one takes its place; a crash between the two
// renames leaves dir missing, and the next WriteDir of dir puts NAME.old
// back first. Each WriteDir also removes the temporary siblings that a
// crashed or killed writer left behind.
func WriteDir(dir string, fill func(tmp string) error, opts ...DirOption) error {
	o := newDirOptions(opts)
	dir = filepath.Clean(dir)
	parent, base := filepath.Dir(dir), filepath.Base(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	if err := cleanStale(parent, base, true); err != nil {
		return err
	}
	if err := o.check(dir); err != nil {
		return err
	}
	mode := os.FileMode(0o755)
	if st, err := os.Stat(dir); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.MkdirTemp(parent, tmpPrefix(base))
	if err != nil {
		return err
	}
	if err := fill(tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	// MkdirTemp makes the folder 0700; a checkpoint is as readable as the
	// folder it replaces, or 0755.
	if err := os.Chmod(tmp, mode); err != nil {
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
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		if err := o.rename(tmp, dir); err != nil {
			os.RemoveAll(tmp)
			return err
		}
		return syncDir(parent)
	}
	err = o.exchange(tmp, dir)
	if err == nil {
		// tmp now holds the old folder.
		if err := syncDir(parent); err != nil {
			return err
		}
		return os.RemoveAll(tmp)
	}
	if !errors.Is(err, errors.ErrUnsupported) {
		os.RemoveAll(tmp)
		return err
	}
	old := tmp + oldSuffix
	if err := o.rename(dir, old); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := o.rename(tmp, dir); err != nil {
		if o.rename(old, dir) == nil {
			os.RemoveAll(tmp)
		}
		return err
	}
	if err := syncDir(parent); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

// oldSuffix ends the name of a folder renamed aside during a two-rename
// swap.
const oldSuffix = ".old"

// tmpPrefix starts the name of a temporary sibling of base. It holds the
// writer's process id, so that a later writer removes only what a writer
// that is gone left behind: .NAME.tmp-pPID-RANDOM.
func tmpPrefix(base string) string {
	return fmt.Sprintf(".%s.tmp-p%d-", base, os.Getpid())
}

// cleanStale removes the temporary siblings of base in parent that a
// writer no longer running left behind (and those of the older naming,
// .NAME.tmp-RANDOM, without a process id). This process's own count as
// stale: one process does not write one path from two goroutines at once. When dirs is set and the folder
// base is missing, a stale NAME.old, the old folder of a two-rename swap
// that stopped half way, is first put back.
func cleanStale(parent, base string, dirs bool) error {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return err
	}
	prefix := "." + base + ".tmp-"
	var stale []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) || e.IsDir() != dirs {
			continue
		}
		pid, ok := writerPID(name[len(prefix):])
		if !ok || (pid != 0 && pid != os.Getpid() && processRunning(pid)) {
			continue
		}
		stale = append(stale, name)
	}
	target := filepath.Join(parent, base)
	if _, err := os.Lstat(target); dirs && errors.Is(err, os.ErrNotExist) {
		for _, name := range stale {
			if strings.HasSuffix(name, oldSuffix) {
				if err := os.Rename(filepath.Join(parent, name), target); err != nil {
					return fmt.Errorf("putting back %s, the old %s of an interrupted write: %w", name, target, err)
				}
				break
			}
		}
	}
	for _, name := range stale {
		os.RemoveAll(filepath.Join(parent, name))
	}
	return nil
}

// writerPID reads the rest of a temporary name: "pPID-RANDOM" gives the
// writer's process id, "RANDOM" (the older naming) none; RANDOM is the
// digits os.MkdirTemp and os.CreateTemp put, maybe followed by ".old". ok is
// false for a name that is not one of ours.
func writerPID(rest string) (pid int, ok bool) {
	rest = strings.TrimSuffix(rest, oldSuffix)
	if digits, random, found := strings.Cut(strings.TrimPrefix(rest, "p"), "-"); found && strings.HasPrefix(rest, "p") {
		pid, err := strconv.Atoi(digits)
		return pid, err == nil && pid > 0 && allDigits(random)
	}
	return 0, allDigits(rest)
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
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
