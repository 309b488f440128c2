// Runtime manifests: parsing the reference SDK's shape and paw's built-in table.
#include <array>

#include "paw/program/meta.hpp"
#include "paw/util/error.hpp"
#include "program/text_checks.hpp"

namespace paw {
namespace {

using nlohmann::json;
using program_detail::file_name_problem;

[[noreturn]] void bad(const std::string& where, const std::string& field, const std::string& what,
                      const std::string& hint = "fix the runtime manifest in meta.json or remove it to use the built-in one") {
  throw Error("runtime manifest field '" + field + "' " + what, where, hint);
}

// Optional string field: absent or null -> "", a string -> it, anything else -> error.
std::string opt_string(const json& obj, const char* key, const std::string& where, const std::string& prefix) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_string()) bad(where, prefix + key, "must be a string");
  return it->get<std::string>();
}

int manifest_version_of(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return 1;
  if (!it->is_number_integer() || it->get<int64_t>() != 1)
    bad(where, key, "must be 1 (got " + it->dump() + ")", "this paw understands runtime manifest version 1 only");
  return 1;
}

bool is_hex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

}  // namespace

RuntimeManifest RuntimeManifest::from_json(const json& j, const std::string& where) {
  if (!j.is_object()) throw Error("runtime manifest must be a JSON object", where, "remove the field or give an object");
  RuntimeManifest m;
  m.manifest_version = manifest_version_of(j, "manifest_version", where);
  manifest_version_of(j, "version", where);
  m.runtime_id = opt_string(j, "runtime_id", where, "");
  m.interpreter = opt_string(j, "interpreter", where, "");
  m.display_name = opt_string(j, "display_name", where, "");
  if (auto it = j.find("adapter_format"); it != j.end() && !it->is_null()) {
    if (!it->is_string() || it->get<std::string>() != "gguf_lora")
      bad(where, "adapter_format", "must be \"gguf_lora\" (got " + it->dump() + ")",
          "paw runs llama.cpp-style LoRA GGUF adapters only");
  }
  auto ls = j.find("local_sdk");
  if (ls == j.end() || ls->is_null()) return m;
  if (!ls->is_object()) bad(where, "local_sdk", "must be an object");
  if (auto s = ls->find("supported"); s != ls->end() && !s->is_null()) {
    if (!s->is_boolean()) bad(where, "local_sdk.supported", "must be true or false");
    m.local_supported = s->get<bool>();
  }
  if (auto n = ls->find("n_ctx"); n != ls->end() && !n->is_null()) {
    if (!n->is_number_integer() || n->get<int64_t>() < 1 || n->get<int64_t>() > (1 << 22))
      bad(where, "local_sdk.n_ctx", "must be an integer between 1 and 4194304");
    m.n_ctx = static_cast<int>(n->get<int64_t>());
  }
  auto bm = ls->find("base_model");
  if (bm == ls->end() || bm->is_null()) return m;
  if (!bm->is_object()) bad(where, "local_sdk.base_model", "must be an object");
  const std::string p = "local_sdk.base_model.";
  m.base_model_file = opt_string(*bm, "file", where, p);
  if (!m.base_model_file.empty()) {
    // The file name comes from an untrusted bundle and becomes a path under base_models/.
    std::string prob = file_name_problem(m.base_model_file);
    if (!prob.empty())
      bad(where, p + "file", "is not a plain file name: " + prob + " ('" + program_detail::printable(m.base_model_file) + "')");
  }
  m.base_model_sha256 = opt_string(*bm, "sha256", where, p);
  if (!m.base_model_sha256.empty()) {
    if (!is_hex64(m.base_model_sha256)) bad(where, p + "sha256", "must be 64 hexadecimal digits or null");
    for (char& c : m.base_model_sha256)
      if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  if (auto s = bm->find("size"); s != bm->end() && !s->is_null()) {
    if (!s->is_number_unsigned() && !(s->is_number_integer() && s->get<int64_t>() >= 0))
      bad(where, p + "size", "must be a non-negative integer (bytes)");
    m.base_model_size = s->get<uint64_t>();
  }
  m.arch = opt_string(*bm, "arch", where, p);
  m.url = opt_string(*bm, "url", where, p);
  return m;
}

json RuntimeManifest::to_json() const {
  json bm = {{"file", base_model_file},
             {"sha256", base_model_sha256.empty() ? json(nullptr) : json(base_model_sha256)}};
  if (base_model_size) bm["size"] = *base_model_size;
  if (!arch.empty()) bm["arch"] = arch;
  if (!url.empty()) bm["url"] = url;
  json j = {{"runtime_id", runtime_id},
            {"manifest_version", manifest_version},
            {"interpreter", interpreter},
            {"adapter_format", adapter_format},
            {"local_sdk", {{"supported", local_supported}, {"n_ctx", n_ctx}, {"base_model", bm}}}};
  if (!display_name.empty()) j["display_name"] = display_name;
  return j;
}

std::optional<RuntimeManifest> builtin_runtime_manifest(std::string_view key) {
  // The two interpreters the reference SDK ships (sizes and hashes of the published files).
  struct Row {
    const char *interpreter, *runtime_id, *display, *file, *sha256, *arch, *url;
    uint64_t size;
  };
  static constexpr std::array<Row, 2> kRows = {{
      {"Qwen/Qwen3-0.6B", "qwen3-0.6b-q6_k", "Qwen3 0.6B (Q6_K)", "qwen3-0.6b-q6_k.gguf",
       "9a16ed5cacba959e63b62e2b6840c3eca2b51c3c3e51d31367ef8e4aafeae33c", "qwen3",
       "https://huggingface.co/programasweights/Qwen3-0.6B-GGUF-Q6_K/resolve/main/qwen3-0.6b-q6_k.gguf",
       622733120ull},
      {"gpt2", "gpt2-q8_0", "GPT-2 124M (Q8_0)", "gpt2-q8_0.gguf",
       "0aa260efb2cce9def922e0546b88ad731cf1a68554db73fa2d4a0949cfa958c5", "gpt2",
       "https://huggingface.co/programasweights/GPT2-GGUF-Q8_0/resolve/main/gpt2-q8_0.gguf",
       139804832ull},
  }};
  for (const Row& r : kRows) {
    if (key != r.interpreter && key != r.runtime_id) continue;
    RuntimeManifest m;
    m.runtime_id = r.runtime_id;
    m.interpreter = r.interpreter;
    m.display_name = r.display;
    m.base_model_file = r.file;
    m.base_model_size = r.size;
    m.base_model_sha256 = r.sha256;
    m.arch = r.arch;
    m.url = r.url;
    return m;
  }
  return std::nullopt;
}

}  // namespace paw
