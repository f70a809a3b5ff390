// Package models assembles layers into trainable models and saves and
// loads them as checkpoints.
//
// Sequential is the container, after Keras's: a stack of layers from token
// ids to one logit per row, compiled with an optimizer, then trained with
// Fit, scored with Evaluate and run with Predict, with one compiled graph
// per batch shape. Classifier (the BiLSTM of SPEC section 2), the CNN and
// the transformer are built as Sequentials; Bow, fastText's bag of
// n-grams, is plain loops with no graph. Each is a Model, what a
// Checkpoint holds: Build makes one from its spec, Save and Load store it
// in the folder format of SPEC section 4, and Predictor serves a loaded
// one.
package models
