// `paw rebase-experts --experts E.gguf --from OLD.gguf --to NEW.gguf -o OUT.gguf [--name N]`
// Moves every expert's program of an experts compiler by the difference between two control
// compilers' programs (paw/compiler/rebase.hpp): experts trained from OLD's program gain what
// the control learnt between OLD and NEW. No training; the encoder and router are kept.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "paw/compiler/rebase.hpp"

namespace paw::cli {
namespace {

struct RebaseCliOptions {
  std::string experts, from, to, out;
  compiler::RebaseOptions rebase;
};

}  // namespace

void add_rebase_experts_command(CLI::App& app) {
  auto o = std::make_shared<RebaseCliOptions>();
  auto* cmd = app.add_subcommand("rebase-experts",
                                 "Move an experts compiler's programs onto a newer control program (task arithmetic on the "
                                 "adapters: expert + (to - from)); no training");
  cmd->add_option("--experts", o->experts, "Experts compiler GGUF whose experts started from --from's program")->required();
  cmd->add_option("--from", o->from, "Control compiler the experts started from")->required();
  cmd->add_option("--to", o->to, "Control compiler that kept training from --from")->required();
  cmd->add_option("-o,--out", o->out, "Output compiler GGUF (written atomically)")->required();
  cmd->add_option("--name", o->rebase.name, "compiler.name of the result (default: the experts' name + \" rebased\")");
  cmd->add_flag("--average", o->rebase.average_experts,
                "Write the spec-blind twin instead: every expert gets the mean of the rebased programs (measures what "
                "the routing adds)");
  cmd->callback([o] {
    compiler::rebase_experts(o->experts, o->from, o->to, o->out, o->rebase);
    std::printf("%s: the experts of %s moved by %s - %s\n", o->out.c_str(), o->experts.c_str(), o->to.c_str(),
                o->from.c_str());
  });
}

}  // namespace paw::cli
