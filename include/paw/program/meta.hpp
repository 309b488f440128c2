#pragma once
// meta.json of a program bundle, and runtime manifests (which base model a program runs on).
//
// meta.json (bundle versions 3 and 4) is an object; paw requires `interpreter` (non-empty
// string) and `version` (3 or 4), checks `program_id` (^[a-f0-9]{16,64}$) when present and
// the optional `runtime` manifest, and keeps every other field verbatim (spec,
// compiler_snapshot, lora_rank, lora_alpha, prefix_steps, created_at, ...). A JSON null in an
// optional field means "absent" (the reference SDK writes nulls).
//
// A runtime manifest in the reference SDK's shape:
//   {"runtime_id": "qwen3-0.6b-q6_k", "manifest_version": 1, "interpreter": "Qwen/Qwen3-0.6B",
//    "adapter_format": "gguf_lora", "display_name": "...",
//    "local_sdk": {"supported": true, "n_ctx": 2048,
//                  "base_model": {"file": "qwen3-0.6b-q6_k.gguf", "sha256": null | "<64 hex>",
//                                 "size": 622733120, "arch": "qwen3", "url": "...", ...}}}
// `size` and `arch` inside base_model are paw extensions (optional when reading); `version`
// is accepted as a synonym of `manifest_version`.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace paw {

struct RuntimeManifest {
  std::string runtime_id;           // "qwen3-0.6b-q6_k"
  int manifest_version = 1;         // only 1 exists
  std::string interpreter;          // "Qwen/Qwen3-0.6B" (may be empty in embedded manifests)
  std::string display_name;
  std::string adapter_format = "gguf_lora";   // the only format paw runs
  bool local_supported = true;      // local_sdk.supported
  int n_ctx = 2048;                 // local_sdk.n_ctx: context the program was compiled for
  std::string base_model_file;      // flat file name under $PAW_CACHE_DIR/base_models/
  std::optional<uint64_t> base_model_size;   // bytes, when known
  std::string base_model_sha256;    // lowercase hex, empty when unknown
  std::string arch;                 // GGUF general.architecture of the base ("qwen3", "gpt2"), may be empty
  std::string url;                  // informational download location (no networking yet)

  // A manifest is usable when it names a runtime and a base model file (reference rule).
  bool complete() const { return !runtime_id.empty() && !base_model_file.empty(); }

  // Parses and validates; `where` names the place in errors ("x.paw: meta.json field 'runtime'").
  static RuntimeManifest from_json(const nlohmann::json& j, const std::string& where);
  nlohmann::json to_json() const;   // the reference shape above, with paw's size/arch
};

// Built-in manifests for the reference interpreters, looked up by interpreter name
// ("Qwen/Qwen3-0.6B", "gpt2") or by runtime id ("qwen3-0.6b-q6_k", "gpt2-q8_0").
std::optional<RuntimeManifest> builtin_runtime_manifest(std::string_view interpreter_or_runtime_id);

struct ProgramMeta {
  nlohmann::json json;                    // the whole object, every field kept
  int version = 0;                        // 3 or 4
  std::string interpreter;                // "Qwen/Qwen3-0.6B", "gpt2", ...
  std::optional<std::string> program_id;  // validated hex id when present
  std::optional<std::string> runtime_id;
  std::optional<RuntimeManifest> runtime; // embedded manifest (validated; maybe incomplete)

  // Convenience readers of optional fields (nullopt when absent or null).
  std::optional<std::string> spec() const;
  std::optional<std::string> created_at() const;   // strings as is, numbers rendered

  // The manifest the program runs on: the embedded one when complete (gaps in arch, size,
  // sha256 filled from the built-in manifest of the same runtime id and file), else the built-in one
  // for runtime_id, else the built-in one for the interpreter; nullopt when none is known.
  std::optional<RuntimeManifest> effective_manifest() const;
};

struct MetaLimits {
  uint64_t max_bytes = 1u << 20;   // meta.json larger than 1 MiB is refused
  int max_depth = 64;              // JSON nesting deeper than this is refused
};

// Parses meta.json bytes. `where` names the file in errors ("x.paw: member 'meta.json'").
// Refuses: invalid JSON or UTF-8, duplicate keys, nesting deeper than max_depth, a non-object,
// a missing/empty `interpreter`, `version` other than 3/4, a malformed `program_id`, a bad
// `runtime` manifest, and wrongly typed known fields.
ProgramMeta parse_program_meta(std::string_view bytes, const std::string& where, const MetaLimits& limits = {});

// meta.json as used in the program id: the object without `program_id`, serialised with keys
// sorted by byte order, no whitespace, non-ASCII as raw UTF-8 (docs/FORMATS.md).
std::string canonical_meta_json(const nlohmann::json& meta);

// True for ^[a-f0-9]{16,64}$.
bool is_valid_program_id(std::string_view id);

}  // namespace paw
