#pragma once
// A program bundle ready for the runner: meta, the template split at {INPUT_PLACEHOLDER}, the
// adapter GGUF bytes (and file, when it has one) and the runtime manifest of its base model.
// It is a plain value (files only, nothing loaded); the callable program of the public API,
// paw::Program (paw/run.hpp), is built from it with an Interpreter.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "paw/program/bundle.hpp"

namespace paw {

class ProgramCache;

struct ProgramBundle {
  std::string id;                       // meta.program_id or the content id
  std::string source;                   // the .paw, folder or cache folder it came from
  ProgramMeta meta;
  std::string prompt_template;          // full template
  std::string template_prefix;          // text before {INPUT_PLACEHOLDER}: evaluated once
  std::string template_suffix;          // text after it: appended to every input
  std::shared_ptr<const std::vector<uint8_t>> adapter_gguf;  // adapter bytes (never null)
  std::string adapter_path;             // adapter.gguf on disk (folders and cache), else empty
  std::string adapter_arch;             // the adapter's general.architecture
  std::optional<RuntimeManifest> manifest;   // effective manifest; nullopt for unknown interpreters
  std::string cache_dir;                // programs/<id> when opened from the cache: runtime files go here

  // Takes a validated bundle (see read_bundle). `folder` is the folder it was read from, if any.
  static ProgramBundle from_bundle(Bundle bundle, const std::string& folder = {});
};

// Opens `ref`: an existing .paw file or bundle folder, else a cache id / unique id prefix.
ProgramBundle open_program(const std::string& ref, ProgramCache& cache, const BundleLimits& limits = {});

}  // namespace paw
