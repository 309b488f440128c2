// Runs an interpreter over evaluation cases (see paw/eval/evaluator.hpp).
#include "paw/eval/evaluator.hpp"

#include <filesystem>

#include "eval/tally.hpp"
#include "paw/data/prompt.hpp"
#include "paw/eval/match.hpp"
#include "paw/runtime/generate.hpp"
#include "paw/runtime/model_loader.hpp"
#include "paw/util/error.hpp"
#include "paw/util/process_memory.hpp"

namespace paw::eval {

ModelReport evaluate(const std::shared_ptr<const Model>& model, const Tokenizer& tok, std::span<const EvalCase> cases,
                     const EvalOptions& opt) {
  const auto im_end = tok.token_id("<|im_end|>");
  if (!im_end)
    throw Error("the tokenizer has no <|im_end|> token", "evaluation",
                "prompted evaluation needs a chat-format model (trained by paw train, or a Qwen3 model)");
  if (opt.max_tokens < 1) throw Error("max_tokens must be at least 1", "evaluation");

  ModelReport rep;
  rep.n_params = model->n_params();
  Session session(model, opt.session);

  GenerateOptions go;
  go.max_tokens = opt.max_tokens;
  go.stop_ids = {*im_end};
  if (const auto eos = tok.eos_id(); eos && *eos != *im_end) go.stop_ids.push_back(*eos);

  DecodeOptions dec;
  dec.skip_special = true;
  rep.cases.reserve(cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const EvalCase& c = cases[i];
    CaseResult r;
    const std::vector<int32_t> prompt =
        tok.encode(data::format_prompt(c.spec, c.input), EncodeOptions{/*parse_special=*/true, /*add_bos=*/false});
    r.prompt_tokens = static_cast<int64_t>(prompt.size());
    if (r.prompt_tokens + opt.max_tokens > session.n_ctx()) {
      r.skipped = true;
      ++rep.n_skipped;
    } else {
      session.reset();
      const auto t0 = Clock::now();
      session.prefill(prompt);
      rep.prompt_seconds += seconds_since(t0);
      const auto t1 = Clock::now();
      const GenerateResult g = generate(session, {}, go);
      rep.answer_seconds += seconds_since(t1);
      r.answer_tokens = static_cast<int64_t>(g.ids.size());
      r.prediction = tok.decode(g.ids, dec);
      r.exact = exact_match(r.prediction, c.expected);
      r.normalised = r.exact || normalised_match(r.prediction, c.expected);
      rep.prompt_tokens += r.prompt_tokens;
      rep.answer_tokens += r.answer_tokens;
    }
    tally(rep, c, r);
    rep.cases.push_back(std::move(r));
    if (opt.progress) opt.progress(i + 1, cases.size());
  }
  return rep;
}

ModelReport evaluate_file(const std::string& model_path, std::span<const EvalCase> cases, const EvalOptions& opt) {
  reset_peak_rss();
  const auto t0 = Clock::now();
  const ModelWithTokenizer loaded = load_model_with_tokenizer(model_path);
  const std::shared_ptr<const Model>& model = loaded.model;
  const Tokenizer& tok = loaded.tokenizer;
  const double load_s = seconds_since(t0);
  ModelReport rep = evaluate(model, tok, cases, opt);
  rep.model = std::filesystem::path(model_path).filename().string();
  rep.model_bytes = std::filesystem::file_size(model_path);
  rep.load_seconds = load_s;
  rep.peak_rss_bytes = peak_rss_bytes();
  return rep;
}

}  // namespace paw::eval
