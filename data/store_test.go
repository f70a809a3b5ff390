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
	"time"
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

// TestStoreSplits resolves names and splits in a folder laid out as
// ../shared/data is.
func TestStoreSplits(t *testing.T) {
	local := t.TempDir()
	for _, f := range []string{"trec/train.tsv", "trec/test.tsv", "sst5/dev.tsv", "rt-polarity/train.tsv",
		"rt-polarity/test.tsv", "rt-polarity/rt-polarity.pos", "rt-polarity/rt-polarity.neg", "reuters/train.jsonl",
		"glove/glove.6B.50d.top10k.txt", "glove/glove.6B.100d.top100k.txt.gz"} {
		writeTestFile(t, local, f, "x")
	}
	s := &Store{Dir: local}
	for _, c := range []struct{ ref, want string }{
		{"trec", "trec/train.tsv"},
		{"trec:train", "trec/train.tsv"},
		{"trec:test", "trec/test.tsv"},
		{"sst5:dev", "sst5/dev.tsv"},
		{"rt-polarity", "rt-polarity/train.tsv"},
		{"rt-polarity:test", "rt-polarity/test.tsv"},
		{"reuters", "reuters/train.jsonl"},
	} {
		got, err := s.Dataset(c.ref)
		if want := filepath.Join(local, c.want); err != nil || got != want {
			t.Errorf("Dataset(%q) = %q, %v; want %q", c.ref, got, err, want)
		}
	}
	for _, c := range []struct{ ref, want string }{
		{"glove.6B.50d", "glove/glove.6B.50d.top10k.txt"},
		{"glove.6B.100d", "glove/glove.6B.100d.top100k.txt.gz"},
	} {
		got, err := s.Vectors(c.ref)
		if want := filepath.Join(local, c.want); err != nil || got != want {
			t.Errorf("Vectors(%q) = %q, %v; want %q", c.ref, got, err, want)
		}
	}
	for _, c := range []struct{ ref, want string }{
		{"sst5", "cannot download it"},
		{"reuters:test", "https://archive.ics.uci.edu"},
		{"nosuch", "not a dataset name (ag_news, imdb, reuters, rt-polarity, sst5, trec"},
		{"trec:Test", "not a dataset name"},
	} {
		if _, err := s.Dataset(c.ref); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Dataset(%q) = %v, want an error with %q", c.ref, err, c.want)
		}
	}
	if !IsDatasetName("ag_news:test") || IsDatasetName("ag_news:") == false || IsDatasetName("news") || IsDatasetName("trec:a/b") {
		t.Error("IsDatasetName does not tell names from paths")
	}
}

// TestStoreSharedData resolves every name in ../shared/data.
func TestStoreSharedData(t *testing.T) {
	dir := sharedDataDir(t)
	s := &Store{Dir: dir}
	for _, ref := range []string{"rt-polarity", "rt-polarity:test", "trec", "trec:test", "sst5", "sst5:dev", "sst5:test",
		"ag_news", "ag_news:test", "imdb", "imdb:test", "reuters", "reuters:test"} {
		if p, err := s.Dataset(ref); err != nil || !isFile(p) {
			t.Errorf("Dataset(%q) = %q, %v; want a file of %s", ref, p, err, dir)
		}
	}
	for _, name := range []string{"glove.6B.50d", "glove.6B.100d"} {
		if p, err := s.Vectors(name); err != nil || !isFile(p) {
			t.Errorf("Vectors(%q) = %q, %v", name, p, err)
		}
	}
	ex, err := s.Load("rt-polarity:test", LoadOptions{})
	if err != nil || len(ex) != 2133 {
		t.Errorf("Load(rt-polarity:test): %d examples, %v; want 2133 (PROVENANCE section 1)", len(ex), err)
	}
}

// sharedDataDir is ../shared/data or $CLASSIFY_DATA, or skips t.
func sharedDataDir(t *testing.T) string {
	t.Helper()
	for _, d := range []string{os.Getenv("CLASSIFY_DATA"), filepath.Join("..", "..", "shared", "data")} {
		if d != "" && isDir(filepath.Join(d, "trec")) {
			return d
		}
	}
	t.Skip("shared data not found: set CLASSIFY_DATA or keep ../shared/data beside the repository")
	return ""
}

