#pragma once
// Private pieces of the run half of the program layer: the interpreter's session pool, the
// remembered model hash and the on-disk prefix KV cache.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "paw/interpreter.hpp"
#include "paw/model/model.hpp"
#include "paw/runtime/session.hpp"
#include "paw/tokenizer/tokenizer.hpp"

namespace paw::run_detail {

// Sessions shared by every program of one interpreter. A session is used by one caller at a
// time; idle sessions are kept (their KV cache is the expensive part, and the prefix it holds
// may be reused by the next call of the same program).
class SessionPool {
 public:
  SessionPool(std::shared_ptr<const Model> model, SessionOptions so, int max_sessions);

  class Lease {
   public:
    Lease(SessionPool* pool, std::unique_ptr<Session> s) : pool_(pool), s_(std::move(s)) {}
    Lease(Lease&& o) noexcept : pool_(o.pool_), s_(std::move(o.s_)), dirty_(o.dirty_) { o.pool_ = nullptr; }
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Session& operator*() const { return *s_; }
    Session* operator->() const { return s_.get(); }
    // The session's state is unknown (an evaluation threw): it is reset when returned.
    void mark_dirty() { dirty_ = true; }

   private:
    SessionPool* pool_;
    std::unique_ptr<Session> s_;
    bool dirty_ = false;
  };

  // An idle session, preferring one whose only adapter is `adapter` (null: one without
  // adapters); creates one while fewer than max_sessions exist; otherwise waits.
  Lease acquire(const LoraAdapter* adapter);
  int created() const { return created_.load(); }

 private:
  void release(std::unique_ptr<Session> s);

  std::shared_ptr<const Model> model_;
  SessionOptions so_;
  int max_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Session>> idle_;
  std::atomic<int> created_{0};
};

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

namespace paw {

struct Interpreter::Impl {
  std::string path;
  InterpreterOptions opts;
  std::string cache_root;
  std::shared_ptr<const Model> model;
  Tokenizer tokenizer;
  int32_t eos = -1;
  int64_t n_ctx = 0;
  std::unique_ptr<run_detail::SessionPool> pool;
  std::atomic<uint64_t> evaluated{0};

  std::mutex hash_mu;
  std::optional<std::string> sha256;   // set once computed
};

}  // namespace paw
