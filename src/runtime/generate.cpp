// generate(): prefill, then sample → stop check → emit → decode (see generate.hpp for the
// exact stopping rules).
#include "paw/runtime/generate.hpp"

#include <algorithm>

#include "paw/util/error.hpp"

namespace paw {

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::StopToken: return "stop-token";
    case StopReason::MaxTokens: return "max-tokens";
    case StopReason::ContextFull: return "context-full";
    case StopReason::Callback: return "callback";
  }
  return "unknown";
}

Generation::Generation(const GenerateOptions& opt) : opt_(opt), sampler_(opt.sampling) {
  if (opt.max_tokens > 0) res_.ids.reserve(static_cast<size_t>(std::min<int64_t>(opt.max_tokens, 4096)));
}

bool Generation::budget_reached() const {
  return opt_.max_tokens >= 0 && static_cast<int64_t>(res_.ids.size()) >= opt_.max_tokens;
}

std::optional<int32_t> Generation::end(StopReason r) {
  res_.reason = r;
  done_ = true;
  return std::nullopt;
}

std::optional<int32_t> Generation::step(std::span<const float> logits, int64_t n_past, int64_t n_ctx) {
  if (done_) return std::nullopt;
  if (budget_reached()) return end(StopReason::MaxTokens);
  if (n_past >= n_ctx) return end(StopReason::ContextFull);
  const int32_t tok = sampler_.sample(logits);
  if (std::find(opt_.stop_ids.begin(), opt_.stop_ids.end(), tok) != opt_.stop_ids.end()) {
    res_.stop_token = tok;
    return end(StopReason::StopToken);
  }
  res_.ids.push_back(tok);
  if (opt_.on_token && !opt_.on_token(tok)) return end(StopReason::Callback);
  // Stop without evaluating a token nothing will read.
  if (budget_reached()) return end(StopReason::MaxTokens);
  if (n_past + 1 >= n_ctx) return end(StopReason::ContextFull);  // prompt + generated fill the context
  return tok;
}

GenerateResult generate(Session& session, std::span<const int32_t> prompt, const GenerateOptions& opt) {
  Generation g(opt);  // validates the options before anything is evaluated
  if (prompt.empty() && session.logits().empty())
    throw Error("nothing to generate from: the prompt is empty and the session has no logits", "generate",
                "pass at least one prompt token");
  session.prefill(prompt);
  while (const auto tok = g.step(session.logits(), session.n_past(), session.n_ctx())) session.decode(*tok);
  return g.take();
}

}  // namespace paw
