// Fuzz target: evaluation cases from JSONL text, and the answer scoring of every case (the
// expected output against the input text, which parses JSON on both sides). Invalid text must
// end in paw::Error; any other exception, crash or sanitizer report is a bug. Scoring must be
// consistent: an exact match is always a normalised match, and a text matches itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "paw/eval/evaluator.hpp"
#include "paw/eval/match.hpp"
#include "paw/util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  try {
    for (const paw::eval::EvalCase& c : paw::eval::jsonl_cases_text(in, "fuzz.jsonl")) {
      if (paw::eval::exact_match(c.input, c.expected) && !paw::eval::normalised_match(c.input, c.expected)) std::abort();
      if (!paw::eval::normalised_match(c.expected, c.expected)) std::abort();
    }
  } catch (const paw::Error&) {
  }
  // The raw bytes as an answer too (JSON-looking or not).
  const std::string_view half = in.substr(0, in.size() / 2);
  if (paw::eval::exact_match(half, in.substr(in.size() / 2)) && !paw::eval::normalised_match(half, in.substr(in.size() / 2)))
    std::abort();
  return 0;
}
