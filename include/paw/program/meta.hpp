#pragma once
// meta.json of a program bundle, and runtime manifests (which base model a program runs on).
//
// meta.json (bundle versions 3 and 4) is an object; paw requires `interpreter` (non-empty
// string) and `version` (3 or 4), checks `program_id` (^[a-f0-9]{16,64}$) when present and
// the optional `runtime` manifest, and keeps every other field verbatim (spec,
// compiler_snapshot, lora_rank, lora_alpha, prefix_steps, created_at, ...). A JSON null in an
// optional field means "absent" (the reference SDK writes nulls).
//
// A runtime manifest in the reference SDK's shape (docs/FORMATS.md "Runtime manifest"):
//   {"runtime_id": "qwen3-0.6b-q6_k", "manifest_version": 1, "interpreter": "Qwen/Qwen3-0.6B",
//    "adapter_format": "gguf_lora", "display_name": "...",
//    "prompt_template": {...}, "program_assets": {...}, "base_inference": {...}, "js_sdk": {...},
//    "local_sdk": {"supported": true, "n_ctx": 2048,
//                  "base_model": {"provider": "huggingface", "repo": "...", "file": "qwen3-0.6b-q6_k.gguf",
//                                 "url": "...", "size_bytes": 622733120, "sha256": null | "<64 hex>",
//                                 "arch": "qwen3"}},
//    "paw_native": {"supported": true}}
// `arch` (in base_model) and the `paw_native` section are paw's; the reference keeps them
// untouched. `size` (what older paw versions wrote) is read as a legacy spelling of
// `size_bytes`, and `version` as a synonym of `manifest_version`. Fields paw does not model
// are kept and written back (`raw`).
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
  bool local_supported = true;      // local_sdk.supported: the reference SDK runs it locally
  std::optional<bool> paw_native;   // paw_native.supported: paw runs it locally (absent: as local_sdk)
  int n_ctx = 2048;                 // local_sdk.n_ctx: context the program was compiled for
  std::string base_model_file;      // flat file name under $PAW_CACHE_DIR/base_models/
  std::optional<uint64_t> base_model_size;   // base_model.size_bytes, when known
  std::string base_model_sha256;    // lowercase hex, empty when unknown
  std::string arch;                 // GGUF general.architecture of the base ("qwen3", "gpt2"), may be empty
  std::string url;                  // download location (informational: no networking yet)
  std::string provider, repo;       // base_model.provider ("huggingface") and repo, when given
  nlohmann::json raw = nlohmann::json::object();   // the object as read, every field

  // A manifest is usable when it names a runtime and a base model file (reference rule).
  bool complete() const { return !runtime_id.empty() && !base_model_file.empty(); }
  // Whether paw runs it on its own base model: paw_native.supported, else local_sdk.supported.
  bool runs_in_paw() const { return paw_native.value_or(local_supported); }
  // The reference SDK can download the base model: a url, or provider "huggingface" + repo.
  bool has_download_source() const { return !url.empty() || (provider == "huggingface" && !repo.empty()); }

  // Parses and validates; `where` names the place in errors ("x.paw: meta.json field 'runtime'").
  static RuntimeManifest from_json(const nlohmann::json& j, const std::string& where);
  // `raw` with the modelled fields written in the reference's names (size_bytes, manifest_version);
  // `arch` is left out for the reference's canonical runtimes, whose manifests are written
  // exactly as the reference defines them.
  nlohmann::json to_json() const;
};

// Built-in manifests: the reference SDK's canonical runtimes, with its exact fields and values
// (plus `arch`, which to_json() leaves out), looked up by interpreter name ("Qwen/Qwen3-0.6B",
// "gpt2") or by runtime id ("qwen3-0.6b-q6_k", "gpt2-q8_0").
std::optional<RuntimeManifest> builtin_runtime_manifest(std::string_view interpreter_or_runtime_id);

// The manifest paw writes for a program that runs on a paw-only base model (a shipped tiny or
// trained interpreter, which the reference SDK cannot download): runtime id "paw-<stem>"
// (lower case; characters outside [a-z0-9._-] become '-'; no second "paw-" when the stem
// starts with it), interpreter "paw/<stem>", local_sdk.supported false, paw_native.supported
// true, the base model by file, size_bytes, sha256 and arch, the reference's prompt_template /
// program_assets contract, and js_sdk unsupported.
// When the base model is a canonical runtime's file (same sha256 and size), that built-in
// manifest is returned instead: the program then runs in the reference SDK too.
RuntimeManifest paw_runtime_manifest(const std::string& base_model_file, uint64_t size, const std::string& sha256,
                                     const std::string& arch, int n_ctx);

// The reference SDK's rules for meta.json (docs/FORMATS.md "Runtime manifest", "Fields and
// the reference's validity rules" onwards): the first rule `meta` breaks, or "" when it keeps them all. `program_id` (when not
// empty) is the id the program is cached under; meta.json must then carry it. These are the
// checks of what paw writes; reading is more lenient (legacy paw manifests, see above).
std::string reference_meta_problem(const nlohmann::json& meta, const std::string& program_id = {});
// The same for one runtime manifest (`runtime` of meta.json, or a cached runtime); with
// `require_local_model` the base model must be usable by the reference SDK even when
// local_sdk.supported is false (its rule when it picks the manifest to run a program with).
std::string reference_manifest_problem(const nlohmann::json& manifest, bool require_local_model = false);

// meta.json as paw writes it (pack, import; docs/FORMATS.md "Runtime manifest", "What paw
// writes"). nullopt: the bytes as read are written — they keep the reference's rules, have no
// legacy spelling, and carry `add_program_id` when one is given. Otherwise the repaired object:
// the runtime manifest re-written by to_json() (size_bytes, manifest_version), its gaps filled
// (interpreter and runtime_id from meta.json; a canonical runtime's missing base-model fields
// from the built-in), a manifest whose base model the reference SDK cannot download made
// paw-only (local_sdk.supported false, paw_native.supported true, meta.json runtime_id set),
// and program_id added. None of this changes what paw runs, nor the program's id. Throws
// paw::Error (`where` names meta.json) when the result still breaks a rule.
struct ProgramMeta;
std::optional<nlohmann::json> meta_for_writing(const ProgramMeta& meta, const std::string& add_program_id,
                                               const std::string& where);

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

  // The manifest the program runs on: the embedded one when complete (gaps in arch, size_bytes,
  // sha256, url, provider, repo filled from the built-in manifest of the same runtime id and
  // file), else the built-in one for runtime_id, else the built-in one for the interpreter;
  // nullopt when none is known.
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
