#pragma once
// The machine's streaming-read bandwidth, the bound a bandwidth-limited decode cannot beat
// (paw bench reports tokens/s against it).
namespace paw {

// Streaming-read bandwidth in bytes/s over a 1 GiB buffer with n_threads OpenMP threads: the
// best of 3 passes after a touching pass. Allocates and frees the buffer (about a second).
double measure_read_bandwidth(int n_threads);

}  // namespace paw
