// Evaluation cases from the generator or a JSONL file (see paw/eval/evaluator.hpp).
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "paw/eval/evaluator.hpp"
#include "paw/util/error.hpp"

namespace paw::eval {

std::vector<EvalCase> generator_cases(const data::GenOptions& opt, std::span<const data::Split> splits) {
  const data::Generator gen(opt);
  std::vector<EvalCase> out;
  for (data::Split s : splits) {
    for (size_t i = 0; i < gen.count(s); ++i) {
      data::Record r = gen.record(s, i);
      out.push_back(EvalCase{std::move(r.spec), std::move(r.input), std::move(r.output), std::move(r.family),
                             std::string(data::split_name(s))});
    }
  }
  return out;
}

std::vector<EvalCase> jsonl_cases_text(std::string_view text, const std::string& name) {
  std::vector<EvalCase> out;
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
        if (required) throw Error(std::string("missing string field \"") + k + "\"", where);
        return "-";
      }
      if (!it->is_string()) throw Error(std::string("field \"") + k + "\" must be a string", where);
      return it->get<std::string>();
    };
    out.push_back(EvalCase{field("spec", true), field("input", true), field("output", true), field("family", false),
                           field("split", false)});
  }
  if (out.empty()) throw Error("no records", name, "the file has no JSON lines");
  return out;
}

std::vector<EvalCase> jsonl_cases(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error("cannot open the evaluation file", path, "give a JSONL file as written by paw data gen");
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return jsonl_cases_text(text, path);
}

}  // namespace paw::eval
