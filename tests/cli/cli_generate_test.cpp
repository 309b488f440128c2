// `paw generate --json`: prompt ids (special tokens parsed, no BOS unless asked) and greedy ids
// equal to the greedy continuation of the independent numpy reference
// (tests/reference/ref_forward.py), with and without --lora, cut at the first end-of-generation
// id (looked up in the GGUF token list here).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "cli/cli_model_util.hpp"

namespace paw {
namespace {

using json = nlohmann::ordered_json;
using test::fixture;

// Expected output: the reference's greedy continuation up to the first stop id.
std::vector<int32_t> cut_at_stop(std::vector<int32_t> ids, const std::vector<int32_t>& stops) {
  const auto it = std::find_first_of(ids.begin(), ids.end(), stops.begin(), stops.end());
  ids.erase(it, ids.end());
  return ids;
}

// Returns the reference's uncut greedy continuation.
std::vector<int32_t> check_generate(const std::string& model, const std::string& prompt, const std::vector<int32_t>& stops,
                                    const std::string& lora = {}, float scale = 1.0f, size_t min_len = 4) {
  SCOPED_TRACE(model + " " + lora);
  const int n = 12;
  std::string args = "generate --json -t 1 -n " + std::to_string(n) + " --model " + model + " --prompt " + test::quote(prompt);
  if (!lora.empty()) args += " --lora " + lora + ":" + std::to_string(scale);
  const json out = test::paw_json(args);
  if (!out.is_object()) return {};
  // Exactly these keys, in this order.
  std::vector<std::string> keys;
  for (auto it = out.begin(); it != out.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"prompt_ids", "ids", "text"}));
  const auto prompt_ids = out["prompt_ids"].get<std::vector<int32_t>>();
  const auto ids = out["ids"].get<std::vector<int32_t>>();

  test::RefArgs ra;
  ra.greedy = n;
  ra.kv_f16 = true;  // paw's default KV cache is F16
  if (!lora.empty()) ra.loras.emplace_back(lora, scale);
  const auto ref = test::reference(model, prompt_ids, ra);
  EXPECT_EQ(ids, cut_at_stop(ref.greedy, stops));
  EXPECT_GE(ids.size(), min_len) << "too short to prove much; pick another seed";
  EXPECT_EQ(out["text"].get<std::string>().empty(), ids.empty());
  return ref.greedy;
}

TEST(CliGenerate, Qwen3GreedyMatchesReferenceWithAndWithoutLora) {
  const std::string m = fixture("model --arch qwen3 --preset tiny --type f32 --seed 105");
  const std::vector<int32_t> stops = {test::gguf_token_id(m, "<|im_end|>"), test::gguf_token_id(m, "<|endoftext|>")};
  check_generate(m, "<|im_start|>user\nhello world<|im_end|>", stops);
  const std::string a = fixture("lora --rank 8 --alpha 16 --type f32 --std 0.1 --seed 102 --model " + m);
  check_generate(m, "<|im_start|>user\nhello world<|im_end|>", stops, a, 0.5f);
}

TEST(CliGenerate, StopsAtTheFirstEndOfGenerationId) {
  // This model's greedy continuation reaches <|im_end|> / <|endoftext|> within 12 tokens.
  const std::string m = fixture("model --arch qwen3 --preset tiny --type f32 --seed 101");
  const std::vector<int32_t> stops = {test::gguf_token_id(m, "<|im_end|>"), test::gguf_token_id(m, "<|endoftext|>")};
  const auto greedy = check_generate(m, "<|im_start|>user\nhello world<|im_end|>", stops, {}, 1.0f, 1);
  EXPECT_NE(std::find_first_of(greedy.begin(), greedy.end(), stops.begin(), stops.end()), greedy.end())
      << "the reference continuation has no stop id: the test proves nothing";
}

TEST(CliGenerate, Gpt2GreedyMatchesReferenceWithLora) {
  const std::string m = fixture("model --arch gpt2 --preset tiny --type f32 --seed 103");
  const std::vector<int32_t> stops = {test::gguf_token_id(m, "<|endoftext|>")};
  check_generate(m, "The quick brown fox", stops);
  const std::string a = fixture("lora --rank 8 --alpha 8 --type f32 --std 0.1 --seed 104 --model " + m);
  check_generate(m, "The quick brown fox", stops, a, 1.0f);
}

TEST(CliGenerate, SpecialTokensParsedUnlessNoSpecialAndNoBos) {
  const std::string m = fixture("model --arch qwen3 --preset tiny --type f32 --seed 101");
  const int32_t im_start = test::gguf_token_id(m, "<|im_start|>");
  auto prompt_ids = [&](const std::string& extra) {
    const json out = test::paw_json("generate --json -t 1 -n 0 --model " + m + " --prompt '<|im_start|>' " + extra);
    return out.is_object() ? out["prompt_ids"].get<std::vector<int32_t>>() : std::vector<int32_t>{};
  };
  EXPECT_EQ(prompt_ids(""), std::vector<int32_t>{im_start});  // one special token, no BOS
  const auto plain = prompt_ids("--no-special");
  EXPECT_GT(plain.size(), 1u);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), im_start), 0);
}

TEST(CliGenerate, SeededSamplingIsReproducible) {
  const std::string m = fixture("model --arch qwen3 --preset tiny --type f32 --seed 101");
  const std::string args = "generate --json -t 1 -n 8 --temp 1.2 --top-k 20 --top-p 0.95 --min-p 0.01 --seed 9 --model " + m +
                           " --prompt 'hello'";
  const json a = test::paw_json(args), b = test::paw_json(args);
  EXPECT_EQ(a["ids"], b["ids"]);
}

TEST(CliGenerate, StreamedTextEqualsJsonText) {
  // Random byte-level tokens split UTF-8 characters: streaming must still print the same text.
  for (const char* seed : {"105", "106", "107"}) {
    const std::string m = fixture(std::string("model --arch qwen3 --preset tiny --type f32 --seed ") + seed);
    const std::string args = "generate -t 1 -n 24 --model " + m + " --prompt 'hello'";
    const json j = test::paw_json(args + " --json");
    std::string text;
    ASSERT_EQ(test::run_command(test::paw_cmd(args), &text), 0);
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(text, j["text"].get<std::string>() + "\n") << seed;
  }
}

TEST(CliGenerate, ErrorsAreOneLineAndNonZero) {
  const std::string m = fixture("model --arch qwen3 --preset tiny --type f32 --seed 101");
  std::string err;
  EXPECT_NE(test::paw_status("generate -t 1 --model " + m + " --prompt hi --temp -1", &err), 0);
  EXPECT_NE(err.find("temperature"), std::string::npos) << err;
  EXPECT_NE(test::paw_status("generate -t 1 --model " + m + " --prompt hi --lora /nonexistent/a.gguf:0.5", &err), 0);
  EXPECT_NE(err.find("/nonexistent/a.gguf"), std::string::npos) << err;
  EXPECT_EQ(err.find("a.gguf:0.5"), std::string::npos) << "the scale must not be part of the path: " << err;
  EXPECT_NE(test::paw_status("generate -t 1 --model " + m + " --prompt ''", &err), 0);
  EXPECT_NE(err.find("prompt"), std::string::npos) << err;
}

}  // namespace
}  // namespace paw
