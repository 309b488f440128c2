#pragma once
// Private: the AVX2 (+FMA, F16C) kernels, defined in the *_avx2.cpp files and gathered into
// the "avx2" table by glue_avx2.cpp. Call only on a CPU that passed cpu::has_avx2().
#include <cstddef>
#include <cstdint>

#include "paw/ops/kernels.hpp"

namespace paw::avx2 {

#include "ops/simd_isa_kernels.inc"

}  // namespace paw::avx2
