// Token-for-token comparison with the real Hugging Face tokenizer (tokenizers.js) on the real
// Qwen3 and GPT-2 files, over tests/tokenizer/corpus.jsonl; plus decode round trips.
#include <gtest/gtest.h>

#include <iostream>

#include "paw/tokenizer/tokenizer.hpp"
#include "tok_test_util.hpp"

namespace paw::test {
namespace {

// Compares every corpus line, reports the pass rate, fails on any mismatch.
void compare_corpus(const char* label, const Tokenizer& tok, const std::vector<Ids>& expected, bool parse_special,
                    const std::vector<bool>* skip = nullptr) {
  const auto& lines = corpus();
  ASSERT_EQ(expected.size(), lines.size()) << label;
  size_t pass = 0, total = 0, shown = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (skip && (*skip)[i]) continue;
    ++total;
    EncodeOptions opt;
    opt.parse_special = parse_special;
    const Ids got = tok.encode(lines[i], opt);
    if (got == expected[i]) {
      ++pass;
    } else if (shown++ < 8) {
      ADD_FAILURE() << label << " line " << i + 1 << " " << show(lines[i]) << "\n  paw: " << ids_str(got)
                    << "\n  ref: " << ids_str(expected[i]);
    }
  }
  std::cout << "[tokenizer] " << label << ": " << pass << "/" << total << " corpus lines identical\n";
  EXPECT_EQ(pass, total) << label;
}

TEST(TokenizerReference, CorpusIsLargeAndValid) {
  EXPECT_GE(corpus().size(), 150u);
  EXPECT_EQ(reference().nfc.size(), corpus().size());
}

TEST(TokenizerReference, Qwen3SpecialParsed) {
  compare_corpus("qwen3 tokenizer.json, special parsed", qwen3(), reference().qwen3_special, true);
}

TEST(TokenizerReference, Qwen3SpecialAsText) {
  compare_corpus("qwen3 tokenizer.json, special as text", qwen3(), reference().qwen3_plain, false);
}

TEST(TokenizerReference, Gpt2SpecialParsed) {
  compare_corpus("gpt2 encoder.json+vocab.bpe, special parsed", gpt2(), reference().gpt2_special, true);
}

TEST(TokenizerReference, Gpt2SpecialAsText) {
  compare_corpus("gpt2 encoder.json+vocab.bpe, special as text", gpt2(), reference().gpt2_plain, false);
}

TEST(TokenizerReference, Gpt2FromTokenizerJson) {
  // The same GPT-2 vocabulary through the tokenizer.json loader (file built by the node script).
  const Tokenizer t = Tokenizer::from_hf_json(reference().dir + "/gpt2_tokenizer.json",
                                              reference().dir + "/gpt2_tokenizer_config.json");
  EXPECT_EQ(t.bos_id(), 50256);
  EXPECT_EQ(t.eos_id(), 50256);
  compare_corpus("gpt2 tokenizer.json, special parsed", t, reference().gpt2_special, true);
  compare_corpus("gpt2 tokenizer.json, special as text", t, reference().gpt2_plain, false);
}

TEST(TokenizerReference, Gpt2AgreesWithGpt3Encoder) {
  // A second, independent GPT-2 implementation (OpenAI's algorithm in JavaScript). It knows no
  // special tokens and its \s is JavaScript's (U+FEFF yes, U+0085 no), so lines holding
  // those two characters are left out.
  std::vector<bool> skip;
  for (const std::string& s : corpus()) {
    skip.push_back(s.find("\xEF\xBB\xBF") != std::string::npos || s.find("\xC2\x85") != std::string::npos);
  }
  compare_corpus("gpt2 vs gpt-3-encoder", gpt2(), reference().gpt3_encoder, false, &skip);
}

TEST(TokenizerReference, Qwen3DecodeRoundTrip) {
  const auto& lines = corpus();
  ASSERT_EQ(reference().nfc.size(), lines.size());
  ASSERT_EQ(reference().qwen3_plain.size(), lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& want = reference().nfc[i];
    EXPECT_EQ(qwen3().decode(qwen3().encode(lines[i])), want) << "line " << i + 1 << " " << show(lines[i]);
    // Decoding the reference's ids checks decode independently of encode.
    EXPECT_EQ(qwen3().decode(reference().qwen3_special[i]), want) << "line " << i + 1;
    EXPECT_EQ(qwen3().decode(reference().qwen3_plain[i]), want) << "line " << i + 1;
  }
}

TEST(TokenizerReference, Gpt2DecodeRoundTrip) {
  const auto& lines = corpus();
  ASSERT_EQ(reference().gpt2_special.size(), lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(gpt2().decode(gpt2().encode(lines[i])), lines[i]) << "line " << i + 1 << " " << show(lines[i]);
    EXPECT_EQ(gpt2().decode(reference().gpt2_special[i]), lines[i]) << "line " << i + 1;
  }
}

TEST(TokenizerReference, Qwen3Metadata) {
  const Tokenizer& t = qwen3();
  EXPECT_EQ(t.n_vocab(), 151669);
  EXPECT_EQ(t.pre_tokenizer(), PreTokenizer::Qwen2);
  EXPECT_EQ(t.token_id("<|endoftext|>"), 151643);
  EXPECT_EQ(t.token_id("<|im_start|>"), 151644);
  EXPECT_EQ(t.token_id("<|im_end|>"), 151645);
  EXPECT_EQ(t.token_type(151644), TokenType::Control);
  EXPECT_EQ(t.token_type(151667), TokenType::UserDefined);  // <think>: added, special=false
  EXPECT_EQ(t.token_type(9707), TokenType::Normal);
  EXPECT_EQ(t.token_text(9707), "Hello");
  EXPECT_FALSE(t.bos_id().has_value());          // tokenizer_config.json: bos_token null
  EXPECT_EQ(t.eos_id(), 151645);                 // eos_token <|im_end|>
  EXPECT_EQ(t.pad_id(), 151643);                 // pad_token <|endoftext|>
  EXPECT_EQ(t.eot_id(), 151645);
  EXPECT_FALSE(t.add_bos_default());
}

TEST(TokenizerReference, Gpt2Metadata) {
  const Tokenizer& t = gpt2();
  EXPECT_EQ(t.n_vocab(), 50257);
  EXPECT_EQ(t.pre_tokenizer(), PreTokenizer::Gpt2);
  EXPECT_EQ(t.token_id("<|endoftext|>"), 50256);
  EXPECT_EQ(t.token_type(50256), TokenType::Control);
  EXPECT_EQ(t.bos_id(), 50256);
  EXPECT_EQ(t.eos_id(), 50256);
  EXPECT_EQ(t.token_text(220), "\xC4\xA0");  // 'Ġ' = space
  EXPECT_EQ(t.token_bytes(220), " ");
  EXPECT_EQ(t.token_bytes(198), "\n");
}

TEST(TokenizerReference, SkipSpecialAndBos) {
  const Tokenizer& t = qwen3();
  const Ids ids = t.encode("<|im_start|>user\nhi<|im_end|><think>x</think>");
  EXPECT_EQ(t.decode(ids, {.skip_special = true}), "user\nhi<think>x</think>");  // <think> is not special
  EXPECT_EQ(t.decode(ids), "<|im_start|>user\nhi<|im_end|><think>x</think>");
  // Qwen3 has no BOS: add_bos is a no-op. GPT-2 prepends <|endoftext|>.
  EXPECT_EQ(t.encode("hi", {.add_bos = true}), t.encode("hi"));
  const Ids g = gpt2().encode("hi", {.add_bos = true});
  ASSERT_FALSE(g.empty());
  EXPECT_EQ(g.front(), 50256);
}

TEST(TokenizerReference, DecodeRepairsInvalidUtf8) {
  // "é" is two byte tokens in GPT-2 (0xC3 0xA9); either alone is ill-formed UTF-8.
  const Tokenizer& t = gpt2();
  const auto c3 = t.token_id("\xC3\x83");  // byte 0xC3 in the byte-level alphabet is 'Ã'
  ASSERT_TRUE(c3.has_value());
  EXPECT_EQ(t.decode(Ids{*c3}), "\xEF\xBF\xBD");
  EXPECT_EQ(t.decode(Ids{*c3, *t.token_id("a")}), "\xEF\xBF\xBD" "a");
  // Out-of-range ids decode to nothing (as in HF).
  EXPECT_EQ(t.decode(Ids{-1, 1 << 20, *t.token_id("a")}), "a");
}

}  // namespace
}  // namespace paw::test
