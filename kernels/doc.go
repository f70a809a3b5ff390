// Package kernels holds the numeric loops behind the fused layers: matrix
// products and the LSTM sequence forward and backward passes over whole
// batches. It knows nothing of Gorgonia; layers wraps these kernels in
// graph operations.
//
// Gemm is cblas's row-major sgemm/dgemm. By default it is pure Go: float32
// products run on a register-blocked micro-kernel in assembly, 8×32 on
// AVX-512F and 6×16 on AVX2/FMA, chosen when the program starts from what
// the CPU and OS support (golang.org/x/sys/cpu; gonum's Sgemm elsewhere),
// float64 products on gonum's Dgemm. The LSTM cell's activations take the
// same path: 16 or 8 lanes, or scalar Go. CLASSIFY_SIMD=avx2 or =purego in
// the environment caps the choice, to compare the paths. Built with the tag openblas, every product
// calls OpenBLAS's cblas_sgemm/cblas_dgemm through cgo instead, one thread
// per call (link with -lopenblas; Debian/Ubuntu package libopenblas-dev).
// BLAS reports which is in use.
//
// LSTM runs one direction of an LSTM over a [batch, time, features] batch
// with a padding mask, PyTorch's weight layout and Keras's semantics: the
// input projections of all steps are one product, each step is one
// recurrent product plus fused gate arithmetic, and Backward is
// hand-written backpropagation through time whose weight and input
// gradients are again products over all steps at once. Infer is the
// forward pass for prediction: the same outputs without the per-step
// history that Backward needs, in memory that does not grow with the
// sequence length.
package kernels
