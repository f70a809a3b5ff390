package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Tensor is one named tensor of a safetensors file.
type Tensor struct {
	// Name is the tensor's key in the header, e.g. "lstm.weight_ih_l0".
	Name string
	// DType is the element type, e.g. F32.
	DType DType
	// Shape lists the dimensions, outermost first; an empty Shape is a
	// scalar of one element.
	Shape []int
	// Data holds the elements little-endian in row-major order:
	// NumElements(Shape) times DType.Size() bytes.
	Data []byte
}

// NumElements returns the product of shape's dimensions (1 for a scalar),
// or an error when a dimension is negative or the product overflows.
func NumElements(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("shape %v has a negative dimension", shape)
		}
		if d != 0 && n > math.MaxInt/d {
			return 0, fmt.Errorf("shape %v has more elements than an int holds", shape)
		}
		n *= d
	}
	return n, nil
}

// byteSize returns how many bytes a tensor of dtype and shape takes.
func byteSize(dtype DType, shape []int) (int, error) {
	size, ok := dtype.Size()
	if !ok {
		return 0, fmt.Errorf("unknown dtype %q", dtype)
	}
	n, err := NumElements(shape)
	if err != nil {
		return 0, err
	}
	if n > math.MaxInt/size {
		return 0, fmt.Errorf("shape %v of %s has more bytes than an int holds", shape, dtype)
	}
	return n * size, nil
}

// checkLen reports whether values fits shape.
func checkLen(name string, shape []int, count int) error {
	n, err := NumElements(shape)
	if err != nil {
		return fmt.Errorf("tensor %q: %w", name, err)
	}
	if n != count {
		return fmt.Errorf("tensor %q: shape %v holds %d elements, got %d values", name, shape, n, count)
	}
	return nil
}

// NewF32 makes an F32 tensor of shape from values, which must hold exactly
// the shape's number of elements. Shape and values are copied.
func NewF32(name string, shape []int, values []float32) (Tensor, error) {
	if err := checkLen(name, shape, len(values)); err != nil {
		return Tensor{}, err
	}
	data := make([]byte, 4*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
	}
	return Tensor{Name: name, DType: F32, Shape: append([]int{}, shape...), Data: data}, nil
}

// NewF64 makes an F64 tensor of shape from values, as NewF32.
func NewF64(name string, shape []int, values []float64) (Tensor, error) {
	if err := checkLen(name, shape, len(values)); err != nil {
		return Tensor{}, err
	}
	data := make([]byte, 8*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint64(data[8*i:], math.Float64bits(v))
	}
	return Tensor{Name: name, DType: F64, Shape: append([]int{}, shape...), Data: data}, nil
}

// NewI64 makes an I64 tensor of shape from values, as NewF32.
func NewI64(name string, shape []int, values []int64) (Tensor, error) {
	if err := checkLen(name, shape, len(values)); err != nil {
		return Tensor{}, err
	}
	data := make([]byte, 8*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint64(data[8*i:], uint64(v))
	}
	return Tensor{Name: name, DType: I64, Shape: append([]int{}, shape...), Data: data}, nil
}

// check reports whether t is of dtype and its Data fits its Shape.
func (t Tensor) check(dtype DType) error {
	if t.DType != dtype {
		return fmt.Errorf("tensor %q is %s, not %s", t.Name, t.DType, dtype)
	}
	n, err := byteSize(t.DType, t.Shape)
	if err != nil {
		return fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	if n != len(t.Data) {
		return fmt.Errorf("tensor %q: shape %v of %s needs %d bytes, has %d", t.Name, t.Shape, t.DType, n, len(t.Data))
	}
	return nil
}

// Float32s returns the elements of an F32 tensor, in row-major order.
func (t Tensor) Float32s() ([]float32, error) {
	if err := t.check(F32); err != nil {
		return nil, err
	}
	out := make([]float32, len(t.Data)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return out, nil
}

// Float64s returns the elements of an F64 tensor, in row-major order.
func (t Tensor) Float64s() ([]float64, error) {
	if err := t.check(F64); err != nil {
		return nil, err
	}
	out := make([]float64, len(t.Data)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(t.Data[8*i:]))
	}
	return out, nil
}

// Int64s returns the elements of an I64 tensor, in row-major order.
func (t Tensor) Int64s() ([]int64, error) {
	if err := t.check(I64); err != nil {
		return nil, err
	}
	out := make([]int64, len(t.Data)/8)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(t.Data[8*i:]))
	}
	return out, nil
}
