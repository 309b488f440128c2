// Runtime manifests: the reference SDK's shape (read, written back with every field kept),
// its canonical runtimes, paw's manifest for paw-only base models, and the reference's
// validity rules as checks of what paw writes (docs/FORMATS.md "Runtime manifest").
#include <array>
#include <filesystem>

#include "paw/program/bundle.hpp"
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

bool present(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && !it->is_null();
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

// A positive integer (the reference's rule for size_bytes; bool is not a number in JSON).
bool is_positive_int(const json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>() > 0;
  return v.is_number_integer() && v.get<int64_t>() > 0;
}

// A byte count: absent/null, or a positive integer.
std::optional<uint64_t> opt_size(const json& bm, const char* key, const std::string& where, const std::string& prefix) {
  auto it = bm.find(key);
  if (it == bm.end() || it->is_null()) return std::nullopt;
  if (!is_positive_int(*it)) bad(where, prefix + key, "must be a positive integer (bytes), got " + it->dump().substr(0, 40));
  return it->get<uint64_t>();
}

bool is_hex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

// ^[A-Za-z0-9][A-Za-z0-9._-]*$, the reference's runtime id.
bool is_runtime_id(const std::string& s) {
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (s.empty() || !alnum(s[0])) return false;
  for (char c : s)
    if (!alnum(c) && c != '.' && c != '_' && c != '-') return false;
  return true;
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// The reference's prompt contract and program assets for programs whose prefix is computed at
// run time (what paw programs and the Qwen3 runtime use).
json prompt_template_section() { return {{"format", "rendered_text"}, {"placeholder", kInputPlaceholder}}; }
json program_assets_section(bool prefix_cache) {
  if (prefix_cache)
    return {{"adapter_filename", kAdapterMember},
            {"prefix_cache_required", true},
            {"prefix_cache_filename", "prefix_cache.bin"},
            {"prefix_tokens_filename", "prefix_tokens.json"}};
  return {{"adapter_filename", kAdapterMember},
          {"prefix_cache_required", false},
          {"prefix_cache_filename", nullptr},
          {"prefix_tokens_filename", nullptr}};
}
json js_sdk_unsupported() { return {{"supported", false}, {"base_model", nullptr}, {"prefix_cache_supported", false}}; }

// The reference SDK's two canonical runtimes (the published base model files).
struct Canonical {
  const char *interpreter, *runtime_id, *display, *repo, *file, *sha256, *arch;
  uint64_t size;
  bool gpt2;   // prefix cache assets required; runs in the JS SDK
};
constexpr std::array<Canonical, 2> kCanonical = {{
    {"Qwen/Qwen3-0.6B", "qwen3-0.6b-q6_k", "Qwen3 0.6B (Q6_K)", "programasweights/Qwen3-0.6B-GGUF-Q6_K",
     "qwen3-0.6b-q6_k.gguf", "9a16ed5cacba959e63b62e2b6840c3eca2b51c3c3e51d31367ef8e4aafeae33c", "qwen3", 622733120ull,
     false},
    {"gpt2", "gpt2-q8_0", "GPT-2 124M (Q8_0)", "programasweights/GPT2-GGUF-Q8_0", "gpt2-q8_0.gguf",
     "0aa260efb2cce9def922e0546b88ad731cf1a68554db73fa2d4a0949cfa958c5", "gpt2", 139804832ull, true},
}};

json canonical_json(const Canonical& c) {
  const json base = {{"provider", "huggingface"},
                     {"repo", c.repo},
                     {"file", c.file},
                     {"url", std::string("https://huggingface.co/") + c.repo + "/resolve/main/" + c.file},
                     {"size_bytes", c.size},
                     {"sha256", c.sha256}};
  json js = js_sdk_unsupported();
  if (c.gpt2) js = {{"supported", true}, {"base_model", base}, {"prefix_cache_supported", true}};
  return {{"runtime_id", c.runtime_id},
          {"manifest_version", 1},
          {"display_name", c.display},
          {"interpreter", c.interpreter},
          {"adapter_format", "gguf_lora"},
          {"prompt_template", prompt_template_section()},
          {"program_assets", program_assets_section(c.gpt2)},
          {"base_inference",
           {{"contract_version", 1},
            {"format", "rendered_text"},
            {"placeholder", kInputPlaceholder},
            {"template", base_prompt_template(c.arch)}}},
          {"local_sdk", {{"supported", true}, {"base_model", base}, {"n_ctx", 2048}}},
          {"js_sdk", js}};
}

const Canonical* canonical_for(std::string_view runtime_id) {
  for (const Canonical& c : kCanonical)
    if (runtime_id == c.runtime_id) return &c;
  return nullptr;
}

// Sets obj[key] = value when value is not empty; otherwise removes a non-null obj[key] (a
// null stays: the reference writes nulls for "none").
void put_or_clear(json& obj, const char* key, const std::string& value) {
  if (!value.empty()) obj[key] = value;
  else if (present(obj, key)) obj.erase(key);
}

}  // namespace

RuntimeManifest RuntimeManifest::from_json(const json& j, const std::string& where) {
  if (!j.is_object()) throw Error("runtime manifest must be a JSON object", where, "remove the field or give an object");
  RuntimeManifest m;
  m.raw = j;
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
  // The two contracts that say how to read the program's own files: paw reads a rendered
  // template with {INPUT_PLACEHOLDER} and adapter.gguf, nothing else.
  if (present(j, "prompt_template")) {
    const json& pt = j["prompt_template"];
    if (!pt.is_object() || pt.value("format", json()) != "rendered_text" || pt.value("placeholder", json()) != kInputPlaceholder)
      bad(where, "prompt_template", "must be {\"format\": \"rendered_text\", \"placeholder\": \"{INPUT_PLACEHOLDER}\"}",
          "paw reads prompt_template.txt as fully rendered text with one {INPUT_PLACEHOLDER}");
  }
  if (present(j, "program_assets")) {
    const json& pa = j["program_assets"];
    if (!pa.is_object() || pa.value("adapter_filename", json()) != kAdapterMember)
      bad(where, "program_assets.adapter_filename", "must be \"adapter.gguf\"", "the adapter of a program is adapter.gguf");
  }
  if (present(j, "paw_native")) {
    const json& pn = j["paw_native"];
    if (!pn.is_object()) bad(where, "paw_native", "must be an object");
    if (present(pn, "supported")) {
      if (!pn["supported"].is_boolean()) bad(where, "paw_native.supported", "must be true or false");
      m.paw_native = pn["supported"].get<bool>();
    }
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
    m.base_model_sha256 = lower(m.base_model_sha256);
  }
  // size_bytes is the reference's name; `size` is what older paw versions wrote.
  const auto size_bytes = opt_size(*bm, "size_bytes", where, p);
  const auto legacy_size = opt_size(*bm, "size", where, p);
  if (size_bytes && legacy_size && *size_bytes != *legacy_size)
    bad(where, p + "size_bytes",
        "is " + std::to_string(*size_bytes) + " but the legacy field 'size' says " + std::to_string(*legacy_size),
        "keep only size_bytes (the base model's exact size in bytes)");
  m.base_model_size = size_bytes ? size_bytes : legacy_size;
  m.arch = opt_string(*bm, "arch", where, p);
  m.url = opt_string(*bm, "url", where, p);
  m.provider = opt_string(*bm, "provider", where, p);
  m.repo = opt_string(*bm, "repo", where, p);
  return m;
}

json RuntimeManifest::to_json() const {
  json j = raw.is_object() ? raw : json::object();
  j.erase("version");   // written as manifest_version
  j["runtime_id"] = runtime_id;
  j["manifest_version"] = manifest_version;
  j["interpreter"] = interpreter;
  j["adapter_format"] = adapter_format;
  if (!display_name.empty()) j["display_name"] = display_name;

  json ls = j.contains("local_sdk") && j["local_sdk"].is_object() ? j["local_sdk"] : json::object();
  ls["supported"] = local_supported;
  ls["n_ctx"] = n_ctx;
  const bool had_base = ls.contains("base_model") && ls["base_model"].is_object();
  if (had_base || !base_model_file.empty()) {
    json bm = had_base ? ls["base_model"] : json::object();
    bm.erase("size");   // legacy spelling, written as size_bytes
    put_or_clear(bm, "file", base_model_file);
    bm["sha256"] = base_model_sha256.empty() ? json(nullptr) : json(base_model_sha256);
    if (base_model_size) bm["size_bytes"] = *base_model_size;
    else bm.erase("size_bytes");
    // A canonical runtime's manifest is written as the reference defines it: its arch is
    // implied by the runtime (paw's built-in table), so it is not added.
    const Canonical* c = canonical_for(runtime_id);
    const bool implied = c && base_model_file == c->file && arch == c->arch;
    put_or_clear(bm, "arch", implied ? std::string() : arch);
    put_or_clear(bm, "url", url);
    put_or_clear(bm, "provider", provider);
    put_or_clear(bm, "repo", repo);
    ls["base_model"] = bm;
  }
  j["local_sdk"] = ls;

  if (paw_native) {
    json pn = j.contains("paw_native") && j["paw_native"].is_object() ? j["paw_native"] : json::object();
    pn["supported"] = *paw_native;
    j["paw_native"] = pn;
  }
  return j;
}

std::optional<RuntimeManifest> builtin_runtime_manifest(std::string_view key) {
  for (const Canonical& c : kCanonical) {
    if (key != c.interpreter && key != c.runtime_id) continue;
    RuntimeManifest m = RuntimeManifest::from_json(canonical_json(c), std::string("built-in runtime ") + c.runtime_id);
    m.arch = c.arch;
    return m;
  }
  return std::nullopt;
}

RuntimeManifest paw_runtime_manifest(const std::string& file, uint64_t size, const std::string& sha256, const std::string& arch,
                                     int n_ctx) {
  for (const Canonical& c : kCanonical)
    if (!sha256.empty() && lower(sha256) == c.sha256 && size == c.size) return *builtin_runtime_manifest(c.runtime_id);
  const std::string stem = std::filesystem::path(file).stem().string();
  std::string id;
  for (char ch : lower(stem)) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
    id += ok ? ch : '-';
  }
  if (id.rfind("paw-", 0) != 0) id = "paw-" + id;   // "S.gguf" -> paw-s, "paw-tiny-qwen3.gguf" -> paw-tiny-qwen3
  RuntimeManifest m;
  m.runtime_id = id;
  m.interpreter = "paw/" + stem;
  m.display_name = "paw " + stem;
  m.local_supported = false;   // the reference SDK has no way to get this base model
  m.paw_native = true;         // paw runs it from base_models/<file>
  m.n_ctx = n_ctx;
  m.base_model_file = file;
  m.base_model_size = size;
  m.base_model_sha256 = lower(sha256);
  m.arch = arch;
  m.raw = {{"prompt_template", prompt_template_section()},
           {"program_assets", program_assets_section(false)},
           {"js_sdk", js_sdk_unsupported()}};
  return m;
}

