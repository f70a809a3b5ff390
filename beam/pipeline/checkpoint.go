package pipeline

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"

	"github.com/classify/classify/models"
)

// LoadPredictor loads the checkpoint folder dir, a local path or a URL of a
// Beam file system (gs://bucket/ckpt), for prediction. A remote checkpoint
// is read through the file system, with no local copy.
func LoadPredictor(ctx context.Context, dir string) (*models.Predictor, error) {
	if !hasScheme(dir) {
		return models.LoadPredictor(dir)
	}
	fsys, err := OpenFS(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer fsys.Close()
	ck, err := models.LoadFS(fsys, dir)
	if err != nil {
		return nil, err
	}
	return models.NewPredictor(ck), nil
}

// hasScheme reports whether p is a URL (gs://...) rather than a local path.
func hasScheme(p string) bool {
	i := strings.Index(p, "://")
	return i > 0 && !strings.ContainsAny(p[:i], `/\`)
}

// FS is a folder of a Beam file system as an fs.FS: Open reads the file
// name (slash-separated, relative to the folder) through the file system.
// It lists no directories; Close releases the file system.
type FS struct {
	ctx  context.Context
	fs   filesystem.Interface
	root string
}

// OpenFS opens the folder root, a local path or a URL such as
// gs://bucket/ckpt, of the Beam file system its scheme names. The file
// system must be linked into the program (the local one and gs:// are in
// classify-beam).
func OpenFS(ctx context.Context, root string) (*FS, error) {
	fsys, err := filesystem.New(ctx, root)
	if err != nil {
		return nil, err
	}
	return &FS{ctx: ctx, fs: fsys, root: strings.TrimSuffix(root, "/")}, nil
}

// Close releases the file system.
func (f *FS) Close() error { return f.fs.Close() }

// Open opens the file name for reading.
func (f *FS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) || name == "." {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	full := f.root + "/" + name
	size, err := f.fs.Size(f.ctx, full)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: full, Err: notExist(err)}
	}
	rc, err := f.fs.OpenRead(f.ctx, full)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: full, Err: notExist(err)}
	}
	return &file{ReadCloser: rc, info: fileInfo{name: path.Base(name), size: size}}, nil
}

// notExist keeps an error that says the file is missing recognisable as
// fs.ErrNotExist, which not every Beam file system's errors are.
func notExist(err error) error {
	if os.IsNotExist(err) {
		return fs.ErrNotExist
	}
	return err
}

type file struct {
	io.ReadCloser
	info fileInfo
}

func (f *file) Stat() (fs.FileInfo, error) { return f.info, nil }

type fileInfo struct {
	name string
	size int64
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) Mode() fs.FileMode  { return 0o444 }
func (i fileInfo) ModTime() time.Time { return time.Time{} }
func (i fileInfo) IsDir() bool        { return false }
func (i fileInfo) Sys() any           { return nil }
