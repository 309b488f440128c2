#pragma once
// Pre-tokenizers: split text into the "words" BPE runs on. Each is a hand-written scanner
// equivalent to the leftmost-first (backtracking) regex it replaces; see pretokenize.cpp.
#include <cstddef>
#include <string_view>
#include <vector>

#include "paw/tokenizer/tokenizer.hpp"

namespace paw::tok {

struct Piece {
  size_t begin = 0;  // byte offsets into the text
  size_t end = 0;
};

// Appends the pieces of `text` (which cover it exactly, in order) to `out`.
void pretokenize(PreTokenizer kind, std::string_view text, std::vector<Piece>& out);

}  // namespace paw::tok
