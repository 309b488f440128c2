#pragma once
// Reading (spec, input, output) records back from JSONL — the lines `paw data gen` writes
// (paw/data/generator.hpp, to_jsonl) or any file with the same string fields. Training
// (`data.source: "jsonl"`) and evaluation (`paw eval --data`) share this reader.
#include <string>
#include <string_view>
#include <vector>

namespace paw::data {

struct TextRecord {
  std::string spec, input, output;  // required string fields
  std::string family = "-";         // optional string fields ("-" when absent)
  std::string split = "-";
};

// One record per non-blank line; other fields are ignored. Throws paw::Error naming
// "<name>:<line>" for a line that is not a JSON object or lacks a required string field (or
// has a non-string family/split). Returns an empty vector for text with no records.
std::vector<TextRecord> parse_jsonl_records(std::string_view text, const std::string& name);

}  // namespace paw::data
