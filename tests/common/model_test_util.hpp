#pragma once
// Helpers shared by tests/model and tests/runtime: fixture models written by paw-fixture,
// the independent numpy reference (tests/reference/ref_forward.py), and comparisons with
// tolerances derived from the weight type.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "paw/ops/kernels.hpp"
#include "paw/tensor/dtype.hpp"
#include "common/test_env.hpp"

namespace paw::test {

// Runs paw-fixture with `args` (without -o) once per test process; returns the file path.
inline std::string fixture(const std::string& args) {
  static std::map<std::string, std::string> cache;
  static const std::string dir = scratch_dir("model-fixtures");
  if (auto it = cache.find(args); it != cache.end()) return it->second;
  std::string out = dir;
  out += "/f";
  out += std::to_string(cache.size());
  out += ".gguf";
  const std::string cmd = tool_path("paw-fixture") + " " + args + " -o " + out;
  const int rc = run_command(cmd);
  if (rc != 0) {
    ADD_FAILURE() << "fixture command failed (" << rc << "): " << cmd
                  << "\n(build the paw-fixture target before running the tests)";
    return {};
  }
  cache.emplace(args, out);
  return out;
}

struct RefOutput {
  std::vector<std::vector<double>> logits;                  // [T][n_vocab]
  std::map<int, std::vector<std::vector<double>>> hidden;   // layer (as requested) -> [T][n_embd]
  std::vector<int32_t> greedy;
};

struct RefArgs {
  std::vector<std::pair<std::string, float>> loras;  // path, user scale
  bool merge = false;
  bool kv_f16 = false;
  std::vector<int> hidden_layers;
  int greedy = 0;
  std::string prefix_rows;  // raw f32 file of [K, n_embd] input rows before the tokens
};

inline std::string join(const std::vector<int32_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(v[i]);
  }
  return s;
}

inline RefOutput reference(const std::string& model, const std::vector<int32_t>& tokens, const RefArgs& a = {}) {
  std::string cmd = python() + " " + source_dir() + "/tests/reference/ref_forward.py --model " + model +
                    " --tokens " + join(tokens);
  for (const auto& [path, scale] : a.loras) cmd += " --lora " + path + ":" + std::to_string(scale);
  if (a.merge) cmd += " --merge";
  if (a.kv_f16) cmd += " --kv-f16";
  if (!a.hidden_layers.empty()) {
    std::vector<int32_t> hl(a.hidden_layers.begin(), a.hidden_layers.end());
    cmd += " --hidden-layers " + join(hl);
  }
  if (a.greedy > 0) cmd += " --greedy " + std::to_string(a.greedy);
  if (!a.prefix_rows.empty()) cmd += " --prefix-rows " + a.prefix_rows;
  std::string out;
  const int rc = run_command(cmd, &out);
  RefOutput r;
  if (rc != 0) {
    ADD_FAILURE() << "reference failed (" << rc << "): " << cmd;
    return r;
  }
  const auto j = nlohmann::json::parse(out);
  r.logits = j.at("logits").get<std::vector<std::vector<double>>>();
  if (j.contains("hidden"))
    for (auto& [k, v] : j.at("hidden").items()) r.hidden[std::stoi(k)] = v.get<std::vector<std::vector<double>>>();
  if (j.contains("greedy")) r.greedy = j.at("greedy").get<std::vector<int32_t>>();
  return r;
}

// The kernel tables a numeric test runs: the scalar reference (always) and the table
// kernels() picked for this CPU when that is a different one.
inline std::vector<const KernelTable*> tables_to_test() {
  std::vector<const KernelTable*> t = {&scalar_kernels()};
  if (&kernels() != &scalar_kernels()) t.push_back(&kernels());
  return t;
}

// Allowed difference from the float64 reference, relative to the largest |reference logit|
// (max_rel, for every logit) and to the reference's RMS (rms_rel, over all logits).
struct Tolerance {
  double max_rel;
  double rms_rel;
};

