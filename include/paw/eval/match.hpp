#pragma once
// How an interpreter's answer is scored against the expected output.
//
// exact:      byte-identical after removing leading/trailing whitespace (the trained format
//             ends the answer with a token, so a stray newline is not an error of the answer).
// normalised: both sides normalised, then compared:
//   - when both parse as JSON objects or arrays, the parsed values are compared (key order and
//     spacing do not matter, number formatting does not matter: 1.0 == 1);
//   - otherwise Unicode-unaware ASCII folding: lower-case, every run of whitespace becomes one
//     space, leading/trailing whitespace removed, then one pair of surrounding quotes
//     ("..." or '...' or `...`) and a trailing '.' are dropped.
#include <string>
#include <string_view>

namespace paw::eval {

bool exact_match(std::string_view prediction, std::string_view expected);
bool normalised_match(std::string_view prediction, std::string_view expected);

// The text normalisation used by normalised_match for non-JSON answers.
std::string normalise_answer(std::string_view s);

}  // namespace paw::eval
