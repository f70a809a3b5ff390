// Package models assembles layers into trainable models (the sentiment
// classifier of SPEC section 2), runs them over batches with one compiled
// graph per batch shape, and saves and loads them as checkpoints.
package models
