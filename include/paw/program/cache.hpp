#pragma once
// The program cache (docs/FORMATS.md "Program cache"):
//   $PAW_CACHE_DIR/programs/<id>/{meta.json, prompt_template.txt, adapter.gguf, ...runtime files}
//   $PAW_CACHE_DIR/base_models/<file>.gguf
//   $PAW_CACHE_DIR/locks/{cache.lock, <id>.lock}
//
// Writers stage a program in programs/.tmp-<id>-XXXXXX (inside the cache, same file
// system), fsync, then rename it into place, so programs/<id> is always complete. Locks are
// flock()s: the cache lock is held shared by every import/remove/write and exclusive by the
// clean-up of stale temporaries (so a temporary seen under the exclusive lock is garbage);
// each program has its own lock (exclusive to change it, shared to read it). A folder that
// lacks a required member, or is temp-named, is never listed or opened and is removed by a
// later import or list. Concurrent imports of the same program are safe.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "paw/program/bundle.hpp"

namespace paw {

struct CacheEntry {
  std::string id;
  std::string dir;                 // programs/<id>
  uint64_t size_bytes = 0;         // sum of the three required members
  std::string interpreter;         // from meta.json ("" when unreadable)
  std::string spec;                // from meta.json, may be empty
  std::string created_at;          // from meta.json, may be empty
  std::string compiler;            // meta.json's compiler_snapshot, may be empty
  std::string problem;             // non-empty when meta.json could not be parsed
};

struct ImportOptions {
  // Replace a cached program with the same id but different content (else an error).
  bool force = false;
  BundleLimits limits;
};

struct ImportResult {
  std::string id;
  std::string dir;
  bool already_present = false;   // the same content was already cached: nothing written
  bool replaced = false;          // different content with the same id was replaced (force)
};

class ProgramCache {
 public:
  // root: empty means default_cache_dir(). Nothing is created until something is written.
  explicit ProgramCache(std::string root = {});

  const std::string& root() const { return root_; }
  std::string programs_dir() const;
  std::string base_models_dir() const;
  // programs/<id>; `id` must be a valid program id.
  std::string program_dir(const std::string& id) const;

  // Imports a .paw or bundle folder under meta.program_id or its content id.
  ImportResult import(const std::string& bundle_path, const ImportOptions& opts = {});
  // Imports an already validated bundle.
  ImportResult import(const Bundle& bundle, const ImportOptions& opts = {});

  // Complete programs, sorted by id. Cleans stale temporaries and partial folders when no
  // other process is working in the cache.
  std::vector<CacheEntry> list();
  // Full id for an id or a unique prefix of one (at least 4 characters); throws naming the
  // candidates when ambiguous, or with a hint when nothing matches.
  std::string resolve_id(const std::string& id_or_prefix);
  // Full id for a program reference: a full id, a slug ("slug", "owner/slug", "slug@v2";
  // paw/program/slugs.hpp) or a unique id prefix, tried in that order.
  std::string resolve_ref(const std::string& ref);
  // Removes a program (id or unique prefix); returns the full id.
  std::string remove(const std::string& id_or_prefix);
  // Reads and validates a cached program (id, slug or prefix; under its shared lock).
  Bundle open(const std::string& id_or_prefix, const BundleLimits& limits = {});

  // Writes programs/<id>/<name> atomically under the program's lock (e.g. the runner's
  // prefix_kv_cache.bin). `name` must be a flat file name and not a required member.
  void write_program_file(const std::string& id, const std::string& name, std::span<const uint8_t> bytes);

  // Removes stale temporaries and partial program folders; returns how many entries went.
  // Does nothing (returns 0) when another process holds the cache lock.
  size_t clean();

 private:
  std::string root_;
};

}  // namespace paw
