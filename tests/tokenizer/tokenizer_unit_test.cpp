// Encoder behaviour on tiny hand-made tokenizer.json files, where every expected id can be
// worked out by hand: merge-rank order, added-token flags (lstrip, rstrip, single_word,
// normalized, special), parse_special, loader errors, Tokenizer::load path handling.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <thread>

#include "paw/tokenizer/tokenizer.hpp"
#include "paw/util/error.hpp"
#include "common/test_env.hpp"
#include "tok_test_util.hpp"

namespace paw::test {
namespace {

using nlohmann::json;

// Byte-level vocabulary of a few ASCII tokens ("Ġ" = space).
json tiny_vocab() {
  return json{{"a", 0},  {"b", 1},  {"c", 2},   {"\xC4\xA0", 3}, {"ab", 4},  {"bc", 5}, {"abc", 6},
              {"<", 7},  {">", 8},  {"m", 9},   {"\xC4\xA0" "a", 10}, {"x", 11}, {"!", 12}, {"aa", 13},
              {"s", 14}, {"k", 15}, {"\xC3\x83", 16}, {"\xC2\xA9", 17}, {"\xC3\x83\xC2\xA9", 18}};
}

json tiny_json(json merges, json added = json::array(), bool qwen2 = false) {
  json pre;
  if (qwen2) {
    pre = {{"type", "Sequence"},
           {"pretokenizers",
            {{{"type", "Split"},
              {"pattern",
               {{"Regex",
                 "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*["
                 "\\r\\n]+|\\s+(?!\\S)|\\s+"}}},
              {"behavior", "Isolated"},
              {"invert", false}},
             {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}}}};
  } else {
    pre = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}};
  }
  return json{{"version", "1.0"},
              {"added_tokens", added},
              {"normalizer", qwen2 ? json{{"type", "NFC"}} : json()},
              {"pre_tokenizer", pre},
              {"decoder", {{"type", "ByteLevel"}}},
              {"model", {{"type", "BPE"}, {"vocab", tiny_vocab()}, {"merges", merges}}}};
}

json added_token(int id, const std::string& content, bool special, json flags = json::object()) {
  json t{{"id", id},         {"content", content}, {"special", special}, {"single_word", false},
         {"lstrip", false},  {"rstrip", false},    {"normalized", !special}};
  for (auto it = flags.begin(); it != flags.end(); ++it) t[it.key()] = it.value();
  return t;
}

Tokenizer load(const json& j) { return Tokenizer::from_hf_json_text(j.dump(), {}, "tiny.json"); }

const json kMerges = json::array({json::array({"a", "b"}), json::array({"b", "c"}), json::array({"ab", "c"}),
                                  json::array({"\xC4\xA0", "a"}), json::array({"a", "a"})});

TEST(TokenizerTiny, MergesByRank) {
  const Tokenizer t = load(tiny_json(kMerges));
  EXPECT_EQ(t.encode("abc"), (Ids{6}));
  EXPECT_EQ(t.encode("aaa"), (Ids{13, 0}));  // equal ranks: leftmost first
  EXPECT_EQ(t.encode("aaaa"), (Ids{13, 13}));
  // " ab": (a,b) has rank 0 < (Ġ,a) rank 3, so "ab" forms first and "Ġ" stays alone.
  EXPECT_EQ(t.encode("ab ab"), (Ids{4, 3, 4}));
  EXPECT_EQ(t.encode(" ac"), (Ids{10, 2}));
  // Old "left right" merge spelling, and a different order: (b,c) first blocks "abc".
  const Tokenizer r = load(tiny_json(json::array({"b c", "a b", "ab c"})));
  EXPECT_EQ(r.encode("abc"), (Ids{0, 5}));
  EXPECT_EQ(r.n_vocab(), 19);
}

TEST(TokenizerTiny, BytesWithoutTokenAreDropped) {
  // No unk token: like HF, a byte with no token disappears and its neighbours may merge.
  const Tokenizer t = load(tiny_json(kMerges));
  EXPECT_EQ(t.encode("azb"), (Ids{4}));
  // é = bytes C3 A9 = byte-level "Ã" "©"; no merge joins them here.
  EXPECT_EQ(t.encode("\xC3\xA9"), (Ids{16, 17}));
}

TEST(TokenizerTiny, AddedTokenPlainAndStripped) {
  const json plain = json::array({added_token(20, "<mask>", false)});
  const Tokenizer t = load(tiny_json(kMerges, plain));
  EXPECT_EQ(t.encode("a <mask> b"), (Ids{0, 3, 20, 3, 1}));
  EXPECT_EQ(t.encode("<mask><mask>"), (Ids{20, 20}));
  EXPECT_EQ(t.encode("<mas"), (Ids{7, 9, 0, 14}));

  const json stripped = json::array({added_token(20, "<mask>", false, {{"lstrip", true}, {"rstrip", true}})});
  const Tokenizer s = load(tiny_json(kMerges, stripped));
  EXPECT_EQ(s.encode("a <mask> b"), (Ids{0, 20, 1}));
  EXPECT_EQ(s.encode("a\t\n <mask>\n\nb"), (Ids{0, 20, 1}));
  // lstrip never reaches back into the previous match.
  EXPECT_EQ(s.encode("<mask> <mask>"), (Ids{20, 20}));
}

