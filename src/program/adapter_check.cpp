#include "program/adapter_check.hpp"

#include <map>

#include "paw/formats/gguf.hpp"
#include "paw/util/error.hpp"
#include "program/text_checks.hpp"

namespace paw::program_detail {
namespace {

constexpr const char* kHint = "adapter.gguf must be a llama.cpp LoRA adapter (general.type=adapter, adapter.type=lora)";

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string check_adapter_gguf(std::span<const uint8_t> bytes, const std::string& where) {
  if (bytes.empty()) throw Error("adapter.gguf is empty", where, kHint);
  std::optional<GGUFFile> parsed;
  try {
    parsed.emplace(GGUFFile::parse(bytes, where));
  } catch (const Error& e) {
    throw Error("adapter.gguf is not a valid GGUF file: " + e.what_failed(), e.where().empty() ? where : e.where(),
                e.hint().empty() ? "the adapter is truncated or corrupt; re-export the program" : e.hint());
  }
  const GGUFFile& f = *parsed;
  auto str_key = [&](const char* key) -> std::string {
    const GGUFValue* v = f.find(key);
    if (!v) return {};
    if (v->type() != GGUFType::STRING) throw Error(std::string("key '") + key + "' is not a string", where, kHint);
    return v->as_string();
  };
  std::string type = str_key("general.type");
  if (type != "adapter")
    throw Error("not an adapter GGUF: general.type is " + (type.empty() ? std::string("missing") : "'" + printable(type) + "'"),
                where, kHint);
  std::string atype = str_key("adapter.type");
  if (atype != "lora")
    throw Error("not a LoRA adapter: adapter.type is " + (atype.empty() ? std::string("missing") : "'" + printable(atype) + "'"),
                where, kHint);
  std::string arch = str_key("general.architecture");
  if (arch.empty()) throw Error("adapter has no general.architecture", where, "set it to the base model's architecture");

  struct Pair {
    const GGUFTensorInfo* a = nullptr;
    const GGUFTensorInfo* b = nullptr;
  };
  std::map<std::string, Pair> pairs;
  for (const GGUFTensorInfo& t : f.tensors()) {
    bool is_a = ends_with(t.name, ".lora_a"), is_b = ends_with(t.name, ".lora_b");
    if (!is_a && !is_b)
      throw Error("tensor '" + printable(t.name) + "' is not a LoRA tensor (names end in .lora_a or .lora_b)", where, kHint);
    std::string base = t.name.substr(0, t.name.size() - 7);
    Pair& p = pairs[base];
    (is_a ? p.a : p.b) = &t;
  }
  if (pairs.empty()) throw Error("adapter has no LoRA tensors", where, kHint);
  for (const auto& [base, p] : pairs) {
    if (!p.a || !p.b)
      throw Error("tensor '" + printable(base) + (p.a ? ".lora_a' has no .lora_b" : ".lora_b' has no .lora_a"), where, kHint);
    // lora_a ne = [n_in, r]; lora_b ne = [r, n_out] (innermost first).
    auto dims2 = [](const GGUFTensorInfo* t) {
      for (size_t i = 2; i < t->ne.size(); ++i)
        if (t->ne[i] != 1) return false;
      return t->ne.size() >= 2;
    };
    if (!dims2(p.a) || !dims2(p.b))
      throw Error("tensor pair '" + printable(base) + "' is not two-dimensional", where, kHint);
    if (p.a->ne[1] != p.b->ne[0] || p.a->ne[1] <= 0)
      throw Error("tensor pair '" + printable(base) + "' has mismatched rank: lora_a ne[1]=" + std::to_string(p.a->ne[1]) +
                      ", lora_b ne[0]=" + std::to_string(p.b->ne[0]),
                  where, "lora_a must be [n_in, r] and lora_b [r, n_out]");
  }
  return arch;
}

}  // namespace paw::program_detail