// ---- The reference SDK's validity rules (docs/FORMATS.md "Runtime manifest"). ----

std::string reference_manifest_problem(const json& m, bool require_local_model) {
  if (!m.is_object()) return "the runtime manifest is not an object";
  const json none;
  auto is_int = [](const json& v) { return v.is_number_integer(); };
  const json& rid = m.contains("runtime_id") ? m["runtime_id"] : none;
  if (!rid.is_string() || !is_runtime_id(rid.get<std::string>()))
    return "runtime_id must be a string matching ^[A-Za-z0-9][A-Za-z0-9._-]*$";
  const json& mv = m.contains("manifest_version") ? m["manifest_version"] : none;
  if (!is_int(mv) || mv.get<int64_t>() != 1) return "manifest_version must be the integer 1";
  const json& interp = m.contains("interpreter") ? m["interpreter"] : none;
  if (!interp.is_string() || interp.get<std::string>().empty()) return "interpreter must be a non-empty string";
  if (m.value("adapter_format", json()) != "gguf_lora") return "adapter_format must be \"gguf_lora\"";
  if (present(m, "prompt_template")) {
    const json& pt = m["prompt_template"];
    if (!pt.is_object() || pt.value("format", json()) != "rendered_text" || pt.value("placeholder", json()) != kInputPlaceholder)
      return "prompt_template must have format \"rendered_text\" and placeholder \"{INPUT_PLACEHOLDER}\"";
  }
  if (present(m, "program_assets")) {
    const json& pa = m["program_assets"];
    if (!pa.is_object() || pa.value("adapter_filename", json()) != kAdapterMember)
      return "program_assets.adapter_filename must be \"adapter.gguf\"";
  }
  if (!m.contains("local_sdk") || !m["local_sdk"].is_object()) return "local_sdk must be an object";
  const json& ls = m["local_sdk"];
  if (!ls.contains("supported") || !ls["supported"].is_boolean()) return "local_sdk.supported must be true or false";
  const bool supported = ls["supported"].get<bool>();
  if (present(ls, "n_ctx") && !is_positive_int(ls["n_ctx"]))
    return "local_sdk.n_ctx must be a positive integer";
  const json& bm = ls.contains("base_model") ? ls["base_model"] : none;
  if (supported || require_local_model) {
    const std::string why = supported ? " (local_sdk.supported is true)" : " (a base model the reference can use)";
    if (!bm.is_object()) return "local_sdk.base_model must be an object" + why;
    const json& file = bm.contains("file") ? bm["file"] : none;
    // A name that is its own last path component ("." is not one: it names a folder).
    if (!file.is_string() || file.get<std::string>().empty() || file.get<std::string>() == "." ||
        file.get<std::string>() != std::filesystem::path(file.get<std::string>()).filename().string())
      return "local_sdk.base_model.file must be a plain file name" + why;
    for (const char* k : {"provider", "repo", "url"})
      if (present(bm, k) && !bm[k].is_string()) return std::string("local_sdk.base_model.") + k + " must be a string or null";
    auto str = [&](const char* k) { return present(bm, k) ? bm[k].get<std::string>() : std::string(); };
    if (str("url").empty() && !(str("provider") == "huggingface" && !str("repo").empty()))
      return "local_sdk.base_model needs a url, or provider \"huggingface\" and a repo" + why;
    if (present(bm, "sha256") && (!bm["sha256"].is_string() || !is_hex64(bm["sha256"].get<std::string>())))
      return "local_sdk.base_model.sha256 must be 64 hexadecimal digits or null";
    if (present(bm, "size_bytes") && !is_positive_int(bm["size_bytes"]))
      return "local_sdk.base_model.size_bytes must be a positive integer or null";
  } else if (!bm.is_null() && !bm.is_object()) {
    return "local_sdk.base_model must be an object or null";
  }
  if (present(m, "base_inference")) {
    const json& bi = m["base_inference"];
    if (!bi.is_object() || bi.value("contract_version", json()) != 1 || bi.value("format", json()) != "rendered_text" ||
        bi.value("placeholder", json()) != kInputPlaceholder || !bi.contains("template") || !bi["template"].is_string())
      return "base_inference must have contract_version 1, format \"rendered_text\", placeholder \"{INPUT_PLACEHOLDER}\" and a "
             "template";
    const std::string t = bi["template"].get<std::string>();
    const size_t at = t.find(kInputPlaceholder);
    if (at == std::string::npos || t.find(kInputPlaceholder, at + 1) != std::string::npos)
      return "base_inference.template must hold {INPUT_PLACEHOLDER} exactly once";
  }

  // A canonical runtime must agree with the reference's own copy.
  const Canonical* c = canonical_for(rid.get<std::string>());
  if (!c) return {};
  const json want = canonical_json(*c);
  const std::string rt = std::string(" for the canonical runtime ") + c->runtime_id;
  for (const char* k : {"interpreter", "manifest_version", "adapter_format"})
    if (m.value(k, json()) != want[k]) return std::string(k) + " must be " + want[k].dump() + rt;
  if (ls["supported"] != want["local_sdk"]["supported"] || ls.value("n_ctx", json()) != want["local_sdk"]["n_ctx"])
    return "local_sdk.supported and local_sdk.n_ctx must be true and 2048" + rt;
  if (!bm.is_object()) return "local_sdk.base_model must be an object" + rt;
  const json& wbm = want["local_sdk"]["base_model"];
  if (bm.value("file", json()) != wbm["file"]) return "local_sdk.base_model.file must be " + wbm["file"].dump() + rt;
  for (const char* k : {"provider", "repo", "url", "size_bytes", "sha256"})
    if (present(bm, k) && bm[k] != wbm[k]) return std::string("local_sdk.base_model.") + k + " must be " + wbm[k].dump() + " or null" + rt;
  for (const char* section : {"prompt_template", "program_assets", "base_inference"}) {
    if (!present(m, section)) continue;
    for (const auto& [k, v] : want[section].items())
      if (m[section].contains(k) && m[section][k] != v) return std::string(section) + "." + k + " must be " + v.dump() + rt;
  }
  return {};
}

