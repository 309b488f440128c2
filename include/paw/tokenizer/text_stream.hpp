#pragma once
// Incremental detokenization for streaming output (`paw generate`, `paw serve`'s server-sent
// events): push generated ids one at a time and get the text that became final. decode()
// turns the bytes of a character not yet complete into U+FFFD, so a trailing U+FFFD is held
// back until the next ids complete it; finish() hands out whatever is left. The pieces always
// add up to decode(all ids).
#include <cstdint>
#include <string>
#include <vector>

#include "paw/tokenizer/tokenizer.hpp"

namespace paw {

class TextStream {
 public:
  explicit TextStream(const Tokenizer& tok, DecodeOptions opt = {}) : tok_(tok), opt_(opt) {}
  // The text that is final after `id` ("" when nothing new is).
  std::string push(int32_t id);
  // The rest: decode(all ids) past what was handed out.
  std::string finish();

 private:
  std::string take(std::string text);
  const Tokenizer& tok_;
  DecodeOptions opt_;
  std::vector<int32_t> ids_;
  std::string sent_;   // the text handed out so far
};

}  // namespace paw
