#pragma once
// Private pieces of the api layer (running programs): the interpreter's session pool, the
// Interpreter and Program state, and the steps of one call shared by Program::run and
// BatchRunner. The cache files it keeps are the program layer's (paw/program/runner_files.hpp).
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
#include "paw/program/program_bundle.hpp"
#include "paw/program/runner_files.hpp"
#include "paw/run.hpp"
#include "paw/runtime/generate.hpp"
#include "paw/runtime/prefix_state.hpp"
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
  const SessionOptions& options() const { return so_; }

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

// A program opened on an interpreter (run_program.cpp opens it; calls run in run_program.cpp
// one at a time per session, or batched in run_batch.cpp).
struct Program::Impl {
  explicit Impl(Interpreter in) : interp(std::move(in)) {}
  Interpreter interp;
  bool base = false;
  std::optional<ProgramBundle> bundle;
  std::string id;
  std::string interpreter_name;
  std::string tmpl_prefix, tmpl_suffix;   // program mode
  std::string base_template;              // base mode: the whole template
  std::shared_ptr<const LoraAdapter> adapter;
  std::vector<int32_t> prefix_ids;
  std::shared_ptr<const PrefixState> prefix_state;   // null when the prefix is empty
  std::string state_hash;                 // model hash the state is bound to
  int64_t n_ctx = 0;
  PrefixSource source = PrefixSource::None;
  std::string cache_path;
  bool other_base = false;
};

namespace run_detail {

// The interpreter's private state (its session pool, tokenizer, counters) for the code that
// runs programs; Interpreter keeps it out of the public API.
struct InterpreterAccess {
  static Interpreter::Impl& of(const Interpreter& in) { return *in.impl_; }
};

// One call of a program, planned before any session is touched: the input's token ids, the
// generation options (stop at EOS, max_tokens capped by the room left, sampling), and the
// result's token counts. Throws paw::Error for a call that cannot fit the context.
struct CallPlan {
  std::vector<int32_t> ids;   // input + suffix (base mode: the whole rendered prompt)
  GenerateOptions gen;
  RunResult result;           // prefix_tokens, input_tokens filled
};
CallPlan plan_call(const Program::Impl& p, std::string_view input, const RunOptions& ro);
// Binds the program's adapter to `s` and puts its prefix in place (kept, or restored from the
// prefix state); returns the tokens still to evaluate before decoding (`last_prefix` holds the
// one token re-evaluated when the input has none).
std::span<const int32_t> start_call(const Program::Impl& p, Session& s, const CallPlan& c, int32_t& last_prefix);
// The result of a finished generation: ids (moved out of g), stop flags, the trimmed text.
void finish_call(const Program::Impl& p, GenerateResult&& g, RunResult& r);

}  // namespace run_detail

}  // namespace paw
