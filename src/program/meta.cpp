// meta.json: parsing with hostile-input checks, the canonical form used by program ids.
#include <set>
#include <vector>

#include "paw/program/meta.hpp"
#include "paw/util/error.hpp"
#include "program/text_checks.hpp"

namespace paw {
namespace {

using nlohmann::json;

constexpr const char* kMetaHint = "meta.json must be a JSON object like {\"version\": 4, \"interpreter\": \"Qwen/Qwen3-0.6B\", ...}";

// Deepest [ / { nesting outside strings. Checked before parsing so a hostile file cannot make
// the parser or the destructor recurse deeply.
int max_nesting(std::string_view s) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : s) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') deepest = std::max(deepest, ++depth);
    else if (c == ']' || c == '}') --depth;
  }
  return deepest;
}

bool present(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && !it->is_null();
}

void check_type(const json& j, const char* key, bool ok, const char* expected, const std::string& where) {
  if (present(j, key) && !ok)
    throw Error(std::string("field '") + key + "' must be " + expected + " (got " + j.at(key).dump() + ")", where, kMetaHint);
}

}  // namespace

bool is_valid_program_id(std::string_view id) {
  if (id.size() < 16 || id.size() > 64) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

ProgramMeta parse_program_meta(std::string_view bytes, const std::string& where, const MetaLimits& limits) {
  if (bytes.size() > limits.max_bytes)
    throw Error("meta.json is " + std::to_string(bytes.size()) + " bytes, more than the " +
                    std::to_string(limits.max_bytes) + "-byte limit",
                where, "meta.json holds a few fields; a larger one is not a program bundle");
  if (auto bad = program_detail::first_invalid_utf8(bytes))
    throw Error("meta.json is not valid UTF-8 (byte offset " + std::to_string(*bad) + ")", where, kMetaHint);
  if (int d = max_nesting(bytes); d > limits.max_depth)
    throw Error("meta.json nests " + std::to_string(d) + " levels deep (limit " + std::to_string(limits.max_depth) + ")",
                where, kMetaHint);

  // Duplicate keys are refused at every level: two readers could otherwise disagree on
  // which `interpreter` a program has.
  std::vector<std::set<std::string>> keys;
  std::string duplicate;
  auto cb = [&](int, json::parse_event_t ev, json& parsed) -> bool {
    if (ev == json::parse_event_t::object_start) {
      keys.emplace_back();
    } else if (ev == json::parse_event_t::key) {
      if (!keys.empty() && !keys.back().insert(parsed.get<std::string>()).second && duplicate.empty())
        duplicate = parsed.get<std::string>();
    } else if (ev == json::parse_event_t::object_end) {
      if (!keys.empty()) keys.pop_back();
    }
    return true;
  };
  ProgramMeta m;
  try {
    m.json = json::parse(bytes.begin(), bytes.end(), cb);
  } catch (const json::parse_error& e) {
    throw Error(std::string("meta.json is not valid JSON: ") + e.what(), where + " at byte offset " + std::to_string(e.byte),
                kMetaHint);
  } catch (const json::exception& e) {   // e.g. out_of_range: a number like 1e999
    throw Error(std::string("meta.json is not usable JSON: ") + e.what(), where, kMetaHint);
  }
  if (!duplicate.empty())
    throw Error("meta.json has the key '" + program_detail::printable(duplicate) + "' twice", where,
                "each key may appear once per object");
  const json& j = m.json;
  if (!j.is_object()) throw Error("meta.json is not a JSON object", where, kMetaHint);

  // version: 3 or 4 (the reference bundle versions).
  if (!present(j, "version")) throw Error("meta.json has no 'version'", where, "add \"version\": 4");
  if (!j["version"].is_number_integer() || (j["version"].get<int64_t>() != 3 && j["version"].get<int64_t>() != 4))
    throw Error("unsupported bundle version " + j["version"].dump() + " in meta.json", where,
                "paw reads bundle versions 3 and 4; upgrade paw or re-export the program");
  m.version = static_cast<int>(j["version"].get<int64_t>());

  if (!present(j, "interpreter") || !j["interpreter"].is_string() || j["interpreter"].get<std::string>().empty())
    throw Error("meta.json needs a non-empty string 'interpreter'", where,
                "name the base model, e.g. \"interpreter\": \"Qwen/Qwen3-0.6B\" or \"gpt2\"");
  m.interpreter = j["interpreter"].get<std::string>();

  if (present(j, "program_id")) {
    const json& id = j["program_id"];
    if (!id.is_string() || !is_valid_program_id(id.get<std::string>()))
      throw Error("meta.json 'program_id' " + id.dump().substr(0, 80) + " is not 16-64 lowercase hex digits", where,
                  "remove program_id to let paw assign a content id");
    m.program_id = id.get<std::string>();
  }
  check_type(j, "runtime_id", j.contains("runtime_id") && j["runtime_id"].is_string(), "a string", where);
  if (present(j, "runtime_id")) m.runtime_id = j["runtime_id"].get<std::string>();
  if (present(j, "runtime")) m.runtime = RuntimeManifest::from_json(j["runtime"], where + " field 'runtime'");
  if (present(j, "runtime_manifest_version") &&
      (!j["runtime_manifest_version"].is_number_integer() || j["runtime_manifest_version"].get<int64_t>() != 1))
    throw Error("meta.json 'runtime_manifest_version' must be 1 (got " + j["runtime_manifest_version"].dump().substr(0, 40) + ")",
                where, "this paw understands runtime manifest version 1 only");

  // Known optional fields: wrong types would surprise the runner and the compiler later.
  auto is_nonneg_int = [&](const char* k) {
    return j[k].is_number_unsigned() || (j[k].is_number_integer() && j[k].get<int64_t>() >= 0);
  };
  if (present(j, "spec")) check_type(j, "spec", j["spec"].is_string(), "a string", where);
  if (present(j, "compiler_snapshot"))
    check_type(j, "compiler_snapshot", j["compiler_snapshot"].is_string(), "a string", where);
  if (present(j, "lora_rank"))
    check_type(j, "lora_rank", is_nonneg_int("lora_rank") && j["lora_rank"].get<uint64_t>() > 0, "a positive integer", where);
  if (present(j, "lora_alpha")) check_type(j, "lora_alpha", j["lora_alpha"].is_number(), "a number", where);
  if (present(j, "prefix_steps"))
    check_type(j, "prefix_steps", is_nonneg_int("prefix_steps"), "a non-negative integer", where);
  return m;
}

std::optional<std::string> ProgramMeta::spec() const {
  auto it = json.find("spec");
  if (it == json.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<std::string> ProgramMeta::created_at() const {
  auto it = json.find("created_at");
  if (it == json.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

std::optional<RuntimeManifest> ProgramMeta::effective_manifest() const {
  if (runtime && runtime->complete()) {
    // Reference manifests carry no arch/size and often a null sha256; when the embedded
    // manifest names a built-in runtime's very file, fill those gaps from the built-in.
    RuntimeManifest m = *runtime;
    if (auto b = builtin_runtime_manifest(m.runtime_id); b && b->base_model_file == m.base_model_file) {
      if (m.arch.empty()) m.arch = b->arch;
      if (!m.base_model_size) m.base_model_size = b->base_model_size;
      if (m.base_model_sha256.empty()) m.base_model_sha256 = b->base_model_sha256;
      if (m.url.empty()) m.url = b->url;
      if (m.provider.empty()) m.provider = b->provider;
      if (m.repo.empty()) m.repo = b->repo;
    }
    return m;
  }
  if (runtime_id)
    if (auto m = builtin_runtime_manifest(*runtime_id)) return m;
  return builtin_runtime_manifest(interpreter);
}

namespace {

// A manifest in the spelling of older paw versions (base_model.size, `version` only).
bool has_legacy_spelling(const nlohmann::json& rt) {
  if (!rt.is_object()) return false;
  if (present(rt, "version") && !present(rt, "manifest_version")) return true;
  if (!present(rt, "local_sdk") || !rt["local_sdk"].is_object()) return false;
  const nlohmann::json& ls = rt["local_sdk"];
  return present(ls, "base_model") && ls["base_model"].is_object() && ls["base_model"].contains("size");
}

// paw's own rules for what it writes, on top of the reference's: both readers must pick the
// same base model, so the embedded manifest names meta.json's interpreter, and a paw-only
// manifest is tied to the program by meta.json runtime_id (without it the reference would fall
// back to its built-in manifest for the interpreter).
std::string paw_write_problem(const ProgramMeta& pm, const nlohmann::json& j) {
  if (!pm.runtime || !present(j, "runtime") || (j["runtime"].is_object() && j["runtime"].empty())) return {};
  const RuntimeManifest m = RuntimeManifest::from_json(j["runtime"], "meta.json field 'runtime'");
  if (!m.interpreter.empty() && m.interpreter != pm.interpreter)
    return "runtime manifest interpreter '" + m.interpreter + "' differs from meta.json interpreter '" + pm.interpreter + "'";
  if (!m.local_supported && m.runs_in_paw() && !present(j, "runtime_id"))
    return "a paw-only runtime manifest needs meta.json runtime_id";
  return {};
}

}  // namespace

std::optional<nlohmann::json> meta_for_writing(const ProgramMeta& pm, const std::string& add_program_id,
                                               const std::string& where) {
  nlohmann::json j = pm.json;
  bool changed = false;
  if (!add_program_id.empty() && !present(j, "program_id")) {
    j["program_id"] = add_program_id;
    changed = true;
  }
  const bool has_runtime = pm.runtime && !(j["runtime"].is_object() && j["runtime"].empty());
  if (has_runtime && (has_legacy_spelling(j["runtime"]) || !reference_meta_problem(j).empty() ||
                      !paw_write_problem(pm, j).empty())) {
    RuntimeManifest m = *pm.runtime;
    if (m.interpreter.empty()) m.interpreter = pm.interpreter;
    if (m.runtime_id.empty() && pm.runtime_id) m.runtime_id = *pm.runtime_id;
    auto b = builtin_runtime_manifest(m.runtime_id);
    if (b && b->runtime_id == m.runtime_id) {
      // A canonical runtime: fill what is missing from the reference's own copy (a value that
      // is there and differs is left for the check below to refuse).
      if (m.base_model_file.empty()) m.base_model_file = b->base_model_file;
      if (m.base_model_file == b->base_model_file) {
        if (!m.base_model_size) m.base_model_size = b->base_model_size;
        if (m.base_model_sha256.empty()) m.base_model_sha256 = b->base_model_sha256;
        if (m.url.empty()) m.url = b->url;
        if (m.provider.empty()) m.provider = b->provider;
        if (m.repo.empty()) m.repo = b->repo;
      }
    } else if (m.local_supported && !m.has_download_source()) {
      // The reference SDK could not download this base model, so it is not a runtime it
      // supports; paw ran it from base_models/ and still does.
      m.local_supported = false;
      if (!m.base_model_file.empty() && !m.paw_native) m.paw_native = true;
    }
    j["runtime"] = m.to_json();
    if (!m.local_supported && m.runs_in_paw() && !m.runtime_id.empty() && !present(j, "runtime_id"))
      j["runtime_id"] = m.runtime_id;
    changed = true;
  }
  std::string problem = reference_meta_problem(j);
  if (problem.empty()) problem = paw_write_problem(pm, j);
  if (!problem.empty())
    throw Error("meta.json breaks the reference SDK's rules for programs: " + problem, where,
                "fix meta.json (docs/FORMATS.md \"Runtime manifest\" lists the rules) or remove its runtime manifest");
  if (!changed) return std::nullopt;
  return j;
}

std::string canonical_meta_json(const nlohmann::json& meta) {
  nlohmann::json copy = meta;
  if (copy.is_object()) copy.erase("program_id");
  // nlohmann::json objects are std::maps: keys come out sorted by byte order, which for
  // UTF-8 equals code point order (what Python's json.dumps(sort_keys=True) uses).
  return copy.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
}

}  // namespace paw
