package data

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Store finds named datasets and word vectors: first under Dir, then
// under CacheDir, else it downloads them from their home pages (or from
// BaseURL) into CacheDir, drawing a progress bar on Progress.
type Store struct {
	// Dir holds local copies, as $CLASSIFY_DATA does; "" for none. Its
	// layout is ../shared/data's: NAME/SPLIT.tsv (or .jsonl, .csv), or a
	// folder that Load reads, and glove/NAME.txt[.gz].
	Dir string
	// CacheDir receives downloads; "" for none (no download then).
	CacheDir string
	// BaseURL, when set, replaces the home pages: a file is fetched from
	// BaseURL + "/" + its name. Tests point it at httptest.
	BaseURL string
	// Progress receives the progress bar; nil for none.
	Progress io.Writer
	// Client fetches the files; nil means a client whose connections
	// time out after 30s.
	Client *http.Client
	// StallTimeout ends a download that receives nothing for this long
	// (before the answer's headers too); 0 means one minute.
	StallTimeout time.Duration
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

// remoteFile is one file of a download.
type remoteFile struct {
	url string
	// sha256 is the file's published SHA-256; "" where none is known here,
	// in which case the download prints the SHA-256 it got.
	sha256 string
}

// dataset is a named dataset or vectors download: its files unpack (or
// convert) into the cache folder name; local copies may also be in a
// folder named alias.
type dataset struct {
	name, alias string
	home        string // the home page, for the licence and the citation
	licence     string
	files       []remoteFile
	// convert turns the downloaded files in src (archives unpacked) into
	// the layout that Dataset finds, under dest; nil when the unpacked
	// archives are that layout already.
	convert func(src, dest string) error
}

// datasets are the names that Dataset knows. The licence notes and local
// files are those of ../shared/data/PROVENANCE.md.
var datasets = map[string]dataset{
	"rt-polarity": {
		name: "rt-polarity", alias: "rt-polaritydata",
		home:    "http://www.cs.cornell.edu/people/pabo/movie-review-data/",
		licence: "no licence given; distributed by the authors (Pang and Lee 2005) for research use",
		files:   []remoteFile{{url: "http://www.cs.cornell.edu/people/pabo/movie-review-data/rt-polaritydata.tar.gz"}},
	},
	"imdb": {
		name: "imdb", alias: "aclImdb",
		home:    "https://ai.stanford.edu/~amaas/data/sentiment/",
		licence: "none stated; cite Maas et al. 2011 (ACL-HLT) as the dataset's README asks",
		files: []remoteFile{{url: "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
			sha256: "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"}},
	},
	"trec": {
		name: "trec", home: "https://cogcomp.seas.upenn.edu/Data/QA/QC/",
		licence: "none stated for the data; cite Li and Roth 2002 (COLING)",
		files: []remoteFile{
			{url: "https://cogcomp.seas.upenn.edu/Data/QA/QC/train_5500.label"},
			{url: "https://cogcomp.seas.upenn.edu/Data/QA/QC/TREC_10.label"},
		},
		convert: convertTREC,
	},
	"ag_news": {
		name: "ag_news", home: "http://groups.di.unipi.it/~gulli/AG_corpus_of_news_articles.html",
		licence: "AG's readme: for research purposes and any other non-commercial activity; cite Zhang, Zhao and LeCun 2015",
		files: []remoteFile{
			{url: "https://raw.githubusercontent.com/mhjabreel/CharCnn_Keras/master/data/ag_news_csv/train.csv"},
			{url: "https://raw.githubusercontent.com/mhjabreel/CharCnn_Keras/master/data/ag_news_csv/test.csv"},
		},
		convert: convertAGNews,
	},
	// SST-5 and Reuters-21578 come as PTB trees and SGML, which classify
	// does not convert: they are found locally only.
	"sst5": {
		name: "sst5", home: "https://nlp.stanford.edu/sentiment/",
		licence: "none stated for the data; cite Socher et al. 2013 (EMNLP)",
	},
	"reuters": {
		name: "reuters", home: "https://archive.ics.uci.edu/dataset/137/reuters+21578+text+categorization+collection",
		licence: "Reuters Ltd. and Carnegie Group allow free distribution for research purposes only",
	},
}

var glove6B = dataset{
	name: "glove.6B", alias: "glove",
	home:    "https://nlp.stanford.edu/projects/glove/",
	licence: "Public Domain Dedication and License v1.0 (PDDL); cite Pennington, Socher and Manning 2014",
	files:   []remoteFile{{url: "https://nlp.stanford.edu/data/glove.6B.zip"}},
}

// datasetNames lists the dataset names, sorted.
func datasetNames() []string {
	var n []string
	for k := range datasets {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// splitName splits "NAME:SPLIT" into its parts; SPLIT is "train" when
// not given.
func splitName(s string) (name, split string) {
	name, split, ok := strings.Cut(s, ":")
	if !ok || split == "" {
		split = "train"
	}
	return name, split
}

var splitPattern = regexp.MustCompile(`^[a-z]+$`)

// IsDatasetName reports whether s names a dataset that Store.Dataset
// knows: NAME or NAME:SPLIT, NAME one of rt-polarity, imdb, trec, sst5,
// ag_news, reuters, SPLIT a word such as train, test or dev.
func IsDatasetName(s string) bool {
	name, split := splitName(s)
	_, ok := datasets[name]
	return ok && splitPattern.MatchString(split)
}

var gloveName = regexp.MustCompile(`^glove\.6B\.(50|100|200|300)d$`)

// IsVectorsName reports whether name is a vectors name, glove.6B.50d to
// glove.6B.300d, that Store.Vectors knows.
func IsVectorsName(name string) bool { return gloveName.MatchString(name) }

// Dataset returns the file or folder that Load reads for a dataset name,
// NAME or NAME:SPLIT (the train split when no split is given): under Dir,
// then CacheDir, NAME/SPLIT.tsv (or .jsonl, .csv) or a folder
// NAME/SPLIT that Load reads (as aclImdb/test); for the train split also
// a folder NAME that Load reads whole (rt-polarity's .pos and .neg). Else
// it downloads the dataset into CacheDir/NAME and looks again.
func (s *Store) Dataset(ref string) (string, error) {
	name, split := splitName(ref)
	d, ok := datasets[name]
	if !ok || !splitPattern.MatchString(split) {
		return "", fmt.Errorf("%s: no such file, and not a dataset name (%s, optionally with :SPLIT)", ref, strings.Join(datasetNames(), ", "))
	}
	find := func(root string) string {
		var dirs []string
		for _, n := range []string{d.name, d.alias} {
			if n == "" {
				continue
			}
			dir := filepath.Join(root, n)
			if !isDir(dir) {
				continue
			}
			dirs = append(dirs, dir)
			// An archive's own top folder, as aclImdb_v1.tar.gz's aclImdb/.
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
					dirs = append(dirs, filepath.Join(dir, e.Name()))
				}
			}
		}
		for _, dir := range dirs {
			for _, ext := range []string{".tsv", ".jsonl", ".csv"} {
				if p := filepath.Join(dir, split+ext); isFile(p) {
					return p
				}
			}
			if f := findDataFolder(filepath.Join(dir, split), 0); f != "" {
				return f
			}
		}
		if split == "train" {
			for _, dir := range dirs {
				if f := findDataFolder(dir, 0); f != "" {
					return f
				}
			}
		}
		return ""
	}
	return s.resolve(ref, d, find, "a "+split+" split")
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
// glove.6B.300d): under Dir (also Dir/glove and Dir/glove.6B) NAME.txt or
// NAME.txt.gz, or else a subset of it named NAME.topN.txt[.gz] (what
// ../shared/data keeps: glove.6B.50d.top10k.txt holds the 10,000 most
// frequent words); then CacheDir/glove.6B/NAME.txt; else it downloads
// glove.6B.zip (822 MB) and unpacks it into CacheDir/glove.6B.
func (s *Store) Vectors(name string) (string, error) {
	if !IsVectorsName(name) {
		return "", fmt.Errorf("%s: no such file, and not a vectors name (glove.6B.50d ... glove.6B.300d)", name)
	}
	find := func(root string) string {
		dirs := []string{root, filepath.Join(root, glove6B.alias), filepath.Join(root, glove6B.name)}
		for _, dir := range dirs {
			for _, ext := range []string{".txt", ".txt.gz"} {
				if p := filepath.Join(dir, name+ext); isFile(p) {
					return p
				}
			}
		}
		for _, dir := range dirs {
			for _, pat := range []string{name + ".top*.txt", name + ".top*.txt.gz"} {
				if m, _ := filepath.Glob(filepath.Join(dir, pat)); len(m) > 0 {
					return m[0]
				}
			}
		}
		return ""
	}
	return s.resolve(name, glove6B, find, name+".txt")
}

// resolve looks for ref with find under Dir, then under CacheDir, and
// else downloads d into CacheDir and looks again; what names what the
// download should have held.
func (s *Store) resolve(ref string, d dataset, find func(root string) string, what string) (string, error) {
	if s.Dir != "" {
		if f := find(s.Dir); f != "" {
			return f, nil
		}
	}
	if len(d.files) == 0 {
		return "", fmt.Errorf("%s: not found under $CLASSIFY_DATA (%q), and classify cannot download it: put its files in %s/ (see %s; licence: %s)",
			ref, s.Dir, d.name, d.home, d.licence)
	}
	if s.CacheDir == "" {
		return "", fmt.Errorf("%s: not found in $CLASSIFY_DATA and no cache folder to download it into", ref)
	}
	if f := find(s.CacheDir); f != "" {
		return f, nil
	}
	if !isDir(filepath.Join(s.CacheDir, d.name)) {
		if err := s.download(d); err != nil {
			return "", err
		}
		if f := find(s.CacheDir); f != "" {
			return f, nil
		}
	}
	return "", fmt.Errorf("%s: the download of %s (in %s) does not hold %s", ref, d.name, filepath.Join(s.CacheDir, d.name), what)
}

func (s *Store) url(f remoteFile) string {
	if s.BaseURL != "" {
		return strings.TrimSuffix(s.BaseURL, "/") + "/" + path.Base(f.url)
	}
	return f.url
}

func (s *Store) stallTimeout() time.Duration {
	if s.StallTimeout > 0 {
		return s.StallTimeout
	}
	return time.Minute
}

// download fetches d's files and unpacks them into CacheDir/d.name. It
// works in a temporary sibling folder, .NAME.download-*, renamed at the
// end and removed on any failure; one left by a killed run is removed
// by the next download once it has not changed for two stall timeouts.
func (s *Store) download(d dataset) (err error) {
	if err := os.MkdirAll(s.CacheDir, 0o755); err != nil {
		return err
	}
	s.removeStale(d)
	tmp, err := os.MkdirTemp(s.CacheDir, "."+d.name+".download-")
	if err != nil {
		return err
	}
	defer func() {
		if rerr := os.RemoveAll(tmp); err == nil && rerr != nil {
			err = rerr
		}
	}()
	if s.Progress != nil {
		fmt.Fprintf(s.Progress, "%s: downloading from %s (licence: %s)\n", d.name, d.home, d.licence)
	}
	src := filepath.Join(tmp, "files")
	for _, f := range d.files {
		url := s.url(f)
		file := filepath.Join(tmp, path.Base(url))
		if err := s.fetch(url, file, f.sha256); err != nil {
			return err
		}
		switch {
		case strings.HasSuffix(file, ".zip"):
			err = unzip(file, src)
		case strings.HasSuffix(file, ".tar.gz"), strings.HasSuffix(file, ".tgz"):
			err = untargz(file, src)
		default:
			err = os.MkdirAll(src, 0o755)
			if err == nil {
				err = os.Rename(file, filepath.Join(src, path.Base(url)))
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", url, err)
		}
	}
	dest := src
	if d.convert != nil {
		dest = filepath.Join(tmp, "converted")
		if err := os.MkdirAll(dest, 0o755); err != nil {
			return err
		}
		if err := d.convert(src, dest); err != nil {
			return fmt.Errorf("%s: converting the download: %w", d.name, err)
		}
	}
	return os.Rename(dest, filepath.Join(s.CacheDir, d.name))
}

// removeStale removes the .NAME.download-* folders of earlier runs that
// have not changed for two stall timeouts: a download in progress writes
// more often than that.
func (s *Store) removeStale(d dataset) {
	old, _ := filepath.Glob(filepath.Join(s.CacheDir, "."+d.name+".download-*"))
	for _, dir := range old {
		newest := time.Time{}
		filepath.WalkDir(dir, func(_ string, e os.DirEntry, err error) error {
			if err == nil {
				if fi, err := e.Info(); err == nil && fi.ModTime().After(newest) {
					newest = fi.ModTime()
				}
			}
			return nil
		})
		if time.Since(newest) > 2*s.stallTimeout() {
			os.RemoveAll(dir)
		}
	}
}

// errStalled ends a download that receives nothing for StallTimeout.
var errStalled = errors.New("stalled")

// fetch copies url into the file dst, drawing progress, and checks its
// SHA-256 against want when want is known.
func (s *Store) fetch(url, dst, want string) error {
	client := s.Client
	if client == nil {
		client = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout: 30 * time.Second,
		}}
	}
	stall := s.stallTimeout()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	timer := time.AfterFunc(stall, func() { cancel(errStalled) })
	defer timer.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("download %s: %w", url, err)
	}
	stalled := func(err error) error {
		if errors.Is(context.Cause(ctx), errStalled) {
			return fmt.Errorf("download %s: nothing received for %v: stalled", url, stall)
		}
		return fmt.Errorf("download %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return stalled(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download %s: %s", url, resp.Status)
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	h := sha256.New()
	var body io.Reader = &resetReader{r: resp.Body, timer: timer, d: stall}
	if s.Progress != nil {
		p := &progress{w: s.Progress, name: path.Base(url), total: resp.ContentLength}
		defer p.finish()
		body = io.TeeReader(body, p)
	}
	n, err := io.Copy(io.MultiWriter(f, h), body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return stalled(err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return fmt.Errorf("download %s: got %d of %d bytes", url, n, resp.ContentLength)
	}
	got := hex.EncodeToString(h.Sum(nil))
	switch {
	case want != "" && got != want:
		return fmt.Errorf("download %s: SHA-256 %s, want %s: the file is not the published one", url, got, want)
	case want == "" && s.Progress != nil:
		fmt.Fprintf(s.Progress, "%s: SHA-256 %s (no published checksum to compare it with)\n", path.Base(url), got)
	}
	return nil
}

// resetReader pushes the stall timer back at each read that gets bytes.
type resetReader struct {
	r     io.Reader
	timer *time.Timer
	d     time.Duration
}

func (r *resetReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.timer.Reset(r.d)
	}
	return n, err
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

// convertTREC writes train.tsv and test.tsv from Li and Roth's
// train_5500.label and TREC_10.label, lines "DESC:manner How did ...":
// the coarse class (before the colon) is the label. The files are
// Windows-1252 (train_5500 has one byte 0xF0).
func convertTREC(src, dest string) error {
	for in, out := range map[string]string{"train_5500.label": "train.tsv", "TREC_10.label": "test.tsv"} {
		err := convertLines(filepath.Join(src, in), filepath.Join(dest, out), func(line string) (string, string, error) {
			head, text, ok := strings.Cut(line, " ")
			label, _, ok2 := strings.Cut(head, ":")
			if !ok || !ok2 || label == "" || strings.TrimSpace(text) == "" {
				return "", "", errors.New(`want "COARSE:fine question"`)
			}
			return label, text, nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// convertLines writes label<TAB>text lines to out from the lines of in
// (Windows-1252), each split by parse.
func convertLines(in, out string, parse func(string) (label, text string, err error)) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	var b strings.Builder
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(DecodeWindows1252(sc.Bytes()))
		if line == "" {
			continue
		}
		label, text, err := parse(line)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", filepath.Base(in), n, err)
		}
		fmt.Fprintf(&b, "%s\t%s\n", label, oneLine(text))
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(in), err)
	}
	return os.WriteFile(out, []byte(b.String()), 0o644)
}

// oneLine makes text fit a TSV field: tabs and line breaks become spaces.
func oneLine(text string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("\t", " ", "\r", " ", "\n", " ").Replace(text)), " ")
}

