// LoraAdapterBuilder::finish: the kernel views of every pair (LoraPair::a_kernel / b_kernel).
// Q4_0 and Q8_0 matrices are interleaved into Q4_0_X16 / Q8_0_X16 once here, so that every
// session attaching the adapter shares one copy; the file pages they came from are then
// dropped from the resident set (the copy replaces them, so attaching costs no extra memory).
#include <cstdlib>
#include <string>

#include "builder.hpp"
#include "paw/tensor/interleave.hpp"
#include "paw/util/error.hpp"

namespace paw::detail {
namespace {

MatrixView kernel_view(const MatrixView& m, LoraAdapter::Storage& st) {
  if (!interleavable(m)) return m;
  const DType x16 = interleaved_type(m.type);
  const size_t n = interleaved_bytes(x16, m.rows, m.cols);
  auto* mem = static_cast<uint8_t*>(std::aligned_alloc(64, (n + 63) / 64 * 64));
  if (!mem) throw Error("cannot allocate " + std::to_string(n) + " bytes for an interleaved LoRA matrix", "adapter");
  std::shared_ptr<uint8_t> owned(mem, [](uint8_t* q) { std::free(q); });
  interleave(m, owned.get());
  st.interleaved.push_back(owned);
  st.map.release(m.data, *row_bytes(m.type, m.cols) * static_cast<size_t>(m.rows));
  return MatrixView{x16, m.rows, m.cols, owned.get()};
}

}  // namespace

std::shared_ptr<const LoraAdapter> LoraAdapterBuilder::finish() {
  LoraAdapter::Storage& st = storage();
  for (auto& [name, pair] : adapter->pairs_) {
    pair.a_kernel = kernel_view(pair.a, st);
    pair.b_kernel = kernel_view(pair.b, st);
  }
  return std::move(adapter);
}

}  // namespace paw::detail
