package train

import (
	"github.com/classify/classify/data"
	"github.com/classify/classify/layers"
)

// Model is what Fit trains and Evaluate scores: a network over batches of
// token ids that gives Head().Units() logits per row.
type Model interface {
	// Head is the task's output head: its loss is the one Forward returns,
	// and it reads the logits.
	Head() Head
	// Params lists all parameters, trainable or not, in a fixed order: the
	// optimizer keys its state by this order and by the names.
	Params() []*layers.Param
	// Forward runs the network on b and returns the head's loss on the
	// batch (computed from logits, class weights included) and each row's
	// logits, row-major. With training true it runs training-only layers
	// (dropout) and the backward pass too, leaving each trainable
	// parameter's gradient in its Grad.
	Forward(b *data.Batch, training bool) (loss float64, logits []float32, err error)
}
