#pragma once
// Inside the train layer: small helpers every run shares (device choice, durations, paths).
#include <torch/cuda.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "paw/data/generator.hpp"
#include "paw/ops/cpu_features.hpp"
#include "paw/ops/kernels.hpp"
#include "paw/train/recipe.hpp"
#include "paw/util/error.hpp"

namespace paw::train {

using RunClock = std::chrono::steady_clock;

inline double seconds_since(RunClock::time_point t) {
  return std::chrono::duration<double>(RunClock::now() - t).count();
}

// "1h05m", "3m20s", "42s"; "?" for a negative or non-finite value.
inline std::string fmt_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const auto t = static_cast<int64_t>(s + 0.5);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(t / 3600), static_cast<long long>(t / 60 % 60));
  else if (t >= 60)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(t / 60), static_cast<long long>(t % 60));
  else
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(t));
  return buf;
}

// "cpu" or "cuda" (an error naming --device when CUDA is not available).
inline torch::Device pick_device(const std::string& d) {
  if (d == "cpu") return torch::Device(torch::kCPU);
  if (d == "cuda") {
    if (!torch::cuda::is_available())
      throw Error("CUDA was requested but is not available", "--device cuda",
                  "this libtorch has no CUDA support or no GPU is visible; use --device cpu");
    return torch::Device(torch::kCUDA, 0);
  }
  throw Error("unknown device '" + d + "'", "--device", "use cpu or cuda");
}

// Host int64 values [rows, cols] as a tensor on `dev` (a copy).
inline torch::Tensor to_device(const std::vector<int64_t>& v, int64_t rows, int64_t cols, torch::Device dev) {
  return torch::from_blob(const_cast<int64_t*>(v.data()), {rows, cols}, torch::kLong).to(dev, /*non_blocking=*/false,
                                                                                        /*copy=*/true);
}

// Summed token NLL of logits [B, T, V] against targets [B, T] (-1 = no loss).
inline torch::Tensor nll_sum(const torch::Tensor& logits, const torch::Tensor& targets) {
  return at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}), targets.reshape({-1}), {}, at::Reduction::Sum,
                                /*ignore_index=*/-1);
}

// Rows with at least one target whose every target is the argmax at its position: under
// teacher forcing, the rows greedy decoding answers exactly (ties aside).
inline int64_t exact_rows(const torch::Tensor& logits, const torch::Tensor& targets) {
  const torch::Tensor scored = targets.ne(-1);
  const torch::Tensor right = logits.argmax(-1).eq(targets).logical_or(scored.logical_not());
  return right.all(1).logical_and(scored.any(1)).sum().item<int64_t>();
}

// torch's seed and intra-op threads for a run. Thread default, measured on a 2-core AVX-512
// machine: bf16 products run in libtorch's OpenMP pool (oneDNN), so one thread per physical
// core (2.9k vs 1.6k tok/s for L); float products go to the BLAS, which threads itself, and a
// second torch thread on top made steps 2x slower, so f32 keeps libtorch's default.
inline void seed_and_threads(const Recipe& r, torch::Device dev) {
  torch::manual_seed(r.seed);
  if (r.threads > 0)
    torch::set_num_threads(r.threads);
  else if (r.precision == "bf16" && dev.is_cpu())
    torch::set_num_threads(paw::default_thread_count());
}

// A bf16 run on a CPU without AVX512_BF16: libtorch emulates the bf16 products there, several
// times slower than float (a 1-thread finetune test took over 15 min in bf16 and 2 in float on an
// AVX2-only machine), so say so once at the start.
inline void note_emulated_bf16(const Recipe& r, torch::Device dev) {
  if (r.precision == "bf16" && dev.is_cpu() && !cpu::has_avx512_bf16())
    std::fprintf(stderr,
                 "[train %s] note: precision bf16 on a CPU without AVX512_BF16 is emulated, several times slower "
                 "than f32 here; set \"precision\": \"f32\" in the recipe to train faster on this machine\n",
                 r.name.c_str());
}

// The generator split a recipe evaluates on (eval.split: train, heldout_family, else heldout_params).
inline data::Split eval_split(const Recipe& r) {
  return r.eval.split == "train"            ? data::Split::Train
         : r.eval.split == "heldout_family" ? data::Split::HeldoutFamily
                                            : data::Split::HeldoutParams;
}

inline void make_parent(const std::string& path) {
  const std::filesystem::path p = std::filesystem::path(path).parent_path();
  if (!p.empty()) std::filesystem::create_directories(p);
}

}  // namespace paw::train
