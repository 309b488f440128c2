// paw::BatchRunner: one worker thread advancing every call in flight by one token per step,
// all of them in one BatchDecoder forward (see paw/batch.hpp for the contract).
#include "paw/batch.hpp"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "paw/runtime/batch_decoder.hpp"
#include "paw/util/error.hpp"
#include "api/run_internal.hpp"

namespace paw {

namespace {

using run_detail::SessionPool;

// One call from the time run() plans it until its caller has read the result.
struct Call {
  std::shared_ptr<const Program::Impl> prog;
  run_detail::CallPlan plan;
  // Worker only.
  std::optional<SessionPool::Lease> lease;
  std::optional<Generation> gen;
  std::vector<int32_t> prompt;   // tokens to evaluate after the prefix before decoding
  size_t prompt_done = 0;        // ... evaluated so far (long prompts take several steps)
  int32_t next = 0;              // once the prompt is in: the token to evaluate in the next step
  int64_t started_at = 0;        // n_past once the prefix was in place
  // Shared, under BatchRunner::Impl::mu.
  std::condition_variable cv;
  std::vector<int32_t> emitted;   // tokens so far, for the caller's on_token
  bool done = false;
  std::exception_ptr error;
  GenerateResult result;
  bool cancel = false;            // the caller's on_token said stop
};

}  // namespace

struct BatchRunner::Impl {
  Interpreter interp;
  BatchOptions opts;
  std::unique_ptr<SessionPool> pool;   // the worker's own sessions, max_batch of them
  std::unique_ptr<BatchDecoder> decoder;

  std::mutex mu;
  std::condition_variable work_cv;
  std::deque<std::shared_ptr<Call>> pending;
  bool stopping = false;
  BatchStats stats;
  std::vector<std::shared_ptr<Call>> active;   // worker only
  std::thread worker;

