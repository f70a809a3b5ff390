package models

import (
	"os"
	"runtime"
	"sync"
	"unsafe"

	"gorgonia.org/tensor"
)

// mapFiles tells whether a model.safetensors is mapped into memory rather
// than read, where the system can: a bow table of 800 MB then costs only
// the pages a prediction touches, already in the page cache, and no copy.
// A variable, so that tests compare the two paths.
var mapFiles = true

// tableMapMinBytes is the size from which a table is a mapping of its own
// rather than a Go slice (see newTable).
const tableMapMinBytes = 64 << 20

// region is memory mapped outside the Go heap: a model.safetensors, or the
// zeros of a large table. Tensors that view it keep it (see view), and so
// does a loader while it reads it (see done); when neither is left, it is
// unmapped. A mapping is never unmapped while a tensor that views it is
// reachable, so that a model that serves, or is reloaded or unloaded
// under serve, never reads unmapped memory. The collection that finds the
// tensor unreachable may come late, as the mapping is not Go heap (Go
// collects at least every two minutes): until then the pages of a model
// replaced under serve stay mapped, page cache that the system may
// reclaim, and the replaced file's blocks stay allocated.
type region struct {
	mu      sync.Mutex
	mem     []byte
	views   int
	loading bool
}

// view makes the tensor d, whose values lie in r, keep r mapped until d is
// unreachable. Code that holds d's values (Data) rather than d keeps d, or
// what holds d, alive meanwhile (runtime.KeepAlive).
func (r *region) view(d *tensor.Dense) {
	r.mu.Lock()
	r.views++
	r.mu.Unlock()
	runtime.AddCleanup(d, (*region).release, r)
}

// release is a tensor's cleanup: the tensor that viewed r is gone.
func (r *region) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.views--
	r.unmapIfUnused()
}

// done tells r that its loader reads it no more: a file that no tensor
// adopted is unmapped now.
func (r *region) done() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.loading = false
	r.unmapIfUnused()
}

func (r *region) unmapIfUnused() {
	if r.views == 0 && !r.loading && r.mem != nil {
		// An error leaves the pages mapped, which wastes address space
		// but reads nothing wrong.
		unmap(r.mem)
		r.mem = nil
	}
}

// mapWeightsFile maps the regular file f of size bytes, a model.safetensors
// about to be loaded, private and writable: a model trained further
// (train --from) writes to copies of the pages it touches (copy on write),
// never to the file. It returns nil where mapping is not available (another
// system, a file system that cannot map, an empty file) or mapFiles is
// false; the caller then reads the file. Our writers replace a
// checkpoint's files (a new folder takes the old one's place) and never
// write into one, so the mapped bytes do not change under a model; a file
// cut short in place by another program while mapped would fault.
func mapWeightsFile(f *os.File, size int64) *region {
	if !mapFiles || size < 1 || size != int64(int(size)) {
		return nil
	}
	mem, err := mapFile(f, int(size))
	if err != nil {
		return nil
	}
	return &region{mem: mem, loading: true}
}

// newTable returns a zero [rows, dim] float32 tensor for a table. From
// tableMapMinBytes it is a fresh anonymous mapping, which costs nothing
// until written (a table that a checkpoint's weights replace costs no
// memory, and none is cleared, as Go clears reused heap memory) and which,
// on Linux, huge pages back: drawing fastText's table of 800 MB touches
// 400 pages rather than 200,000, and the rows that training and
// prediction read at random miss the TLB less.
func newTable(rows, dim int) *tensor.Dense {
	n := rows * dim
	if int64(n)*4 >= tableMapMinBytes {
		if mem, err := mapZeros(4 * n); err == nil {
			v := unsafe.Slice((*float32)(unsafe.Pointer(&mem[0])), n)
			d := tensor.New(tensor.WithShape(rows, dim), tensor.WithBacking(v))
			(&region{mem: mem}).view(d)
			return d
		}
	}
	return tensor.New(tensor.WithShape(rows, dim), tensor.WithBacking(make([]float32, n)))
}
