package models

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"unsafe"

	"gorgonia.org/tensor"

	"github.com/classify/classify/layers"
	"github.com/classify/classify/safetensors"
)

// PyTorch keeps two LSTM biases, bias_ih and bias_hh, where Keras keeps one.
// The classifier's one bias is written as bias_ih and bias_hh is written as
// zeros; on reading, bias_hh is added to bias_ih, so that weights trained in
// PyTorch load too. A GRU keeps both biases as parameters of their own
// (bias_hh is inside r ⊙ (W_hn h + b_hn)), so only a parameter that stands
// for two copies (Param.Copies) is paired so.
const (
	biasIH = ".bias_ih_"
	biasHH = ".bias_hh_"
)

// weightTensors returns the classifier's weights as float32 tensors under
// their PyTorch names, with the zero bias_hh of each LSTM direction.
func weightTensors(m Model) ([]safetensors.Tensor, error) {
	var ts []safetensors.Tensor
	for _, p := range m.Params() {
		var t safetensors.Tensor
		var err error
		if v, ok := p.Value.Data().([]float32); ok && littleEndian && len(v) > 0 && len(v) == p.Size() && !p.Value.IsScalar() {
			// The parameter's own bytes, not a copy: safetensors is
			// little-endian, as the machine is.
			t = safetensors.Tensor{Name: p.Name, DType: safetensors.F32, Shape: p.Value.Shape().Clone(),
				Data: unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v))}
		} else if t, err = denseTensor(p.Name, p.Value); err != nil {
			return nil, err
		}
		ts = append(ts, t)
		if pairedBias(p) {
			zeros := make([]float32, p.Size())
			t, err := safetensors.NewF32(strings.Replace(p.Name, biasIH, biasHH, 1), p.Value.Shape().Clone(), zeros)
			if err != nil {
				return nil, err
			}
			ts = append(ts, t)
		}
	}
	return ts, nil
}

// writeWeights writes model.safetensors at path, a new file in the
// temporary folder that Save syncs and then swaps in (which makes it
// atomic). The tensors' bytes go from the parameters to the file in large
// writes, with no copy in between, while another core hashes them; the
// header, which holds the digest, is written last, over a placeholder of
// its length. Each part written is handed to the disk at once
// (startWriteback), so that the sync before the swap waits for little: on
// an 800 MB bow table it waited 0.3 s rather than 0.7 (load 5).
func writeWeights(path string, m Model) error {
	ts, err := weightTensors(m)
	if err != nil {
		return err
	}
	meta := map[string]string{"format": "pt", "classify_format_version": fmt.Sprint(FormatVersion),
		digestKey: strings.Repeat("0", 2*sha256.Size)}
	prefix, order, err := safetensors.Layout(ts, meta)
	if err != nil {
		return err
	}
	sum := make(chan string, 1)
	go func() { sum <- digest(ts) }()
	err = writeData(path, prefix, order)
	meta[digestKey] = <-sum // also when writing failed: ts is read until then
	if err == nil {
		err = writeHeader(path, ts, meta, len(prefix))
	}
	// ts holds the parameters' own bytes, which may lie in a mapping that
	// lives as long as m's tensors (see region).
	runtime.KeepAlive(m)
	return err
}

// writeChunk is the size of one write of a tensor's bytes: a multiple of
// 2 MB, so that the page cache may keep the file in huge pages, which a
// mapped bow table is then read through (see mapWeightsFile).
const writeChunk = 8 << 20

