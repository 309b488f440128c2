#pragma once
// The English word pool: lowercase ASCII alphabetic entries (3..9 letters) of a word list such as
// Debian's /usr/share/dict/words (package wamerican), in file order. Words the noise module
// inserts as fillers are left out, so noise can never add a cue word to an input, and so are
// profanity, slurs and sexual or violent terms (is_blocked_word).
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "paw/data/rng.hpp"

namespace paw::data {

class Words {
 public:
  // Loads (once per path per process) and filters the list; throws paw::Error naming the file
  // and the Debian package if it is missing or holds too few usable words.
  static std::shared_ptr<const Words> load(const std::string& path);
  explicit Words(std::vector<std::string> words) : words_(std::move(words)) {}

  const std::vector<std::string>& all() const { return words_; }
  // A uniformly drawn word not in `avoid`.
  const std::string& pick(Rng& r, const std::set<std::string>& avoid = {}) const;
  // `k` distinct words, none in `avoid`, in draw order.
  std::vector<std::string> pick_distinct(Rng& r, size_t k, const std::set<std::string>& avoid = {}) const;
  // Like pick_distinct, with a minimum length.
  std::vector<std::string> pick_distinct_min_len(Rng& r, size_t k, size_t min_len,
                                                 const std::set<std::string>& avoid = {}) const;

 private:
  std::vector<std::string> words_;
};

// True for the offensive words the pool leaves out (word_filter.cpp).
bool is_blocked_word(std::string_view w);

// Lowercase alphabetic runs of `text` ("Hi, my order-id!" -> hi, my, order, id).
std::vector<std::string> words_of(std::string_view text);
// words_of over many texts, as a set (a family's reserved vocabulary).
std::set<std::string> word_set(const std::vector<std::string>& texts);

}  // namespace paw::data
