package safetensors

// DType names a tensor's element type as the safetensors header spells it.
type DType string

// The element types classify writes. Read also accepts the other byte-sized
// types of the format (see Size).
const (
	F32 DType = "F32"
	F64 DType = "F64"
	I64 DType = "I64"
)

// dtypeRank orders the byte-sized dtypes as the reference implementation's
// Dtype enum does; Write lays tensors out by descending rank, which keeps
// every tensor aligned to its element size.
var dtypeRank = map[DType]int{
	"BOOL": 0, "U8": 1, "I8": 2, "F8_E5M2": 3, "F8_E4M3": 4,
	"I16": 5, "U16": 6, "F16": 7, "BF16": 8,
	"I32": 9, "U32": 10, "F32": 11, "F64": 12, "I64": 13, "U64": 14,
}

// Size returns the number of bytes of one element of d, and false when d
// is not a dtype this package knows.
func (d DType) Size() (int, bool) {
	switch d {
	case "BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3":
		return 1, true
	case "I16", "U16", "F16", "BF16":
		return 2, true
	case "I32", "U32", "F32":
		return 4, true
	case "F64", "I64", "U64":
		return 8, true
	}
	return 0, false
}
