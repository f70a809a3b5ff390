package data

// Batch is a block of encoded examples padded to a common length, ready for
// a model.
type Batch struct {
	// IDs holds Size rows of Len token ids, row-major; 0 is padding.
	IDs []int
	// Lengths holds the number of real tokens of each row (at least 1).
	Lengths []int
	// Labels holds each row's label, 0 or 1.
	Labels []float32
	// Index holds the position of each row in the examples it was cut from.
	Index []int
	// Size is the number of rows, Len the padded length.
	Size, Len int
}
