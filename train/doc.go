// Package train fits models: the loss, the Adam optimizer, the epoch loop
// with validation, early stopping and a Keras-style progress bar, the
// metrics, and the history with its plot.
package train
