#pragma once
// Generation loop on a Session: prefill a prompt, then decode until a stop token, a token
// budget or the context limit.
//
// Per step: sample from the session's logits; a stop id ends the loop (not emitted); any other
// token is emitted (ids, on_token) and then evaluated, except when the loop is about to stop
// (budget reached, callback returned false, or prompt + generated tokens fill the context) —
// so after generate() the session holds the prompt and every emitted token but the last.
// The sequence (cached positions + the last emitted token) never exceeds session.n_ctx():
// with a prompt of P tokens and no other stop, exactly n_ctx - P tokens are emitted.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "paw/runtime/sampling.hpp"
#include "paw/runtime/session.hpp"

namespace paw {

struct GenerateOptions {
  int64_t max_tokens = -1;            // -1 = until a stop token or the context is full
  SamplingOptions sampling;           // default: greedy
  std::vector<int32_t> stop_ids;      // generation stops when one of these is produced (not emitted)
  // Called with each emitted token; return false to stop early. May be empty.
  std::function<bool(int32_t)> on_token;
};

enum class StopReason { StopToken, MaxTokens, ContextFull, Callback };

struct GenerateResult {
  std::vector<int32_t> ids;   // generated tokens, stop token excluded
  StopReason reason = StopReason::MaxTokens;
  int32_t stop_token = -1;    // the stop id that ended generation (StopToken), else -1
};

// "stop-token", "max-tokens", "context-full", "callback".
const char* stop_reason_name(StopReason r);

// The loop of generate() one step at a time, for callers that evaluate the tokens themselves
// (batched decoding: BatchDecoder evaluates the next tokens of many sessions at once). With
//   Generation g(opt); session.prefill(prompt);
//   while (auto t = g.step(session.logits(), session.n_past(), session.n_ctx())) session.decode(*t);
// g.result() is exactly what generate(session, prompt, opt) returns.
class Generation {
 public:
  // Validates the sampling options (paw::Error).
  explicit Generation(const GenerateOptions& opt);
  // One step from the logits after n_past evaluated positions: sample, stop or emit (ids,
  // on_token). Returns the token to evaluate next, or nullopt when generation has ended
  // (result().reason says why).
  std::optional<int32_t> step(std::span<const float> logits, int64_t n_past, int64_t n_ctx);
  bool done() const { return done_; }
  const GenerateResult& result() const { return res_; }
  GenerateResult take() { return std::move(res_); }

 private:
  bool budget_reached() const;
  std::optional<int32_t> end(StopReason r);

  GenerateOptions opt_;  // a copy: a Generation may outlive the caller's options
  Sampler sampler_;
  GenerateResult res_;
  bool done_ = false;
};

// Evaluates `prompt` after the session's current positions (may be empty when the session
// already holds the prompt and has logits), then decodes. Throws paw::Error before evaluating
// anything when the prompt does not fit the context (Session::prefill), when the prompt is
// empty and the session has no logits, or for invalid sampling options.
GenerateResult generate(Session& session, std::span<const int32_t> prompt, const GenerateOptions& opt);

}  // namespace paw
