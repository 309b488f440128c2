// write_lora_gguf — llama.cpp-layout LoRA adapter GGUFs from F32 A/B matrices.
#include <cmath>

#include "paw/adapter/writer.hpp"
#include "paw/tensor/quantize.hpp"
#include "paw/util/checked_math.hpp"
#include "paw/util/error.hpp"

namespace paw {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Encodes `rows` rows of `cols` floats to `type`; the caller has checked cols fits the block.
std::vector<uint8_t> encode(DType type, const float* src, int64_t rows, int64_t cols, size_t row_size) {
  std::vector<uint8_t> out(row_size * static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) quantize_row(type, src + r * cols, out.data() + r * row_size, cols);
  return out;
}

void add_matrix(GGUFWriter& w, const std::string& tensor, DType type, const std::vector<float>& values, int64_t rows,
                int64_t cols) {
  auto rb = row_bytes(type, cols);
  if (!rb)
    throw Error("row length " + std::to_string(cols) + " is not a multiple of the " + std::string(dtype_name(type)) +
                    " block size " + std::to_string(traits(type).block_size),
                "write_lora_gguf: tensor '" + tensor + "'",
                "for block types both n_in and the rank must be multiples of the block size (32 for q4_0/q8_0); use f16 or f32");
  for (float v : values)
    if (!std::isfinite(v))
      throw Error("matrix holds a non-finite value", "write_lora_gguf: tensor '" + tensor + "'", "check the source weights");
  // ne is innermost first: `rows` rows of `cols`.
  std::vector<uint8_t> bytes = encode(type, values.data(), rows, cols, *rb);
  w.add_tensor(tensor, type, {cols, rows}, bytes.data(), bytes.size());
}

}  // namespace

GGUFWriter make_lora_gguf_writer(const std::string& arch, float alpha, const std::map<std::string, LoraWeights>& pairs,
                                 DType type) {
  if (arch.empty()) throw Error("architecture is empty", "write_lora_gguf", "pass the base model's arch (qwen3, gpt2)");
  if (!std::isfinite(alpha)) throw Error("alpha is not finite", "write_lora_gguf");
  const DTypeTraits& tr = traits(type);
  if (!tr.can_quantize)
    throw Error("weight type " + std::string(tr.name) + " cannot be written", "write_lora_gguf",
                "use f32, f16, q8_0 or q4_0");

  GGUFWriter w;
  w.set("general.architecture", GGUFValue::string(arch));
  w.set("general.type", GGUFValue::string("adapter"));
  w.set("adapter.type", GGUFValue::string("lora"));
  w.set("adapter.lora.alpha", GGUFValue::f32(alpha));
  for (const auto& [base, lw] : pairs) {
    const std::string where = "write_lora_gguf: pair '" + base + "'";
    if (base.empty()) throw Error("empty base tensor name", "write_lora_gguf");
    if (base == "token_embd.weight" || ends_with(base, "_norm.weight"))
      throw Error("not a linear weight; the writer only emits linear pairs", where,
                  "token_embd and norm adapters use other layouts");
    if (lw.rank <= 0 || lw.n_in <= 0 || lw.n_out <= 0)
      throw Error("rank, n_in and n_out must be positive", where);
    auto na = checked_mul(static_cast<uint64_t>(lw.rank), static_cast<uint64_t>(lw.n_in));
    auto nb = checked_mul(static_cast<uint64_t>(lw.n_out), static_cast<uint64_t>(lw.rank));
    if (!na || lw.a.size() != *na)
      throw Error("A holds " + std::to_string(lw.a.size()) + " values, expected rank·n_in = " +
                      std::to_string(lw.rank) + "·" + std::to_string(lw.n_in), where);
    if (!nb || lw.b.size() != *nb)
      throw Error("B holds " + std::to_string(lw.b.size()) + " values, expected n_out·rank = " +
                      std::to_string(lw.n_out) + "·" + std::to_string(lw.rank), where);
    add_matrix(w, base + ".lora_a", type, lw.a, lw.rank, lw.n_in);    // ne [n_in, r]
    add_matrix(w, base + ".lora_b", type, lw.b, lw.n_out, lw.rank);   // ne [r, n_out]
  }
  return w;
}

void write_lora_gguf(const std::string& path, const std::string& arch, float alpha,
                     const std::map<std::string, LoraWeights>& pairs, DType type) {
  make_lora_gguf_writer(arch, alpha, pairs, type).write(path);
}

}  // namespace paw
