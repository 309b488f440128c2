// paw-fixture's output: llama.cpp metadata keys and a synthetic vocabulary that the project's
// tokenizer loads and round-trips.
#include <gtest/gtest.h>

#include <string>

#include "common/model_test_util.hpp"
#include "paw/formats/gguf.hpp"
#include "paw/tokenizer/tokenizer.hpp"

namespace paw {
namespace {

TEST(Fixture, Qwen3MetadataKeysAsLlamaCppWritesThem) {
  const GGUFFile f = GGUFFile::open(test::fixture("model --arch qwen3 --preset tiny-hd --type q8_0 --seed 1"));
  EXPECT_EQ(f.get_string("general.architecture"), "qwen3");
  EXPECT_EQ(f.get_u64("qwen3.block_count"), 2u);
  EXPECT_EQ(f.get_u64("qwen3.embedding_length"), 256u);
  EXPECT_EQ(f.get_u64("qwen3.attention.key_length"), 128u);
  EXPECT_EQ(f.get_u64("qwen3.attention.head_count_kv"), 2u);
  EXPECT_DOUBLE_EQ(f.get_f64("qwen3.rope.freq_base"), 1e6);
  EXPECT_EQ(f.get_u64("general.file_type"), 7u);  // LLAMA_FTYPE_MOSTLY_Q8_0
  EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(f.get_string("tokenizer.ggml.pre"), "qwen2");
  // attn_q is 256 -> 4 * 128: ne = [n_embd, n_head * head_dim]
  const GGUFTensorInfo* q = f.find_tensor("blk.1.attn_q.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->ne, (std::vector<int64_t>{256, 512}));
  EXPECT_EQ(q->type, DType::Q8_0);
  EXPECT_EQ(f.find_tensor("blk.1.attn_q_norm.weight")->type, DType::F32);  // norms stay F32
  EXPECT_EQ(f.find_tensor("output.weight"), nullptr);                      // tied by default
}

TEST(Fixture, SyntheticVocabularyTokenizesAndRoundTrips) {
  for (const char* arch : {"qwen3", "gpt2"}) {
    const GGUFFile f = GGUFFile::open(test::fixture(std::string("model --preset tiny --type f32 --seed 1 --arch ") + arch));
    const Tokenizer tok = Tokenizer::from_gguf(f);
    EXPECT_EQ(tok.n_vocab(), static_cast<int32_t>(f.find_tensor("token_embd.weight")->ne[1])) << arch;
    const std::string text = "the quick brown fox, hello world! \xC3\xA9t\xC3\xA9 42";
    const auto ids = tok.encode(text);
    EXPECT_LT(ids.size(), text.size()) << arch << ": merges should shorten the text";
    EXPECT_EQ(tok.decode(ids), text) << arch;
    ASSERT_TRUE(tok.eos_id().has_value());
    const std::string eos = arch == std::string("qwen3") ? "<|im_end|>" : "<|endoftext|>";
    EXPECT_EQ(tok.encode(eos), std::vector<int32_t>{*tok.eos_id()}) << arch;
  }
}

}  // namespace
}  // namespace paw
