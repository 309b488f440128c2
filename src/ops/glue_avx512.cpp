// The "avx512" kernel table with its element-wise and attention entries: the shared glue of
// simd_isa_glue.inc for AVX-512 F/BW/VL/DQ + VNNI (BF16 used when present); 16-float vectors.
// Built only after cpu::has_avx512() said yes (dispatch.cpp).
#include "ops/avx512_kernels.hpp"
#include "ops/scalar.hpp"
#include "ops/simd.hpp"
#include "ops/simd_attention.hpp"
#include "ops/simd_elementwise.hpp"

namespace paw::avx512 {

#define PAW_ISA_NAME "avx512"
#define PAW_ISA_VEC simd::V512
#include "ops/simd_isa_glue.inc"
#undef PAW_ISA_NAME
#undef PAW_ISA_VEC

}  // namespace paw::avx512
