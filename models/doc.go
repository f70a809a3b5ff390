// Package models assembles layers into trainable models and saves and
// loads them as checkpoints.
//
// Sequential is the container, after Keras's: a stack of layers from token
// ids to one logit per row, compiled with an optimizer, then trained with
// Fit, scored with Evaluate and run with Predict, with one compiled graph
// per batch shape. Classifier is the sentiment classifier of SPEC section
// 2 built as a Sequential; Checkpoint, Save and Load store it in the
// folder format of SPEC section 4, and Predictor serves a loaded one.
package models
