package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	if err := Write(path, func(w io.Writer) error { _, err := io.WriteString(w, "old"); return err }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := Write(path, func(w io.Writer) error { io.WriteString(w, "half"); return boom }); !errors.Is(err, boom) {
		t.Fatalf("Write = %v, want the writer's error", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("after a failed Write the file holds %q, want %q", b, "old")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("a failed Write left %d entries, want 1", len(entries))
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
}

func TestWriteDir(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "ck")
	put := func(content string) func(string) error {
		return func(tmp string) error { return os.WriteFile(filepath.Join(tmp, "a"), []byte(content), 0o644) }
	}
	if err := WriteDir(dir, put("one")); err != nil {
		t.Fatal(err)
	}
	mayReplace := ReplaceIf(func(string) error { return nil })
	if err := WriteDir(dir, put("two"), mayReplace); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a")); string(b) != "two" {
		t.Errorf("after a second WriteDir the folder holds %q, want %q", b, "two")
	}
	boom := errors.New("boom")
	if err := WriteDir(dir, func(tmp string) error { put("three")(tmp); return boom }, mayReplace); !errors.Is(err, boom) {
		t.Fatalf("WriteDir = %v, want the fill's error", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a")); string(b) != "two" {
		t.Errorf("after a failed WriteDir the folder holds %q, want %q", b, "two")
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 1 {
		t.Errorf("a failed WriteDir left %d entries in the parent, want 1", len(entries))
	}
	os.WriteFile(filepath.Join(parent, "file"), nil, 0o644)
	if err := WriteDir(filepath.Join(parent, "file"), put("x")); err == nil {
		t.Error("WriteDir over a file succeeded")
	}
}

// TestWriteDirKeepsUserFolder: a folder that is not empty is replaced only
// when the ReplaceIf option says so; the user's files stay otherwise.
func TestWriteDirKeepsUserFolder(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "p")
	os.Mkdir(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte("x"), 0o644)
	put := func(tmp string) error { return os.WriteFile(filepath.Join(tmp, "a"), []byte("new"), 0o644) }
	refuse := errors.New("not a checkpoint")
	for _, tc := range []struct {
		name string
		opts []DirOption
		want error
	}{
		{"no option", nil, nil},
		{"ReplaceIf refuses", []DirOption{ReplaceIf(func(string) error { return refuse })}, refuse},
	} {
		err := WriteDir(dir, put, tc.opts...)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: WriteDir over a user folder = %v, want an error (%v)", tc.name, err, tc.want)
		}
		if err := CheckReplace(dir, tc.opts...); err == nil {
			t.Errorf("%s: CheckReplace = nil, want an error", tc.name)
		}
		if b, err := os.ReadFile(filepath.Join(dir, "main.go")); err != nil || string(b) != "x" {
			t.Errorf("%s: after a refused WriteDir main.go = %q, %v; want it kept", tc.name, b, err)
		}
		if entries, _ := os.ReadDir(parent); len(entries) != 1 {
			t.Errorf("%s: a refused WriteDir left %d entries in the parent, want 1", tc.name, len(entries))
		}
	}
	if err := WriteDir(dir, put, ReplaceIf(func(string) error { return nil })); err != nil {
		t.Fatalf("WriteDir with ReplaceIf accepting = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "main.go")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after an accepted replace main.go is still there (%v)", err)
	}
	empty := filepath.Join(parent, "empty")
	os.Mkdir(empty, 0o755)
	if err := CheckReplace(empty); err != nil {
		t.Errorf("CheckReplace(empty folder) = %v, want nil", err)
	}
	if err := WriteDir(empty, put); err != nil {
		t.Errorf("WriteDir over an empty folder = %v, want nil", err)
	}
	if err := CheckReplace(filepath.Join(parent, "missing")); err != nil {
		t.Errorf("CheckReplace(missing) = %v, want nil", err)
	}
}
