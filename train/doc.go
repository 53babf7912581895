// Package train trains a network to map the generator of a banded Toeplitz
// matrix to the generator of a narrower-band approximation.
//
// A Trainer is built from a Config: it draws (or reads) the data and the
// probes, builds the loss, the network, the optimizer and the learning-rate
// schedule, all from the one seed through independent random streams
// (initialisation, data, probes, validation data, shuffling), so the same
// Config gives bit-identical weights.
//
// One training step is: gather a batch along this epoch's permutation,
// forward, loss and its gradient with respect to the network's output,
// backward, optional clipping by global norm, optimizer step. No step
// allocates (for the probe and Frobenius losses; the spectral loss runs an
// SVD per sample).
//
// Run stops at a cancelled context after the batch in progress; Checkpoint
// then captures everything that determines the rest of the run — weights,
// optimizer state, position in the epoch's permutation, the shuffling
// generator's state, the running sums and the history — so Resume followed
// by Run ends with exactly the weights of an uninterrupted run.
package train
