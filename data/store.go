package data

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Store finds named datasets and word vectors: first under Dir, then
// under CacheDir, else it downloads them from their home pages (or from
// BaseURL) into CacheDir, drawing a progress bar on Progress.
type Store struct {
	// Dir holds local copies, as $CLASSIFY_DATA does; "" for none.
	Dir string
	// CacheDir receives downloads; "" for none (no download then).
	CacheDir string
	// BaseURL, when set, replaces the home pages: a file is fetched from
	// BaseURL + "/" + its archive's name. Tests point it at httptest.
	BaseURL string
	// Progress receives the progress bar; nil for none.
	Progress io.Writer
	// Client fetches the archives; nil means http.DefaultClient.
	Client *http.Client
}

// DefaultStore is the store of the environment: Dir is $CLASSIFY_DATA,
// CacheDir is os.UserCacheDir()/classify, BaseURL is
// $CLASSIFY_DOWNLOAD_URL, and progress goes to stderr.
func DefaultStore() *Store {
	s := &Store{Dir: os.Getenv("CLASSIFY_DATA"), BaseURL: os.Getenv("CLASSIFY_DOWNLOAD_URL"), Progress: os.Stderr}
	if c, err := os.UserCacheDir(); err == nil {
		s.CacheDir = filepath.Join(c, "classify")
	}
	return s
}

// dataset is a named download: the archive at url unpacks into a folder
// of the cache named name; local copies may also be named alias.
type dataset struct {
	name, alias, url string
}

var datasets = map[string]dataset{
	"rt-polarity": {"rt-polarity", "rt-polaritydata", "http://www.cs.cornell.edu/people/pabo/movie-review-data/rt-polaritydata.tar.gz"},
	"imdb":        {"imdb", "aclImdb", "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"},
}

var glove6B = dataset{"glove.6B", "glove", "https://nlp.stanford.edu/data/glove.6B.zip"}

// IsDatasetName reports whether name is a dataset that Store.Dataset knows.
func IsDatasetName(name string) bool { _, ok := datasets[name]; return ok }

var gloveName = regexp.MustCompile(`^glove\.6B\.(50|100|200|300)d$`)

// IsVectorsName reports whether name is a vectors name, glove.6B.50d to
// glove.6B.300d, that Store.Vectors knows.
func IsVectorsName(name string) bool { return gloveName.MatchString(name) }

// Dataset returns the folder of the named dataset ("rt-polarity", "imdb")
// that Load reads: Dir/name (or Dir/rt-polaritydata, Dir/aclImdb), then
// CacheDir/name, else it downloads and unpacks the dataset into
// CacheDir/name.
func (s *Store) Dataset(name string) (string, error) {
	d, ok := datasets[name]
	if !ok {
		return "", fmt.Errorf("%s: no such file, and not a dataset name (rt-polarity, imdb)", name)
	}
	find := func(root string) string {
		for _, dir := range []string{filepath.Join(root, d.name), filepath.Join(root, d.alias)} {
			if f := findDataFolder(dir, 2); f != "" {
				return f
			}
		}
		return ""
	}
	return s.resolve(name, d, find, "a data folder")
}

// findDataFolder returns dir, or a folder at most depth levels below it,
// that Load reads as a folder; "" when there is none.
func findDataFolder(dir string, depth int) string {
	if !isDir(dir) {
		return ""
	}
	if isFile(filepath.Join(dir, "rt-polarity.pos")) || isDir(filepath.Join(dir, "pos")) || isDir(filepath.Join(dir, "train", "pos")) {
		return dir
	}
	if depth == 0 {
		return ""
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.IsDir() {
			if f := findDataFolder(filepath.Join(dir, e.Name()), depth-1); f != "" {
				return f
			}
		}
	}
	return ""
}

// Vectors returns the file of the named vectors (glove.6B.50d ...
// glove.6B.300d): Dir/NAME.txt (or .txt.gz, also under Dir/glove and
// Dir/glove.6B), then CacheDir/glove.6B/NAME.txt, else it downloads
// glove.6B.zip and unpacks it into CacheDir/glove.6B.
func (s *Store) Vectors(name string) (string, error) {
	if !IsVectorsName(name) {
		return "", fmt.Errorf("%s: no such file, and not a vectors name (glove.6B.50d ... glove.6B.300d)", name)
	}
	find := func(root string) string {
		for _, dir := range []string{root, filepath.Join(root, glove6B.alias), filepath.Join(root, glove6B.name)} {
			for _, ext := range []string{".txt", ".txt.gz"} {
				if p := filepath.Join(dir, name+ext); isFile(p) {
					return p
				}
			}
		}
		return ""
	}
	return s.resolve(name, glove6B, find, name+".txt")
}

