// paw::TextStream: streamed pieces add up to decode(all ids) and never show a U+FFFD for a
// character whose bytes are split over tokens (the shipped S.gguf's 2k byte-level BPE splits
// emoji and most non-Latin characters into byte tokens).
#include <gtest/gtest.h>

#include "paw/tokenizer/text_stream.hpp"
#include "paw/tokenizer/tokenizer.hpp"
#include "common/test_env.hpp"

namespace paw::test {
namespace {

TEST(TextStream, PiecesAddUpToTheDecodeAndHoldBackSplitCharacters) {
  const Tokenizer tok = Tokenizer::load(source_dir() + "/models/trained/S.gguf");
  const std::string text = "caf\xC3\xA9 \xF0\x9F\x86\x98 \xE6\x97\xA5\xE6\x9C\xAC and \xD0\xB4\xD0\xB0";  // café 🆘 日本 and да
  const std::vector<int32_t> ids = tok.encode(text);
  ASSERT_EQ(tok.decode(ids), text);
  const std::string repl = "\xEF\xBF\xBD";
  // The case must really split a character: some prefix of the ids decodes to a U+FFFD.
  bool split = false;
  for (size_t n = 1; n < ids.size(); ++n)
    split |= tok.decode(std::vector<int32_t>(ids.begin(), ids.begin() + static_cast<long>(n))).find(repl) != std::string::npos;
  ASSERT_TRUE(split) << "no character is split over tokens: the test checks nothing";
  TextStream s(tok);
  std::string got;
  for (int32_t id : ids) {
    const std::string piece = s.push(id);
    EXPECT_EQ(piece.find(repl), std::string::npos) << "a held-back character leaked";
    got += piece;
  }
  got += s.finish();
  EXPECT_EQ(got, text);
  // A real U+FFFD at the end (bytes that never complete) comes out at finish().
  TextStream t(tok);
  std::string partial;
  for (int32_t id : tok.encode("x\xF0\x9F")) partial += t.push(id);   // invalid UTF-8 input: 2 of 4 bytes
  partial += t.finish();
  EXPECT_EQ(partial, tok.decode(tok.encode("x\xF0\x9F")));
}

}  // namespace
}  // namespace paw::test
