// Pre-tokenizer scanners, byte-level alphabet, UTF-8 repair and NFC, against hand-worked
// expectations (each derived by running the regex of DESIGN.md §8 by hand).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tokenizer/byte_level.hpp"
#include "tokenizer/pretokenize.hpp"
#include "tokenizer/unicode.hpp"

namespace paw {
namespace {

std::vector<std::string> split(PreTokenizer kind, const std::string& text) {
  std::vector<tok::Piece> pieces;
  tok::pretokenize(kind, text, pieces);
  std::vector<std::string> out;
  size_t covered = 0;
  for (const auto& p : pieces) {
    EXPECT_EQ(p.begin, covered) << "pieces must tile the text";
    covered = p.end;
    out.push_back(text.substr(p.begin, p.end - p.begin));
  }
  EXPECT_EQ(covered, text.size());
  return out;
}

using V = std::vector<std::string>;

TEST(PreTokenizeQwen2, WordsAndSpaces) {
  EXPECT_EQ(split(PreTokenizer::Qwen2, "Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(split(PreTokenizer::Qwen2, "  hi"), (V{" ", " hi"}));
  EXPECT_EQ(split(PreTokenizer::Qwen2, "end  "), (V{"end", "  "}));
  EXPECT_EQ(split(PreTokenizer::Qwen2, "a   b"), (V{"a", "  ", " b"}));
  EXPECT_EQ(split(PreTokenizer::Qwen2, "\tword"), (V{"\tword"}));  // [^\r\n\p{L}\p{N}]? takes the tab
  EXPECT_EQ(split(PreTokenizer::Qwen2, "(x)"), (V{"(x", ")"}));
  EXPECT_EQ(split(PreTokenizer::Qwen2, ""), V{});
}

TEST(PreTokenizeQwen2, ContractionsFoldCase) {
  EXPECT_EQ(split(PreTokenizer::Qwen2, "I'm"), (V{"I", "'m"}));
  EXPECT_EQ(split(PreTokenizer::Qwen2, "WE'RE"), (V{"WE", "'RE"}));
  EXPECT_EQ(split(PreTokenizer::Qwen2, "Y'LL'D"), (V{"Y", "'LL", "'D"}));
  EXPECT_EQ(split(PreTokenizer::Qwen2, "y'ALL'd"), (V{"y", "'ALL", "'d"}));
  EXPECT_EQ(split(PreTokenizer::Qwen2, "'sup"), (V{"'s", "up"}));
  EXPECT_EQ(split(PreTokenizer::Qwen2, "'x"), (V{"'x"}));  // not a contraction: "'" prefixes the word
}

TEST(PreTokenizeQwen2, DigitsOneByOne) {
  EXPECT_EQ(split(PreTokenizer::Qwen2, "abc123"), (V{"abc", "1", "2", "3"}));
  EXPECT_EQ(split(PreTokenizer::Qwen2, "$100"), (V{"$", "1", "0", "0"}));
  EXPECT_EQ(split(PreTokenizer::Qwen2, " 42"), (V{" ", "4", "2"}));
}

TEST(PreTokenizeQwen2, NewlinesAndPunctuation) {
  EXPECT_EQ(split(PreTokenizer::Qwen2, "a\n\nb"), (V{"a", "\n\n", "b"}));
  EXPECT_EQ(split(PreTokenizer::Qwen2, "x  \n  y"), (V{"x", "  \n", " ", " y"}));
  EXPECT_EQ(split(PreTokenizer::Qwen2, "hi!!\n\nthere"), (V{"hi", "!!\n\n", "there"}));
  EXPECT_EQ(split(PreTokenizer::Qwen2, "a .\r\n"), (V{"a", " .\r\n"}));
  EXPECT_EQ(split(PreTokenizer::Qwen2, "\r\n \t"), (V{"\r\n", " \t"}));
  EXPECT_EQ(split(PreTokenizer::Qwen2, "a \n"), (V{"a", " \n"}));
}

TEST(PreTokenizeQwen2, Unicode) {
  EXPECT_EQ(split(PreTokenizer::Qwen2, "日本語テキスト"), (V{"日本語テキスト"}));
  EXPECT_EQ(split(PreTokenizer::Qwen2, "한국어 텍스트"), (V{"한국어", " 텍스트"}));
  // A combining mark is neither \p{L} nor \p{N}: it ends the letter run.
  EXPECT_EQ(split(PreTokenizer::Qwen2, "e\xCC\x81t"), (V{"e", "\xCC\x81t"}));
  // U+3000 (ideographic space) is \s and can prefix a word.
  EXPECT_EQ(split(PreTokenizer::Qwen2, "a\xE3\x80\x80" "b"), (V{"a", "\xE3\x80\x80" "b"}));
}

TEST(PreTokenizeGpt2, Basics) {
  EXPECT_EQ(split(PreTokenizer::Gpt2, "Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(split(PreTokenizer::Gpt2, "abc123 456"), (V{"abc", "123", " 456"}));
  EXPECT_EQ(split(PreTokenizer::Gpt2, "(x)"), (V{"(", "x", ")"}));
  EXPECT_EQ(split(PreTokenizer::Gpt2, "  hi"), (V{" ", " hi"}));
  EXPECT_EQ(split(PreTokenizer::Gpt2, "\tword"), (V{"\t", "word"}));
  EXPECT_EQ(split(PreTokenizer::Gpt2, "end  "), (V{"end", "  "}));
}

TEST(PreTokenizeGpt2, CaseSensitiveContractions) {
  EXPECT_EQ(split(PreTokenizer::Gpt2, "can't"), (V{"can", "'t"}));
  EXPECT_EQ(split(PreTokenizer::Gpt2, "I'M"), (V{"I", "'", "M"}));
  EXPECT_EQ(split(PreTokenizer::Gpt2, "we'll"), (V{"we", "'ll"}));
}

TEST(PreTokenizeGpt2, NewlinesSplitOneByOne) {
  // \s+(?!\S) backs off one character before a non-space, then \s+ takes the last one.
  EXPECT_EQ(split(PreTokenizer::Gpt2, "hi!!\n\nthere"), (V{"hi", "!!", "\n", "\n", "there"}));
  EXPECT_EQ(split(PreTokenizer::Gpt2, "a\n\n"), (V{"a", "\n\n"}));
  EXPECT_EQ(split(PreTokenizer::Gpt2, "a \n b"), (V{"a", " \n", " b"}));
}

TEST(PreTokenize, InvalidBytesStayCovered) {
  // Ill-formed bytes behave like punctuation and are never lost.
  EXPECT_EQ(split(PreTokenizer::Gpt2, "a\xFF\xFE" "b"), (V{"a", "\xFF\xFE", "b"}));
  EXPECT_EQ(split(PreTokenizer::Qwen2, "a \xC3"), (V{"a", " \xC3"}));
}

TEST(ByteLevel, Alphabet) {
  const auto& bl = tok::ByteLevel::get();
  EXPECT_EQ(bl.byte_to_cp['A'], 'A');
  EXPECT_EQ(bl.byte_to_cp[0x00], 0x100);
  EXPECT_EQ(bl.byte_to_cp[' '], 0x120);   // 'Ġ'
  EXPECT_EQ(bl.byte_to_cp['\n'], 0x10A);  // 'Ċ'
  EXPECT_EQ(bl.byte_to_cp[0x7F], 0x121);
  EXPECT_EQ(bl.byte_to_cp[0xA0], 0x142);
  EXPECT_EQ(bl.byte_to_cp[0xAD], 0x143);  // soft hyphen -> 'Ń'
  EXPECT_EQ(bl.byte_to_cp[0xA1], 0xA1);
  EXPECT_EQ(bl.byte_to_cp[0xFF], 0xFF);
  EXPECT_EQ(tok::to_byte_level(" a\n"), "\xC4\xA0" "a" "\xC4\x8A");
  EXPECT_EQ(tok::from_byte_level("\xC4\xA0" "a"), std::string(" a"));
  EXPECT_FALSE(tok::from_byte_level(" ").has_value());  // U+0020 itself is not in the alphabet
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  EXPECT_EQ(tok::from_byte_level(tok::to_byte_level(all)), all);
}

TEST(Utf8, LossyRepairUsesMaximalSubparts) {
  const std::string R = "\xEF\xBF\xBD";
  EXPECT_EQ(tok::utf8_lossy("ok"), "ok");
  EXPECT_EQ(tok::utf8_lossy("\xC3"), R);
  EXPECT_EQ(tok::utf8_lossy("\xE2\x82" "x"), R + "x");       // truncated 3-byte sequence: one U+FFFD
  EXPECT_EQ(tok::utf8_lossy("\xF0\x9F\x98"), R);             // truncated 4-byte sequence
  EXPECT_EQ(tok::utf8_lossy("\xED\xA0\x80"), R + R + R);     // surrogate: ED then two stray bytes
  EXPECT_EQ(tok::utf8_lossy("\xC0\xAF"), R + R);             // overlong
  EXPECT_EQ(tok::utf8_lossy("\xFF" "a\xC3\xA9"), R + "a\xC3\xA9");
  EXPECT_TRUE(tok::is_valid_utf8("\xF0\x9F\x98\x80"));
  EXPECT_FALSE(tok::is_valid_utf8("\xF4\x90\x80\x80"));     // > U+10FFFF
}

TEST(Unicode, Nfc) {
  EXPECT_EQ(tok::nfc("e\xCC\x81"), "\xC3\xA9");                          // e + U+0301 -> é
  EXPECT_EQ(tok::nfc("\xE2\x84\xAB"), "\xC3\x85");                       // U+212B ANGSTROM SIGN -> Å
  EXPECT_EQ(tok::nfc("\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8"), "\xEA\xB0\x81");  // jamo -> 각
  EXPECT_EQ(tok::nfc("\xFF" "e\xCC\x81"), "\xFF\xC3\xA9");               // invalid byte kept
  EXPECT_EQ(tok::nfc("\xEF\xAC\x81"), "\xEF\xAC\x81");                   // ligature fi: NFC keeps it
  EXPECT_TRUE(tok::is_trivially_nfc("plain ascii \xC3\xA9"));
  EXPECT_FALSE(tok::is_trivially_nfc("e\xCC\x81"));
}

TEST(Unicode, Classes) {
  EXPECT_EQ(tok::cp_class('a') & tok::kLetter, tok::kLetter);
  EXPECT_EQ(tok::cp_class(0x4E2D) & tok::kLetter, tok::kLetter);  // 中
  EXPECT_EQ(tok::cp_class(0x0661) & tok::kNumber, tok::kNumber);  // Arabic-Indic 1
  EXPECT_EQ(tok::cp_class(0x00BD) & tok::kNumber, tok::kNumber);  // ½ (No)
  EXPECT_EQ(tok::cp_class(0x2167) & tok::kNumber, tok::kNumber);  // Ⅷ (Nl)
  for (int32_t ws : {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000, 0x200A, 0x2028, 0x2029, 0x202F,
                     0x205F, 0x3000}) {
    EXPECT_TRUE(tok::cp_class(ws) & tok::kSpace) << std::hex << ws;
  }
  for (int32_t not_ws : {0x200B, 0xFEFF, 0x180E, 0x1C}) EXPECT_FALSE(tok::cp_class(not_ws) & tok::kSpace) << std::hex << not_ws;
  EXPECT_EQ(tok::cp_class(0x1F600), 0);                             // 😀 is So
  EXPECT_EQ(tok::cp_class(0x1D54F) & tok::kLetter, tok::kLetter);   // 𝕏 (supplementary letter)
  EXPECT_EQ(tok::cp_class(0x0301) & (tok::kLetter | tok::kNumber | tok::kSpace), 0);
}

}  // namespace
}  // namespace paw
