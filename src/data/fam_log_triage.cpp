// log_triage: 3–6 log lines from a few services; report the failing lines, the first failing
// service, or the number of failures. The spec says which levels count as failures.
#include <algorithm>

#include "data/family.hpp"
#include "data/text.hpp"

namespace paw::data {
namespace {

const char* const kTasks[] = {"error_lines", "first_failure", "count"};
const char* const kStyles[] = {"iso", "bracket", "kv"};
const std::vector<std::vector<std::string>>& fail_level_sets() {
  static const std::vector<std::vector<std::string>> v = {{"ERROR"}, {"ERROR", "FATAL"}, {"ERROR", "CRITICAL"}, {"FATAL"}};
  return v;
}
const char* const kOkLevels[] = {"INFO", "INFO", "DEBUG", "WARN"};

const std::vector<std::string>& ok_messages() {
  static const std::vector<std::string> v = {"request served", "cache hit",        "user login ok",   "health check passed",
                                             "job finished",   "config loaded",    "connection opened", "retrying soon",
                                             "slow response",  "queue drained",    "backup complete", "session renewed"};
  return v;
}
const std::vector<std::string>& fail_messages() {
  static const std::vector<std::string> v = {"connection refused", "timeout waiting for reply", "null pointer",
                                             "disk full",          "token expired",             "out of memory",
                                             "upstream unavailable", "permission denied",       "checksum mismatch"};
  return v;
}
const std::set<std::string>& reserved() {
  static const std::set<std::string> s = [] {
    std::vector<std::string> t = ok_messages();
    t.insert(t.end(), fail_messages().begin(), fail_messages().end());
    t.insert(t.end(), {"error", "fatal", "critical", "info", "debug", "warn", "level", "svc", "msg", "none"});
    return word_set(t);
  }();
  return s;
}

class LogTriage final : public Family {
 public:
  const char* name() const override { return "log_triage"; }
  const char* description() const override {
    return "from a few log lines, return the failing lines, the first failing service, or the failure count";
  }

  json draw_params(Rng& r, const Words& w) const override {
    return {{"task", r.pick(kTasks)},
            {"style", r.pick(kStyles)},
            {"services", w.pick_distinct(r, static_cast<size_t>(r.range(3, 4)), reserved())},
            {"fail_levels", r.pick(fail_level_sets())}};
  }

  std::string instruction(const json& p, Rng& r) const override {
    const std::string task = p.at("task");
    const std::string levels = phrase_list(p.at("fail_levels").get<std::vector<std::string>>(), "or");
    const std::string services = join(p.at("services").get<std::vector<std::string>>(), ", ");
    std::string what;
    if (task == "error_lines") {
      what = r.chance(0.5) ? "Return the failing lines exactly as they appear, one per line, or none if nothing failed."
                           : "Copy out every failing line (in order); answer none when there is no failure.";
    } else if (task == "first_failure") {
      what = r.chance(0.5) ? "Answer with the name of the first service that failed, or none."
                           : "Which service failed first? Reply with just the service name (none if all is well).";
    } else {
      what = r.chance(0.5) ? "Count the failing lines and answer with the number." : "How many failures are there? Reply with a number.";
    }
    switch (r.below(3)) {
      case 0: return "These are logs from the services " + services + ". A line is a failure if its level is " + levels + ". " + what;
      case 1: return "Log triage: lines at level " + levels + " are failures (services: " + services + "). " + what;
      default: return "You are given application logs. Treat " + levels + " entries as failures. " + what;
    }
  }

  Sample sample(const json& p, Rng& r, const Words&) const override {
    const std::string task = p.at("task");
    const std::string style = p.at("style");
    const auto services = p.at("services").get<std::vector<std::string>>();
    const auto fail_levels = p.at("fail_levels").get<std::vector<std::string>>();
    const size_t n = static_cast<size_t>(r.range(3, 6));
    const uint64_t roll = r.below(10);
    const size_t n_fail = roll < 2 ? 0 : roll < 7 ? 1 : 2;
    std::vector<size_t> fail_idx = r.sample_indices(n, n_fail);
    std::sort(fail_idx.begin(), fail_idx.end());
    const int64_t hour = r.range(0, 23), minute = r.range(0, 59);
    int64_t second = r.range(0, 20);
    const std::string day = "2024-" + zero_pad(r.range(1, 12), 2) + "-" + zero_pad(r.range(1, 28), 2);

    Sample s;
    std::string first_service;
    for (size_t i = 0; i < n; ++i) {
      const bool fail = std::find(fail_idx.begin(), fail_idx.end(), i) != fail_idx.end();
      const std::string level = fail ? r.pick(fail_levels) : std::string(r.pick(kOkLevels));
      const std::string svc = r.pick(services);
      const std::string msg = fail ? r.pick(fail_messages()) : r.pick(ok_messages());
      if (fail && first_service.empty()) first_service = svc;
      second += r.range(0, 6);
      const std::string time = zero_pad(hour, 2) + ":" + zero_pad(minute, 2) + ":" + zero_pad(second % 60, 2);
      std::string head, tail;
      if (style == "iso") {
        head = day + " " + time + " " + level + " [" + svc + "] ";
      } else if (style == "bracket") {
        head = "[" + time + "] " + svc + ": " + level + " ";
      } else {
        head = "level=" + lower(level) + " svc=" + svc + " msg=\"";
        tail = "\"";
      }
      if (i) s.segs.push_back(Seg{"\n", true});
      s.segs.push_back(Seg{head, true});
      s.segs.push_back(Seg{msg, false});
      if (!tail.empty()) s.segs.push_back(Seg{tail, true});
    }
    // Typos and casing only: the lines' layout must survive noise.
    s.noise_kinds = kNoiseTypo | kNoiseCase;
    if (task == "error_lines") {
      s.finalize = [fail_idx](const std::vector<Seg>& segs) {
        const std::string text = concat(segs);
        std::vector<std::string> lines;
        size_t start = 0;
        for (size_t k = 0; k <= text.size(); ++k) {
          if (k == text.size() || text[k] == '\n') {
            lines.push_back(text.substr(start, k - start));
            start = k + 1;
          }
        }
        std::vector<std::string> out;
        for (size_t i : fail_idx) out.push_back(lines[i]);
        return out.empty() ? std::string("none") : join(out, "\n");
      };
    } else if (task == "first_failure") {
      s.output = first_service.empty() ? "none" : first_service;
    } else {
      s.output = std::to_string(n_fail);
    }
    return s;
  }
};

}  // namespace

const Family& family_log_triage() {
  static const LogTriage f;
  return f;
}

}  // namespace paw::data
