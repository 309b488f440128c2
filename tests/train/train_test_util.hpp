#pragma once
// Helpers for the training-layer tests: fixture models from paw-fixture (an independent GGUF
// writer), logits from the native runtime (paw::Session, F32 KV cache) and from a TorchModel,
// and comparisons.
#include <gtest/gtest.h>
#include <torch/types.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "paw/adapter/lora.hpp"
#include "paw/ops/kernels.hpp"
#include "paw/runtime/session.hpp"
#include "paw/train/model.hpp"
#include "common/test_env.hpp"

namespace paw::test {

// Runs `paw-fixture <args> -o <file>` once per process and argument string.
inline std::string train_fixture(const std::string& args) {
  static std::map<std::string, std::string> cache;
  static const std::string dir = scratch_dir("train-fixtures");
  if (auto it = cache.find(args); it != cache.end()) return it->second;
  const std::string out = dir + "/f" + std::to_string(cache.size()) + ".gguf";
  const std::string cmd = tool_path("paw-fixture") + " " + args + " -o " + out;
  const int rc = run_command(cmd);
  if (rc != 0) {
    ADD_FAILURE() << "fixture command failed (" << rc << "): " << cmd << "\n(build the paw-fixture target first)";
    return {};
  }
  cache.emplace(args, out);
  return out;
}

// Native logits [T, n_vocab] of `tokens` evaluated from position 0 (F32 KV cache).
// kt: kernel table (null = the best for this CPU; &scalar_kernels() = exact dequantized weights).
inline std::vector<float> native_logits(const std::string& model_path, const std::vector<int32_t>& tokens,
                                        std::shared_ptr<const LoraAdapter> adapter = nullptr,
                                        const KernelTable* kt = nullptr) {
  SessionOptions so;
  so.kv_type = DType::F32;
  so.n_ctx = 0;  // min(context_length, 2048)
  so.kernels = kt;
  Session s(Model::load_gguf(model_path), so);
  if (adapter) s.attach(adapter, 1.0f);
  EvalOptions eo;
  eo.all_logits = true;
  s.prefill(tokens, eo);
  const auto l = s.all_logits();
  return {l.begin(), l.end()};
}

// TorchModel logits [T, n_vocab] for one sequence, as floats.
inline std::vector<float> torch_logits(train::TorchModelImpl& m, const std::vector<int32_t>& tokens,
                                       const train::LoraSet* lora = nullptr) {
  torch::NoGradGuard ng;
  std::vector<int64_t> t(tokens.begin(), tokens.end());
  const torch::Tensor in = torch::tensor(t, torch::kLong).view({1, static_cast<int64_t>(t.size())});
  const torch::Tensor out = m.forward(in, lora).to(torch::kFloat).contiguous();
  return {out.data_ptr<float>(), out.data_ptr<float>() + out.numel()};
}

struct Diff {
  double max_abs = 0, scale = 0, rms_rel = 0;
};

inline Diff compare(const std::vector<float>& got, const std::vector<float>& ref) {
  Diff d;
  EXPECT_EQ(got.size(), ref.size());
  double dsq = 0, rsq = 0;
  for (size_t i = 0; i < std::min(got.size(), ref.size()); ++i) {
    const double e = std::abs(static_cast<double>(got[i]) - ref[i]);
    d.max_abs = std::max(d.max_abs, e);
    d.scale = std::max(d.scale, std::abs(static_cast<double>(ref[i])));
    dsq += e * e;
    rsq += static_cast<double>(ref[i]) * ref[i];
  }
  d.rms_rel = rsq > 0 ? std::sqrt(dsq / rsq) : 0;
  if (std::getenv("PAW_TEST_VERBOSE"))
    std::printf("  compare: max |diff| %.3g, logit scale %.3g, rms rel %.3g\n", d.max_abs, d.scale, d.rms_rel);
  return d;
}

// Deterministic tokens in [0, n_vocab).
inline std::vector<int32_t> some_tokens(size_t n, int64_t n_vocab, uint64_t seed) {
  std::vector<int32_t> t(n);
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& x : t) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = static_cast<int32_t>((s >> 33) % static_cast<uint64_t>(n_vocab));
  }
  return t;
}

}  // namespace paw::test
