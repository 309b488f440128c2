// JSONL records (see paw/data/jsonl.hpp).
#include "paw/data/jsonl.hpp"

#include <nlohmann/json.hpp>

#include "paw/util/error.hpp"

namespace paw::data {

std::vector<TextRecord> parse_jsonl_records(std::string_view text, const std::string& name) {
  std::vector<TextRecord> out;
  size_t lineno = 0;
  for (size_t pos = 0; pos <= text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const std::string where = name + ":" + std::to_string(lineno);
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object())
      throw Error("not a JSON object", where, "one record per line: {\"spec\": ..., \"input\": ..., \"output\": ...}");
    auto field = [&](const char* k, bool required) -> std::string {
      const auto it = j.find(k);
      if (it == j.end()) {
        if (required)
          throw Error(std::string("missing string field \"") + k + "\"", where,
                      "records need spec, input and output (as `paw data gen` writes)");
        return "-";
      }
      if (!it->is_string()) throw Error(std::string("field \"") + k + "\" must be a string", where);
      return it->get<std::string>();
    };
    out.push_back(TextRecord{field("spec", true), field("input", true), field("output", true), field("family", false),
                             field("split", false)});
  }
  return out;
}

}  // namespace paw::data
