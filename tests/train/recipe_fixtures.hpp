#pragma once
// Shared by the trainer tests: a tiny recipe that trains in seconds, quiet run options, and the
// F32 tensors of an exported GGUF (for bit-exact comparisons of two runs).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "paw/formats/gguf.hpp"
#include "paw/train/recipe.hpp"

namespace paw::test {

// A 2-layer, 32-wide Qwen3 on three families; its tokenizer (300 tokens) lives beside `dir` and
// is trained by the first run that needs it.
inline nlohmann::json tiny_recipe(const std::string& dir, int steps) {
  return nlohmann::json{
      {"name", "tiny"},
      {"seed", 3},
      {"threads", 1},
      {"steps", steps},
      {"log_every", 1000},
      {"checkpoint_every", 1000},
      {"checkpoint_dir", dir + "/ckpt"},
      {"data",
       {{"source", "generator"},
        {"seed", 7},
        {"n_train", 200},
        {"families", {"yes_no", "sentiment", "case_format"}},
        {"heldout_families", nlohmann::json::array()},
        {"n_heldout_family", 0},
        {"n_heldout_params", 16},
        {"max_examples", 3},
        {"max_spec_chars", 500}}},
      {"tokenizer", {{"path", dir + "/../tok.gguf"}, {"train_if_missing", {{"vocab_size", 300}, {"n_records", 100}}}}},
      {"model",
       {{"n_embd", 32}, {"n_layer", 2}, {"n_head", 2}, {"n_head_kv", 1}, {"head_dim", 16}, {"n_ff", 64}, {"n_ctx", 512}}},
      {"optim", {{"lr", 1e-2}, {"min_lr", 1e-3}, {"warmup_steps", 3}, {"weight_decay", 0.01}}},
      {"batch", {{"batch_size", 2}, {"seq_len", 384}, {"grad_accum", 2}}},
      {"export", {{"path", dir + "/model.gguf"}, {"type", "f32"}}},
  };
}

inline train::RunOptions quiet(int64_t max_steps = -1, bool resume = false) {
  train::RunOptions o;
  o.progress = false;
  o.max_steps = max_steps;
  o.resume = resume;
  return o;
}

// Every tensor of an F32 export, in file order.
inline std::vector<std::vector<float>> tensors_of(const std::string& path) {
  const GGUFFile f = GGUFFile::open(path);
  std::vector<std::vector<float>> out;
  for (const auto& t : f.tensors()) {
    EXPECT_EQ(t.type, DType::F32) << t.name;
    const auto* p = reinterpret_cast<const float*>(t.data);
    out.emplace_back(p, p + t.n_elements());
  }
  return out;
}

}  // namespace paw::test
