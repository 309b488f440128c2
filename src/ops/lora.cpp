// The LoRA path y += scale · B·(A·x), built from two matmuls of the given table. The scale is
// applied to the rank-r intermediate (r ≪ n_out), which is the cheapest place for it.
#include <string>

#include "paw/ops/kernels.hpp"
#include "paw/util/error.hpp"

namespace paw {

void lora_apply(const KernelTable& kt, const MatrixView& a, const MatrixView& b, float scale,
                const float* x, float* y, int64_t n_tokens, float* tmp, const OpContext& ctx) {
  if (b.cols != a.rows)
    throw Error("LoRA pair rank mismatch: A has " + std::to_string(a.rows) + " rows, B has " +
                    std::to_string(b.cols) + " columns",
                "ops::lora_apply", "the adapter's lora_a and lora_b must share the rank");
  kt.matmul(a, x, tmp, n_tokens, /*accumulate=*/false, ctx);  // tmp: [n_tokens, r]
  kt.scale(tmp, scale, tmp, n_tokens * a.rows);
  kt.matmul(b, tmp, y, n_tokens, /*accumulate=*/true, ctx);   // y: [n_tokens, n_out]
}

}  // namespace paw
