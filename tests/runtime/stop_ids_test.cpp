// stop_ids(): the EOS / end-of-generation ids, checked against ids looked up directly in the
// GGUF token list (formats layer), including eot/eom keys added to the metadata.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "common/model_test_util.hpp"
#include "paw/formats/gguf.hpp"
#include "paw/model/model.hpp"
#include "paw/runtime/stop_ids.hpp"
#include "paw/tokenizer/tokenizer.hpp"
#include "paw/util/error.hpp"

namespace paw {
namespace {

int32_t index_of(const GGUFFile& f, const std::string& text) {
  const auto tokens = f.get("tokenizer.ggml.tokens").as_string_array();
  const auto it = std::find(tokens.begin(), tokens.end(), text);
  EXPECT_NE(it, tokens.end()) << text;
  return static_cast<int32_t>(it - tokens.begin());
}

TEST(StopIds, Qwen3FixtureEosAndEog) {
  const auto model = Model::load(test::fixture("model --arch qwen3 --preset tiny --type f32 --seed 91"));
  const GGUFFile& f = *model->gguf();
  const Tokenizer tok = Tokenizer::from_gguf(f);
  const int32_t im_end = index_of(f, "<|im_end|>"), eot = index_of(f, "<|endoftext|>");
  EXPECT_EQ(static_cast<int64_t>(f.get_u64("tokenizer.ggml.eos_token_id")), im_end);
  EXPECT_EQ(stop_ids(*model, tok, StopSet::Eos), std::vector<int32_t>{im_end});
  std::vector<int32_t> eog = {im_end, eot};
  std::sort(eog.begin(), eog.end());
  EXPECT_EQ(stop_ids(*model, tok, StopSet::Eog), eog);
}

TEST(StopIds, Gpt2FixtureHasOneEndToken) {
  const auto model = Model::load(test::fixture("model --arch gpt2 --preset tiny --type f32 --seed 92"));
  const Tokenizer tok = Tokenizer::from_gguf(*model->gguf());
  const std::vector<int32_t> want = {index_of(*model->gguf(), "<|endoftext|>")};
  EXPECT_EQ(stop_ids(*model, tok, StopSet::Eos), want);
  EXPECT_EQ(stop_ids(*model, tok, StopSet::Eog), want);
}

// The fixture's metadata plus extra keys, reparsed (no tensors needed for the tokenizer).
struct Reparsed {
  std::vector<uint8_t> bytes;
  std::unique_ptr<GGUFFile> file;
};
Reparsed with_keys(const GGUFFile& src, const std::vector<std::pair<std::string, GGUFValue>>& extra) {
  GGUFWriter w;
  for (const auto& [k, v] : src.metadata()) w.set(k, v);
  for (const auto& [k, v] : extra) w.set(k, v);
  Reparsed r;
  r.bytes = w.to_bytes();
  r.file = std::make_unique<GGUFFile>(GGUFFile::parse(r.bytes, "reparsed.gguf"));
  return r;
}

TEST(StopIds, EotAndEomKeysAreEndOfGeneration) {
  const auto model = Model::load(test::fixture("model --arch qwen3 --preset tiny --type f32 --seed 91"));
  const GGUFFile& f = *model->gguf();
  const int32_t im_end = index_of(f, "<|im_end|>"), eot = index_of(f, "<|endoftext|>");
  const int32_t im_start = index_of(f, "<|im_start|>"), think = index_of(f, "</think>");
  auto r = with_keys(f, {{"tokenizer.ggml.eot_token_id", GGUFValue::u32(static_cast<uint32_t>(im_start))},
                         {"tokenizer.ggml.eom_token_id", GGUFValue::u32(static_cast<uint32_t>(think))}});
  const Tokenizer tok = Tokenizer::from_gguf(*r.file);
  std::vector<int32_t> eog = {im_end, eot, im_start, think};
  std::sort(eog.begin(), eog.end());
  EXPECT_EQ(stop_ids(tok, r.file.get(), StopSet::Eog), eog);
  EXPECT_EQ(stop_ids(tok, r.file.get(), StopSet::Eos), std::vector<int32_t>{im_end});

  auto bad = with_keys(f, {{"tokenizer.ggml.eom_token_id", GGUFValue::u32(9999999)}});
  const Tokenizer tok2 = Tokenizer::from_gguf(*bad.file);
  try {
    stop_ids(tok2, bad.file.get(), StopSet::Eog);
    ADD_FAILURE() << "an out-of-range eom id was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("eom_token_id"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace paw