TEST(TokenizerTiny, AddedTokenSingleWord) {
  const json sw = json::array({added_token(20, "<mask>", false, {{"single_word", true}})});
  const Tokenizer t = load(tiny_json(kMerges, sw));
  EXPECT_EQ(t.encode("<mask> b"), (Ids{20, 3, 1}));
  EXPECT_EQ(t.encode("!<mask>!"), (Ids{12, 20, 12}));            // punctuation is not \w
  EXPECT_EQ(t.encode("a<mask>"), (Ids{0, 7, 9, 0, 14, 15, 8}));  // touches a word: plain text
  EXPECT_EQ(t.encode("<mask>b"), (Ids{7, 9, 0, 14, 15, 8, 1}));
}

TEST(TokenizerTiny, SpecialTokensAndParseSpecial) {
  const json added = json::array({added_token(20, "<m>", true), added_token(21, "<x>", false)});
  const Tokenizer t = load(tiny_json(kMerges, added));
  EXPECT_EQ(t.encode("a<m>b<x>c"), (Ids{0, 20, 1, 21, 2}));
  // parse_special off: the special token is text; the non-special added token still matches.
  EXPECT_EQ(t.encode("a<m>b<x>c", {.parse_special = false}), (Ids{0, 7, 9, 8, 1, 21, 2}));
  EXPECT_EQ(t.token_type(20), TokenType::Control);
  EXPECT_EQ(t.token_type(21), TokenType::UserDefined);
  EXPECT_EQ(t.decode(Ids{0, 20, 21}, {.skip_special = true}), "a<x>");
  EXPECT_EQ(t.decode(Ids{0, 20, 21}), "a<m><x>");
}

TEST(TokenizerTiny, LeftmostLongestAddedMatch) {
  const json added = json::array({added_token(20, "<m", true), added_token(21, "<m>", true), added_token(22, "m>!", true)});
  const Tokenizer t = load(tiny_json(kMerges, added));
  EXPECT_EQ(t.encode("<m>!"), (Ids{21, 12}));  // longest at the leftmost start wins
  EXPECT_EQ(t.encode("a<mx"), (Ids{0, 20, 11}));
  EXPECT_EQ(t.encode("am>!"), (Ids{0, 22}));
}

TEST(TokenizerTiny, NormalizedAddedTokensMatchAfterNfc) {
  // "é" (U+00E9) as an added token: with normalized=true it also matches "e"+U+0301 after NFC;
  // with normalized=false it is looked for in the raw text only.
  const std::string composed = "\xC3\xA9", decomposed = "e\xCC\x81";
  {
    const Tokenizer t = load(tiny_json(kMerges, json::array({added_token(30, composed, false)}), true));
    EXPECT_EQ(t.encode("a" + decomposed), (Ids{0, 30}));
    EXPECT_EQ(t.encode("a" + composed), (Ids{0, 30}));
  }
  {
    json tok = added_token(30, composed, false, {{"normalized", false}});
    const Tokenizer t = load(tiny_json(kMerges, json::array({tok}), true));
    EXPECT_EQ(t.encode("a" + composed), (Ids{0, 30}));
    // The raw text has no "é"; NFC makes one after the raw matcher ran, so BPE sees its bytes.
    EXPECT_EQ(t.encode("a" + decomposed), (Ids{0, 16, 17}));
  }
}

TEST(TokenizerTiny, ConfigSpecialIds) {
  const json added = json::array({added_token(20, "<s>", true), added_token(21, "</s>", true)});
  const json cfg = {{"bos_token", {{"content", "<s>"}, {"__type", "AddedToken"}}}, {"eos_token", "</s>"},
                    {"pad_token", nullptr}, {"add_bos_token", true}};
  const Tokenizer t = Tokenizer::from_hf_json_text(tiny_json(kMerges, added).dump(), cfg.dump(), "tiny.json");
  EXPECT_EQ(t.bos_id(), 20);
  EXPECT_EQ(t.eos_id(), 21);
  EXPECT_FALSE(t.pad_id().has_value());
  EXPECT_TRUE(t.add_bos_default());
  EXPECT_EQ(t.encode("ab", {.add_bos = true}), (Ids{20, 4}));
  const json bad_cfg = {{"eos_token", "<missing>"}};
  EXPECT_THROW(Tokenizer::from_hf_json_text(tiny_json(kMerges, added).dump(), bad_cfg.dump(), "tiny.json"), Error);
}

