package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
)

// withRenames replaces the renames of WriteDir's swap, so that a test can
// crash between them.
func withRenames(rename, exchange func(from, to string) error) DirOption {
	return func(o *dirOptions) {
		if rename != nil {
			o.rename = rename
		}
		if exchange != nil {
			o.exchange = exchange
		}
	}
}

var mayReplaceAll = ReplaceIf(func(string) error { return nil })

func putA(content string) func(string) error {
	return func(tmp string) error { return os.WriteFile(filepath.Join(tmp, "a"), []byte(content), 0o644) }
}

func readA(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "a"))
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return string(b)
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

// TestCrashHelper is not a test: run by crashWriteDir in a child process,
// it starts a WriteDir of $ATOMICFILE_CRASH_DIR and exits with status 3 at
// the step $ATOMICFILE_CRASH_AT names, as a kill -9 would stop it.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv("ATOMICFILE_CRASH_DIR")
	if dir == "" {
		t.Skip("run by crashWriteDir")
	}
	die := func() { os.Exit(3) }
	fill := putA("new")
	var opts []DirOption
	switch at := os.Getenv("ATOMICFILE_CRASH_AT"); at {
	case "fill":
		fill = func(tmp string) error { putA("new")(tmp); die(); return nil }
	case "between renames":
		renames := 0
		opts = append(opts, withRenames(func(from, to string) error {
			if renames++; renames == 2 {
				die()
			}
			return os.Rename(from, to)
		}, func(string, string) error { return errors.ErrUnsupported }))
	case "after exchange":
		opts = append(opts, withRenames(nil, func(from, to string) error {
			if err := exchange(from, to); err != nil {
				return err
			}
			die()
			return nil
		}))
	default:
		t.Fatalf("ATOMICFILE_CRASH_AT=%q", at)
	}
	WriteDir(dir, fill, append(opts, mayReplaceAll)...)
	t.Fatal("WriteDir returned; the crash did not happen")
}

// crashWriteDir runs a WriteDir of dir in a child process that dies at the
// step at, and returns the child's process id.
func crashWriteDir(t *testing.T, dir, at string) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$")
	cmd.Env = append(os.Environ(), "ATOMICFILE_CRASH_DIR="+dir, "ATOMICFILE_CRASH_AT="+at)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("crash at %s: %v, want exit status 3\n%s", at, err, out)
	}
	return cmd.Process.Pid
}

// TestWriteDirRecoversFromCrash replays issue 11, item 5: a writer killed
// after out -> .out.tmp-N.old and before tmp -> out left out missing, and
// killed writers left their temporary folders behind for good. The next
// WriteDir puts the old folder back and removes what was left.
func TestWriteDirRecoversFromCrash(t *testing.T) {
	for _, tc := range []struct {
		at string
		// during is what dir holds right after the crash.
		during string
	}{
		{"fill", "old"},
		{"between renames", "(missing)"},
		{"after exchange", "new"},
	} {
		if tc.at == "after exchange" && runtime.GOOS != "linux" {
			continue
		}
		parent := t.TempDir()
		dir := filepath.Join(parent, "ck")
		if err := WriteDir(dir, putA("old")); err != nil {
			t.Fatal(err)
		}
		crashWriteDir(t, dir, tc.at)
		got := readA(t, dir)
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			got = "(missing)"
		}
		if got != tc.during || len(names(t, parent)) < 2 {
			t.Fatalf("crash at %s: ck holds %s, parent %v; the test does not reach the window it means", tc.at, got, names(t, parent))
		}

		// A failed write still recovers what the crash left.
		boom := errors.New("boom")
		if err := WriteDir(dir, func(string) error { return boom }, mayReplaceAll); !errors.Is(err, boom) {
			t.Fatalf("crash at %s: next WriteDir = %v, want the fill's error", tc.at, err)
		}
		want := tc.during
		if want == "(missing)" {
			want = "old"
		}
		if got := readA(t, dir); got != want {
			t.Errorf("crash at %s: after the next WriteDir ck holds %s, want %s", tc.at, got, want)
		}
		if got := names(t, parent); len(got) != 1 {
			t.Errorf("crash at %s: after the next WriteDir the parent holds %v, want only ck", tc.at, got)
		}
		if err := WriteDir(dir, putA("newer"), mayReplaceAll); err != nil || readA(t, dir) != "newer" {
			t.Errorf("crash at %s: then WriteDir = %v and ck holds %s, want newer", tc.at, err, readA(t, dir))
		}
	}
}

