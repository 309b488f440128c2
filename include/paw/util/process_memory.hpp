#pragma once
// Peak resident memory of this process, for benchmark and evaluation reports.
#include <cstdint>

namespace paw {

// Peak resident set size in bytes: VmHWM from /proc/self/status (exact), else getrusage's
// ru_maxrss (KiB on Linux).
uint64_t peak_rss_bytes();

// Resets the peak to the current RSS (Linux: writes "5" to /proc/self/clear_refs), so one
// process can report the peak of several phases. Returns false where that is not possible;
// the peak then keeps counting from process start.
bool reset_peak_rss();

}  // namespace paw
