// Evaluation cases from the generator or a JSONL file (see paw/eval/evaluator.hpp).
#include <fstream>
#include <iterator>

#include "paw/data/jsonl.hpp"
#include "paw/eval/evaluator.hpp"
#include "paw/util/error.hpp"

namespace paw::eval {

std::vector<EvalCase> generator_cases(const data::GenOptions& opt, std::span<const data::Split> splits,
                                      size_t n_examples) {
  const data::Generator gen(opt);
  std::vector<EvalCase> out;
  for (data::Split s : splits) {
    for (size_t i = 0; i < gen.count(s); ++i) {
      data::Record r = n_examples > 0 ? gen.record(s, i, n_examples) : gen.record(s, i);
      out.push_back(EvalCase{std::move(r.spec), std::move(r.input), std::move(r.output), std::move(r.family),
                             std::string(data::split_name(s)), std::move(r.extra_cases)});
    }
  }
  return out;
}

std::vector<EvalCase> jsonl_cases_text(std::string_view text, const std::string& name) {
  std::vector<EvalCase> out;
  for (data::TextRecord& r : data::parse_jsonl_records(text, name))
    out.push_back(EvalCase{std::move(r.spec), std::move(r.input), std::move(r.output), std::move(r.family),
                           std::move(r.split)});
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
