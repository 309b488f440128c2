// Files the runner keeps in the cache: remembered model hashes and prefix_kv_cache.bin.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "paw/program/runner_files.hpp"
#include "paw/util/atomic_file.hpp"
#include "paw/util/error.hpp"
#include "paw/util/mapped_file.hpp"
#include "paw/util/sha256.hpp"
#include "program/file_lock.hpp"

namespace paw::run_detail {
namespace {

namespace fs = std::filesystem;

uint64_t mtime_ns(const struct stat& st) {
  return static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000ull + static_cast<uint64_t>(st.st_mtim.tv_nsec);
}

bool is_hex64(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The stamp says "the file at `path`, with this size and mtime, hashed to this sha256". It has
// the fields of the base_models/.<file>.verified stamp (size, mtime_ns, sha256) plus `path`
// for stamps kept away from the file.
// `expected_path` empty: a stamp beside the file (no path field needed).
std::optional<std::string> read_stamp(const std::string& stamp, const struct stat& st, const std::string& expected_path) {
  try {
    auto j = nlohmann::json::parse(read_file_to_string(stamp));
    if (!j.is_object() || j.value("size", uint64_t{0}) != static_cast<uint64_t>(st.st_size) ||
        j.value("mtime_ns", uint64_t{0}) != mtime_ns(st))
      return std::nullopt;
    if (!expected_path.empty() && j.value("path", std::string()) != expected_path) return std::nullopt;
    std::string sha = j.value("sha256", std::string());
    if (!is_hex64(sha)) return std::nullopt;
    return sha;
  } catch (const std::exception&) {
    return std::nullopt;   // missing or damaged: it only costs a rehash
  }
}

void write_stamp(const std::string& stamp, const struct stat& st, const std::string& path, const std::string& sha,
                 bool with_path) {
  nlohmann::json j = {{"size", static_cast<uint64_t>(st.st_size)}, {"mtime_ns", mtime_ns(st)}, {"sha256", sha}};
  if (with_path) j["path"] = path;
  try {
    std::error_code ec;
    fs::create_directories(fs::path(stamp).parent_path(), ec);
    atomic_write_file(stamp, j.dump() + "\n");
  } catch (const Error&) {
    // A read-only cache still works; it just rehashes next time.
  }
}

std::string file_sha256(const std::string& path, const std::string& cache_root) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) throw Error("model file not found", path, "check the path");
  std::error_code ec;
  const std::string canon = fs::weakly_canonical(path, ec).string();
  const std::string key = ec ? path : canon;
  const fs::path bm = fs::weakly_canonical(fs::path(cache_root) / "base_models", ec);
  std::string stamp;
  bool with_path = false;
  if (!ec && fs::path(key).parent_path() == bm) {
    std::string name = ".";   // built by appending: GCC 12 warns (-Wrestrict) on "." + string
    name += fs::path(key).filename().string();
    name += ".verified";
    stamp = (bm / name).string();
  } else {
    stamp = cache_root + "/model_hashes/" + sha256_hex(key).substr(0, 32) + ".json";
    with_path = true;
  }
  if (auto sha = read_stamp(stamp, st, with_path ? key : std::string())) return *sha;
  std::string sha = sha256_file_hex(path);
  write_stamp(stamp, st, key, sha, with_path);
  return sha;
}

}  // namespace

std::string remembered_model_sha256(const std::string& path, const std::string& cache_root) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) throw Error("model not found", path, "check the path");
  if (!S_ISDIR(st.st_mode)) return file_sha256(path, cache_root);
  // A Hugging Face folder: every regular file (config, weights, tokenizer) by name.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(path))
    if (e.is_regular_file()) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  Sha256 h;
  h.update("paw-model-folder-v1\n");
  for (const auto& n : names) {
    h.update(n);
    h.update("\n");
    h.update(file_sha256(path + "/" + n, cache_root));
    h.update("\n");
  }
  return h.hex_digest();
}

void store_prefix_cache(const std::string& cache_root, const std::string& id, const std::string& program_dir,
                        std::span<const uint8_t> bytes) {
  using program_detail::FileLock;
  // The cache's lock protocol (cache.hpp): every writer holds locks/cache.lock shared and the
  // program's locks/<id>.lock exclusively.
  const std::string locks = cache_root + "/locks";
  std::error_code ec;
  fs::create_directories(locks, ec);
  FileLock cache_lock = FileLock::acquire(locks + "/cache.lock", FileLock::Mode::Shared);
  FileLock lock = FileLock::acquire(locks + "/" + id + ".lock", FileLock::Mode::Exclusive);

  // Under the exclusive lock nobody else writes this file: its temporaries are leftovers of
  // a killed writer.
  const std::string tmp_prefix = std::string(".") + kPrefixCacheFile + ".tmp-";
  if (DIR* d = ::opendir(program_dir.c_str())) {
    std::vector<std::string> stale;
    while (dirent* e = ::readdir(d))
      if (std::string(e->d_name).rfind(tmp_prefix, 0) == 0) stale.emplace_back(e->d_name);
    ::closedir(d);
    for (const auto& n : stale) ::unlink((program_dir + "/" + n).c_str());
  }

  AtomicFileWriter w(program_dir + "/" + kPrefixCacheFile);
  const size_t half = bytes.size() / 2;
  w.write(bytes.data(), half);
  if (const char* e = std::getenv("PAW_TEST_PREFIX_WRITE_PAUSE_MS"); e && *e) {
    // Test hook: lets a test kill the process while the file is half written.
    std::this_thread::sleep_for(std::chrono::milliseconds(std::atoll(e)));
  }
  w.write(bytes.data() + half, bytes.size() - half);
  w.commit();
}

}  // namespace paw::run_detail
