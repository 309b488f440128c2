// matmul_group: the table's grouped kernel where it has one, else the calls one by one.
#include <cstdlib>
#include <string>

#include "paw/ops/kernels.hpp"
#include "paw/util/error.hpp"

namespace paw {

void matmul_group(const KernelTable& kt, std::span<const MatmulCall> calls, const OpContext& ctx) {
  if (calls.empty()) return;
  if (kt.matmul_group) {
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

PackedMatrix pack_matrix(const KernelTable& kt, const MatrixView& w) {
  PackedMatrix p;
  const size_t n = kt.packed_bytes ? kt.packed_bytes(w) : 0;
  if (n == 0) return p;
  auto* mem = static_cast<uint8_t*>(std::aligned_alloc(64, (n + 63) / 64 * 64));
  if (!mem) throw Error("cannot allocate " + std::to_string(n) + " bytes for a packed matrix", "ops::pack_matrix");
  std::shared_ptr<uint8_t> owned(mem, [](uint8_t* q) { std::free(q); });
  kt.pack(w, owned.get());
  p.table = &kt;
  p.bytes = std::move(owned);
  return p;
}

}  // namespace paw
