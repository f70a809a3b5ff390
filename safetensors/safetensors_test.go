package safetensors

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// goldenTensors are the tensors of testdata/golden.safetensors, which
// testdata/make_golden.py wrote with numpy from the format's documentation.
func goldenTensors(t testing.TB) []Tensor {
	t.Helper()
	var out []Tensor
	add := func(tt Tensor, err error) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tt)
	}
	add(NewF32("embedding.weight", []int{3, 2}, []float32{0, float32(math.Copysign(0, -1)), 0.1, -0.1, 1e-8, 65504}))
	add(NewF32("dense.weight", []int{1, 4}, []float32{1, -2, 0.25, 3.5}))
	add(NewF32("dense.bias", []int{1}, []float32{0.5}))
	add(NewI64("adam.step", nil, []int64{7}))
	add(NewF64("adam.m", []int{2}, []float64{0.1, -1.5}))
	return out
}

func TestWriteMatchesGolden(t *testing.T) {
	want, err := os.ReadFile("testdata/golden.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := Write(&got, goldenTensors(t), map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("Write(golden tensors) =\n%q\nwant (make_golden.py)\n%q", got.Bytes(), want)
	}
}

// Layout's prefix, then its tensors' data in its order, are what Write
// writes.
func TestLayoutIsWrite(t *testing.T) {
	ts := goldenTensors(t)
	meta := map[string]string{"format": "pt", "sha256": "0123"}
	var want bytes.Buffer
	if err := Write(&want, ts, meta); err != nil {
		t.Fatal(err)
	}
	prefix, order, err := Layout(ts, meta)
	if err != nil {
		t.Fatal(err)
	}
	got := append([]byte(nil), prefix...)
	for _, tt := range order {
		got = append(got, tt.Data...)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("Layout's prefix and data =\n%q\nWrite =\n%q", got, want.Bytes())
	}
	if _, _, err := Layout([]Tensor{{Name: "w", DType: F32, Shape: []int{2}, Data: make([]byte, 4)}}, nil); err == nil {
		t.Error("Layout of a tensor of the wrong size succeeded, want Write's error")
	}
}

func TestReadGolden(t *testing.T) {
	f, err := ReadFile("testdata/golden.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.Metadata, map[string]string{"format": "pt"}; len(got) != 1 || got["format"] != "pt" {
		t.Errorf("Metadata = %v, want %v", got, want)
	}
	if got, want := f.Names(), []string{"adam.m", "adam.step", "dense.bias", "dense.weight", "embedding.weight"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	// Data order, as make_golden.py printed its header.
	var order []string
	for _, tt := range f.Tensors {
		order = append(order, tt.Name)
	}
	if want := []string{"adam.step", "adam.m", "dense.bias", "dense.weight", "embedding.weight"}; !slices.Equal(order, want) {
		t.Errorf("data order = %v, want %v", order, want)
	}
	f32 := []struct {
		name  string
		shape []int
		want  []float32
	}{
		{"embedding.weight", []int{3, 2}, []float32{0, 0, 0.1, -0.1, 1e-8, 65504}},
		{"dense.weight", []int{1, 4}, []float32{1, -2, 0.25, 3.5}},
		{"dense.bias", []int{1}, []float32{0.5}},
	}
	for _, c := range f32 {
		got, err := f.Float32s(c.name, c.shape)
		if err != nil {
			t.Errorf("Float32s(%q): %v", c.name, err)
			continue
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("Float32s(%q) = %v, want %v", c.name, got, c.want)
		}
	}
	emb, _ := f.Tensor("embedding.weight")
	// The second element is -0: its sign bit survives.
	if bits := binary.LittleEndian.Uint32(emb.Data[4:]); bits != 0x80000000 {
		t.Errorf("embedding.weight[0,1] bits = %#x, want 0x80000000 (-0)", bits)
	}
	step, _ := f.Tensor("adam.step")
	if got, err := step.Int64s(); err != nil || !slices.Equal(got, []int64{7}) || len(step.Shape) != 0 {
		t.Errorf("adam.step = %v %v (shape %v), want [7] (shape [])", got, err, step.Shape)
	}
	m, _ := f.Tensor("adam.m")
	if got, err := m.Float64s(); err != nil || !slices.Equal(got, []float64{0.1, -1.5}) {
		t.Errorf("adam.m = %v %v, want [0.1 -1.5]", got, err)
	}
}

func TestFileFloat32sRefuses(t *testing.T) {
	f, err := ReadFile("testdata/golden.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		shape []int
		want  string
	}{
		{"missing", nil, `no tensor "missing"`},
		{"dense.weight", []int{4}, `tensor "dense.weight" has shape [1 4], want [4]`},
		{"adam.m", []int{2}, `tensor "adam.m" is F64, not F32`},
	}
	for _, c := range cases {
		_, err := f.Float32s(c.name, c.shape)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "golden.safetensors") {
			t.Errorf("Float32s(%q, %v) error = %v, want one naming the file and %q", c.name, c.shape, err, c.want)
		}
	}
}

func TestWriteFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := goldenTensors(t)
	empty, _ := NewF32("empty", []int{0, 3}, nil)
	want = append(want, empty)
	if err := WriteFile(path, want, nil); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata != nil {
		t.Errorf("Metadata = %v, want nil", f.Metadata)
	}
	for _, w := range want {
		got, ok := f.Tensor(w.Name)
		if !ok || got.DType != w.DType || !slices.Equal(got.Shape, w.Shape) || !bytes.Equal(got.Data, w.Data) {
			t.Errorf("Tensor(%q) = %+v, want %+v", w.Name, got, w)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d files after WriteFile, want 1 (no temporary left)", len(entries))
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, want 0644", st.Mode().Perm())
	}
	// A refused write leaves the old file alone.
	bad := Tensor{Name: "x", DType: F32, Shape: []int{2}, Data: make([]byte, 4)}
	if err := WriteFile(path, []Tensor{bad}, nil); err == nil {
		t.Fatal("WriteFile(bad tensor) succeeded")
	}
	if _, err := ReadFile(path); err != nil {
		t.Errorf("after a refused WriteFile, ReadFile = %v, want the earlier file", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("folder holds %d files after a refused WriteFile, want 1", len(entries))
	}
}

func TestWriteRefuses(t *testing.T) {
	ok := Tensor{Name: "a", DType: F32, Shape: []int{2}, Data: make([]byte, 8)}
	cases := []struct {
		desc    string
		tensors []Tensor
		want    string
	}{
		{"duplicate", []Tensor{ok, ok}, `tensor "a" appears twice`},
		{"reserved", []Tensor{{Name: "__metadata__", DType: F32, Shape: []int{}, Data: make([]byte, 4)}}, "reserved"},
		{"unknown dtype", []Tensor{{Name: "b", DType: "F128", Shape: []int{1}, Data: make([]byte, 16)}}, `tensor "b": unknown dtype "F128"`},
		{"short data", []Tensor{{Name: "c", DType: F32, Shape: []int{3}, Data: make([]byte, 8)}}, `tensor "c": shape [3] of F32 needs 12 bytes, has 8`},
		{"negative dim", []Tensor{{Name: "d", DType: F32, Shape: []int{-1}}}, `tensor "d": shape [-1] has a negative dimension`},
		{"overflow", []Tensor{{Name: "e", DType: F64, Shape: []int{math.MaxInt / 4, 3}}}, `tensor "e"`},
		{"bad utf-8", []Tensor{{Name: "\xff", DType: F32, Shape: []int{}, Data: make([]byte, 4)}}, "not valid UTF-8"},
	}
	for _, c := range cases {
		var buf bytes.Buffer
		err := Write(&buf, c.tensors, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Write error = %v, want one containing %q", c.desc, err, c.want)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: Write wrote %d bytes before refusing, want 0", c.desc, buf.Len())
		}
	}
}

func TestNewF32Refuses(t *testing.T) {
	if _, err := NewF32("w", []int{2, 3}, make([]float32, 5)); err == nil || !strings.Contains(err.Error(), `tensor "w": shape [2 3] holds 6 elements, got 5 values`) {
		t.Errorf("NewF32(5 values for [2 3]) error = %v", err)
	}
}

