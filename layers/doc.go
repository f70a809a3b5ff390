// Package layers holds the Keras-style layers that models are made of. Each
// layer is a small struct of configuration and parameters, made by a
// constructor, with a Forward method that adds its nodes to a Gorgonia graph.
//
// Parameters are Param values shared by all the graphs a model compiles (one
// per batch shape); Graph binds them to nodes. Sequences are batch-major,
// [batch, time, features], with a [batch, time] mask of ones and zeros.
package layers