  Impl(const Interpreter& in, const BatchOptions& o) : interp(in), opts(o) {}
  void loop();
  void admit(const std::shared_ptr<Call>& c);
  void advance(Call& c);
  void finish(Call& c, std::exception_ptr error);
  void step();
};

void BatchRunner::Impl::finish(Call& c, std::exception_ptr error) {
  if (c.lease) {
    Session& s = **c.lease;
    if (!error)
      run_detail::InterpreterAccess::of(interp).evaluated += static_cast<uint64_t>(std::max<int64_t>(0, s.n_past() - c.started_at));
    if (error) c.lease->mark_dirty();
    c.lease.reset();   // back to the pool: its prefix may serve the program's next call
  }
  std::lock_guard lk(mu);
  if (c.gen) c.result = c.gen->take();
  c.error = error;
  c.done = true;
  ++stats.calls;
  c.cv.notify_one();
}

// After the session's logits for the next token are ready: sample (Generation), then either
// keep the call for the next step or finish it.
void BatchRunner::Impl::advance(Call& c) {
  Session& s = **c.lease;
  if (const auto t = c.gen->step(s.logits(), s.n_past(), s.n_ctx()))
    c.next = *t;
  else
    finish(c, nullptr);
}

// A call joins: a session of the worker with its program's adapter and prefix in place; its
// prompt is then evaluated in the next steps, beside the calls that decode.
void BatchRunner::Impl::admit(const std::shared_ptr<Call>& c) {
  try {
    c->lease.emplace(pool->acquire(c->prog->adapter.get()));   // never waits: at most max_batch calls hold one
    Session& s = **c->lease;
    int32_t last_prefix = 0;
    const std::span<const int32_t> prompt = run_detail::start_call(*c->prog, s, c->plan, last_prefix);
    c->prompt.assign(prompt.begin(), prompt.end());
    if (c->prompt.empty()) throw Error("nothing to evaluate for this call", "program " + c->prog->id);   // plan_call rules it out
    c->gen.emplace(c->plan.gen);
    c->started_at = s.n_past();
  } catch (...) {
    finish(*c, std::current_exception());
    return;
  }
  active.push_back(c);
}

// One forward for every active call: the decoding ones with their next token, then as much
// of the joining ones' prompts as the step's token budget leaves, in the order they came.
void BatchRunner::Impl::step() {
  if (active.empty()) return;
  std::vector<Session*> sessions;
  std::vector<std::span<const int32_t>> chunks;
  std::vector<Call*> in_step;
  int64_t budget = decoder->max_tokens();
  int64_t decoding = 0;
  for (const auto& c : active)
    if (c->prompt_done == c->prompt.size()) {
      sessions.push_back(&**c->lease);
      chunks.emplace_back(&c->next, 1);
      in_step.push_back(c.get());
      --budget;
      ++decoding;
    }
  for (const auto& c : active) {
    if (c->prompt_done == c->prompt.size() || budget <= 0) continue;
    const auto n = std::min<int64_t>(budget, static_cast<int64_t>(c->prompt.size() - c->prompt_done));
    sessions.push_back(&**c->lease);
    chunks.emplace_back(c->prompt.data() + c->prompt_done, static_cast<size_t>(n));
    in_step.push_back(c.get());
    budget -= n;
  }
  try {
    decoder->step(sessions, chunks);
  } catch (...) {
    // Nothing was evaluated (BatchDecoder checks first); no call of this step can go on.
    for (Call* c : in_step) finish(*c, std::current_exception());
    std::erase_if(active, [](const std::shared_ptr<Call>& c) { return c->done; });
    return;
  }
  {
    std::lock_guard lk(mu);
    ++stats.steps;
    stats.sequences += in_step.size();
    stats.rows += static_cast<uint64_t>(decoding);
    stats.prompt_tokens += static_cast<uint64_t>(decoder->max_tokens() - decoding - budget);
    stats.max_rows = std::max<int64_t>(stats.max_rows, static_cast<int64_t>(in_step.size()));
  }
  for (size_t i = 0; i < in_step.size(); ++i) {
    Call& c = *in_step[i];
    if (c.prompt_done < c.prompt.size()) {
      c.prompt_done += chunks[i].size();
      if (c.prompt_done < c.prompt.size()) continue;   // more of its prompt next step
    }
    try {
      advance(c);
    } catch (...) {   // sampling: a NaN logit
      finish(c, std::current_exception());
    }
  }
  std::erase_if(active, [](const std::shared_ptr<Call>& c) { return c->done; });
}

void BatchRunner::Impl::loop() {
  for (;;) {
    std::vector<std::shared_ptr<Call>> joining;
    {
      std::unique_lock lk(mu);
      work_cv.wait(lk, [&] { return stopping || !pending.empty() || !active.empty(); });
      if (stopping && pending.empty() && active.empty()) return;
      while (!pending.empty() && active.size() + joining.size() < static_cast<size_t>(opts.max_batch)) {
        joining.push_back(std::move(pending.front()));
        pending.pop_front();
      }
    }
    for (const auto& c : joining) admit(c);
    step();
  }
}

BatchRunner::BatchRunner(const Interpreter& interp, const BatchOptions& opts) {
  if (opts.max_batch < 1)
    throw Error("max_batch must be at least 1 (got " + std::to_string(opts.max_batch) + ")", "BatchRunner");
  if (opts.max_step_tokens < 1)
    throw Error("max_step_tokens must be at least 1 (got " + std::to_string(opts.max_step_tokens) + ")", "BatchRunner");
  impl_ = std::make_unique<Impl>(interp, opts);
  auto& ii = run_detail::InterpreterAccess::of(interp);
  const SessionOptions& so = ii.pool->options();
  impl_->pool = std::make_unique<SessionPool>(ii.model, so, opts.max_batch);
  BatchDecoderOptions bo;
  bo.max_sequences = opts.max_batch;
  bo.max_tokens = std::max<int64_t>(opts.max_batch, opts.max_step_tokens);
  bo.n_ctx = ii.n_ctx;
  bo.n_threads = so.n_threads;
  bo.kernels = so.kernels;
  impl_->decoder = std::make_unique<BatchDecoder>(ii.model, bo);
  impl_->worker = std::thread([this] { impl_->loop(); });
}

BatchRunner::~BatchRunner() {
  {
    std::lock_guard lk(impl_->mu);
    impl_->stopping = true;
  }
  impl_->work_cv.notify_one();
  impl_->worker.join();
}

const Interpreter& BatchRunner::interpreter() const { return impl_->interp; }

BatchStats BatchRunner::stats() const {
  std::lock_guard lk(impl_->mu);
  return impl_->stats;
}

RunResult BatchRunner::run(const Program& program, std::string_view input, const RunOptions& ro) {
  Impl& b = *impl_;
  if (&run_detail::InterpreterAccess::of(program.impl_->interp) != &run_detail::InterpreterAccess::of(b.interp))
    throw Error("the program is open on another interpreter than this batch runner's", "program " + program.id(),
                "open the program on the runner's interpreter");
  auto c = std::make_shared<Call>();
  c->prog = program.impl_;
  c->plan = run_detail::plan_call(*c->prog, input, ro);   // tokenized and checked here, on the caller
  const auto& user_on_token = ro.on_token;
  if (user_on_token) {
    // The worker only records the token; the caller's callback runs below, on this thread.
    Call* raw = c.get();
    c->plan.gen.on_token = [&b, raw](int32_t id) {
      std::lock_guard lk(b.mu);
      raw->emitted.push_back(id);
      raw->cv.notify_one();
      return !raw->cancel;
    };
  } else {
    c->plan.gen.on_token = nullptr;
  }
  {
    std::lock_guard lk(b.mu);
    if (b.stopping) throw Error("the batch runner is shutting down", "BatchRunner::run");
    b.pending.push_back(c);
  }
  b.work_cv.notify_one();

  size_t delivered = 0;
  std::optional<size_t> cancelled_at;   // tokens the caller had taken when it said stop
  for (;;) {
    std::vector<int32_t> fresh;
    bool done = false;
    {
      std::unique_lock lk(b.mu);
      c->cv.wait(lk, [&] { return c->done || c->emitted.size() > delivered; });
      fresh.assign(c->emitted.begin() + static_cast<std::ptrdiff_t>(delivered), c->emitted.end());
      done = c->done;
    }
    for (int32_t id : fresh) {
      ++delivered;
      if (!cancelled_at && !user_on_token(id)) {
        cancelled_at = delivered;
        std::lock_guard lk(b.mu);
        c->cancel = true;
      }
    }
    if (done) break;
  }
  if (c->error) std::rethrow_exception(c->error);
  GenerateResult g = std::move(c->result);
  if (cancelled_at) {   // the worker may have gone on a few tokens before it saw the flag
    g.ids.resize(std::min(g.ids.size(), *cancelled_at));
    g.reason = StopReason::Callback;
  }
  run_detail::finish_call(*c->prog, std::move(g), c->plan.result);
  return std::move(c->plan.result);
}

}  // namespace paw
