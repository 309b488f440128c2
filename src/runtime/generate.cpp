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

GenerateResult generate(Session& session, std::span<const int32_t> prompt, const GenerateOptions& opt) {
  Sampler sampler(opt.sampling);  // validates the options before anything is evaluated
  if (prompt.empty() && session.logits().empty())
    throw Error("nothing to generate from: the prompt is empty and the session has no logits", "generate",
                "pass at least one prompt token");
  session.prefill(prompt);

  GenerateResult res;
  if (opt.max_tokens > 0) res.ids.reserve(static_cast<size_t>(std::min<int64_t>(opt.max_tokens, session.n_ctx())));
  auto budget_reached = [&] { return opt.max_tokens >= 0 && static_cast<int64_t>(res.ids.size()) >= opt.max_tokens; };

  for (;;) {
    if (budget_reached()) {
      res.reason = StopReason::MaxTokens;
      break;
    }
    if (session.n_past() >= session.n_ctx()) {
      res.reason = StopReason::ContextFull;
      break;
    }
    const int32_t tok = sampler.sample(session.logits());
    if (std::find(opt.stop_ids.begin(), opt.stop_ids.end(), tok) != opt.stop_ids.end()) {
      res.reason = StopReason::StopToken;
      res.stop_token = tok;
      break;
    }
    res.ids.push_back(tok);
    if (opt.on_token && !opt.on_token(tok)) {
      res.reason = StopReason::Callback;
      break;
    }
    // Stop without evaluating a token nothing will read.
    if (budget_reached()) {
      res.reason = StopReason::MaxTokens;
      break;
    }
    if (session.n_past() + 1 >= session.n_ctx()) {  // prompt + generated fill the context
      res.reason = StopReason::ContextFull;
      break;
    }
    session.decode(tok);
  }
  return res;
}

}  // namespace paw
