#pragma once
// Program bundles: meta.json + prompt_template.txt + adapter.gguf, as a `.paw` ZIP or the
// same files in a folder (docs/FORMATS.md "Program bundles (.paw)").
//
// Reading treats the bundle as hostile: member names must be flat, relative, '/'-free,
// backslash-free, drive-free, valid UTF-8 without control characters; links, devices and
// directories are refused; duplicate names (also case variants) are refused; only stored
// or deflated, unencrypted members are read; the file size, member count, every member's
// declared size and the total are capped, and the caps are enforced again while inflating
// (a member that inflates past its declared size stops there). Extra members (a README, ...)
// are allowed with the same checks and a smaller cap; they are carried by pack/unpack and
// ignored by everything else. Every refusal is a paw::Error naming the bundle and member.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "paw/program/meta.hpp"

namespace paw {

inline constexpr const char* kMetaMember = "meta.json";
inline constexpr const char* kTemplateMember = "prompt_template.txt";
inline constexpr const char* kAdapterMember = "adapter.gguf";
inline constexpr const char* kInputPlaceholder = "{INPUT_PLACEHOLDER}";

// A prompt template cut at its input placeholder: the runtime evaluates `prefix` once and
// appends `suffix` to every input; the compiler's trainer, finetune and expert check tokenize
// cases the same way.
struct TemplateParts {
  std::string prefix;  // text before {INPUT_PLACEHOLDER}
  std::string suffix;  // text after it
};
// Cuts at the first {INPUT_PLACEHOLDER}. Throws paw::Error naming `where` when the template has
// none (a validated bundle and a rendered compiler template always have exactly one).
TemplateParts split_template(std::string_view tmpl, const std::string& where);

// Built-in base-mode templates of the reference: "qwen3" ->
// "<|im_start|>user\n{INPUT_PLACEHOLDER}<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
// "gpt2" -> "{INPUT_PLACEHOLDER}". Throws paw::Error for other architectures.
std::string base_prompt_template(std::string_view arch);

struct BundleLimits {
  uint64_t max_file_bytes = 1ull << 30;       // the .paw file itself (compressed): 1 GiB
  uint64_t max_members = 64;                  // entries in the zip central directory
  uint64_t max_meta_bytes = 1ull << 20;       // meta.json: 1 MiB
  uint64_t max_template_bytes = 4ull << 20;   // prompt_template.txt: 4 MiB
  uint64_t max_adapter_bytes = 1ull << 30;    // adapter.gguf: 1 GiB (rank-64 F32 Qwen3 is ~160 MB)
  uint64_t max_extra_bytes = 4ull << 20;      // each extra member: 4 MiB
  uint64_t max_total_bytes = 3ull << 29;      // all members expanded: 1.5 GiB
};

struct BundleMember {
  std::string name;
  std::vector<uint8_t> bytes;
};

// A bundle's contents. After read_bundle()/validate_bundle() `meta` is parsed and every
// member has been checked.
struct Bundle {
  std::string source;                  // path or label used in messages
  std::string meta_json;               // raw bytes of meta.json
  std::string prompt_template;         // raw bytes of prompt_template.txt (valid UTF-8)
  std::vector<uint8_t> adapter;        // raw bytes of adapter.gguf
  std::vector<BundleMember> extras;    // other members, sorted by name (kept only on request)
  ProgramMeta meta;                    // parsed meta.json
  std::string adapter_arch;            // general.architecture of the adapter

  // The id the cache files it under: meta.program_id when present, else the content id.
  std::string id() const;
};

struct BundleReadOptions {
  BundleLimits limits;
  bool keep_extras = false;   // zip only: keep extra members' bytes (pack/unpack need them)
};

// Reads a `.paw` ZIP or a bundle folder (chosen by what `path` is) and validates it.
// Folders: only the three required files are read, each must be a regular file (lstat, opened
// with O_NOFOLLOW); other entries of the folder are ignored.
Bundle read_bundle(const std::string& path, const BundleReadOptions& opts = {});
// Same for a `.paw` held in memory (fuzzing, downloads); `name` is used in messages.
Bundle read_bundle_zip(std::span<const uint8_t> bytes, const std::string& name, const BundleReadOptions& opts = {});

// Checks the members of a bundle filled in by hand (meta.json, template, adapter) and fills
// `meta` and `adapter_arch`. read_bundle() already calls it.
void validate_bundle(Bundle& b, const BundleLimits& limits = {});

// Program id of a bundle's content (docs/FORMATS.md "Program id"):
// sha256("paw-program-v1\0" + for meta.json, prompt_template.txt, adapter.gguf in this order:
// name + "\0" + u64 LE length + bytes), where meta.json contributes canonical_meta_json();
// the first 32 hex characters.
std::string content_program_id(const Bundle& b);

struct PackOptions {
  // When meta.json has no program_id, add the content id and rewrite meta.json (keys sorted,
  // 2-space indent). When it has one, meta.json is stored byte for byte unless its runtime
  // manifest must be repaired to keep the reference SDK's rules (prepare_for_writing).
  bool assign_program_id = true;
  // Extra files from the source folder to carry (flat names); none by default.
  std::vector<std::string> extra_files;
  BundleLimits limits;
};

// Deterministic ZIP bytes of a validated bundle: members meta.json, prompt_template.txt,
// adapter.gguf, then extras sorted by name; DOS time 1980-01-01 00:00:00; unix mode 0644;
// text deflated (level 9), adapter.gguf stored. Same bundle -> same bytes.
std::vector<uint8_t> pack_bundle_bytes(const Bundle& b);
// Applies PackOptions::assign_program_id to `b` (may rewrite meta_json) and returns the id.
std::string assign_program_id(Bundle& b);
// What pack, write_bundle and the cache's import do before writing: meta_for_writing() on
// b.meta (program_id = b.id() added when `add_program_id`), re-serialising meta_json (keys
// sorted, 2-space indent) only when it changes; refuses (paw::Error) a meta.json that breaks
// the reference SDK's rules. Returns b.id() as it was before: the id never changes.
std::string prepare_for_writing(Bundle& b, bool add_program_id);
// The meta.json bytes prepare_for_writing would give `b` (b.meta_json when nothing changes);
// `add_program_id`: the id to add when meta.json has none (b.id()), or "" for none.
std::string meta_json_for_writing(const Bundle& b, const std::string& add_program_id);
// `paw pack DIR -o OUT`: reads the folder, validates, writes OUT atomically; returns the id.
std::string pack_directory(const std::string& dir, const std::string& out_path, const PackOptions& opts = {});
// Writes a bundle to `out_path` atomically (validates first).
void write_bundle(const Bundle& b, const std::string& out_path);

struct UnpackOptions {
  // Replace an existing non-empty folder. Only folders holding nothing but regular files
  // (a bundle folder) are replaced; anything else is refused even with force.
  bool force = false;
  BundleLimits limits;
};

// `paw unpack X.paw -o DIR`: validates the bundle, writes every member (extras too) into a
// temporary sibling folder, fsyncs, then renames it into place. Returns the bundle.
Bundle unpack_bundle(const std::string& paw_path, const std::string& out_dir, const UnpackOptions& opts = {});

}  // namespace paw
