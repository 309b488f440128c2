// Markdown and JSON evaluation reports (see paw/eval/report.hpp).
#include "paw/eval/report.hpp"

#include <fmt/format.h>

#include <set>

namespace paw::eval {
namespace {

double rate(int64_t k, int64_t n) { return n > 0 ? static_cast<double>(k) / static_cast<double>(n) : 0.0; }

std::string pct(int64_t k, int64_t n) { return n > 0 ? fmt::format("{:.1f}", 100.0 * rate(k, n)) : "-"; }

nlohmann::ordered_json score_json(const Score& s) {
  nlohmann::ordered_json j;
  j["n"] = s.n;
  j["exact"] = s.exact;
  j["normalised"] = s.normalised;
  j["exact_rate"] = rate(s.exact, s.n);
  j["normalised_rate"] = rate(s.normalised, s.n);
  return j;
}

double per_s(int64_t tokens, double seconds) { return seconds > 0 ? static_cast<double>(tokens) / seconds : 0.0; }

std::string human_params(int64_t n) {
  if (n >= 1000000000) return fmt::format("{:.2f} B", static_cast<double>(n) / 1e9);
  if (n >= 1000000) return fmt::format("{:.2f} M", static_cast<double>(n) / 1e6);
  return fmt::format("{:.1f} k", static_cast<double>(n) / 1e3);
}

}  // namespace

std::string markdown_report(std::span<const ModelReport> reports, const ReportOptions& opt) {
  if (reports.empty()) return {};
  // Rows come from the union of every report's keys (all reports normally share one case list).
  std::set<std::string> splits;
  std::set<std::pair<std::string, std::string>> groups;
  for (const ModelReport& r : reports) {
    for (const auto& [k, v] : r.by_split) splits.insert(k);
    for (const auto& [k, v] : r.by_split_family) groups.insert(k);
  }
  std::string out = "| split / family | n |";
  std::string rule = "|---|---:|";
  for (const ModelReport& r : reports) {
    out += fmt::format(" {} exact % | {} norm. % |", r.model, r.model);
    rule += "---:|---:|";
  }
  out += "\n" + rule + "\n";
  auto row = [&](const std::string& label, auto score_of) {
    const Score first = score_of(reports[0]);
    out += fmt::format("| {} | {} |", label, first.n);
    for (const ModelReport& r : reports) {
      const Score s = score_of(r);
      out += fmt::format(" {} | {} |", pct(s.exact, s.n), pct(s.normalised, s.n));
    }
    out += "\n";
  };
  for (const std::string& split : splits) {
    row("**" + split + "**", [&](const ModelReport& r) {
      const auto it = r.by_split.find(split);
      return it == r.by_split.end() ? Score{} : it->second;
    });
    if (!opt.per_family) continue;
    for (const auto& key : groups) {
      if (key.first != split) continue;
      row("  " + key.second, [&](const ModelReport& r) {
        const auto it = r.by_split_family.find(key);
        return it == r.by_split_family.end() ? Score{} : it->second;
      });
    }
  }
  if (splits.size() > 1) row("**all**", [](const ModelReport& r) { return r.total; });
  out += "\n";
  for (const ModelReport& r : reports) {
    out += fmt::format(
        "- {} ({}, {} params): prompt {:.0f} tok/s, answer {:.1f} tok/s, peak RSS {:.1f} MiB, load {:.3f} s", r.model,
        r.mode, human_params(r.n_params), per_s(r.prompt_tokens, r.prompt_seconds),
        per_s(r.answer_tokens, r.answer_seconds), static_cast<double>(r.peak_rss_bytes) / (1024.0 * 1024.0),
        r.load_seconds);
    if (r.model_bytes > 0) out += fmt::format(", file {:.2f} MB", static_cast<double>(r.model_bytes) / 1e6);
    if (r.n_skipped > 0) out += fmt::format(", {} cases skipped (prompt or spec too long, scored wrong)", r.n_skipped);
    if (r.n_compiled > 0)
      out += fmt::format(", {} programs compiled at {:.1f} ms each (compiler encoder {} params), adapter {:.1f} KiB",
                         r.n_compiled, 1000.0 * r.compile_seconds / static_cast<double>(r.n_compiled),
                         human_params(r.compiler_params), static_cast<double>(r.adapter_bytes) / 1024.0);
    if (r.n_expert_by_examples >= 0)
      out += fmt::format(", expert chosen by the spec's examples over the router for {} of {} programs",
                         r.n_expert_by_examples, r.n_compiled);
    out += "\n";
  }
  return out;
}

nlohmann::ordered_json json_report(std::span<const ModelReport> reports) {
  nlohmann::ordered_json models = nlohmann::ordered_json::array();
  for (const ModelReport& r : reports) {
    nlohmann::ordered_json m;
    m["model"] = r.model;
    m["mode"] = r.mode;
    m["n_params"] = r.n_params;
    m["model_bytes"] = r.model_bytes;
    m["total"] = score_json(r.total);
    nlohmann::ordered_json splits = nlohmann::ordered_json::object();
    for (const auto& [k, v] : r.by_split) splits[k] = score_json(v);
    m["splits"] = splits;
    nlohmann::ordered_json fams = nlohmann::ordered_json::array();
    for (const auto& [k, v] : r.by_split_family) {
      nlohmann::ordered_json f;
      f["split"] = k.first;
      f["family"] = k.second;
      const nlohmann::ordered_json score = score_json(v);
      for (const auto& [fk, fv] : score.items()) f[fk] = fv;
      fams.push_back(f);
    }
    m["families"] = fams;
    m["prompt_tokens"] = r.prompt_tokens;
    m["answer_tokens"] = r.answer_tokens;
    m["prompt_tokens_per_s"] = per_s(r.prompt_tokens, r.prompt_seconds);
    m["answer_tokens_per_s"] = per_s(r.answer_tokens, r.answer_seconds);
    m["peak_rss_bytes"] = r.peak_rss_bytes;
    m["load_s"] = r.load_seconds;
    m["skipped"] = r.n_skipped;
    if (r.n_compiled > 0) {
      m["programs_compiled"] = r.n_compiled;
      m["compile_ms_per_program"] = 1000.0 * r.compile_seconds / static_cast<double>(r.n_compiled);
      m["adapter_bytes"] = r.adapter_bytes;
      m["compiler_encoder_params"] = r.compiler_params;
      if (r.n_expert_by_examples >= 0) m["programs_expert_by_examples"] = r.n_expert_by_examples;
    }
    models.push_back(m);
  }
  nlohmann::ordered_json j;
  j["models"] = models;
  return j;
}

}  // namespace paw::eval
