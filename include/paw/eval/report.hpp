#pragma once
// Evaluation reports: a Markdown table (one column pair per model) and JSON.
#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "paw/eval/evaluator.hpp"

namespace paw::eval {

struct ReportOptions {
  bool per_family = true;  // a row per (split, family) under each split's total row
};

// Rows: each split's total, then (per_family) its families; columns per model: exact % and
// normalised % (n in the first column), then the speed/memory lines below the table.
std::string markdown_report(std::span<const ModelReport> reports, const ReportOptions& opt = {});

// {"models": [{"model", "mode", "n_params", "total": {n, exact, normalised, exact_rate,
// normalised_rate}, "splits": {split: {...}}, "families": [{split, family, ...}],
// "prompt_tokens_per_s", "answer_tokens_per_s", "peak_rss_bytes", "load_s", "skipped"}]}
nlohmann::ordered_json json_report(std::span<const ModelReport> reports);

}  // namespace paw::eval
