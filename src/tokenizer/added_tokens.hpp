#pragma once
// Added / special tokens: found in the text before pre-tokenization, with Hugging Face's
// semantics (tokenizers' AddedVocabulary):
//  - leftmost-longest matching over all tokens of one matcher (a byte trie here, an
//    Aho-Corasick automaton there), scanning on after each match;
//  - single_word: a match touching a word character (\w) on either side is discarded;
//  - lstrip / rstrip: the match swallows the whitespace on its left / right;
//  - with parse_special off, matches of special tokens are discarded (the text then goes
//    through normalisation and BPE like any other text) — HF's encode_special_tokens;
//  - two matchers: tokens with normalized=false are matched in the raw text, the others in
//    the normalised pieces that remain.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace paw::tok {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
};

struct Segment {
  size_t begin = 0;
  size_t end = 0;
  int32_t token = -1;  // index into the added-token list, -1 for plain text
};

class AddedMatcher {
 public:
  // `patterns[k]` is the text to look for for added token indices[k] (its normalised content
  // for the normalised matcher). Empty patterns are ignored.
  void build(const std::vector<int32_t>& indices, const std::vector<std::string>& patterns);
  bool empty() const { return n_patterns_ == 0; }

  // Splits `text` into plain and token segments covering it in order (empty plain
  // segments are omitted).
  void split(std::string_view text, const std::vector<AddedToken>& tokens, bool parse_special,
             std::vector<Segment>& out) const;

 private:
  struct Node {
    int32_t token = -1;                   // token index if a pattern ends here
    std::vector<std::pair<uint8_t, int32_t>> children;  // sorted by byte
  };
  int32_t child(int32_t node, uint8_t b) const;
  // Longest pattern starting at `pos`: returns its token index and sets `len`, or -1.
  int32_t longest_at(std::string_view text, size_t pos, size_t& len) const;

  std::vector<Node> nodes_;
  bool first_byte_[256] = {};
  size_t n_patterns_ = 0;
};

}  // namespace paw::tok
