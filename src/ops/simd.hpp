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
#include "paw/ops/kernels.hpp"

namespace paw::cpu {

bool has_avx2();         // AVX2 + FMA + F16C, with OS support for the YMM state
bool has_avx512();       // AVX-512 F/BW/VL/DQ + VNNI, with OS support for the ZMM state
bool has_avx512_bf16();  // AVX512_BF16 (vdpbf16ps); optional inside the avx512 table

}  // namespace paw::cpu

namespace paw::avx2 {
const KernelTable* table();  // "avx2"
}  // namespace paw::avx2

namespace paw::avx512 {
const KernelTable* table();  // "avx512"
}  // namespace paw::avx512