// TestStoreConverts downloads TREC and AG's News in their published forms
// from a local server and reads the splits they convert to.
func TestStoreConverts(t *testing.T) {
	srv, _ := archiveServer(t, map[string][]byte{
		"train_5500.label": []byte("DESC:manner How did serfdom develop ?\nLOC:city Which city has a sister\xf0city ?\n"),
		"TREC_10.label":    []byte("NUM:date When was Ozzy Osbourne born ?\n"),
		"train.csv":        []byte("\"3\",\"Wall St. Bears\",\"Short-sellers\\\\band of ultra-cynics\"\n\"2\",\"Win\",\"A \"\"great\"\" game\"\n"),
		"test.csv":         []byte("\"4\",\"Space\",\"A probe\"\n"),
	})
	s := &Store{CacheDir: t.TempDir(), BaseURL: srv.URL}
	for _, c := range []struct {
		ref  string
		want string
	}{
		{"trec", "DESC\tHow did serfdom develop ?\nLOC\tWhich city has a sisterðcity ?\n"},
		{"trec:test", "NUM\tWhen was Ozzy Osbourne born ?\n"},
		{"ag_news", "Business\tWall St. Bears Short-sellers band of ultra-cynics\nSports\tWin A \"great\" game\n"},
		{"ag_news:test", "Sci/Tech\tSpace A probe\n"},
	} {
		p, err := s.Dataset(c.ref)
		if err != nil {
			t.Errorf("Dataset(%q): %v", c.ref, err)
			continue
		}
		if b, _ := os.ReadFile(p); string(b) != c.want {
			t.Errorf("Dataset(%q) holds %q, want %q", c.ref, b, c.want)
		}
	}
}

// TestStoreChecksum refuses a download whose SHA-256 is not the
// published one, and keeps nothing of it.
func TestStoreChecksum(t *testing.T) {
	srv, _ := archiveServer(t, map[string][]byte{
		"aclImdb_v1.tar.gz": tarGz(t, map[string]string{"aclImdb/train/pos/1_9.txt": "great", "aclImdb/train/neg/1_1.txt": "bad"}),
	})
	cache := t.TempDir()
	s := &Store{CacheDir: cache, BaseURL: srv.URL}
	if _, err := s.Dataset("imdb"); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Errorf("Dataset(imdb) of a tampered archive = %v, want a SHA-256 error", err)
	}
	if entries, _ := os.ReadDir(cache); len(entries) != 0 {
		t.Errorf("cache holds %v after a bad checksum, want nothing", entries)
	}
}

// TestStoreStall ends a download that stops sending, before and after the
// headers, and leaves nothing behind.
func TestStoreStall(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".zip") { // no headers at all
			<-release
			return
		}
		w.Header().Set("Content-Length", "1000")
		w.Write(make([]byte, 100))
		w.(http.Flusher).Flush()
		<-release
	}))
	defer srv.Close()
	defer close(release) // before srv.Close, which waits for the handlers
	cache := t.TempDir()
	s := &Store{CacheDir: cache, BaseURL: srv.URL, StallTimeout: 200 * time.Millisecond}
	start := time.Now()
	if _, err := s.Dataset("rt-polarity"); err == nil || !strings.Contains(err.Error(), "stalled") {
		t.Errorf("Dataset of a stalled body = %v, want a stall error", err)
	}
	if _, err := s.Vectors("glove.6B.50d"); err == nil || !strings.Contains(err.Error(), "stalled") {
		t.Errorf("Vectors with no answer = %v, want a stall error", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("two stalls took %v, want about 0.4s", took)
	}
	if entries, _ := os.ReadDir(cache); len(entries) != 0 {
		t.Errorf("cache holds %v after stalled downloads, want nothing", entries)
	}
}

// TestStoreRemovesStale removes what a killed download left, and leaves a
// fresh one (another process's) alone.
func TestStoreRemovesStale(t *testing.T) {
	srv, _ := archiveServer(t, map[string][]byte{
		"rt-polaritydata.tar.gz": tarGz(t, map[string]string{"rt-polaritydata/rt-polarity.pos": "good\n", "rt-polaritydata/rt-polarity.neg": "bad\n"}),
	})
	cache := t.TempDir()
	stale := filepath.Join(cache, ".rt-polarity.download-111")
	fresh := filepath.Join(cache, ".rt-polarity.download-222")
	writeTestFile(t, stale, "rt-polaritydata.tar.gz", "part")
	writeTestFile(t, fresh, "rt-polaritydata.tar.gz", "part")
	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(stale, "rt-polaritydata.tar.gz"), old, old)
	os.Chtimes(stale, old, old)
	s := &Store{CacheDir: cache, BaseURL: srv.URL}
	if _, err := s.Dataset("rt-polarity"); err != nil {
		t.Fatal(err)
	}
	if isDir(stale) || !isDir(fresh) {
		t.Errorf("after a download: stale left %v, fresh kept %v; want false, true", isDir(stale), isDir(fresh))
	}
}
