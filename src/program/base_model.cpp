// Base model resolution: override, else the cache's base_models/ folder, checked by size
// (the manifest's size_bytes) and (once, remembered) by sha256.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "paw/program/base_model.hpp"
#include "paw/util/atomic_file.hpp"
#include "paw/util/error.hpp"
#include "paw/util/mapped_file.hpp"
#include "program/fs_util.hpp"
#include "paw/util/sha256.hpp"

namespace paw {
namespace {

uint64_t mtime_ns(const struct stat& st) {
  return static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000ull + static_cast<uint64_t>(st.st_mtim.tv_nsec);
}

std::string human_size(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

// The stamp says "this file, with this size and mtime, hashed to this sha256".
bool stamp_matches(const std::string& stamp_path, const struct stat& st, const std::string& sha) {
  std::string text;
  try {
    text = read_file_to_string(stamp_path);
  } catch (const Error&) {
    return false;
  }
  try {
    auto j = nlohmann::json::parse(text);
    return j.is_object() && j.value("size", uint64_t{0}) == static_cast<uint64_t>(st.st_size) &&
           j.value("mtime_ns", uint64_t{0}) == mtime_ns(st) && j.value("sha256", std::string()) == sha;
  } catch (const nlohmann::json::exception&) {
    return false;   // a damaged stamp only costs a rehash
  }
}

}  // namespace

std::string default_cache_dir() {
  if (const char* e = std::getenv("PAW_CACHE_DIR"); e && *e) return e;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.cache/programasweights";
}

bool offline_mode(bool flag) {
  if (flag) return true;
  const char* e = std::getenv("PAW_OFFLINE");
  if (!e) return false;
  std::string v = e;
  return v == "1" || v == "true" || v == "TRUE" || v == "yes" || v == "on";
}

ResolvedBaseModel resolve_base_model(const RuntimeManifest& manifest, const BaseModelOptions& opts) {
  ResolvedBaseModel r;
  r.manifest = manifest;
  std::string override_path = opts.model_override;
  if (override_path.empty() && opts.use_env_override)
    if (const char* e = std::getenv("PAW_MODEL"); e && *e) override_path = e;
  if (!override_path.empty()) {
    struct stat st;
    if (::stat(override_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      throw Error("model file not found", override_path, "check --model / PAW_MODEL");
    r.path = override_path;
    r.overridden = true;
    return r;
  }

  const std::string label = manifest.runtime_id.empty() ? manifest.interpreter : manifest.runtime_id;
  if (!manifest.runs_in_paw())
    throw Error("runtime '" + label + "' cannot run locally (" +
                    (manifest.paw_native ? std::string("paw_native.supported") : std::string("local_sdk.supported")) +
                    " is false)",
                "runtime manifest", "pass --model FILE to run it on a compatible base model");
  if (manifest.base_model_file.empty())
    throw Error("runtime '" + label + "' names no base model file", "runtime manifest", "pass --model FILE");

  const std::string dir = (opts.cache_dir.empty() ? default_cache_dir() : opts.cache_dir) + "/base_models";
  r.path = dir + "/" + manifest.base_model_file;
  struct stat st;
  if (::stat(r.path.c_str(), &st) != 0) {
    std::string what = "base model '" + manifest.base_model_file + "' for " +
                       (manifest.interpreter.empty() ? label : manifest.interpreter) + " is not in the cache";
    std::string hint = "place " + manifest.base_model_file;
    if (manifest.base_model_size) hint += " (" + std::to_string(*manifest.base_model_size) + " bytes)";
    hint += " at " + r.path + ", or pass --model FILE / set PAW_MODEL";
    if (!manifest.url.empty()) hint += "; it is published at " + manifest.url;
    if (offline_mode(opts.offline)) hint += " (offline mode: nothing is downloaded)";
    throw Error(what, r.path, hint);
  }
  if (!S_ISREG(st.st_mode)) throw Error("base model is not a regular file", r.path, "replace it with the GGUF file");
  if (manifest.base_model_size && static_cast<uint64_t>(st.st_size) != *manifest.base_model_size)
    throw Error("base model has " + std::to_string(st.st_size) + " bytes, expected " + std::to_string(*manifest.base_model_size) +
                    " (" + human_size(*manifest.base_model_size) + ", the runtime manifest's size_bytes)",
                r.path, "the file is incomplete or a different model; replace it");

  if (opts.verify_sha256 && !manifest.base_model_sha256.empty()) {
    const std::string stamp = dir + "/." + manifest.base_model_file + ".verified";
    if (!stamp_matches(stamp, st, manifest.base_model_sha256)) {
      std::string got = sha256_file_hex(r.path);
      if (got != manifest.base_model_sha256)
        throw Error("base model sha256 is " + got + ", expected " + manifest.base_model_sha256, r.path,
                    "the file is corrupt or a different model; replace it");
      nlohmann::json j = {{"size", static_cast<uint64_t>(st.st_size)}, {"mtime_ns", mtime_ns(st)}, {"sha256", got}};
      try {
        atomic_write_file(stamp, j.dump() + "\n");
      } catch (const Error&) {
        // A read-only cache still works; it just rehashes next time.
      }
    }
    r.sha256_verified = true;
  }
  return r;
}

ResolvedBaseModel resolve_base_model(const ProgramMeta& meta, const BaseModelOptions& opts) {
  auto m = meta.effective_manifest();
  if (!m) {
    // An override can still run it: the runner checks the adapter against that model.
    std::string override_path = opts.model_override;
    if (override_path.empty() && opts.use_env_override)
      if (const char* e = std::getenv("PAW_MODEL"); e && *e) override_path = e;
    if (!override_path.empty()) {
      RuntimeManifest empty;
      empty.interpreter = meta.interpreter;
      return resolve_base_model(empty, opts);
    }
    throw Error("unknown interpreter '" + meta.interpreter + "'", "meta.json",
                "paw knows Qwen/Qwen3-0.6B and gpt2; add a runtime manifest to meta.json or pass --model FILE");
  }
  return resolve_base_model(*m, opts);
}

std::string install_base_model(const std::string& model_path, const std::string& cache_dir) {
  namespace fs = std::filesystem;
  const std::string root = cache_dir.empty() ? default_cache_dir() : cache_dir;
  const std::string dir = root + "/base_models";
  const std::string name = fs::path(model_path).filename().string();
  const std::string dest = dir + "/" + name;
  std::error_code ec;
  const uint64_t size = fs::file_size(model_path, ec);
  if (ec) throw Error("cannot read the base model", model_path, "check the path");
  if (fs::exists(dest) && fs::file_size(dest, ec) == size) return dest;
  fs::create_directories(dir, ec);
  if (ec) throw Error("cannot create " + dir + ": " + ec.message(), root, "set PAW_CACHE_DIR to a writable folder");
  const std::string tmp = dir + "/." + name + ".tmp-" + program_detail::random_hex(8);
  try {
    fs::copy_file(model_path, tmp, fs::copy_options::overwrite_existing);
    const int fd = ::open(tmp.c_str(), O_RDONLY);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
    fs::rename(tmp, dest);
  } catch (const fs::filesystem_error& e) {
    fs::remove(tmp, ec);
    throw Error(std::string("cannot copy the base model into the cache: ") + e.what(), dest, "check free space and permissions");
  }
  program_detail::fsync_dir(dir);
  return dest;
}

}  // namespace paw