// Expects a paw::Error whose message mentions `needle`.
template <class F>
void expect_error(F&& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(TokenizerTiny, LoaderErrors) {
  expect_error([] { Tokenizer::from_hf_json_text("{\"model\": ", {}, "t.json"); }, "t.json at byte offset");
  expect_error([] { Tokenizer::from_hf_json_text("[1, 2]", {}, "t.json"); }, "root");
  expect_error([] { Tokenizer::from_hf_json_text(std::string(200, '[') + std::string(200, ']'), {}, "t.json"); },
               "nested");
  json j = tiny_json(kMerges);
  j["model"]["type"] = "WordPiece";
  expect_error([&] { load(j); }, "model.type");
  j = tiny_json(kMerges);
  j["pre_tokenizer"]["add_prefix_space"] = true;
  expect_error([&] { load(j); }, "add_prefix_space");
  j = tiny_json(kMerges, json::array(), true);
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\w+";
  expect_error([&] { load(j); }, "regex");
  j = tiny_json(kMerges);
  j["normalizer"] = {{"type", "Lowercase"}};
  expect_error([&] { load(j); }, "normalizer");
  expect_error([&] { load(tiny_json(json::array({"a q"}))); }, "merge 0");
  expect_error([&] { load(tiny_json(json::array({"c c"}))); }, "'cc' is not in the vocabulary");
  j = tiny_json(kMerges);
  j["model"]["vocab"]["far"] = 3000000;
  expect_error([&] { load(j); }, "sparse");
  j = tiny_json(kMerges);
  j["model"]["vocab"]["dup"] = 1;
  expect_error([&] { load(j); }, "used twice");
  expect_error([&] { load(tiny_json(kMerges, json::array({added_token(3, "<q>", true)}))); }, "gives to");
  j = tiny_json(kMerges);
  j["model"]["vocab"]["neg"] = -4;
  expect_error([&] { load(j); }, "out of range");
}

TEST(TokenizerTiny, LoadPicksByPath) {
  namespace fs = std::filesystem;
  const std::string dir = scratch_dir("tok-load");
  {
    std::ofstream(dir + "/tokenizer.json") << tiny_json(kMerges, json::array({added_token(20, "<s>", true)})).dump();
    std::ofstream(dir + "/tokenizer_config.json") << json{{"eos_token", "<s>"}}.dump();
  }
  const Tokenizer a = Tokenizer::load(dir);
  EXPECT_EQ(a.encode("abc"), (Ids{6}));
  EXPECT_EQ(a.eos_id(), 20);  // the config next to it was used
  const Tokenizer b = Tokenizer::load(dir + "/tokenizer.json");
  EXPECT_EQ(b.eos_id(), 20);
  const Tokenizer g = Tokenizer::load(gpt2_dir() + "/encoder.json");
  EXPECT_EQ(g.n_vocab(), 50257);
  EXPECT_THROW(Tokenizer::load(dir + "/missing.json"), Error);
  EXPECT_THROW(Tokenizer::load(scratch_dir("tok-empty")), Error);
}

TEST(Tokenizer, MovedFromThrows) {
  Tokenizer a = load(tiny_json(kMerges));
  Tokenizer b = std::move(a);
  EXPECT_EQ(b.encode("ab"), (Ids{4}));
  EXPECT_THROW(a.encode("ab"), Error);  // NOLINT(bugprone-use-after-move): deliberate
}

TEST(Tokenizer, InvalidUtf8IsEncodedLosslessly) {
  // Byte-level BPE can carry any bytes; decode repairs them to U+FFFD, token_bytes does not.
  const std::string bytes = "ok\xFF\xFE  \xC3 \xE2\x82 end\x80";
  for (const Tokenizer* t : {&gpt2(), &qwen3()}) {
    const Ids ids = t->encode(bytes);
    std::string joined;
    for (int32_t id : ids) joined += t->token_bytes(id);
    EXPECT_EQ(joined, bytes);
    EXPECT_EQ(t->decode(ids), "ok\xEF\xBF\xBD\xEF\xBF\xBD  \xEF\xBF\xBD \xEF\xBF\xBD end\xEF\xBF\xBD");
  }
}

TEST(Tokenizer, ConcurrentEncodeIsConsistent) {
  // The word cache is shared: encode from several threads and compare with a serial pass.
  const Tokenizer& t = qwen3();
  std::vector<Ids> serial;
  for (const std::string& s : corpus()) serial.push_back(t.encode(s));
  std::vector<std::thread> threads;
  std::vector<int> bad(4, 0);
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int rep = 0; rep < 3; ++rep) {
        for (size_t i = 0; i < corpus().size(); ++i) {
          if (t.encode(corpus()[(i + k * 17) % corpus().size()]) != serial[(i + k * 17) % corpus().size()]) ++bad[k];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int k = 0; k < 4; ++k) EXPECT_EQ(bad[k], 0) << "thread " << k;
}

TEST(Tokenizer, LongInputs) {
  // Long words bypass the cache and use the heap merge directly; results must still decode.
  const std::string long_word(5000, 'a');
  EXPECT_EQ(gpt2().decode(gpt2().encode(long_word)), long_word);
  std::string mixed;
  for (int i = 0; i < 2000; ++i) mixed += "word" + std::to_string(i) + (i % 7 ? " " : "\n\n");
  EXPECT_EQ(qwen3().decode(qwen3().encode(mixed)), mixed);
  EXPECT_TRUE(qwen3().encode("").empty());
}

}  // namespace
}  // namespace paw::test
