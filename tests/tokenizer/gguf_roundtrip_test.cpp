// The vocabulary written as GGUF metadata (write_gguf_metadata + GGUFWriter) and read back
// with from_gguf must tokenize the whole corpus exactly like the original files — i.e. like
// the Hugging Face reference.
#include <gtest/gtest.h>

#include <set>

#include "paw/formats/gguf.hpp"
#include "paw/util/error.hpp"
#include "paw/tokenizer/tokenizer.hpp"
#include "common/test_env.hpp"
#include "tok_test_util.hpp"

namespace paw::test {
namespace {

struct GgufTok {
  std::vector<uint8_t> bytes;  // keeps the parsed file's storage alive
  Tokenizer tok;
};

GgufTok via_gguf(const Tokenizer& src, const std::string& name, int32_t rows = -1) {
  GGUFWriter w;
  w.set("general.architecture", GGUFValue::string("test"));
  if (rows < 0) {
    src.write_gguf_metadata(w);
  } else {
    src.write_gguf_metadata(w, rows);
  }
  GgufTok g;
  g.bytes = w.to_bytes();
  const GGUFFile f = GGUFFile::parse(g.bytes, name);
  g.tok = Tokenizer::from_gguf(f);
  return g;
}

// Texts of the added tokens whose "special" status changes through GGUF (llama.cpp's convert
// script makes non-special added tokens that look like <|...|> CONTROL).
std::set<std::string> promoted(const Tokenizer& hf, const Tokenizer& gg) {
  std::set<std::string> out;
  for (int32_t id = 0; id < hf.n_vocab(); ++id) {
    if (hf.token_type(id) == TokenType::UserDefined && gg.token_type(id) == TokenType::Control) out.insert(hf.token_text(id));
  }
  return out;
}

void compare(const char* label, const Tokenizer& t, const std::vector<Ids>& expected, bool parse_special,
             const std::set<std::string>& skip_if_contains = {}) {
  ASSERT_EQ(expected.size(), corpus().size()) << label;
  size_t pass = 0, total = 0;
  for (size_t i = 0; i < corpus().size(); ++i) {
    const std::string& line = corpus()[i];
    bool skip = false;
    for (const auto& s : skip_if_contains) skip = skip || line.find(s) != std::string::npos;
    if (skip) continue;
    ++total;
    EncodeOptions opt;
    opt.parse_special = parse_special;
    const Ids got = t.encode(line, opt);
    if (got == expected[i]) {
      ++pass;
    } else {
      ADD_FAILURE() << label << " line " << i + 1 << " " << show(line) << "\n  paw: " << ids_str(got)
                    << "\n  ref: " << ids_str(expected[i]);
    }
  }
  std::cout << "[tokenizer] " << label << ": " << pass << "/" << total << " corpus lines identical\n";
}

TEST(TokenizerGguf, Qwen3RoundTrip) {
  const GgufTok g = via_gguf(qwen3(), "qwen3-tokenizer.gguf");
  const Tokenizer& t = g.tok;
  EXPECT_EQ(t.n_vocab(), qwen3().n_vocab());
  EXPECT_EQ(t.pre_tokenizer(), PreTokenizer::Qwen2);
  EXPECT_EQ(t.eos_id(), 151645);
  EXPECT_EQ(t.pad_id(), 151643);
  EXPECT_EQ(t.eot_id(), 151645);
  EXPECT_FALSE(t.bos_id().has_value());
  EXPECT_EQ(t.token_type(151643), TokenType::Control);      // <|endoftext|>, special
  EXPECT_EQ(t.token_type(151657), TokenType::UserDefined);  // <tool_call>, special=false
  EXPECT_EQ(t.token_type(151667), TokenType::UserDefined);  // <think>
  EXPECT_EQ(t.token_type(151659), TokenType::Control);      // <|fim_prefix|>: special=false, looks special
  EXPECT_EQ(t.token_type(100), TokenType::Normal);
  for (int32_t id : {0, 9707, 151642, 151668}) EXPECT_EQ(t.token_text(id), qwen3().token_text(id));

  // As llama.cpp's convert script does: the six <|...|> tokens with special=false.
  const std::set<std::string> want = {"<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>",
                                      "<|fim_pad|>",    "<|repo_name|>",  "<|file_sep|>"};
  const std::set<std::string> changed = promoted(qwen3(), t);
  EXPECT_EQ(changed, want);

  compare("qwen3 via GGUF, special parsed", t, reference().qwen3_special, true);
  compare("qwen3 via GGUF, special as text", t, reference().qwen3_plain, false, changed);
  ASSERT_EQ(reference().nfc.size(), corpus().size());
  for (size_t i = 0; i < corpus().size(); ++i) {
    EXPECT_EQ(t.decode(t.encode(corpus()[i])), reference().nfc[i]) << "line " << i + 1;
  }
}

TEST(TokenizerGguf, Gpt2RoundTrip) {
  const GgufTok g = via_gguf(gpt2(), "gpt2-tokenizer.gguf");
  const Tokenizer& t = g.tok;
  EXPECT_EQ(t.n_vocab(), 50257);
  EXPECT_EQ(t.pre_tokenizer(), PreTokenizer::Gpt2);
  EXPECT_EQ(t.bos_id(), 50256);
  EXPECT_EQ(t.eos_id(), 50256);
  EXPECT_EQ(t.token_type(50256), TokenType::Control);
  EXPECT_TRUE(promoted(gpt2(), t).empty());
  compare("gpt2 via GGUF, special parsed", t, reference().gpt2_special, true);
  compare("gpt2 via GGUF, special as text", t, reference().gpt2_plain, false);
}

TEST(TokenizerGguf, PaddedToModelRowsAndLoadedByPath) {
  // Qwen3's embedding has 151,936 rows: the token list is padded with UNUSED "[PAD<id>]".
  GGUFWriter w;
  w.set("general.architecture", GGUFValue::string("qwen3"));
  qwen3().write_gguf_metadata(w, 151936);
  const std::string path = scratch_dir("tok-gguf") + "/qwen3-tok.gguf";
  w.write(path);
  const GGUFFile f = GGUFFile::open(path);
  EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(f.get_string("tokenizer.ggml.pre"), "qwen2");
  const auto tokens = f.get("tokenizer.ggml.tokens").as_string_array();
  const auto types = f.get("tokenizer.ggml.token_type").as_int_array();
  ASSERT_EQ(tokens.size(), 151936u);
  ASSERT_EQ(types.size(), 151936u);
  EXPECT_EQ(tokens[151935], "[PAD151935]");
  EXPECT_EQ(types[151935], 5);
  EXPECT_EQ(types[151644], 3);
  EXPECT_EQ(f.get("tokenizer.ggml.merges").as_string_array().at(0), "\xC4\xA0 \xC4\xA0");  // "Ġ Ġ"
  EXPECT_EQ(f.get_u64("tokenizer.ggml.eos_token_id"), 151645u);

  const Tokenizer t = Tokenizer::load(path);
  EXPECT_EQ(t.n_vocab(), 151936);
  EXPECT_EQ(t.token_type(151700), TokenType::Unused);
  EXPECT_EQ(t.decode(Ids{9707, 151700, 151935}), "Hello");  // padding rows decode to nothing
  ASSERT_EQ(reference().qwen3_special.size(), corpus().size());
  for (size_t i = 0; i < corpus().size(); ++i) EXPECT_EQ(t.encode(corpus()[i]), reference().qwen3_special[i]);
  EXPECT_THROW(qwen3().write_gguf_metadata(w, 100), Error);
}

TEST(TokenizerGguf, RejectsWhatItCannotRead) {
  auto parse_with = [](auto&& edit) {
    GGUFWriter w;
    gpt2().write_gguf_metadata(w);
    edit(w);
    const std::vector<uint8_t> bytes = w.to_bytes();
    const GGUFFile f = GGUFFile::parse(bytes, "bad.gguf");
    return Tokenizer::from_gguf(f);
  };
  EXPECT_THROW(parse_with([](GGUFWriter& w) { w.set("tokenizer.ggml.model", GGUFValue::string("llama")); }), Error);
  EXPECT_THROW(parse_with([](GGUFWriter& w) { w.set("tokenizer.ggml.pre", GGUFValue::string("deepseek-llm")); }), Error);
  EXPECT_THROW(parse_with([](GGUFWriter& w) { w.set("tokenizer.ggml.token_type", GGUFValue::i32_array({1, 2})); }),
               Error);
  EXPECT_THROW(parse_with([](GGUFWriter& w) { w.set("tokenizer.ggml.merges", GGUFValue::string_array({"nospace"})); }),
               Error);
  EXPECT_THROW(parse_with([](GGUFWriter& w) { w.set("tokenizer.ggml.eos_token_id", GGUFValue::u32(999999)); }), Error);
  // "default" and a missing pre both mean the GPT-2 rules.
  const Tokenizer d = parse_with([](GGUFWriter& w) { w.set("tokenizer.ggml.pre", GGUFValue::string("default")); });
  EXPECT_EQ(d.encode("Hello world"), (Ids{15496, 995}));
}

}  // namespace
}  // namespace paw::test