std::string reference_meta_problem(const json& meta, const std::string& program_id) {
  if (!meta.is_object()) return "meta.json is not an object";
  if (!program_id.empty() && (!meta.contains("program_id") || meta["program_id"] != program_id))
    return "meta.json program_id must be the id the program is cached under (" + program_id + ")";
  if (!meta.contains("interpreter") || !meta["interpreter"].is_string() || meta["interpreter"].get<std::string>().empty())
    return "meta.json interpreter must be a non-empty string";
  const json& rid = meta.contains("runtime_id") ? meta["runtime_id"] : json();
  if (!rid.is_null() && (!rid.is_string() || !is_runtime_id(rid.get<std::string>())))
    return "meta.json runtime_id must be null or a string matching ^[A-Za-z0-9][A-Za-z0-9._-]*$";
  if (present(meta, "runtime_manifest_version") &&
      (!meta["runtime_manifest_version"].is_number_integer() || meta["runtime_manifest_version"].get<int64_t>() != 1))
    return "meta.json runtime_manifest_version must be null or the integer 1";
  const json& rt = meta.contains("runtime") ? meta["runtime"] : json();
  if (rt.is_null() || (rt.is_object() && rt.empty())) return {};
  if (std::string p = reference_manifest_problem(rt, false); !p.empty()) return "runtime manifest: " + p;
  if (rid.is_string() && rt["runtime_id"] != rid) return "meta.json runtime_id must equal runtime.runtime_id";
  return {};
}

}  // namespace paw
