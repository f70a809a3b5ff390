package wordvec

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/classify/classify/internal/atomicfile"
)

// WriteFastTextModel writes m in the .bin format of fastText 0.9 (format
// version 12): the arguments, the dictionary (the vocabulary with its
// counts, no labels, not pruned), the input matrix and the output matrix,
// little-endian. fastText's print-word-vectors, nn and analogies read it,
// as do data.LoadVectors and "classify train --vectors".
func WriteFastTextModel(w io.Writer, m *FastTextModel) error {
	o, v := m.Opts, m.Vocab.Len()
	if len(m.Input) != (v+m.buckets())*o.Dim || len(m.Output) != v*o.Dim {
		return fmt.Errorf("model of %d input and %d output values, want (%d + %d) × %d and %d × %d",
			len(m.Input), len(m.Output), v, m.buckets(), o.Dim, v, o.Dim)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	le := binary.LittleEndian
	put := func(x any) {
		// Writes to a bufio.Writer fail only at Flush, which is checked.
		binary.Write(bw, le, x)
	}
	model := int32(2) // fastText's model_name: cbow 1, sg 2
	if o.CBOW {
		model = 1
	}
	put([]int32{793712314, 12})
	put([]int32{int32(o.Dim), int32(o.Window), int32(o.Epochs), 1, int32(o.Negative), 1, 2 /* loss ns */, model,
		int32(m.buckets()), int32(o.Minn), int32(o.Maxn), 100})
	put(o.Sample)
	put([]int32{int32(v), int32(v), 0})
	put([]int64{m.Tokens, -1}) // ntokens, pruneidx_size (-1: not pruned)
	for i, word := range m.Vocab.Words {
		if word == "" || strings.IndexByte(word, 0) >= 0 {
			return fmt.Errorf("word %d %q cannot be written in fastText's format", i, word)
		}
		bw.WriteString(word)
		bw.WriteByte(0)
		put(m.Vocab.Counts[i])
		bw.WriteByte(0) // entry type word
	}
	writeMatrix := func(x []float32, rows int) {
		bw.WriteByte(0) // not quantized
		put([]int64{int64(rows), int64(o.Dim)})
		var b [4]byte
		for _, f := range x {
			le.PutUint32(b[:], math.Float32bits(f))
			bw.Write(b[:])
		}
	}
	writeMatrix(m.Input, v+m.buckets())
	writeMatrix(m.Output, v)
	return bw.Flush()
}

// SaveFastTextModel writes m to path with WriteFastTextModel, atomically.
func SaveFastTextModel(path string, m *FastTextModel) error {
	if err := atomicfile.Write(path, func(w io.Writer) error { return WriteFastTextModel(w, m) }); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