// resolve looks for name with find under Dir, then under CacheDir, and
// else downloads d into CacheDir and looks again; what names what the
// download should have held.
func (s *Store) resolve(name string, d dataset, find func(root string) string, what string) (string, error) {
	if s.Dir != "" {
		if f := find(s.Dir); f != "" {
			return f, nil
		}
	}
	if s.CacheDir == "" {
		return "", fmt.Errorf("%s: not found in $CLASSIFY_DATA and no cache folder to download it into", name)
	}
	if f := find(s.CacheDir); f != "" {
		return f, nil
	}
	if err := s.download(d); err != nil {
		return "", err
	}
	if f := find(s.CacheDir); f != "" {
		return f, nil
	}
	return "", fmt.Errorf("%s: the download from %s does not hold %s", name, s.url(d), what)
}
func (s *Store) url(d dataset) string {
	if s.BaseURL != "" {
		return strings.TrimSuffix(s.BaseURL, "/") + "/" + path.Base(d.url)
	}
	return d.url
}

// download fetches d's archive and unpacks it into CacheDir/d.name. It
// works in a temporary sibling folder and renames it at the end, so that
// a failure leaves nothing behind.
func (s *Store) download(d dataset) (err error) {
	if err := os.MkdirAll(s.CacheDir, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(s.CacheDir, "."+d.name+".download-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	url := s.url(d)
	archive := filepath.Join(tmp, path.Base(url))
	if err := s.fetch(url, archive); err != nil {
		return err
	}
	dest := filepath.Join(tmp, d.name)
	if strings.HasSuffix(archive, ".zip") {
		err = unzip(archive, dest)
	} else {
		err = untargz(archive, dest)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	if err := os.Rename(dest, filepath.Join(s.CacheDir, d.name)); err != nil {
		return err
	}
	return os.RemoveAll(tmp)
}

// fetch copies url into the file dst, drawing progress.
func (s *Store) fetch(url, dst string) error {
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Get(url)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download %s: %s", url, resp.Status)
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	var body io.Reader = resp.Body
	if s.Progress != nil {
		p := &progress{w: s.Progress, name: path.Base(url), total: resp.ContentLength}
		defer p.finish()
		body = io.TeeReader(resp.Body, p)
	}
	n, err := io.Copy(f, body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("download %s: %w", url, err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return fmt.Errorf("download %s: got %d of %d bytes", url, n, resp.ContentLength)
	}
	return nil
}

// progress is a one-line progress bar, redrawn at most every 100 ms.
type progress struct {
	w     io.Writer
	name  string
	total int64 // -1 when unknown
	done  int64
	last  time.Time
}

func (p *progress) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond || p.done == p.total {
		p.last = now
		p.draw()
	}
	return len(b), nil
}

func (p *progress) draw() {
	const width = 30
	mb := func(n int64) float64 { return float64(n) / 1e6 }
	if p.total <= 0 {
		fmt.Fprintf(p.w, "\rdownloading %s %.1f MB", p.name, mb(p.done))
		return
	}
	fill := int(int64(width) * p.done / p.total)
	fill = max(0, min(fill, width))
	fmt.Fprintf(p.w, "\rdownloading %s [%s%s] %3d%% %.1f/%.1f MB", p.name,
		strings.Repeat("=", fill), strings.Repeat(" ", width-fill), 100*p.done/p.total, mb(p.done), mb(p.total))
}

func (p *progress) finish() {
	p.draw()
	fmt.Fprintln(p.w)
}

// safeJoin joins an archive member's name to dest, refusing names that
// would land outside dest.
func safeJoin(dest, name string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(name))
	if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("archive member %q is outside the archive", name)
	}
	return filepath.Join(dest, clean), nil
}

// untargz unpacks the regular files and folders of a .tar.gz into dest.
func untargz(archive, dest string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		p, err := safeJoin(dest, h.Name)
		if err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := writeFile(p, tr); err != nil {
				return err
			}
		}
	}
}

// unzip unpacks the files of a .zip into dest.
func unzip(archive, dest string) error {
	zr, err := zip.OpenReader(archive)
	if err != nil {
		return err
	}
	defer zr.Close()
	for _, zf := range zr.File {
		p, err := safeJoin(dest, zf.Name)
		if err != nil {
			return err
		}
		if zf.FileInfo().IsDir() {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
			continue
		}
		r, err := zf.Open()
		if err != nil {
			return err
		}
		err = writeFile(p, r)
		r.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func writeFile(p string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
