package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadFileLimit(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	os.WriteFile(small, []byte("0123456789"), 0o644)
	for _, tc := range []struct {
		path    string
		limit   int64
		want    string
		wantErr string
	}{
		{small, 10, "0123456789", ""},
		{small, 9, "", "10 bytes, over the limit of 9 bytes"},
		{"/dev/zero", 1 << 20, "", "over the limit of 1048576 bytes"},
		{filepath.Join(dir, "missing"), 10, "", "no such file"},
	} {
		if tc.path == "/dev/zero" {
			if _, err := os.Stat(tc.path); err != nil {
				continue
			}
		}
		b, err := ReadFileLimit(tc.path, tc.limit)
		if tc.wantErr == "" && (err != nil || string(b) != tc.want) {
			t.Errorf("ReadFileLimit(%s, %d) = %q, %v; want %q", tc.path, tc.limit, b, err, tc.want)
		}
		if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), tc.path)) {
			t.Errorf("ReadFileLimit(%s, %d) = %v, want an error naming the file with %q", tc.path, tc.limit, err, tc.wantErr)
		}
	}
}

// TestLoadTokenizerBounded: a tokenizer.json that never ends (issue 11,
// item 4: one pointing at /dev/zero exhausted memory) is refused at the
// limit.
func TestLoadTokenizerBounded(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := os.Symlink("/dev/zero", path); err != nil {
		t.Skip(err)
	}
	if _, err := LoadTokenizer(path); err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Errorf("LoadTokenizer(-> /dev/zero) = %v, want an error saying it is over the limit", err)
	}
}
