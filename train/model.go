package train

import (
	"github.com/classify/classify/data"
	"github.com/classify/classify/layers"
)

// Model is what Fit trains and Evaluate scores: a network over batches of
// token ids that gives one logit per row.
type Model interface {
	// Params lists all parameters, trainable or not, in a fixed order: the
	// optimizer keys its state by this order and by the names.
	Params() []*layers.Param
	// Forward runs the network on b and returns the mean binary
	// cross-entropy over the batch (computed from logits) and each row's
	// logit. With training true it runs training-only layers (dropout) and
	// the backward pass too, leaving each trainable parameter's gradient in
	// its Grad.
	Forward(b *data.Batch, training bool) (loss float64, logits []float32, err error)
}
