#pragma once
// Independent checks of FuzzyBench-synth records: each family's expected output is recomputed
// here from the input and the params with logic written separately from the generator
// (own JSON repair parser, own date reader, own edit distance, own unit table ...).
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace paw::test {

// "" when (input, output) is a correct case for `family` with `params`; otherwise a reason.
std::string check_case(const std::string& family, const nlohmann::json& params, const std::string& input,
                       const std::string& output);

// The worked examples of a spec: the text after each "Input: " up to "\nOutput: ", and after
// "Output: " up to the next blank line before "Input: " (or the end).
std::vector<std::pair<std::string, std::string>> spec_examples(const std::string& spec);

// Lenient reader for almost-JSON (bare keys, single quotes, missing/trailing commas, missing
// closing brackets, Python literals); throws std::runtime_error on anything else.
nlohmann::ordered_json lenient_json(const std::string& text);

size_t edit_distance(const std::string& a, const std::string& b);

}  // namespace paw::test
