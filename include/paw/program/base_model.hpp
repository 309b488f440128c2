#pragma once
// Finding the base model (interpreter GGUF) a program runs on.
//
// Order: an explicit override (--model FILE, else $PAW_MODEL) wins and is flagged
// `overridden` (the runner then says the program runs on another base and checks the
// architecture and shapes against the adapter); else $PAW_CACHE_DIR/base_models/<file> from
// the program's runtime manifest (when it runs in paw: paw_native.supported, else
// local_sdk.supported), checked by size (size_bytes) and, on first use, by sha256. A successful
// hash is remembered in base_models/.<file>.verified (size + mtime + sha256), so later calls
// do not rehash 600 MB. There is no networking yet: a missing model is an error naming the
// file and where to put it.
#include <cstdint>
#include <string>

#include "paw/program/meta.hpp"

namespace paw {

struct BaseModelOptions {
  std::string model_override;   // --model FILE; empty: $PAW_MODEL when set
  bool use_env_override = true; // read $PAW_MODEL when model_override is empty
  std::string cache_dir;        // empty: default_cache_dir()
  bool verify_sha256 = true;    // hash on first use when the manifest has a sha256
  bool offline = false;         // never network (no networking exists yet; kept for messages)
};

struct ResolvedBaseModel {
  std::string path;             // the GGUF to load
  RuntimeManifest manifest;     // the manifest it was resolved from
  bool overridden = false;      // path came from --model / PAW_MODEL: not the program's own base
  bool sha256_verified = false; // the file's sha256 matched (now or remembered)
};

// Throws paw::Error when the manifest does not run in paw (RuntimeManifest::runs_in_paw), the
// file is missing, or has the wrong size (size_bytes) or the wrong sha256.
ResolvedBaseModel resolve_base_model(const RuntimeManifest& manifest, const BaseModelOptions& opts = {});
// Resolves from a program's meta (effective_manifest()); errors for unknown interpreters.
ResolvedBaseModel resolve_base_model(const ProgramMeta& meta, const BaseModelOptions& opts = {});

// Copies a base model GGUF into the cache's base_models/ under its own file name, so that
// programs naming it run without --model. Atomic (a temporary in base_models/, fsynced, then
// renamed); an existing file of the same size is kept. Returns the path in the cache.
std::string install_base_model(const std::string& model_path, const std::string& cache_dir = {});
// $PAW_CACHE_DIR, else $HOME/.cache/programasweights.
std::string default_cache_dir();
// `flag` or $PAW_OFFLINE set to 1/true/yes.
bool offline_mode(bool flag = false);

}  // namespace paw
