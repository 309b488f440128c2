// matmul_group: the table's grouped kernel where it has one, else the calls one by one.
#include "paw/ops/kernels.hpp"

namespace paw {

void matmul_group(const KernelTable& kt, std::span<const MatmulCall> calls, const OpContext& ctx) {
  matmul_group(kt, calls, {}, ctx);
}

void matmul_group(const KernelTable& kt, std::span<const MatmulCall> first, std::span<const MatmulCall> second,
                  const OpContext& ctx) {
  if (first.empty() && second.empty()) return;
  if (kt.matmul_group && ctx.n_threads > 1) {
    kt.matmul_group(first.data(), static_cast<int64_t>(first.size()), second.data(),
                    static_cast<int64_t>(second.size()), ctx);
    return;
  }
  for (const MatmulCall& c : first) kt.matmul(c.w, c.x, c.y, 1, c.accumulate, ctx);
  for (const MatmulCall& c : second) {
    if (c.pre_scale != 1.0f) kt.scale(c.x, c.pre_scale, const_cast<float*>(c.x), c.w.cols);
    kt.matmul(c.w, c.x, c.y, 1, c.accumulate, ctx);
  }
}

size_t matmul_group_scratch_bytes(const KernelTable& kt, DType type, int64_t n_in, int n_threads) {
  // A grouped table keeps every member's quantized activations side by side (each at most
  // matmul's own single-token need); a call it leaves out runs alone and needs no more.
  return kt.matmul_scratch_bytes(type, n_in, 1, n_threads);
}

}  // namespace paw
