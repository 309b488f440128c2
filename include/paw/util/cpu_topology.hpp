#pragma once
// How many physical cores this process may run on: the default thread count. Decode is
// memory-bound and prefill keeps the FMA units busy, so a second hardware thread on the same
// core (SMT) adds contention, not speed.

namespace paw {

// Distinct (package, core) pairs among the CPUs of this process's affinity mask, read from
// /sys/devices/system/cpu/cpu<N>/topology. 0 when that cannot be determined (not Linux, no
// sysfs): callers fall back to another default.
int physical_core_count();

}  // namespace paw
