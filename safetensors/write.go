package safetensors

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/classify/classify/internal/atomicfile"
)

// metadataKey is the header entry that holds the file's string metadata.
const metadataKey = "__metadata__"

// Write writes tensors and metadata to w as one safetensors file. Tensors
// are laid out by descending dtype (F64 and I64 before F32), then by name,
// and the header is padded with spaces to a multiple of 8 bytes, as the
// reference implementation does; metadata keys are sorted, and an empty
// metadata writes no "__metadata__" entry. Write checks every tensor first
// (a known dtype, a unique valid UTF-8 name, Data of the size its Shape
// needs) and writes nothing when one is wrong.
func Write(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	prefix, order, err := Layout(tensors, metadata)
	if err != nil {
		return err
	}
	if _, err := w.Write(prefix); err != nil {
		return err
	}
	for _, t := range order {
		if _, err := w.Write(t.Data); err != nil {
			return err
		}
	}
	return nil
}

// Layout checks tensors and metadata as Write does and returns what Write
// writes before the tensors' data, the header's 8-byte length and the
// header, and the tensors in the order their data follows it. A writer
// that writes a file itself (the data first, a metadata value computed
// meanwhile into the header last, say) writes that order after prefix.
func Layout(tensors []Tensor, metadata map[string]string) (prefix []byte, order []Tensor, err error) {
	h, order, err := header(tensors, metadata)
	if err != nil {
		return nil, nil, err
	}
	return append(binary.LittleEndian.AppendUint64(make([]byte, 0, 8+len(h)), uint64(len(h))), h...), order, nil
}

// header checks tensors and returns the padded JSON header and the tensors
// in the order of their data.
func header(tensors []Tensor, metadata map[string]string) ([]byte, []Tensor, error) {
	seen := make(map[string]bool, len(tensors))
	for _, t := range tensors {
		switch {
		case t.Name == metadataKey:
			return nil, nil, fmt.Errorf("tensor name %q is reserved for metadata", t.Name)
		case !utf8.ValidString(t.Name):
			return nil, nil, fmt.Errorf("tensor name %q is not valid UTF-8", t.Name)
		case seen[t.Name]:
			return nil, nil, fmt.Errorf("tensor %q appears twice", t.Name)
		}
		seen[t.Name] = true
		n, err := byteSize(t.DType, t.Shape)
		if err != nil {
			return nil, nil, fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		if n != len(t.Data) {
			return nil, nil, fmt.Errorf("tensor %q: shape %v of %s needs %d bytes, has %d", t.Name, t.Shape, t.DType, n, len(t.Data))
		}
	}
	order := slices.Clone(tensors)
	slices.SortFunc(order, func(a, b Tensor) int {
		if ra, rb := dtypeRank[a.DType], dtypeRank[b.DType]; ra != rb {
			return rb - ra
		}
		return strings.Compare(a.Name, b.Name)
	})

	var b strings.Builder
	b.WriteByte('{')
	if len(metadata) > 0 {
		keys := make([]string, 0, len(metadata))
		for k, v := range metadata {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return nil, nil, fmt.Errorf("metadata %q: %q is not valid UTF-8", k, v)
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		writeString(&b, metadataKey)
		b.WriteString(":{")
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(&b, k)
			b.WriteByte(':')
			writeString(&b, metadata[k])
		}
		b.WriteByte('}')
		if len(order) > 0 {
			b.WriteByte(',')
		}
	}
	offset := 0
	for i, t := range order {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(&b, t.Name)
		b.WriteString(`:{"dtype":`)
		writeString(&b, string(t.DType))
		b.WriteString(`,"shape":[`)
		for j, d := range t.Shape {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(d))
		}
		fmt.Fprintf(&b, `],"data_offsets":[%d,%d]}`, offset, offset+len(t.Data))
		offset += len(t.Data)
	}
	b.WriteByte('}')
	for b.Len()%8 != 0 {
		b.WriteByte(' ')
	}
	return []byte(b.String()), order, nil
}

// writeString writes s as a JSON string the way serde_json, and so the
// reference implementation, does: only '"', '\\' and control characters
// escaped.
func writeString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\b':
			b.WriteString(`\b`)
		case c == '\f':
			b.WriteString(`\f`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// WriteFile writes tensors and metadata to the file path as Write does,
// atomically: to a temporary file in the same folder, synced, then renamed
// over path, so that a reader sees the old file or the whole new one.
func WriteFile(path string, tensors []Tensor, metadata map[string]string) error {
	err := atomicfile.Write(path, func(w io.Writer) error { return Write(w, tensors, metadata) })
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
