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
	if err := WriteDir(dir, put("two")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a")); string(b) != "two" {
		t.Errorf("after a second WriteDir the folder holds %q, want %q", b, "two")
	}
	boom := errors.New("boom")
	if err := WriteDir(dir, func(tmp string) error { put("three")(tmp); return boom }); !errors.Is(err, boom) {
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
