// `paw unpack X.paw -o DIR [--force]` — validate a bundle and extract it atomically.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "paw/program/bundle.hpp"

namespace paw::cli {
namespace {

struct UnpackCliOptions {
  std::string bundle;   // .paw file
  std::string out;      // output folder
  bool force = false;   // replace a non-empty bundle folder
};

void run_unpack(const UnpackCliOptions& o) {
  UnpackOptions uo;
  uo.force = o.force;
  Bundle b = unpack_bundle(o.bundle, o.out, uo);
  std::printf("unpacked program %s into %s (%zu files)\n", b.id().c_str(), o.out.c_str(), 3 + b.extras.size());
}

}  // namespace

void add_unpack_command(CLI::App& app) {
  auto o = std::make_shared<UnpackCliOptions>();
  auto* cmd = app.add_subcommand("unpack", "Validate a .paw bundle and extract it into a folder");
  cmd->add_option("bundle", o->bundle, ".paw file")->required();
  cmd->add_option("-o,--output", o->out, "Output folder (must be empty or absent)")->required();
  cmd->add_flag("--force", o->force, "Replace an existing folder that holds only files");
  cmd->callback([o] { run_unpack(*o); });
}

}  // namespace paw::cli
