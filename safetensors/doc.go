// Package safetensors reads and writes the safetensors file format, the
// tensor container of Hugging Face and PyTorch that classify uses for
// model.safetensors and optimizer.safetensors (SPEC section 4).
//
// A file is an 8-byte little-endian header length N, N bytes of JSON
//
//	{"__metadata__": {"key": "value"}, "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, ...}
//
// padded with spaces to a multiple of 8, then the byte buffer that the
// data_offsets index, each tensor's elements little-endian in row-major
// order (https://huggingface.co/docs/safetensors).
//
// Write lays tensors out as the reference implementation (the Rust crate
// behind Python's safetensors) does: by descending dtype, then by name, the
// header compact and padded, so that a file written here is byte for byte
// the file that safetensors.numpy.save_file writes. Read and ReadFile refuse
// anything the reference refuses, and more: truncated files, a header length
// past the end, bad JSON, duplicate names, unknown dtypes, data_offsets that
// overlap, leave gaps, run out of the buffer or disagree with the shape, and
// trailing bytes. Each error names the file (for ReadFile) and the tensor.
//
// github.com/nlpodyssey/safetensors, a Go port of the reference, was
// considered: its reader accepts the same files, but its errors name neither
// the file nor the kind of offset fault, it reads only from a byte slice,
// it brings testify into the module graph, and it is a pseudo-versioned
// snapshot with no release. The format is small, so it is written here.
package safetensors
