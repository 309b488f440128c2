// Byte-level BPE trainer: hand-worked merges, GPT-2's byte order, merge validity, GGUF and
// tokenizer.json round trips through paw::Tokenizer, and two independent references — a naive
// Python trainer (merges must match exactly) and Hugging Face's tokenizers.js (ids must match).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "paw/data/generator.hpp"
#include "paw/formats/gguf.hpp"
#include "paw/tokenizer/bpe_trainer.hpp"
#include "paw/tokenizer/tokenizer.hpp"
#include "paw/util/error.hpp"
#include "common/test_env.hpp"

namespace paw::test {
namespace {

using Merges = std::vector<std::pair<std::string, std::string>>;

BpeVocab train_words(const std::vector<std::pair<std::string, uint64_t>>& words, int32_t vocab, int64_t min_freq = 1) {
  BpeTrainOptions o;
  o.vocab_size = vocab;
  o.min_frequency = min_freq;
  BpeTrainer t(o);
  for (const auto& [w, c] : words) t.add_word(w, c);
  return t.train();
}

// ASCII corpus from FuzzyBench-synth records plus a few hand-written lines.
std::string ascii_corpus() {
  data::GenOptions o;
  o.seed = 3;
  o.n_train = 60;
  o.n_heldout_params = 0;
  o.n_heldout_family = 0;
  std::string text;
  data::Generator(o).for_each([&](const data::Record& r) { text += r.spec + "\n" + r.input + "\n" + r.output + "\n\n"; });
  text += "It's 12:30 -- we've got   3 spaces, tabs\tand CRLF\r\nlines. Don't panic!\n";
  return text;
}

// Held-out text with Unicode, digits, whitespace runs, code and special tokens.
const std::vector<std::string>& held_out_texts() {
  static const std::vector<std::string> v = {
      "Classify the ticket: the invoice never arrived.",
      "Caf\xC3\xA9 cr\xC3\xA8me br\xC3\xBBl\xC3\xA9" "e \xE2\x80\x94 na\xC3\xAFve r\xC3\xA9sum\xC3\xA9",
      "\xE4\xBD\xA0\xE5\xA5\xBD\xEF\xBC\x8C\xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x98\x80\xF0\x9F\x9A\x80 \xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82",
      "def f(x):\n    return {'a': [1, 2, 3]}  # comment\n\n\n",
      "   leading and trailing   \t\n",
      "Numbers 1234567890 and 3.14159, dates 2021-03-05.",
      "<|im_start|>user\nFix: {a:1,}<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n{\"a\":1}<|im_end|>",
      "I'M shouting, you're whispering; they'll see it's fine.",
  };
  return v;
}

Tokenizer load_gguf_bytes(const std::vector<uint8_t>& bytes) {
  const GGUFFile f = GGUFFile::parse(bytes, "trained.gguf");
  return Tokenizer::from_gguf(f);
}

struct Trained {
  BpeVocab vocab;
  std::vector<uint8_t> gguf;
};

const Trained& trained() {
  static const Trained t = [] {
    BpeTrainOptions o;
    o.vocab_size = 700;
    BpeTrainer tr(o);
    tr.add_text(ascii_corpus());
    // Some Unicode so multi-byte merges exist too.
    for (int i = 0; i < 5; ++i) tr.add_text("caf\xC3\xA9 na\xC3\xAFve \xE4\xBD\xA0\xE5\xA5\xBD \xF0\x9F\x98\x80 e\xCC\x81t\xC3\xA9");
    Trained out;
    out.vocab = tr.train();
    out.gguf = out.vocab.gguf_bytes();
    return out;
  }();
  return t;
}

TEST(BpeTrainer, HandWorkedFirstMerges) {
  // "aaabdaaabac" is one pre-token. Pair counts (overlapping, as BPE counts them):
  //   aa:4 ab:2 bd:1 da:1 ba:1 ac:1                   -> merge (a, a)
  //   aa a b d aa a b a c: (aa,a):2 (a,b):2 ...       -> tie; "a" < "aa" bytewise -> merge (a, b)
  //   aa ab d aa ab a c: (aa,ab):2, others 1          -> merge (aa, ab)
  const BpeVocab v = train_words({{"aaabdaaabac", 1}}, 259);
  const Merges want = {{"a", "a"}, {"a", "b"}, {"aa", "ab"}};
  EXPECT_EQ(v.merges, want);
  ASSERT_EQ(v.n_bpe, 259);
  EXPECT_EQ(v.tokens[256], "aa");
  EXPECT_EQ(v.tokens[257], "ab");
  EXPECT_EQ(v.tokens[258], "aaab");

  // Through add_text and the Qwen2 pre-tokenizer: the same single word.
  BpeTrainOptions o;
  o.vocab_size = 259;
  o.min_frequency = 1;
  BpeTrainer t(o);
  t.add_text("aaabdaaabac");
  EXPECT_EQ(t.n_distinct_words(), 1u);
  EXPECT_EQ(t.train().merges, want);
}

TEST(BpeTrainer, TiesAndWeightsAndMinFrequency) {
  // Equal counts: the pair with the smaller left bytes wins ("ab" before "cd").
  EXPECT_EQ(train_words({{"cd", 1}, {"ab", 1}}, 257).merges, (Merges{{"a", "b"}}));
  // Word counts weigh pairs: "xy" x3 beats "ab" x2.
  EXPECT_EQ(train_words({{"ab", 2}, {"xy", 3}}, 257).merges, (Merges{{"x", "y"}}));
  // min_frequency stops training early: only "xy" (3) reaches 3.
  const BpeVocab v = train_words({{"ab", 2}, {"xy", 3}}, 300, 3);
  EXPECT_EQ(v.merges, (Merges{{"x", "y"}}));
  EXPECT_EQ(v.n_bpe, 257);
  // Space is a byte like any other: " t" merges into "Ġt" in the byte-level alphabet.
  EXPECT_EQ(train_words({{" t", 2}}, 257).merges, (Merges{{"\xC4\xA0", "t"}}));
}

TEST(BpeTrainer, ByteTokensFollowGpt2Order) {
  const BpeVocab& v = trained().vocab;
  // Published GPT-2 encoder.json ids: "!" 0, "~" 93, "¡" 94, "Ā" (byte 0x00) 188,
  // "Ċ" (newline) 198, "Ġ" (space) 220.
  EXPECT_EQ(v.tokens[0], "!");
  EXPECT_EQ(v.tokens[93], "~");
  EXPECT_EQ(v.tokens[94], "\xC2\xA1");
  EXPECT_EQ(v.tokens[188], "\xC4\x80");
  EXPECT_EQ(v.tokens[198], "\xC4\x8A");
  EXPECT_EQ(v.tokens[220], "\xC4\xA0");
  std::set<std::string> distinct(v.tokens.begin(), v.tokens.end());
  EXPECT_EQ(distinct.size(), v.tokens.size());
}

TEST(BpeTrainer, MergesAreValidAndSpecialsFollowTheVocabulary) {
  const BpeVocab& v = trained().vocab;
  ASSERT_EQ(v.n_bpe, 700);
  EXPECT_GE(v.merges.size(), 444u);
  // Each merge's parts exist before it (bytes, or made by an earlier merge); each new token is
  // made by the merge that first produces its text, in id order.
  std::set<std::string> have(v.tokens.begin(), v.tokens.begin() + 256);
  int32_t next_id = 256;
  for (const auto& [l, r] : v.merges) {
    ASSERT_TRUE(have.count(l)) << l;
    ASSERT_TRUE(have.count(r)) << r;
    if (have.insert(l + r).second) {
      ASSERT_LT(next_id, v.n_bpe);
      EXPECT_EQ(v.tokens[next_id++], l + r);
    }
  }
  EXPECT_EQ(next_id, v.n_bpe);

  const std::vector<std::string> specials = {"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"};
  ASSERT_EQ(v.tokens.size(), 705u);
  for (size_t i = 0; i < specials.size(); ++i) {
    EXPECT_EQ(v.tokens[700 + i], specials[i]);
    EXPECT_EQ(v.types[700 + i], i < 3 ? TokenType::Control : TokenType::UserDefined);
  }
  EXPECT_EQ(v.bos, 700);
  EXPECT_EQ(v.eos, 702);
  EXPECT_EQ(v.eot, 702);
  EXPECT_EQ(v.pad, 700);
}

TEST(BpeTrainer, GgufLoadsAndRoundTripsHeldOutText) {
  const Tokenizer tok = load_gguf_bytes(trained().gguf);
  EXPECT_EQ(tok.n_vocab(), 705);
  EXPECT_EQ(tok.pre_tokenizer(), PreTokenizer::Qwen2);
  EXPECT_EQ(tok.eos_id(), 702);
  EXPECT_EQ(tok.token_type(701), TokenType::Control);
  EXPECT_EQ(tok.token_type(703), TokenType::UserDefined);
  for (const auto& text : held_out_texts()) {
    const auto ids = tok.encode(text);
    EXPECT_EQ(tok.decode(ids), text);
    const bool ascii = std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    if (ascii) {
      EXPECT_LT(ids.size(), text.size()) << "no merges used on: " << text;
    }
  }
  // NFC: a decomposed é comes back composed (the qwen2 normaliser), U+0065 U+0301 -> U+00E9.
  EXPECT_EQ(tok.decode(tok.encode("re\xCC\x81sume\xCC\x81")), "r\xC3\xA9sum\xC3\xA9");
  // Special tokens are single ids.
  const auto ids = tok.encode("<|im_start|>user\nhi<|im_end|>");
  EXPECT_EQ(ids.front(), 701);
  EXPECT_EQ(ids.back(), 702);
  EXPECT_EQ(tok.decode(ids, DecodeOptions{true}), "user\nhi");
}

TEST(BpeTrainer, TokenizerJsonMatchesGguf) {
  const BpeVocab& v = trained().vocab;
  const Tokenizer from_gguf = load_gguf_bytes(trained().gguf);
  const Tokenizer from_json = Tokenizer::from_hf_json_text(v.hf_tokenizer_json(), v.hf_tokenizer_config_json(), "trained.json");
  EXPECT_EQ(from_json.n_vocab(), from_gguf.n_vocab());
  EXPECT_EQ(from_json.eos_id(), from_gguf.eos_id());
  for (const auto& text : held_out_texts()) EXPECT_EQ(from_json.encode(text), from_gguf.encode(text)) << text;
}

TEST(BpeTrainer, Gpt2PreTokenizerVariant) {
  BpeTrainOptions o;
  o.vocab_size = 400;
  o.pre = PreTokenizer::Gpt2;
  BpeTrainer t(o);
  t.add_text(ascii_corpus());
  const BpeVocab v = t.train();
  const Tokenizer g = load_gguf_bytes(v.gguf_bytes());
  const Tokenizer j = Tokenizer::from_hf_json_text(v.hf_tokenizer_json(), v.hf_tokenizer_config_json(), "gpt2.json");
  EXPECT_EQ(g.pre_tokenizer(), PreTokenizer::Gpt2);
  EXPECT_EQ(j.pre_tokenizer(), PreTokenizer::Gpt2);
  for (const auto& text : held_out_texts()) {
    EXPECT_EQ(g.decode(g.encode(text)), text);
    EXPECT_EQ(j.encode(text), g.encode(text)) << text;
  }
  // No normaliser: a decomposed accent survives the round trip unchanged.
  EXPECT_EQ(g.decode(g.encode("re\xCC\x81")), "re\xCC\x81");
}

TEST(BpeTrainer, DeterministicAndBadOptionsRejected) {
  BpeTrainOptions o;
  o.vocab_size = 500;
  BpeTrainer a(o), b(o);
  const std::string corpus = ascii_corpus();
  a.add_text(corpus);
  // Same words in a different order (and split differently) must give the same vocabulary.
  const size_t half = corpus.find("\n\n", corpus.size() / 2) + 2;
  b.add_text(corpus.substr(half));
  b.add_text(corpus.substr(0, half));
  EXPECT_EQ(a.train().gguf_bytes(), b.train().gguf_bytes());

  BpeTrainOptions bad;
  bad.vocab_size = 100;
  EXPECT_THROW(BpeTrainer(bad).train(), Error);
  bad = {};
  bad.eos = "<|nope|>";
  EXPECT_THROW(BpeTrainer(bad).train(), Error);
}

TEST(BpeTrainer, MergesMatchNaivePythonReference) {
  const std::string dir = scratch_dir("bpe_ref");
  const std::string corpus_path = dir + "/corpus.txt";
  const std::string corpus = ascii_corpus();
  std::ofstream(corpus_path, std::ios::binary) << corpus;
  const int32_t vocab = 256 + 150;
  std::string out;
  const std::string cmd = python() + " '" + source_dir() + "/tests/reference/bpe_train_ref.py' '" + corpus_path + "' " +
                          std::to_string(vocab) + " 2";
  ASSERT_EQ(run_command(cmd, &out), 0) << cmd;
  const auto ref = nlohmann::json::parse(out);

  BpeTrainOptions o;
  o.vocab_size = vocab;
  o.min_frequency = 2;
  BpeTrainer t(o);
  t.add_text(corpus);
  const BpeVocab v = t.train();
  ASSERT_EQ(v.merges.size(), ref.size());
  for (size_t i = 0; i < ref.size(); ++i) {
    ASSERT_EQ(v.merges[i].first, ref[i][0].get<std::string>()) << "merge " << i;
    ASSERT_EQ(v.merges[i].second, ref[i][1].get<std::string>()) << "merge " << i;
  }
}

TEST(BpeTrainer, IdsMatchHuggingFaceTokenizersJs) {
  const std::string dir = scratch_dir("bpe_hf");
  const BpeVocab& v = trained().vocab;
  v.write_hf_dir(dir);
  {
    std::ofstream texts(dir + "/texts.jsonl", std::ios::binary);
    for (const auto& t : held_out_texts()) texts << nlohmann::json{{"text", t}}.dump() << "\n";
  }
  const std::string cmd = "node '" + source_dir() + "/tests/reference/hf_encode_trained.mjs' '" + npm_cache_dir() + "' '" + dir +
                          "/tokenizer.json' '" + dir + "/texts.jsonl' '" + dir + "/tokenizer_config.json'";
  std::string out;
  ASSERT_EQ(run_command(cmd, &out), 0) << cmd;
  const auto ref = nlohmann::json::parse(out);
  ASSERT_EQ(ref.size(), held_out_texts().size());
  const Tokenizer tok = load_gguf_bytes(trained().gguf);
  for (size_t i = 0; i < ref.size(); ++i) {
    EXPECT_EQ(tok.encode(held_out_texts()[i]), ref[i].get<std::vector<int32_t>>()) << held_out_texts()[i];
  }
}

}  // namespace
}  // namespace paw::test