// The scalar table multiplies by exactly dequantized weights in F32, so it matches the
// reference to ~1e-5 whatever the weight type. SIMD tables round activations as llama.cpp
// does (8-bit blocks against quantized weights, possibly F16 against F16/BF16 weights); in
// 2-3 layer random models with std 0.25 weights that costs ~2-5% of the logit scale
// (measured: rms 2.8-4.1% for Qwen3 tiny, up to 4.5% for GPT-2 tiny at std 0.15).
inline Tolerance logit_tolerance(DType type, const KernelTable& kt = kernels()) {
  if (&kt == &scalar_kernels() || type == DType::F32) return {1e-4, 1e-4};
  if (type == DType::F16) return {2e-2, 1e-2};
  if (type == DType::BF16) return {4e-2, 2e-2};
  return {0.12, 0.06};
}

// Compares paw's [T, n_vocab] logits with the reference; also the argmax of every position
// where the reference's top two differ by more than twice the allowed error.
inline void expect_logits_near(const float* got, const std::vector<std::vector<double>>& ref, Tolerance tl,
                               const std::string& what) {
  double scale = 1.0, ref_sq = 0.0, diff_sq = 0.0;
  size_t count = 0;
  for (const auto& row : ref)
    for (double v : row) scale = std::max(scale, std::abs(v));
  const double tol = tl.max_rel * scale;
  double worst = 0.0;
  size_t worst_at = 0;
  const size_t n_vocab = ref.empty() ? 0 : ref[0].size();
  for (size_t t = 0; t < ref.size(); ++t) {
    size_t best = 0, second = 1;
    size_t got_best = 0;
    for (size_t i = 0; i < n_vocab; ++i) {
      const double d = std::abs(got[t * n_vocab + i] - ref[t][i]);
      diff_sq += d * d;
      ref_sq += ref[t][i] * ref[t][i];
      ++count;
      if (d > worst) {
        worst = d;
        worst_at = t * n_vocab + i;
      }
      if (got[t * n_vocab + i] > got[t * n_vocab + got_best]) got_best = i;
    }
    for (size_t i = 0; i < n_vocab; ++i)
      if (ref[t][i] > ref[t][best]) best = i;
    second = best == 0 ? 1 : 0;
    for (size_t i = 0; i < n_vocab; ++i)
      if (i != best && ref[t][i] > ref[t][second]) second = i;
    if (ref[t][best] - ref[t][second] > 2 * tol) {
      EXPECT_EQ(got_best, best) << what << ": argmax differs at position " << t;
    }
  }
  EXPECT_LE(worst, tol) << what << ": max |paw - reference| = " << worst << " at flat index " << worst_at
                        << " (logit scale " << scale << ", tolerance " << tol << ")";
  const double rms_rel = count ? std::sqrt(diff_sq / std::max(ref_sq, 1e-300)) : 0.0;
  EXPECT_LE(rms_rel, tl.rms_rel) << what << ": relative RMS error " << rms_rel;
}

inline void expect_rows_near(const float* got, const std::vector<double>& ref, double rel_tol, const std::string& what) {
  double scale = 1.0;
  for (double v : ref) scale = std::max(scale, std::abs(v));
  double worst = 0.0;
  for (size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, std::abs(got[i] - ref[i]));
  EXPECT_LE(worst, rel_tol * scale) << what << ": max |paw - reference| = " << worst << " (scale " << scale << ")";
}

// A token sequence of length n drawn deterministically from [0, n_vocab).
inline std::vector<int32_t> sample_tokens(size_t n, int32_t n_vocab, uint32_t seed) {
  std::vector<int32_t> t(n);
  uint64_t s = seed * 6364136223846793005ull + 1442695040888963407ull;
  for (auto& x : t) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = static_cast<int32_t>((s >> 33) % static_cast<uint64_t>(n_vocab));
  }
  return t;
}

}  // namespace paw::test
