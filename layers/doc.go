// Package layers holds the Keras-style layers that models are made of. Each
// layer is a small struct of configuration and parameters, made by a
// constructor, with a Forward method that adds its nodes to a Gorgonia graph.
//
// Parameters are Param values shared by all the graphs a model compiles (one
// per batch shape); Graph binds them to nodes. Sequences are batch-major,
// [batch, time, features], with a [batch, time] mask of ones and zeros.
//
// The layers of the reference model (SPEC section 2), in order: Embedding
// (token ids to vectors, frozen or trainable; PaddingMask gives the mask of
// a batch of ids), PositionalEncoding (sinusoidal or learned), LSTM and
// Bidirectional (Keras semantics, masked; the fused operation of
// lstm_op.go by default, an unrolled graph of Gorgonia primitives with
// Unrolled), Pooling (last, mean, max over real steps), Dropout and Dense.
// BinaryCrossEntropy is the loss on logits, and Summary prints Keras's
// table of a stack of layers.
//
// Gorgonia graphs have fixed shapes. A model builds one Graph per (batch,
// length) bucket, runs every layer's Forward into it, and compiles it once
// with Compile; the Machine it gets is run for every batch of that shape.
// Frozen parameters get no gradient node.
//
// Where Gorgonia v0.9.18 has no operation or a wrong one, the layers use
// their own (funcOp): the embedding gather with a scatter-add gradient,
// masked pooling, seeded dropout, the positional add and the loss. The
// initialisers (GlorotUniform, Orthogonal, RandomEmbedding) draw from the
// caller's rand.Rand, since Gorgonia's are seeded from the clock.
package layers
