// `paw rebase-experts --experts E.gguf [--from OLD.gguf --to NEW.gguf] [--set EXPERT=C.gguf]...
//  -o OUT.gguf [--name N] [--average]`
// Moves every expert's program of an experts compiler by the difference between two control
// compilers' programs (paw/compiler/rebase.hpp): experts trained from OLD's program gain what
// the control learnt between OLD and NEW; `--set` gives one expert another one-program
// compiler's program instead. No training; the encoder and router are kept.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "paw/compiler/rebase.hpp"
#include "paw/util/error.hpp"

namespace paw::cli {
namespace {

struct RebaseCliOptions {
  std::string experts, from, to, out;
  std::vector<std::string> set;  // EXPERT=FILE
  compiler::RebaseOptions rebase;
};

}  // namespace

void add_rebase_experts_command(CLI::App& app) {
  auto o = std::make_shared<RebaseCliOptions>();
  auto* cmd = app.add_subcommand("rebase-experts",
                                 "Move an experts compiler's programs onto a newer control program (task arithmetic on the "
                                 "adapters: expert + (to - from)), or set an expert to another compiler's program; no "
                                 "training");
  cmd->add_option("--experts", o->experts, "Experts compiler GGUF whose experts started from --from's program")->required();
  cmd->add_option("--from", o->from, "Control compiler the experts started from (with --to)");
  cmd->add_option("--to", o->to, "Control compiler that kept training from --from (with --from)");
  cmd->add_option("--set", o->set,
                  "EXPERT=FILE: that expert gets the one program of control compiler FILE as is (e.g. an expert "
                  "trained again from a newer control by its own recipe); repeatable; with only --set, no --from/--to");
  cmd->add_option("-o,--out", o->out, "Output compiler GGUF (written atomically)")->required();
  cmd->add_option("--name", o->rebase.name, "compiler.name of the result (default: the experts' name + \" rebased\")");
  cmd->add_flag("--average", o->rebase.average_experts,
                "Write the spec-blind twin instead: every expert gets the mean of the rebased programs (measures what "
                "the routing adds)");
  cmd->callback([o] {
    for (const std::string& s : o->set) {
      const size_t eq = s.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
        throw Error("--set '" + s + "' is not EXPERT=FILE", "--set", "e.g. --set date_norm=train/out/experts/G-date_norm.gguf");
      if (!o->rebase.set_experts.emplace(s.substr(0, eq), s.substr(eq + 1)).second)
        throw Error("--set names expert '" + s.substr(0, eq) + "' twice", "--set", "give each expert one program");
    }
    compiler::rebase_experts(o->experts, o->from, o->to, o->out, o->rebase);
    std::printf("%s: the experts of %s", o->out.c_str(), o->experts.c_str());
    if (!o->from.empty()) std::printf(" moved by %s - %s", o->to.c_str(), o->from.c_str());
    for (const auto& [name, file] : o->rebase.set_experts) std::printf("; %s set to %s", name.c_str(), file.c_str());
    std::printf("\n");
  });
}

}  // namespace paw::cli