// writeData creates the file path with prefix, then the data of order.
func writeData(path string, prefix []byte, order []safetensors.Tensor) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	off := int64(0)
	write := func(b []byte) error {
		for len(b) > 0 {
			n := min(len(b), writeChunk)
			if _, err := f.Write(b[:n]); err != nil {
				return err
			}
			startWriteback(f, off, int64(n))
			off, b = off+int64(n), b[n:]
		}
		return nil
	}
	err = write(prefix)
	for _, t := range order {
		if err == nil {
			err = write(t.Data)
		}
	}
	if err == nil {
		err = f.Chmod(0o644) // whatever the umask, as atomicfile.Write
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeHeader writes over the first n bytes of the file path the prefix
// Layout gives ts and meta, which must be n bytes long.
func writeHeader(path string, ts []safetensors.Tensor, meta map[string]string, n int) error {
	prefix, _, err := safetensors.Layout(ts, meta)
	if err != nil {
		return err
	}
	if len(prefix) != n {
		return fmt.Errorf("%s: the header takes %d bytes, its placeholder %d", path, len(prefix), n)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteAt(prefix, 0)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// digestKey names the metadata entry that holds the SHA-256 of the
// tensors. The safetensors format checks sizes and offsets but not
// contents; the digest also catches a weight altered in place.
const digestKey = "sha256"

// checkDigest refuses a file whose tensors do not match the SHA-256 in its
// metadata. A file without one (written by PyTorch, say) passes.
func checkDigest(path string, f *safetensors.File) error {
	if want, ok := f.Metadata[digestKey]; ok && digest(f.Tensors) != want {
		return fmt.Errorf("%s: the tensors do not match the SHA-256 recorded when they were written: the file was altered", path)
	}
	return nil
}

// digest hashes the tensors' names, types, shapes and bytes in name order.
func digest(ts []safetensors.Tensor) string {
	sorted := append([]safetensors.Tensor(nil), ts...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	h := sha256.New()
	for _, t := range sorted {
		fmt.Fprintf(h, "%s\x00%s\x00%v\x00", t.Name, t.DType, t.Shape)
		h.Write(t.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// readWeightsFile reads the model.safetensors in r, which path names in
// errors, and checks its layout; verify checks the digest it records,
// which runs meanwhile on another goroutine, and waits for it. A regular
// file is mapped rather than read where the system can (see
// mapWeightsFile): mem is then the mapping, which the caller passes to
// fillWeights and then lets go of (region.done) once verify has returned.
// mem is nil for a file read.
func readWeightsFile(r io.Reader, path string) (f *safetensors.File, mem *region, verify func() error, err error) {
	read := safetensors.Read
	if st, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if info, err := st.Stat(); err == nil && info.Mode().IsRegular() {
			if file, ok := r.(*os.File); ok {
				mem = mapWeightsFile(file, info.Size())
			}
			// One buffer of the file's size, not one grown by doubling:
			// a bow table of 800 MB was read in seconds, not a fraction.
			read = func(r io.Reader) (*safetensors.File, error) { return safetensors.ReadSized(r, info.Size()) }
		}
	}
	if mem != nil {
		f, err = safetensors.Parse(mem.mem)
	} else {
		f, err = read(r)
	}
	if err != nil {
		mem.done()
		return nil, nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	done := make(chan error, 1)
	go func() { done <- checkDigest(path, f) }()
	return f, mem, sync.OnceValue(func() error { return <-done }), nil
}

// checkShapes refuses a file whose tensors are not exactly want, by name
// and shape. It runs before the model is built, so that a config.json that
// claims a larger model than the file holds costs nothing.
func checkShapes(f *safetensors.File, path string, want []weightShape) error {
	names := map[string]bool{}
	for _, w := range want {
		// The header says it without decoding the values (800 MB for a
		// bow table); Float32s names what is wrong.
		if !isF32(f, w.name, w.shape) {
			if _, err := f.Float32s(w.name, w.shape); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
		}
		names[w.name] = true
	}
	for _, name := range f.Names() {
		if !names[name] {
			return fmt.Errorf("%s: unexpected tensor %q for the model of config.json", path, name)
		}
	}
	return nil
}

// fillWeights copies the file's tensors into the model's parameters,
// refusing a missing, unexpected, misshapen, non-float32 or non-finite
// tensor. PyTorch's second LSTM bias is added to the first. mem is the
// mapping f lies in, nil for a file read: a tensor that a model adopts
// then keeps the mapping (region.view). When later is not nil, the finite
// check of a tensor adopted from a mapping, which would read every page of
// it (800 MB for a bow table), is appended to later rather than run.
func fillWeights(f *safetensors.File, mem *region, path string, m Model, later *[]func() error) error {
	seen := map[string]bool{}
	read := func(name string, shape []int) ([]float32, error) {
		v, err := f.Float32s(name, shape)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if err := checkFinite(path, name, v); err != nil {
			return nil, err
		}
		seen[name] = true
		return v, nil
	}
	for _, p := range m.Params() {
		dst := p.Value.Data().([]float32)
		if shape := p.Value.Shape().Clone(); isF32(f, p.Name, shape) {
			t, _ := f.Tensor(p.Name)
			if a, ok := m.(adopter); ok && littleEndian && len(t.Data) > 0 && uintptr(unsafe.Pointer(&t.Data[0]))%4 == 0 {
				// The file's bytes become the weights: no copy, and no
				// second 800 MB for a bow table.
				view := unsafe.Slice((*float32)(unsafe.Pointer(&t.Data[0])), len(t.Data)/4)
				if a.adopt(p, view) {
					finite := func() error { return checkFinite(path, p.Name, view) }
					if mem != nil {
						mem.view(p.Value)
					}
					if mem != nil && later != nil {
						*later = append(*later, finite)
					} else if err := finite(); err != nil {
						return err // the model, which holds the view, is dropped
					}
					seen[p.Name] = true
					continue
				}
			}
			// Decoded straight into the parameter: no second copy of a
			// large table.
			decodeF32(dst, t.Data)
			if err := checkFinite(path, p.Name, dst); err != nil {
				return err
			}
			seen[p.Name] = true
		} else {
			v, err := read(p.Name, shape)
			if err != nil {
				return err
			}
			copy(dst, v)
		}
		if pairedBias(p) {
			extra, err := read(strings.Replace(p.Name, biasIH, biasHH, 1), p.Value.Shape().Clone())
			if err != nil {
				return err
			}
			for i, x := range extra {
				dst[i] += x
			}
			// Two finite biases can add up to an infinity.
			if err := checkFinite(path, p.Name+" + bias_hh", dst); err != nil {
				return err
			}
		}
	}
	for _, name := range f.Names() {
		if !seen[name] {
			return fmt.Errorf("%s: unexpected tensor %q for the model of config.json", path, name)
		}
	}
	return nil
}

// adopter is a model that can take a parameter's values as they lie in
// the file read, rather than a copy of them, where no layer has kept the
// parameter's old tensor.
type adopter interface {
	// adopt makes v the values of p, telling whether it did.
	adopt(p *layers.Param, v []float32) bool
}

// littleEndian tells whether the machine stores a float32 as safetensors
// does.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// decodeF32 sets dst to the little-endian float32 values of b.
func decodeF32(dst []float32, b []byte) {
	if littleEndian && len(dst) > 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 4*len(dst)), b)
		return
	}
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
}

// isF32 tells whether the file holds a float32 tensor name of shape
// shape, its bytes all there.
func isF32(f *safetensors.File, name string, shape []int) bool {
	t, ok := f.Tensor(name)
	return ok && t.DType == safetensors.F32 && slices.Equal(t.Shape, shape) && len(t.Data) == 4*product(shape)
}

// product is the number of elements of a tensor of shape shape.
func product(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// pairedBias tells whether p is an LSTM's one bias, bias_ih + bias_hh in
// the file.
func pairedBias(p *layers.Param) bool { return p.CopyCount() == 2 && strings.Contains(p.Name, biasIH) }

// isBiasHH tells whether name is the second LSTM bias, which only the file
// holds.
func isBiasHH(name string) bool { return strings.Contains(name, biasHH) }

// checkFinite refuses a NaN or an infinity among the values of the tensor
// name: a model that holds one scores every text NaN.
func checkFinite(path, name string, v []float32) error {
	for start := 0; start < len(v); start += finiteBlock {
		block := v[start:min(len(v), start+finiteBlock)]
		if allFinite(block) {
			continue
		}
		for i, x := range block {
			// All exponent bits set: an infinity or a NaN.
			if math.Float32bits(x)&0x7f800000 == 0x7f800000 {
				return fmt.Errorf("%s: tensor %q holds %v at index %d: weights must be finite", path, name, x, start+i)
			}
		}
	}
	return nil
}

// finiteBlock is the number of values allFinite tests at once.
const finiteBlock = 1 << 12

// allFinite tells whether v holds no NaN and no infinity, two values a
// 64-bit word: a value's exponent bits, flipped, are all zero when they
// were all set, and then subtracting one borrows into its sign bit (the
// borrow a zero low half lends the high half changes nothing: the answer
// is already no). Twice the speed of a test a value (200 million values
// of a bow table in 0.1 s, against 0.2), which loading spends.
func allFinite(v []float32) bool {
	const exp, one, sign = 0x7f8000007f800000, 0x0000000100000001, 0x8000000080000000
	var any uint64
	i := 0
	if len(v) >= 8 {
		b := unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v))
		for ; i+8 <= len(v); i += 8 {
			w := b[4*i : 4*i+32]
			w0, w1 := binary.LittleEndian.Uint64(w), binary.LittleEndian.Uint64(w[8:])
			w2, w3 := binary.LittleEndian.Uint64(w[16:]), binary.LittleEndian.Uint64(w[24:])
			any |= ((w0&exp ^ exp) - one) | ((w1&exp ^ exp) - one) | ((w2&exp ^ exp) - one) | ((w3&exp ^ exp) - one)
		}
	}
	for ; i < len(v); i++ {
		if math.Float32bits(v[i])&0x7f800000 == 0x7f800000 {
			return false
		}
	}
	return any&sign == 0
}

// denseTensor converts a float32, float64 or int tensor to a safetensors one.
func denseTensor(name string, d *tensor.Dense) (safetensors.Tensor, error) {
	shape := d.Shape().Clone()
	if d.IsScalar() {
		shape = []int{}
	}
	switch v := d.Data().(type) {
	case []float32:
		return safetensors.NewF32(name, shape, v)
	case float32:
		return safetensors.NewF32(name, shape, []float32{v})
	case []float64:
		return safetensors.NewF64(name, shape, v)
	case float64:
		return safetensors.NewF64(name, shape, []float64{v})
	}
	return safetensors.Tensor{}, fmt.Errorf("tensor %q of type %v cannot be saved", name, d.Dtype())
}

// writeOptimizer writes optimizer.safetensors.
func writeOptimizer(path string, state map[string]*tensor.Dense) error {
	ts := make([]safetensors.Tensor, 0, len(state))
	for name, d := range state {
		t, err := denseTensor(name, d)
		if err != nil {
			return err
		}
		ts = append(ts, t)
	}
	return safetensors.WriteFile(path, ts, map[string]string{"optimizer": "adam", digestKey: digest(ts)})
}

// readOptimizer reads optimizer.safetensors into tensors by name.
func readOptimizer(path string) (map[string]*tensor.Dense, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := checkDigest(path, f); err != nil {
		return nil, err
	}
	state := map[string]*tensor.Dense{}
	for _, t := range f.Tensors {
		shape := t.Shape
		if len(shape) == 0 {
			shape = []int{1}
		}
		switch t.DType {
		case safetensors.F32:
			v, err := t.Float32s()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			state[t.Name] = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
		case safetensors.F64:
			v, err := t.Float64s()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			state[t.Name] = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
		default:
			return nil, fmt.Errorf("%s: tensor %q has dtype %s, want F32 or F64", path, t.Name, t.DType)
		}
	}
	return state, nil
}
