package safetensors

import (
	"bytes"
	"os"
	"slices"
	"testing"
)

// FuzzRead feeds Read and Parse arbitrary bytes: they must never panic,
// accept the same files and agree on them, and a file they accept must
// survive Write and Read unchanged. The seed corpus is the
// golden file, the corrupt cases of TestReadRefuses, and
// testdata/fuzz/FuzzRead.
func FuzzRead(f *testing.F) {
	golden, err := os.ReadFile("testdata/golden.safetensors")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	for _, c := range corrupt {
		f.Add(c.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		first, err := Read(bytes.NewReader(data))
		parsed, perr := Parse(data)
		if (err == nil) != (perr == nil) {
			t.Fatalf("Read error %v, Parse error %v: want both or neither", err, perr)
		}
		if err != nil {
			return
		}
		if err := sameFile(first, parsed); err != nil {
			t.Fatalf("Parse differs from Read: %v", err)
		}
		var buf bytes.Buffer
		if err := Write(&buf, first.Tensors, first.Metadata); err != nil {
			t.Fatalf("Write(Read(data)) = %v, want no error", err)
		}
		second, err := Read(&buf)
		if err != nil {
			t.Fatalf("Read(Write(Read(data))) = %v, want no error", err)
		}
		if !slices.Equal(first.Names(), second.Names()) {
			t.Fatalf("names %v became %v", first.Names(), second.Names())
		}
		for _, a := range first.Tensors {
			b, _ := second.Tensor(a.Name)
			if a.DType != b.DType || !slices.Equal(a.Shape, b.Shape) || !bytes.Equal(a.Data, b.Data) {
				t.Fatalf("tensor %q changed: %+v became %+v", a.Name, a, b)
			}
		}
		if len(first.Metadata) != len(second.Metadata) {
			t.Fatalf("metadata %v became %v", first.Metadata, second.Metadata)
		}
		for k, v := range first.Metadata {
			if second.Metadata[k] != v {
				t.Fatalf("metadata %q = %q became %q", k, v, second.Metadata[k])
			}
		}
	})
}
