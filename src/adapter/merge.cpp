// Dense merge of LoRA deltas (paw export-lora) and whole-matrix dequantization.
#include "paw/adapter/merge.hpp"

#include "paw/tensor/quantize.hpp"
#include "paw/util/checked_math.hpp"
#include "paw/util/error.hpp"

namespace paw {

std::vector<float> dequantize_matrix(const MatrixView& m) {
  if (m.rows < 0 || m.cols < 0) throw Error("matrix view has a negative shape", "dequantize_matrix");
  auto n = checked_mul(static_cast<uint64_t>(m.rows), static_cast<uint64_t>(m.cols));
  auto stride = row_bytes(m.type, m.cols);
  if (!n || !stride)
    throw Error("matrix view shape [" + std::to_string(m.rows) + ", " + std::to_string(m.cols) +
                    "] is not valid for type " + std::string(dtype_name(m.type)),
                "dequantize_matrix");
  std::vector<float> out(*n);
  for (int64_t r = 0; r < m.rows; ++r)
    dequantize_row(m.type, m.data + static_cast<size_t>(r) * *stride, out.data() + r * m.cols, m.cols);
  return out;
}

std::vector<float> merge_lora_into(const float* w, int64_t n_out, int64_t n_in,
                                   std::span<const LoraPair* const> pairs, std::span<const float> scales) {
  if (pairs.size() != scales.size())
    throw Error("merge_lora_into: " + std::to_string(pairs.size()) + " pairs but " + std::to_string(scales.size()) +
                " scales", "merge_lora_into");
  auto n = checked_mul(static_cast<uint64_t>(n_out), static_cast<uint64_t>(n_in));
  if (n_out < 0 || n_in < 0 || !n) throw Error("merge_lora_into: bad base shape", "merge_lora_into");
  std::vector<float> merged(w, w + *n);   // [n_out, n_in]
  for (size_t i = 0; i < pairs.size(); ++i) {
    const LoraPair& p = *pairs[i];
    const int64_t r = p.rank();
    if (p.a.cols != n_in || p.b.rows != n_out || p.b.cols != r)
      throw Error("LoRA pair shape A [" + std::to_string(p.a.rows) + ", " + std::to_string(p.a.cols) + "], B [" +
                      std::to_string(p.b.rows) + ", " + std::to_string(p.b.cols) + "] does not fit base [" +
                      std::to_string(n_out) + ", " + std::to_string(n_in) + "]",
                  "merge_lora_into", "the adapter was made for a different base model");
    const std::vector<float> a = dequantize_matrix(p.a);   // [r, n_in]
    const std::vector<float> b = dequantize_matrix(p.b);   // [n_out, r]
    const float s = scales[i];
    // merged[o, :] += s · Σ_k B[o, k] · A[k, :]  — row-wise axpy keeps A's rows streaming.
    for (int64_t o = 0; o < n_out; ++o) {
      float* row = merged.data() + o * n_in;
      for (int64_t k = 0; k < r; ++k) {
        const float c = s * b[o * r + k];
        if (c == 0.0f) continue;
        const float* arow = a.data() + k * n_in;
        for (int64_t j = 0; j < n_in; ++j) row[j] += c * arow[j];
      }
    }
  }
  return merged;
}

std::vector<float> merge_adapters_into(const float* w, int64_t n_out, int64_t n_in, const std::string& base_name,
                                       std::span<const ActiveAdapter> adapters) {
  std::vector<const LoraPair*> pairs;
  std::vector<float> scales;
  for (const ActiveAdapter& act : adapters) {
    if (!act.adapter) continue;
    if (const LoraPair* p = act.adapter->find(base_name)) {
      pairs.push_back(p);
      scales.push_back(act.scale * act.adapter->pair_factor(*p));
    }
  }
  return merge_lora_into(w, n_out, n_in, pairs, scales);
}

}  // namespace paw
