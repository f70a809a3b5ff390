package safetensors

import (
	"bytes"
	"io"
	"testing"
)

// embeddingValues is the size of the reference model's GloVe embedding
// (10,000 words of 50 dimensions), the largest tensor of a checkpoint.
func embeddingValues() []float32 {
	v := make([]float32, 10000*50)
	for i := range v {
		v[i] = float32(i%997) * 1e-3
	}
	return v
}

func BenchmarkNewF32(b *testing.B) {
	v := embeddingValues()
	b.SetBytes(int64(4 * len(v)))
	for b.Loop() {
		if _, err := NewF32("embedding.weight", []int{10000, 50}, v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFloat32s(b *testing.B) {
	t, _ := NewF32("embedding.weight", []int{10000, 50}, embeddingValues())
	b.SetBytes(int64(len(t.Data)))
	for b.Loop() {
		if _, err := t.Float32s(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWrite(b *testing.B) {
	t, _ := NewF32("embedding.weight", []int{10000, 50}, embeddingValues())
	b.SetBytes(int64(len(t.Data)))
	for b.Loop() {
		if err := Write(io.Discard, []Tensor{t}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	t, _ := NewF32("embedding.weight", []int{10000, 50}, embeddingValues())
	var buf bytes.Buffer
	if err := Write(&buf, []Tensor{t}, nil); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		if _, err := Read(bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
}