// agNewsClasses are the label names of AG's News class indexes 1-4
// (classes.txt).
var agNewsClasses = []string{"World", "Sports", "Business", "Sci/Tech"}

// convertAGNews writes train.tsv and test.tsv from AG's train.csv and
// test.csv (rows "class index","title","description"): the label is the
// class's name and the text the title and the description, AG's "\"
// line breaks made spaces. (The copy in ../shared/data is a 4,000-row
// sample with descriptions only.)
func convertAGNews(src, dest string) error {
	for _, split := range []string{"train", "test"} {
		in := filepath.Join(src, split+".csv")
		f, err := os.Open(in)
		if err != nil {
			return err
		}
		r := csv.NewReader(f)
		r.FieldsPerRecord = 3
		var b strings.Builder
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				f.Close()
				return fmt.Errorf("%s: %w", in, err)
			}
			line, _ := r.FieldPos(0)
			k := strings.TrimSpace(rec[0])
			if len(k) != 1 || k[0] < '1' || k[0] > '4' {
				f.Close()
				return fmt.Errorf("%s:%d: class %q is not 1-4", filepath.Base(in), line, rec[0])
			}
			text := oneLine(strings.ReplaceAll(rec[1]+" "+rec[2], `\`, " "))
			fmt.Fprintf(&b, "%s\t%s\n", agNewsClasses[k[0]-'1'], text)
		}
		f.Close()
		if err := os.WriteFile(filepath.Join(dest, split+".tsv"), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
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
