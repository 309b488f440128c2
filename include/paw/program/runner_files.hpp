#pragma once
// Files the program runner keeps in the cache (src/program/run_cache_files.cpp): remembered
// model hashes and a program's prefix_kv_cache.bin, written under the cache's locks.
#include <cstdint>
#include <span>
#include <string>

namespace paw::run_detail {

// SHA-256 of a model file (or of every regular file of a folder), remembered by a stamp
// (size + mtime + sha256) under `cache_root`: base_models/.<file>.verified for a file inside
// base_models/ (the stamp resolve_base_model writes), model_hashes/<key>.json otherwise.
// Throws paw::Error when the model cannot be read.
std::string remembered_model_sha256(const std::string& path, const std::string& cache_root);

// Writes `bytes` to <program_dir>/prefix_kv_cache.bin atomically while holding the cache lock
// (shared) and the program's lock (exclusive) of the cache at `cache_root` — the locks every
// cache writer takes (cache.hpp). Stale temporaries of the file are removed first. Test hook:
// $PAW_TEST_PREFIX_WRITE_PAUSE_MS pauses after half of the bytes are written.
void store_prefix_cache(const std::string& cache_root, const std::string& id, const std::string& program_dir,
                        std::span<const uint8_t> bytes);

inline constexpr const char* kPrefixCacheFile = "prefix_kv_cache.bin";

}  // namespace paw::run_detail
