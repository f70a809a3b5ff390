package data

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
)

func tarGz(t *testing.T, files map[string]string) []byte {
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	for name, content := range files {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg})
		tw.Write([]byte(content))
	}
	tw.Close()
	gz.Close()
	return b.Bytes()
}

func zipped(t *testing.T, files map[string]string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, content := range files {
		w, _ := zw.Create(name)
		w.Write([]byte(content))
	}
	zw.Close()
	return b.Bytes()
}

// archiveServer serves archives by file name and counts the requests.
func archiveServer(t *testing.T, archives map[string][]byte) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		b, ok := archives[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestStoreDownload(t *testing.T) {
	srv, hits := archiveServer(t, map[string][]byte{
		"rt-polaritydata.tar.gz": tarGz(t, map[string]string{
			"rt-polaritydata/rt-polarity.pos": "a fine film \nclich\xe9s\n",
			"rt-polaritydata/rt-polarity.neg": "dull \x85\n",
		}),
		"glove.6B.zip": zipped(t, map[string]string{"glove.6B.50d.txt": "the 1 2\n", "glove.6B.100d.txt": "the 1 2 3\n"}),
	})
	var progress bytes.Buffer
	s := &Store{CacheDir: t.TempDir(), BaseURL: srv.URL, Progress: &progress}
	want := [][2]string{{"a fine film", "pos"}, {"clichés", "pos"}, {"dull …", "neg"}}
	for i := 0; i < 2; i++ { // the second time from the cache
		got, err := s.Load("rt-polarity", LoadOptions{})
		if err != nil || !reflect.DeepEqual(labelled(got), want) {
			t.Fatalf("Load(rt-polarity) = %+v, %v; want %+v", got, err, want)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("%d downloads, want 1", n)
	}
	if !strings.Contains(progress.String(), "rt-polaritydata.tar.gz") || !strings.Contains(progress.String(), "100%") {
		t.Errorf("progress = %q, want the archive's name and 100%%", progress.String())
	}
	v, err := s.LoadVectors("glove.6B.100d")
	if err != nil || v.Dim != 3 || v.Words[0] != "the" {
		t.Errorf("LoadVectors(glove.6B.100d) = %+v, %v; want the 3-d file", v, err)
	}
	entries, _ := os.ReadDir(s.CacheDir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"glove.6B", "rt-polarity"}; !reflect.DeepEqual(names, want) {
		t.Errorf("cache holds %q, want %q", names, want)
	}
}

func TestStoreLocalFirst(t *testing.T) {
	srv, hits := archiveServer(t, nil)
	local := t.TempDir()
	writeTestFile(t, local, "aclImdb/train/pos/1_9.txt", "great")
	writeTestFile(t, local, "aclImdb/train/neg/2_1.txt", "awful")
	writeTestFile(t, local, "aclImdb/test/pos/3_8.txt", "fine")
	writeTestFile(t, local, "aclImdb/test/neg/4_2.txt", "bad")
	writeTestFile(t, local, "glove/glove.6B.50d.txt", "the 1 2\n")
	s := &Store{Dir: local, CacheDir: t.TempDir(), BaseURL: srv.URL}
	got, err := s.Load("imdb", LoadOptions{})
	if want := [][2]string{{"awful", "neg"}, {"great", "pos"}}; err != nil || !reflect.DeepEqual(labelled(got), want) {
		t.Errorf("Load(imdb) = %+v, %v; want %+v", got, err, want)
	}
	if _, err := s.LoadVectors("glove.6B.50d"); err != nil {
		t.Errorf("LoadVectors(glove.6B.50d): %v", err)
	}
	if hits.Load() != 0 {
		t.Errorf("downloaded although $CLASSIFY_DATA has the data")
	}
}

// TestStoreFailure checks that a failed download leaves nothing behind.
func TestStoreFailure(t *testing.T) {
	bad := tarGz(t, map[string]string{"../escape.txt": "x"})
	srv, _ := archiveServer(t, map[string][]byte{
		"aclImdb_v1.tar.gz": bad,
		"glove.6B.zip":      []byte("not a zip"),
	})
	cache := t.TempDir()
	s := &Store{CacheDir: cache, BaseURL: srv.URL}
	for _, name := range []string{"imdb", "rt-polarity"} { // an archive that escapes; a 404
		if _, err := s.Load(name, LoadOptions{}); err == nil {
			t.Errorf("Load(%s) = nil error", name)
		}
	}
	if _, err := s.LoadVectors("glove.6B.50d"); err == nil {
		t.Errorf("LoadVectors of a bad zip = nil error")
	}
	if entries, _ := os.ReadDir(cache); len(entries) != 0 {
		t.Errorf("cache holds %v after failed downloads, want nothing", entries)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(cache), "escape.txt")); err == nil {
		t.Errorf("the archive wrote outside the cache")
	}
}
