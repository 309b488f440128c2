// Curriculum runs: the stages of a recipe one after the other (see Recipe::stages). Each stage is
// an ordinary run in its own checkpoint directory, so stopping and resuming works per stage; a
// stage that already finished resumes at its last step and only re-exports its weights, which
// the next stage starts from.
#include <cstdio>

#include "train/run_single.hpp"

namespace paw::train {

RunResult run_recipe(const Recipe& r, const RunOptions& opt) {
  if (r.stages.empty()) return run_single_recipe(r, opt);
  // The shared tokenizer comes from the whole recipe's data, not from the first stage's
  // (a copy stage's records would make a poor vocabulary for the rest).
  prepare_tokenizer(r, opt.progress);

  RunResult all;
  int64_t offset = 0;  // global step at which the current stage begins
  bool started = false;
  for (const Recipe& st : r.stages) {
    if (opt.max_steps >= 0 && offset >= opt.max_steps) break;
    RunOptions so = opt;
    if (opt.max_steps >= 0) so.max_steps = opt.max_steps - offset;
    if (opt.progress)
      std::fprintf(stderr, "[train %s] stage '%s': global steps %lld..%lld\n", r.name.c_str(), st.stage_name.c_str(),
                   static_cast<long long>(offset), static_cast<long long>(offset + st.steps));
    const RunResult res = run_single_recipe(st, so);
    if (!started && res.last_step > res.first_step) {
      all.first_step = offset + res.first_step;
      started = true;
    }
    all.last_step = offset + res.last_step;
    all.losses.insert(all.losses.end(), res.losses.begin(), res.losses.end());
    all.eval_losses.insert(all.eval_losses.end(), res.eval_losses.begin(), res.eval_losses.end());
    all.eval_exact.insert(all.eval_exact.end(), res.eval_exact.begin(), res.eval_exact.end());
    if (res.last_step > res.first_step) all.tokens_per_s = res.tokens_per_s;
    all.n_params = res.n_params;
    all.n_model_params = res.n_model_params;
    if (!res.checkpoint.empty()) all.checkpoint = res.checkpoint;
    all.exported = res.exported;
    if (res.last_step < st.steps) break;  // stopped inside this stage (--max-steps)
    offset += st.steps;
  }
  if (!started) all.first_step = all.last_step;
  return all;
}

}  // namespace paw::train
