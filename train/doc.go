// Package train fits models: the Adam optimizer, the epoch loop with
// validation, early stopping and a Keras-style progress bar, the metrics,
// and the history with its plot.
//
// A Model (models' classifier, or any network over data.Batch values)
// computes its loss from logits and its gradients itself; Fit cuts the
// examples into batches with data.Batches (grouped by length and shuffled
// from the seed, or in file order), runs the model on each, and lets Adam
// step the trainable parameters, refusing any step whose loss or gradient
// is not finite. After each epoch it scores the validation examples with
// Evaluate, records an Epoch in the History, reports it through a Progress,
// and, with a patience, stops early and puts back the best epoch's weights
// and optimizer state. The History is written as history.json
// (WriteJSON) and drawn as training.png (PlotPNG); Adam's state is handed
// to checkpoints as named tensors (State, SetState).
//
// Everything that Fit draws at random comes from Config.Seed, so the same
// seed gives the same history, wall times aside, to the last digit.
package train
