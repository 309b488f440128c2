#pragma once
// paw::BatchRunner — calls of many programs on one Interpreter decoded together.
//
//   auto interp = paw::Interpreter::open("qwen3-0.6b-q8_0.gguf");
//   paw::BatchRunner batch(interp, {.max_batch = 8});
//   // from any number of threads:
//   paw::RunResult r = batch.run(triage, "Newsletter: spring picnic");
//
// Program::run evaluates each call on its own session: N concurrent calls read the base
// weights N times per generated token. A BatchRunner has one worker thread that owns up to
// max_batch sessions and advances every call in flight by one token per step in ONE forward
// (each row with its program's adapter and KV cache; runtime BatchDecoder), so the weights
// are read once per step for all of them. New calls join between steps (continuous batching):
// a joining call gets its program's cached prefix, its input is evaluated in the next steps
// beside the decoding calls' tokens (up to max_step_tokens per step), and then it decodes
// with the others; a finished call leaves at once.
//
// Results are those of Program::run (the same tokenization, prefix, stopping rules and
// sampling), up to the order of float sums inside the batched products (greedy outputs are
// the same unless two top logits are within rounding of each other). RunOptions::on_token
// runs on the CALLING thread, never on the worker: a slow consumer (a streaming client)
// holds back only its own call; when it returns false the call is cancelled and its result
// holds the tokens up to that one.
#include <cstdint>
#include <memory>
#include <string_view>

#include "paw/interpreter.hpp"
#include "paw/run.hpp"

namespace paw {

struct BatchOptions {
  // Calls decoded together; each holds a session with a KV cache of the interpreter's n_ctx
  // (Qwen3-0.6B at F16: 224 MiB for 2048 positions). Calls beyond this wait for a place.
  int max_batch = 8;
  // Tokens one step evaluates: the decoding calls' next tokens plus as much of joining calls'
  // prompts as fits (a longer prompt continues in the next steps). Larger: joins finish
  // sooner, each step (every decoding call's next token) waits longer.
  int64_t max_step_tokens = 128;
};

struct BatchStats {
  uint64_t calls = 0;          // calls finished (including failed and cancelled ones)
  uint64_t steps = 0;          // forwards (each one token of every decoding call + prompt chunks)
  uint64_t sequences = 0;      // calls in those steps, summed (sequences / steps = mean batch)
  uint64_t rows = 0;           // tokens decoded in those steps
  uint64_t prompt_tokens = 0;  // prompt tokens evaluated in those steps (joining calls)
  int64_t max_rows = 0;        // the most calls in one step
};

class BatchRunner {
 public:
  // Throws paw::Error when max_batch < 1.
  explicit BatchRunner(const Interpreter& interp, const BatchOptions& opts = {});
  // Waits for the calls in flight to finish, then stops the worker.
  ~BatchRunner();
  BatchRunner(const BatchRunner&) = delete;
  BatchRunner& operator=(const BatchRunner&) = delete;

  // Runs `input` through `program` (which must be open on this runner's interpreter),
  // batched with the other calls in flight; blocks until it is done. Thread-safe. Throws
  // paw::Error as Program::run does (before anything is evaluated for a call that cannot fit
  // the context).
  RunResult run(const Program& program, std::string_view input, const RunOptions& opts = {});

  const Interpreter& interpreter() const;
  BatchStats stats() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace paw
