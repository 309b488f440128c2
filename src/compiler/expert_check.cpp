// Checking an experts compiler's routing with the spec's worked examples (see
// paw/compiler/expert_check.hpp).
#include "paw/compiler/expert_check.hpp"

#include <algorithm>
#include <cmath>

#include "paw/adapter/lora.hpp"
#include "paw/adapter/writer.hpp"
#include "paw/compiler/compiler.hpp"
#include "paw/compiler/format.hpp"
#include "paw/compiler/program_case.hpp"
#include "paw/runtime/model_loader.hpp"
#include "paw/runtime/session.hpp"
#include "paw/tokenizer/tokenizer.hpp"
#include "paw/util/error.hpp"

namespace paw::compiler {

struct ExpertCheck::Impl {
  std::shared_ptr<const Model> model;
  Tokenizer tok;
  int32_t eos = -1;
  ExpertCheckOptions opt;
};

namespace {

// Log-softmax of one logits row at `target`, and whether `target` is the row's argmax (the
// first maximum, as greedy decoding picks).
void score_row(std::span<const float> row, int32_t target, double& nll, bool& is_argmax) {
  float mx = row[0];
  size_t arg = 0;
  for (size_t i = 1; i < row.size(); ++i)
    if (row[i] > mx) mx = row[i], arg = i;
  double sum = 0;
  for (const float v : row) sum += std::exp(static_cast<double>(v) - mx);
  nll = std::log(sum) - (static_cast<double>(row[static_cast<size_t>(target)]) - mx);
  is_argmax = arg == static_cast<size_t>(target);
}

}  // namespace

std::unique_ptr<ExpertCheck> ExpertCheck::open(const Compiler& c, const std::string& interpreter_path,
                                               const ExpertCheckOptions& o, const std::string& known_sha256) {
  c.check_interpreter(interpreter_path, known_sha256);
  return std::make_unique<ExpertCheck>(load_model_with_tokenizer(interpreter_path).model, o);
}

ExpertCheck::ExpertCheck(std::shared_ptr<const Model> interpreter, const ExpertCheckOptions& o)
    : impl_(std::make_unique<Impl>()) {
  if (!interpreter) throw Error("no interpreter model", "expert check");
  impl_->model = std::move(interpreter);
  impl_->tok = tokenizer_of(*impl_->model);
  impl_->opt = o;
  impl_->eos = impl_->tok.eos_id().value_or(-1);
  if (impl_->eos < 0) throw Error("the interpreter's tokenizer has no EOS token", "expert check");
  if (!(o.nll_margin >= 0)) throw Error("nll_margin must be >= 0", "expert check options");
}

ExpertCheck::~ExpertCheck() = default;

const ExpertCheckOptions& ExpertCheck::options() const { return impl_->opt; }

std::vector<ExpertExampleScore> ExpertCheck::score(const Compiler& c, std::string_view pseudo_program,
                                                   const std::vector<SpecExample>& examples,
                                                   const std::string& adapter_type) const {
  const CompilerInfo& ci = c.info();
  const Impl& m = *impl_;
  if (ci.experts.empty() || examples.empty()) return {};
  // Each example as the trainer encodes a program case; the prefix is evaluated once per expert.
  const TemplateParts parts = split_template(render_template(ci.program_template, pseudo_program), "compiler template");
  const std::vector<int32_t> prefix_ids = encode_prefix(m.tok, parts.prefix);
  const int64_t n_ctx = m.model->hparams().n_ctx_train;
  std::vector<ProgramCase> enc;  // [input + suffix | answer | EOS] each
  int64_t longest = 0;           // the most tokens one example feeds (all but its EOS)
  for (const SpecExample& e : examples) {
    if (enc.size() >= m.opt.max_examples) break;
    ProgramCase x = encode_case_after_prefix(m.tok, parts.suffix, e.input, e.output, m.eos);
    const int64_t n = static_cast<int64_t>(x.tokens.size());
    // An example that does not fit the context with the prefix (EOS included) is not read.
    if (x.n_prompt == 0 || static_cast<int64_t>(prefix_ids.size()) + n > n_ctx) continue;
    longest = std::max(longest, n - 1);
    enc.push_back(std::move(x));
  }
  if (enc.empty()) return {};

  const auto type = dtype_from_name(adapter_type.empty() ? ci.adapter_type : adapter_type);
  if (!type) throw Error("unknown adapter type '" + adapter_type + "'", "--adapter-type", "use f32, f16, q8_0 or q4_0");
  SessionOptions so;
  so.n_ctx = static_cast<int64_t>(prefix_ids.size()) + longest;
  so.n_batch = std::max<int64_t>(longest, static_cast<int64_t>(prefix_ids.size()));
  so.kv_type = DType::F32;
  so.n_threads = m.opt.n_threads;
  Session s(m.model, so);

  std::vector<ExpertExampleScore> scores;
  for (size_t e = 0; e < ci.experts.size(); ++e) {
    // The expert's program exactly as compile() would package it when the router picks it.
    GGUFWriter w = make_lora_gguf_writer(ci.interp_arch, static_cast<float>(ci.alpha),
                                         c.adapter_weights(c.expert_coefficients(e)), *type);
    auto bytes = std::make_shared<const std::vector<uint8_t>>(w.to_bytes());
    s.reset();
    s.detach_all();
    s.attach(LoraAdapter::from_gguf_bytes(bytes, "expert " + ci.experts[e]));
    if (!prefix_ids.empty()) s.prefill(prefix_ids);
    const int64_t n_prefix = s.n_past();
    ExpertExampleScore sc;
    sc.expert = ci.experts[e];
    sc.n_examples = static_cast<int64_t>(enc.size());
    double nll_sum = 0;
    int64_t n_targets = 0;
    EvalOptions all;
    all.all_logits = true;
    for (const ProgramCase& x : enc) {
      const int64_t n = static_cast<int64_t>(x.tokens.size()) - 1;  // fed: all but the EOS
      s.truncate(n_prefix);
      s.prefill(std::span<const int32_t>(x.tokens).first(static_cast<size_t>(n)), all);
      const std::span<const float> logits = s.all_logits();  // [n, n_vocab]
      const size_t V = static_cast<size_t>(s.n_vocab());
      bool right = true;
      // Row t predicts token t + 1: the answer's tokens, then EOS.
      for (int64_t t = x.n_prompt - 1; t < n; ++t) {
        const int32_t target = x.tokens[static_cast<size_t>(t + 1)];
        double nll = 0;
        bool top = false;
        score_row(logits.subspan(static_cast<size_t>(t) * V, V), target, nll, top);
        nll_sum += nll;
        ++n_targets;
        right = right && top;
      }
      sc.answered += right ? 1 : 0;
    }
    sc.nll_per_token = nll_sum / static_cast<double>(std::max<int64_t>(n_targets, 1));
    scores.push_back(std::move(sc));
  }
  return scores;
}

size_t ExpertCheck::choose(const std::vector<ExpertExampleScore>& scores, size_t router_choice) const {
  if (router_choice >= scores.size()) return router_choice;
  size_t best = router_choice;
  for (size_t e = 0; e < scores.size(); ++e) {
    const ExpertExampleScore& a = scores[e];
    const ExpertExampleScore& b = scores[best];
    // Better: more examples answered; on equal counts a lower loss, by the margin when the
    // incumbent is the router's choice, by any amount between two challengers.
    const double margin = best == router_choice ? impl_->opt.nll_margin : 0.0;
    if (a.answered > b.answered || (a.answered == b.answered && a.nll_per_token < b.nll_per_token - margin)) best = e;
  }
  return best;
}

}  // namespace paw::compiler
