// `paw run PROGRAM [INPUT]` — run a program (a .paw file, a bundle folder or a cached id) on
// one input, or on JSON lines from stdin with --jsonl; `paw run --base qwen3|gpt2 INPUT` runs
// the adapter-free base interpreter with the reference's built-in template.
//
// Output: the program's output and a newline; --json prints one object
// {"mode": "program"|"base", "program": id|null, "interpreter", "input", "output"};
// --jsonl reads {"input": ...} objects, one per line, and writes {"input", "output"} per line
// in order (a line that fails gets {"input", "error"} and the exit status becomes 1), reusing
// the loaded model and the evaluated prefix for every line.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.hpp"
#include "cli/run_setup.hpp"
#include "cli/text_io.hpp"

namespace paw::cli {
namespace {

struct RunCliOptions {
  std::string program;     // PROGRAM, or the input with --base
  std::string input;       // INPUT (else stdin)
  std::string base;        // --base qwen3|gpt2
  float temperature = 0;   // --temp (0 = greedy)
  uint64_t seed = 0;       // --seed
  bool json = false;
  bool jsonl = false;
  ProgramFlags flags;
  CLI::Option* program_opt = nullptr;   // given? (an empty string is a valid input)
  CLI::Option* input_opt = nullptr;
};

void print_line(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

// A piped single input ("echo text | paw run x.paw") loses its final newline.
std::string stdin_input() {
  std::string s = read_all_stdin();
  if (!s.empty() && s.back() == '\n') s.pop_back();
  if (!s.empty() && s.back() == '\r') s.pop_back();
  return s;
}

int run_jsonl(const Program& prog, const RunOptions& ro) {
  int status = 0;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    nlohmann::ordered_json out;
    try {
      nlohmann::json in = nlohmann::json::parse(line);
      if (!in.is_object() || !in.contains("input") || !in["input"].is_string())
        throw Error("each line must be an object with a string \"input\"", "stdin", R"(e.g. {"input": "text"})");
      const std::string input = in["input"].get<std::string>();
      out["input"] = input;
      out["output"] = prog.run(input, ro).output;
    } catch (const std::exception& e) {
      if (!out.contains("input")) out["input"] = nullptr;
      out["error"] = e.what();
      status = 1;
    }
    print_line(out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  return status;
}

void run_command(const RunCliOptions& o) {
  const bool base = !o.base.empty();
  std::string input = base ? o.program : o.input;
  const bool have_input = (base ? o.program_opt : o.input_opt)->count() > 0;
  if (base && o.input_opt->count() > 0)
    throw Error("with --base, give only the input", "paw run", "paw run --base qwen3 \"text\"");
  if (!base && o.program_opt->count() == 0) throw Error("no program given", "paw run", "paw run PROGRAM [INPUT]");
  if (o.jsonl && have_input) throw Error("--jsonl reads inputs from stdin; do not give INPUT too", "paw run");
  if (o.json && o.jsonl) throw Error("use either --json or --jsonl", "paw run");

  Program prog = base ? open_base_from_flags(o.base, o.flags) : open_program_from_flags(o.program, o.flags);
  RunOptions ro;
  ro.max_tokens = o.flags.max_tokens;
  ro.temperature = o.temperature;
  ro.seed = o.seed;

  if (o.jsonl) {
    if (run_jsonl(prog, ro) != 0) throw CLI::RuntimeError(1);
    return;
  }
  if (!have_input) input = stdin_input();
  const std::string output = prog.run(input, ro).output;
  if (o.json) {
    nlohmann::ordered_json j;   // keys in the documented order
    j["mode"] = base ? "base" : "program";
    j["program"] = base ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(prog.id());
    j["interpreter"] = prog.interpreter_name();
    j["input"] = input;
    j["output"] = output;
    print_line(j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
    return;
  }
  print_line(output);
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto o = std::make_shared<RunCliOptions>();
  auto* cmd = app.add_subcommand("run", "Run a program on an input (or the base interpreter with --base)");
  o->program_opt =
      cmd->add_option("program,--program", o->program,
                      "A .paw file, a bundle folder, a cached program id (or unique prefix) or a slug (SLUG, SLUG@v2) "
                      "(with --base: the input)");
  o->input_opt = cmd->add_option("input", o->input, "Input text (default: read stdin)");
  cmd->add_option("--base", o->base, "Run the adapter-free base interpreter: qwen3 or gpt2")
      ->check(CLI::IsMember({"qwen3", "gpt2"}));
  cmd->add_option("--temp", o->temperature, "Sampling temperature (0 = greedy)")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Sampling seed")->capture_default_str();
  cmd->add_flag("--json", o->json, "Print {mode, program, interpreter, input, output} as JSON");
  cmd->add_flag("--jsonl", o->jsonl, "Read {\"input\": ...} lines from stdin, write {\"input\", \"output\"} lines");
  add_program_flags(cmd, o->flags);
  cmd->callback([o] { run_command(*o); });
}

}  // namespace paw::cli