// file assembles a safetensors file from a header and a body, the header
// length taken from the header unless n >= 0.
func file(header string, body []byte, n int64) []byte {
	if n < 0 {
		n = int64(len(header))
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(n))
	out = append(out, header...)
	return append(out, body...)
}

// corrupt are files that Read must refuse, with what the error must say.
var corrupt = []struct {
	desc string
	data []byte
	want string
}{
	{"empty", nil, "truncated: 0 bytes"},
	{"short length", []byte{8, 0, 0}, "truncated: 3 bytes"},
	{"header past end", file(`{}`, nil, 64), "header length 64 runs past the end of the file (2 bytes after the length)"},
	{"header too large", file(`{}`, nil, 1<<40), "over the limit"},
	{"bad json", file(`{"a":`, nil, -1), "bad JSON header"},
	{"not an object", file(`[1,2]`, nil, -1), "want a JSON object"},
	{"garbage after object", file(`{} x`, nil, -1), "bad JSON header"},
	{"second object", file(`{}{}`, nil, -1), "after the header object"},
	{"not utf-8", file("{\"\xff\":1}", nil, -1), "not valid UTF-8"},
	{"duplicate", file(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, []byte{1, 2}, -1), `tensor "a": appears twice`},
	{"unknown dtype", file(`{"w":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}`, make([]byte, 16), -1), `tensor "w": unknown dtype "F128"`},
	{"missing shape", file(`{"w":{"dtype":"F32","data_offsets":[0,4]}}`, make([]byte, 4), -1), `tensor "w": header entry has no shape`},
	{"null shape", file(`{"w":{"dtype":"F32","shape":null,"data_offsets":[0,4]}}`, make([]byte, 4), -1), `tensor "w": shape is null`},
	{"entry not object", file(`{"w":3}`, nil, -1), `tensor "w": header entry 3 is not an object`},
	{"negative dim", file(`{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, make([]byte, 4), -1), `tensor "w": bad shape [-1]`},
	{"three offsets", file(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, make([]byte, 4), -1), `tensor "w": data_offsets [0 4 8] are not [start, end]`},
	{"metadata not strings", file(`{"__metadata__":{"a":1}}`, nil, -1), "__metadata__ is not an object of strings"},
	{"end before start", file(`{"w":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}`, make([]byte, 4), -1), `tensor "w": data_offsets [4, 0] end before they start`},
	{"size disagrees with shape", file(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 4), -1), `tensor "w": data_offsets [0, 4] hold 4 bytes, but shape [2] of F32 needs 8`},
	{"overlap", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8), -1), `tensor "b": data_offsets [4, 8] overlap tensor "a", which ends at 8`},
	{"gap", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, make([]byte, 12), -1), `tensor "b": data_offsets [8, 12] leave a gap after tensor "a": bytes [4, 8) belong to no tensor`},
	{"gap at start", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8), -1), `tensor "a": data_offsets [4, 8] leave a gap: bytes [0, 4) belong to no tensor`},
	{"out of buffer", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, make([]byte, 8), -1), `tensor "b": data_offsets [4, 12] run out of the 8-byte data buffer`},
	{"huge shape", file(`{"a":{"dtype":"F64","shape":[4611686018427387904,4],"data_offsets":[0,8]}}`, make([]byte, 8), -1), `tensor "a": shape [4611686018427387904 4] has more elements than an int holds`},
	{"trailing bytes", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 5), -1), "trailing bytes after the last tensor's data"},
}

func TestReadRefuses(t *testing.T) {
	dir := t.TempDir()
	for _, c := range corrupt {
		if _, err := Read(bytes.NewReader(c.data)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Read error = %v, want one containing %q", c.desc, err, c.want)
		}
		if _, err := Parse(c.data); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Parse error = %v, want one containing %q", c.desc, err, c.want)
		}
		path := filepath.Join(dir, "m.safetensors")
		if err := os.WriteFile(path, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadFile(path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), path+": ") {
			t.Errorf("%s: ReadFile error = %v, want one starting with the path and containing %q", c.desc, err, c.want)
		}
	}
}

// TestReadTruncatedGolden cuts the golden file at every length: each must
// be refused, by Read and by ReadFile.
func TestReadTruncatedGolden(t *testing.T) {
	golden, err := os.ReadFile("testdata/golden.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cut.safetensors")
	for n := 0; n < len(golden); n++ {
		if _, err := Read(bytes.NewReader(golden[:n])); err == nil {
			t.Errorf("Read(golden[:%d]) succeeded, want an error", n)
		}
		if _, err := Parse(golden[:n]); err == nil {
			t.Errorf("Parse(golden[:%d]) succeeded, want an error", n)
		}
		os.WriteFile(path, golden[:n], 0o644)
		if _, err := ReadFile(path); err == nil {
			t.Errorf("ReadFile(golden[:%d]) succeeded, want an error", n)
		}
	}
}

// Parse gives the file Read gives, its tensors' bytes parts of the
// buffer parsed rather than copies.
func TestParseMatchesRead(t *testing.T) {
	golden, err := os.ReadFile("testdata/golden.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	read, err := Read(bytes.NewReader(golden))
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := Parse(golden)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameFile(read, parsed); err != nil {
		t.Error(err)
	}
	emb, _ := parsed.Tensor("embedding.weight")
	if start := len(golden) - len(emb.Data); &emb.Data[0] != &golden[start] {
		t.Errorf("Parse copied embedding.weight's bytes, want a part of the buffer")
	}
}

// sameFile tells how two files differ in names, order, tensors or
// metadata: nil when they do not.
func sameFile(a, b *File) error {
	if len(a.Tensors) != len(b.Tensors) {
		return fmt.Errorf("%d tensors, then %d", len(a.Tensors), len(b.Tensors))
	}
	for i, x := range a.Tensors {
		y := b.Tensors[i]
		if x.Name != y.Name || x.DType != y.DType || !slices.Equal(x.Shape, y.Shape) || !bytes.Equal(x.Data, y.Data) {
			return fmt.Errorf("tensor %d: %s %s %v, then %s %s %v", i, x.Name, x.DType, x.Shape, y.Name, y.DType, y.Shape)
		}
		if j, ok := b.index[x.Name]; !ok || j != i {
			return fmt.Errorf("tensor %q not indexed at %d", x.Name, i)
		}
	}
	if len(a.Metadata) != len(b.Metadata) {
		return fmt.Errorf("metadata %v, then %v", a.Metadata, b.Metadata)
	}
	for k, v := range a.Metadata {
		if b.Metadata[k] != v {
			return fmt.Errorf("metadata %q = %q, then %q", k, v, b.Metadata[k])
		}
	}
	return nil
}

func TestReadAcceptsReferenceLayouts(t *testing.T) {
	cases := []struct {
		desc  string
		data  []byte
		names []string
	}{
		// The reference sorts by offsets whatever the header's key order.
		{"keys out of data order", file(`{"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{1, 2}, -1), []string{"a", "b"}},
		{"no tensors", file(`{}      `, nil, -1), nil},
		{"null metadata", file(`{"__metadata__":null}`, nil, -1), nil},
		{"extra keys ignored", file(`{"a":{"dtype":"BF16","shape":[],"data_offsets":[0,2],"x":1}}`, []byte{0, 0}, -1), []string{"a"}},
		{"zero-size tensor", file(`{"a":{"dtype":"F32","shape":[0,5],"data_offsets":[0,0]}}`, nil, -1), []string{"a"}},
	}
	for _, c := range cases {
		f, err := Read(bytes.NewReader(c.data))
		if err != nil {
			t.Errorf("%s: Read error %v, want none", c.desc, err)
			continue
		}
		if p, err := Parse(c.data); err != nil {
			t.Errorf("%s: Parse error %v, want none", c.desc, err)
		} else if err := sameFile(f, p); err != nil {
			t.Errorf("%s: Parse differs from Read: %v", c.desc, err)
		}
		var got []string
		for _, tt := range f.Tensors {
			got = append(got, tt.Name)
		}
		if !slices.Equal(got, c.names) {
			t.Errorf("%s: tensors = %v, want %v", c.desc, got, c.names)
		}
	}
}
