// Incremental detokenization (see paw/tokenizer/text_stream.hpp).
#include "paw/tokenizer/text_stream.hpp"

namespace paw {

std::string TextStream::push(int32_t id) {
  ids_.push_back(id);
  std::string s = tok_.decode(ids_, opt_);
  static const std::string kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  while (s.size() >= kReplacement.size() && s.compare(s.size() - kReplacement.size(), kReplacement.size(), kReplacement) == 0)
    s.resize(s.size() - kReplacement.size());
  return take(std::move(s));
}

std::string TextStream::finish() { return take(tok_.decode(ids_, opt_)); }

std::string TextStream::take(std::string text) {
  // Only text that extends what was handed out is final (a later id may change an earlier
  // U+FFFD back into its character, which the held-back tail already allows for).
  if (text.size() <= sent_.size() || text.compare(0, sent_.size(), sent_) != 0) return {};
  std::string piece = text.substr(sent_.size());
  sent_ = std::move(text);
  return piece;
}

}  // namespace paw
