// `paw logits --model M [--lora FILE[:SCALE]]... --prompt TEXT [--top K] [--json] [--no-special]`
// Logits of the last prompt position. --json: {"prompt_ids": [...], "logits": [n_vocab floats]}
// or, with --top K, {"prompt_ids": [...], "top": [[id, logit], ...]} (largest first, ties by
// lower id). Without --json: one "id<TAB>logit" line per token (all, or the top K).
#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/model_args.hpp"
#include "paw/util/error.hpp"

namespace paw::cli {
namespace {

struct LogitsCmdOptions {
  ModelArgs model;
  std::string prompt;
  int64_t top = 0;          // 0 = every logit
  bool json = false;
  bool no_special = false;
};

void run_logits(const LogitsCmdOptions& o) {
  if (o.top < 0) throw Error("--top must be >= 0", "paw logits");
  const LoadedModel m = load_model(o.model);
  const std::vector<int32_t> prompt = tokenize_prompt(m, o.prompt, o.no_special);
  // The cache only needs the prompt (unless --ctx asks for more, e.g. to check a limit).
  Session s = make_session(m, session_options(o.model, o.model.n_ctx > 0 ? 0 : static_cast<int64_t>(prompt.size())));
  s.prefill(prompt);
  const auto logits = s.logits();  // [n_vocab]

  std::vector<int32_t> order;
  if (o.top > 0) {
    order.resize(logits.size());
    std::iota(order.begin(), order.end(), 0);
    const auto k = static_cast<size_t>(std::min<int64_t>(o.top, static_cast<int64_t>(order.size())));
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(), [&](int32_t a, int32_t b) {
      return logits[a] != logits[b] ? logits[a] > logits[b] : a < b;
    });
    order.resize(k);
  }

  if (o.json) {
    nlohmann::ordered_json j;
    j["prompt_ids"] = prompt;
    if (o.top > 0) {
      auto top = nlohmann::ordered_json::array();
      for (int32_t id : order) top.push_back({id, logits[id]});
      j["top"] = std::move(top);
    } else {
      j["logits"] = std::vector<float>(logits.begin(), logits.end());
    }
    std::puts(j.dump().c_str());
    return;
  }
  if (o.top > 0) {
    std::printf("%8s  %s\n", "id", "logit");
    for (int32_t id : order) std::printf("%8d  %.9g\n", id, static_cast<double>(logits[id]));
  } else {
    for (size_t i = 0; i < logits.size(); ++i) std::printf("%zu\t%.9g\n", i, static_cast<double>(logits[i]));
  }
}

}  // namespace

void add_logits_command(CLI::App& app) {
  auto o = std::make_shared<LogitsCmdOptions>();
  auto* cmd = app.add_subcommand("logits", "Print the logits of the last prompt position");
  add_model_options(cmd, o->model);
  cmd->add_option("--prompt,-p", o->prompt, "Prompt text")->required();
  cmd->add_option("--top", o->top, "Only the K largest logits, as [id, logit] pairs");
  cmd->add_flag("--json", o->json, "Print JSON: {\"logits\": [...]} or, with --top, {\"top\": [[id, logit], ...]}");
  cmd->add_flag("--no-special", o->no_special, "Tokenize special-token text in the prompt as plain text");
  cmd->callback([o] { run_logits(*o); });
}

}  // namespace paw::cli
