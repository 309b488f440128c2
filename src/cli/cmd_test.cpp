// `paw test PROGRAM CASES.jsonl [--min-accuracy A] [--json]` — exact-match accuracy of a
// program on test cases, one JSON object per line: {"input": ..., "expected": ...} (the
// expected text may also be given as "output", as in FuzzyBench-style data). The program's
// output (already trimmed) must equal the expected text with its surrounding whitespace
// trimmed the same way. A case that raises an error (e.g. context overflow) fails.
// Exit status 0 when every case passes or accuracy >= --min-accuracy, else 1.
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/run_setup.hpp"

namespace paw::cli {
namespace {

struct TestCliOptions {
  std::string program;
  std::string cases;
  double min_accuracy = -1;   // fraction in [0, 1]; < 0: every case must pass
  bool json = false;
  ProgramFlags flags;
};

struct Case {
  size_t line = 0;
  std::string input, expected;
};

std::vector<Case> read_cases(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open test cases", path, "give a JSON-lines file of {\"input\", \"expected\"} objects");
  std::vector<Case> cases;
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const std::string where = path + ": line " + std::to_string(n);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw Error(std::string("invalid JSON: ") + e.what(), where, "one JSON object per line");
    }
    const char* key = j.is_object() && j.contains("expected") ? "expected" : "output";
    if (!j.is_object() || !j.contains("input") || !j["input"].is_string() || !j.contains(key) || !j[key].is_string())
      throw Error("a case needs string fields \"input\" and \"expected\" (or \"output\")", where,
                  R"(e.g. {"input": "server down", "expected": "immediate"})");
    cases.push_back({n, j["input"].get<std::string>(), j[key].get<std::string>()});
  }
  if (cases.empty()) throw Error("no test cases", path, "give at least one {\"input\", \"expected\"} line");
  return cases;
}

// One table cell: escapes newlines and tabs, cuts long text.
std::string cell(const std::string& s, size_t width) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else out += c;
  }
  if (out.size() > width) {
    size_t cut = width - 3;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;   // whole UTF-8 characters
    out = out.substr(0, cut) + "...";
  }
  return out;
}

void test_command(const TestCliOptions& o) {
  if (o.min_accuracy > 1.0) throw Error("--min-accuracy is a fraction between 0 and 1", "paw test", "e.g. --min-accuracy 0.8");
  std::vector<Case> cases = read_cases(o.cases);
  Program prog = open_program_from_flags(o.program, o.flags);
  RunOptions ro;
  ro.max_tokens = o.flags.max_tokens;

  struct Failure {
    const Case* c;
    std::string got;
  };
  std::vector<Failure> failures;
  for (const Case& c : cases) {
    std::string got;
    bool ok = false;
    try {
      got = prog.run(c.input, ro).output;
      ok = got == trim_output(c.expected);
    } catch (const Error& e) {
      got = std::string("error: ") + e.what();
    }
    if (!ok) failures.push_back({&c, got});
  }
  const size_t passed = cases.size() - failures.size();
  const double accuracy = static_cast<double>(passed) / static_cast<double>(cases.size());
  const bool pass = failures.empty() || (o.min_accuracy >= 0 && accuracy >= o.min_accuracy);

  if (o.json) {
    nlohmann::json j;
    j["program"] = prog.id();
    j["total"] = cases.size();
    j["passed"] = passed;
    j["accuracy"] = accuracy;
    j["pass"] = pass;
    j["failures"] = nlohmann::json::array();
    for (const Failure& f : failures)
      j["failures"].push_back({{"line", f.c->line}, {"input", f.c->input}, {"expected", f.c->expected}, {"got", f.got}});
    std::puts(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    if (!failures.empty()) {
      fmt::print("{:>5}  {:<40}  {:<24}  {:<24}\n", "line", "input", "expected", "got");
      for (const Failure& f : failures)
        fmt::print("{:>5}  {:<40}  {:<24}  {:<24}\n", f.c->line, cell(f.c->input, 40), cell(f.c->expected, 24),
                   cell(f.got, 24));
      fmt::print("\n");
    }
    fmt::print("{}: {}/{} passed, accuracy {:.1f}%", prog.id(), passed, cases.size(), 100.0 * accuracy);
    if (o.min_accuracy >= 0) fmt::print(" (minimum {:.1f}%)", 100.0 * o.min_accuracy);
    fmt::print(" — {}\n", pass ? "PASS" : "FAIL");
  }
  std::fflush(stdout);
  if (!pass) throw CLI::RuntimeError(1);
}

}  // namespace

void add_test_command(CLI::App& app) {
  auto o = std::make_shared<TestCliOptions>();
  auto* cmd = app.add_subcommand("test", "Exact-match accuracy of a program on JSON-lines test cases");
  cmd->add_option("program", o->program, "A .paw file, a bundle folder or a cached program id")->required();
  cmd->add_option("cases", o->cases, "JSON lines: {\"input\": ..., \"expected\": ...}")->required();
  cmd->add_option("--min-accuracy", o->min_accuracy, "Pass when at least this fraction of cases pass (default: all)");
  cmd->add_flag("--json", o->json, "Print the report as JSON");
  add_program_flags(cmd, o->flags);
  cmd->callback([o] { test_command(*o); });
}

}  // namespace paw::cli
