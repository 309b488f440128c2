// HF -> GGUF tensor names for the LoRA-able linears of Qwen3 and GPT-2 (DESIGN.md §8).
#include "peft_names.hpp"

#include <array>
#include <utility>

namespace paw::detail {
namespace {

bool consume(std::string_view& s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix) return false;
  s.remove_prefix(prefix.size());
  return true;
}

// Reads "<digits>." off the front; no sign, no leading zeros (so one layer has one name).
std::optional<int> consume_layer(std::string_view& s) {
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i == 0 || i > 6 || i >= s.size() || s[i] != '.' || (i > 1 && s[0] == '0')) return std::nullopt;
  int n = 0;
  for (size_t k = 0; k < i; ++k) n = n * 10 + (s[k] - '0');
  s.remove_prefix(i + 1);
  return n;
}

using NameMap = std::array<std::pair<std::string_view, std::string_view>, 7>;

constexpr NameMap kQwen3 = {{
    {"self_attn.q_proj", "attn_q"},
    {"self_attn.k_proj", "attn_k"},
    {"self_attn.v_proj", "attn_v"},
    {"self_attn.o_proj", "attn_output"},
    {"mlp.gate_proj", "ffn_gate"},
    {"mlp.up_proj", "ffn_up"},
    {"mlp.down_proj", "ffn_down"},
}};

constexpr NameMap kGpt2 = {{
    {"attn.c_attn", "attn_qkv"},
    {"attn.c_proj", "attn_output"},
    {"mlp.c_fc", "ffn_up"},
    {"mlp.c_proj", "ffn_down"},
    {"", ""}, {"", ""}, {"", ""},
}};

}  // namespace

std::optional<std::string> peft_module_to_gguf(std::string_view module, std::string_view arch) {
  const NameMap* map = nullptr;
  std::string_view wrapper, layers;
  if (arch == "qwen3") {
    map = &kQwen3;
    wrapper = "model.";
    layers = "layers.";
  } else if (arch == "gpt2") {
    map = &kGpt2;
    wrapper = "transformer.";
    layers = "h.";
  } else {
    return std::nullopt;
  }
  if (module == "lm_head") return "output.weight";
  consume(module, wrapper);  // optional: PEFT on the bare base model has no wrapper
  if (!consume(module, layers)) return std::nullopt;
  auto layer = consume_layer(module);
  if (!layer) return std::nullopt;
  for (const auto& [hf, gguf] : *map)
    if (!hf.empty() && module == hf) return "blk." + std::to_string(*layer) + "." + std::string(gguf) + ".weight";
  return std::nullopt;
}

}  // namespace paw::detail
