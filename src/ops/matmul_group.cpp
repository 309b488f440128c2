// matmul_group: the table's grouped kernel where it has one, else the calls one by one.
#include "paw/ops/kernels.hpp"

namespace paw {

void matmul_group(const KernelTable& kt, std::span<const MatmulCall> calls, const OpContext& ctx) {
  if (calls.empty()) return;
  if (kt.matmul_group && ctx.n_threads > 1) {
    kt.matmul_group(calls.data(), static_cast<int64_t>(calls.size()), ctx);
    return;
  }
  for (const MatmulCall& c : calls) kt.matmul(c.w, c.x, c.y, 1, c.accumulate, ctx);
}

size_t matmul_group_scratch_bytes(const KernelTable& kt, DType type, int64_t n_in, int n_threads) {
  // A grouped table keeps every member's quantized activations side by side (each at most
  // matmul's own single-token need); a call it leaves out runs alone and needs no more.
  return kt.matmul_scratch_bytes(type, n_in, 1, n_threads);
}

}  // namespace paw