// TestWriteDirExchanges checks that on Linux a replace is one exchange, never
// a rename of the old folder aside.
func TestWriteDirExchanges(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("renameat2 is Linux's")
	}
	dir := filepath.Join(t.TempDir(), "ck")
	if err := WriteDir(dir, putA("one")); err != nil {
		t.Fatal(err)
	}
	exchanges := 0
	err := WriteDir(dir, putA("two"), mayReplaceAll, withRenames(func(from, to string) error {
		t.Errorf("rename(%s, %s) during a replace, want one exchange", from, to)
		return os.Rename(from, to)
	}, func(from, to string) error { exchanges++; return exchange(from, to) }))
	if err != nil || exchanges != 1 || readA(t, dir) != "two" {
		t.Errorf("WriteDir = %v, %d exchanges, ck holds %s; want nil, 1, two", err, exchanges, readA(t, dir))
	}
	if got := names(t, filepath.Dir(dir)); len(got) != 1 {
		t.Errorf("after a replace the parent holds %v, want only ck", got)
	}
}

// TestCleanStaleKeepsOthers: only the temporary siblings of the folder
// written, and only those of writers that are gone, are removed.
func TestCleanStaleKeepsOthers(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "ck")
	if err := WriteDir(dir, putA("old")); err != nil {
		t.Fatal(err)
	}
	gone := exec.Command(os.Args[0], "-test.run=^$")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	stale := []string{".ck.tmp-123456", ".ck.tmp-123456.old", fmt.Sprintf(".ck.tmp-p%d-42", gone.Process.Pid), fmt.Sprintf(".ck.tmp-p%d-42.old", gone.Process.Pid)}
	kept := []string{fmt.Sprintf(".ck.tmp-p%d-7", os.Getppid()), ".ck.tmp-x.tmp-p1-2", ".ck.tmp-notes", ".ck2.tmp-1", "ck.tmp-1"}
	for _, name := range append(append([]string{}, stale...), kept...) {
		if err := os.Mkdir(filepath.Join(parent, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteDir(dir, putA("new"), mayReplaceAll); err != nil {
		t.Fatal(err)
	}
	want := append([]string{"ck"}, kept...)
	sort.Strings(want)
	if got := names(t, parent); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after WriteDir the parent holds %v, want %v", got, want)
	}
	if got := readA(t, dir); got != "new" {
		t.Errorf("ck holds %s, want new", got)
	}

	// Write removes the stale temporary files of its path the same way.
	path := filepath.Join(parent, "f.txt")
	staleFile := filepath.Join(parent, fmt.Sprintf(".f.txt.tmp-p%d-99", gone.Process.Pid))
	os.WriteFile(staleFile, []byte("half"), 0o644)
	if err := Write(path, func(w io.Writer) error { _, err := io.WriteString(w, "x"); return err }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(staleFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Write left the stale %s (%v)", staleFile, err)
	}
}

// TestWriteDirMode: a new folder is 0755 (os.MkdirTemp makes 0700), a
// replaced one keeps its mode (issue 11, item 9).
func TestWriteDirMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ck")
	if err := WriteDir(dir, putA("one")); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o755 {
		t.Errorf("new folder mode %v, want 0755", st.Mode().Perm())
	}
	os.Chmod(dir, 0o750)
	if err := WriteDir(dir, putA("two"), mayReplaceAll); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o750 {
		t.Errorf("replaced folder mode %v, want 0750 as before", st.Mode().Perm())
	}
}
