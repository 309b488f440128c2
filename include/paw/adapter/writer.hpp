#pragma once
// Writing llama.cpp-layout LoRA adapter GGUFs (tests, paw-fixture, the compiler).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "paw/formats/gguf.hpp"
#include "paw/tensor/dtype.hpp"

namespace paw {

// One adapted linear in PEFT / torch orientation (rows × cols, row-major).
struct LoraWeights {
  int64_t rank = 0, n_in = 0, n_out = 0;
  std::vector<float> a;   // [rank, n_in]   — PEFT lora_A.weight, GGUF lora_a (ne [n_in, rank])
  std::vector<float> b;   // [n_out, rank]  — PEFT lora_B.weight, GGUF lora_b (ne [rank, n_out])
};

// A GGUFWriter holding the adapter keys (general.type=adapter, general.architecture=arch,
// adapter.type=lora, adapter.lora.alpha=alpha) and, per base name in map order,
// "<base>.lora_a" then "<base>.lora_b", quantized to `type` with quantize_row. Callers may
// add metadata before writing. Throws paw::Error naming the tensor when a shape is
// inconsistent, the base name is token_embd.weight or a *_norm.weight (not linears), or a
// row length is not a multiple of the type's block size (Q4_0/Q8_0 need n_in % 32 == 0 and
// rank % 32 == 0).
GGUFWriter make_lora_gguf_writer(const std::string& arch, float alpha,
                                 const std::map<std::string, LoraWeights>& pairs, DType type);

// make_lora_gguf_writer(...).write(path) — an atomic write.
void write_lora_gguf(const std::string& path, const std::string& arch, float alpha,
                     const std::map<std::string, LoraWeights>& pairs, DType type);

}  // namespace paw
