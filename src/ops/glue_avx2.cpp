// The "avx2" kernel table with its element-wise and attention entries: the shared glue of
// simd_isa_glue.inc for AVX2 + FMA + F16C (Haswell and later, Zen 1 and later); 8-float vectors.
// Built only after cpu::has_avx2() said yes (dispatch.cpp).
#include "ops/avx2_kernels.hpp"
#include "ops/scalar.hpp"
#include "ops/simd.hpp"
#include "ops/simd_attention.hpp"
#include "ops/simd_elementwise.hpp"

namespace paw::avx2 {

#define PAW_ISA_NAME "avx2"
#define PAW_ISA_VEC simd::V256
#include "ops/simd_isa_glue.inc"
#undef PAW_ISA_NAME
#undef PAW_ISA_VEC

}  // namespace paw::avx2
