// The shared optimizer-step loop (see train/step_loop.hpp).
#include "train/step_loop.hpp"

#include <torch/nn/utils/clip_grad.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>

#include "train/run_util.hpp"

namespace paw::train {

void run_steps(const Recipe& r, const RunOptions& opt, int64_t end, const StepHooks& h, std::ostream& log,
               RunResult& res) {
  int64_t& step = *h.step;
  const auto t_start = RunClock::now();
  double train_s = 0, window_s = 0;
  int64_t run_tokens = 0, window_tokens = 0;
  const double clip = r.optim.grad_clip > 0 ? r.optim.grad_clip : std::numeric_limits<double>::infinity();
  h.trainable->train();
  while (step < end) {
    const auto t_step = RunClock::now();
    const double lr = lr_at(r.optim, step, r.steps);
    h.set_lr(lr);
    h.optim->zero_grad();

    // The loss is the mean NLL over every target token of the step, however the tokens fall
    // into micro-batches: each micro-batch's sum is divided by the step's total.
    int64_t n_targets = 0, n_tokens = 0;
    for (int64_t k = 0; k < r.batch.grad_accum; ++k) {
      int64_t tok = 0, tgt = 0;
      h.next_micro_batch(k, tok, tgt);
      n_tokens += tok;
      n_targets += tgt;
    }
    const double data_s = seconds_since(t_step);
    double loss_value = 0;
    for (int64_t k = 0; k < r.batch.grad_accum; ++k) {
      const torch::Tensor loss = h.micro_batch_loss_sum(k) / static_cast<double>(std::max<int64_t>(n_targets, 1));
      loss.backward();
      loss_value += loss.item<double>();
    }
    const double grad_norm = torch::nn::utils::clip_grad_norm_(h.trainable->parameters(), clip);
    h.optim->step();
    ++step;
    *h.tokens_seen += n_tokens;

    const double dt = seconds_since(t_step);
    train_s += dt;
    window_s += dt;
    run_tokens += n_tokens;
    window_tokens += n_tokens;
    res.losses.push_back(loss_value);
    nlohmann::json line = {{"step", step},
                           {"loss", loss_value},
                           {"lr", lr},
                           {"grad_norm", grad_norm},
                           {"tokens", *h.tokens_seen},
                           {h.cursor_key, h.cursor()},
                           {"targets", n_targets},
                           {"step_s", dt},
                           {"data_s", data_s},
                           {"tok_per_s", dt > 0 ? static_cast<double>(n_tokens) / dt : 0.0}};
    log << line.dump() << "\n" << std::flush;

    if (opt.progress && (step % r.log_every == 0 || step == end)) {
      const double done = static_cast<double>(step - res.first_step);
      const double eta = seconds_since(t_start) / done * static_cast<double>(end - step);
      std::fprintf(stderr, "[train %s] step %lld/%lld loss %.4f lr %.2e |g| %.3f %.0f tok/s ETA %s\n", r.name.c_str(),
                   static_cast<long long>(step), static_cast<long long>(end), loss_value, lr, grad_norm,
                   window_s > 0 ? static_cast<double>(window_tokens) / window_s : 0.0, fmt_duration(eta).c_str());
      window_s = 0;
      window_tokens = 0;
    }
    if (r.eval.every > 0 && (step % r.eval.every == 0 || step == end)) {
      h.trainable->eval();
      const EvalScore es = h.evaluate();
      h.trainable->train();
      res.eval_losses.push_back(es.loss);
      res.eval_exact.push_back(es.exact);
      log << nlohmann::json{{"step", step}, {"eval_loss", es.loss}, {"eval_exact", es.exact}}.dump() << "\n"
          << std::flush;
      if (opt.progress)
        std::fprintf(stderr, "[train %s] step %lld eval loss %.4f, greedy exact %.1f%%\n", r.name.c_str(),
                     static_cast<long long>(step), es.loss, 100.0 * es.exact);
    }
    if (step % r.checkpoint_every == 0 || step == end) {
      h.save_checkpoint();
      res.checkpoint = h.checkpoint_path;
    }
  }
  res.last_step = step;
  res.tokens_per_s = train_s > 0 ? static_cast<double>(run_tokens) / train_s : 0.0;
}

}  // namespace paw::train
