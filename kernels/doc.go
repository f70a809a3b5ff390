// Package kernels holds the numeric loops behind the fused layers: matrix
// products through a BLAS chosen at build time (pure-Go gonum by default,
// OpenBLAS through cgo with the build tag openblas) and the LSTM sequence
// forward and backward passes over whole batches. It knows nothing of
// Gorgonia; layers wraps these kernels in graph operations.
package kernels
