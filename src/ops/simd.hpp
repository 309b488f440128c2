#pragma once
// Private: the SIMD kernel tables and the CPU feature checks that guard them.
//
// Each ISA's kernels live in files named *_avx2.cpp / *_avx512.cpp, which the build compiles
// with that ISA's -m flags (cmake/PawTargets.cmake). Nothing in those files may run on a CPU
// without the ISA, so:
// - the feature checks below live in a baseline file (cpu_features.cpp);
// - dispatch.cpp calls an ISA's table() only after its supported() check passed;
// - ISA files define no namespace-scope objects with dynamic initialisers (those would run at
//   start-up on every CPU) and keep their helpers in anonymous namespaces, so an inline helper
//   compiled for AVX-512 can never be linked in place of another file's copy.
#include "paw/ops/cpu_features.hpp"
#include "paw/ops/kernels.hpp"

namespace paw::avx2 {
const KernelTable* table();  // "avx2"
}  // namespace paw::avx2

namespace paw::avx512 {
const KernelTable* table();  // "avx512"
}  // namespace paw::avx512
