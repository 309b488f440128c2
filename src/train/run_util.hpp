#pragma once
// Inside the train layer: small helpers every run shares (device choice, durations, paths).
#include <torch/cuda.h>
#include <torch/types.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

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

inline void make_parent(const std::string& path) {
  const std::filesystem::path p = std::filesystem::path(path).parent_path();
  if (!p.empty()) std::filesystem::create_directories(p);
}

}  // namespace paw::train
