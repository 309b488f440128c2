// The "avx512" kernel table: AVX-512 F/BW/VL/DQ + VNNI (BF16 used when present). Built only
// after cpu::has_avx512() said yes (dispatch.cpp).
#include "ops/avx512_kernels.hpp"
#include "ops/simd.hpp"

namespace paw::avx512 {

const KernelTable* table() {
  static const KernelTable t = [] {
    KernelTable k;
    k.name = "avx512";
    k.matmul = matmul;
    k.matmul_scratch_bytes = matmul_scratch_bytes;
    k.matmul_group = matmul_group;
    k.rmsnorm = rmsnorm;
    k.layernorm = layernorm;
    k.rope_neox = rope_neox;
    k.rope_interleaved = rope_interleaved;
    k.softmax = softmax;
    k.silu = silu;
    k.gelu = gelu;
    k.swiglu = swiglu;
    k.add = add;
    k.add_rows = add_rows;
    k.scale = scale;
    k.attention = attention;
    k.attention_scratch_bytes = attention_scratch_bytes;
    k.store_row = store_row;
    return k;
  }();
  return &t;
}

}  // namespace paw::avx512
