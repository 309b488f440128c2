#pragma once
// Input noise: the typos, casing slips, stray whitespace and filler words real inputs have.
// Noise only touches segments not marked `keep` (the ones that carry no part of the answer), so
// the expected output stays correct.
#include <cstdint>
#include <string>
#include <vector>

#include "paw/data/rng.hpp"

namespace paw::data {

struct Seg {
  std::string text;
  bool keep = false;  // carries (part of) the answer: never modified by noise
};

enum : uint8_t {
  kNoiseTypo = 1,    // swap / drop / double one letter of a word of >= 5 letters
  kNoiseCase = 2,    // UPPER, Capitalised or lower form of one word
  kNoiseSpace = 4,   // one space widened to two or three
  kNoiseFiller = 8,  // "um", "like", "basically", ... before a word
  kNoiseEdge = 16,   // leading / trailing spaces around the whole input
  kNoiseAll = 31,
};

// Applies 1..3 operations of the allowed kinds to the non-kept segments. Returns true if the
// text changed (it may not when no allowed operation has a target).
bool apply_noise(std::vector<Seg>& segs, uint8_t kinds, Rng& r);

std::string concat(const std::vector<Seg>& segs);

// The filler words noise may insert (kept out of the word pool).
const std::vector<std::string>& noise_filler_texts();

}  // namespace paw::data
